package printer

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestClean(t *testing.T) {
	for _, tc := range []struct{ name, in, want, wantLines string }{
		{"plain", "namespace \"x\" is not allowed", "namespace \"x\" is not allowed", "namespace \"x\" is not allowed"},
		{"newline then command", "bad\n::add-mask::secret", `bad\n::add-mask::secret`, "bad\n\\x3a:add-mask::secret"},
		{"leading command", "::error title=x::pwned", `\x3a:error title=x::pwned`, `\x3a:error title=x::pwned`},
		{"indented command", "  ::stop-commands::tok", `  \x3a:stop-commands::tok`, `  \x3a:stop-commands::tok`},
		{"carriage return", "a\r::warning::b", `a\r::warning::b`, `a\r::warning::b`},
		{"escape sequence", "\x1b[2Jclear", `\x1b[2Jclear`, `\x1b[2Jclear`},
		{"bidi override", "abc\u202edef", `abc\u202edef`, `abc\u202edef`},
		{"C1 control", "a\u0085b", `a\u0085b`, `a\u0085b`},
		{"colons inside stay", "file:1:2: x::y", "file:1:2: x::y", "file:1:2: x::y"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, Clean(tc.in)); d != "" {
				t.Errorf("Clean (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantLines, CleanLines(tc.in)); d != "" {
				t.Errorf("CleanLines (-want +got):\n%s", d)
			}
			for _, out := range []string{Clean(tc.in), CleanLines(tc.in)} {
				for _, l := range strings.Split(out, "\n") {
					if strings.HasPrefix(strings.TrimLeft(l, " \t"), "::") {
						t.Errorf("line %q would be a workflow command", l)
					}
				}
			}
		})
	}
}
