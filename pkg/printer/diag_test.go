package printer

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kcloud.dev/kcloud/pkg/spec"
)

// Spec content echoed in a message must not become a GitHub Actions
// workflow command, in any format, nor in kcloud's own annotations.
func TestDiagnosticsCannotInjectWorkflowCommands(t *testing.T) {
	diags := spec.Diagnostics{
		{Pos: spec.Pos{File: "specs/a,b:c.yaml", Line: 3, Column: 5}, Severity: spec.SeverityError,
			Message: "unknown environment \"x\n::add-mask::hunter2\r\n::error title=pwned::owned\"; 100%"},
		{Pos: spec.Pos{File: "::warning::x.yaml", Line: 1, Column: 1}, Severity: spec.SeverityWarning, Message: "::notice::hi"},
	}
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			if err := Diagnostics(&b, diags, DiagOptions{Format: format, GitHub: format == "text"}); err != nil {
				t.Fatal(err)
			}
			var commands []string
			for _, l := range strings.Split(b.String(), "\n") {
				if strings.HasPrefix(strings.TrimLeft(l, " \t"), "::") {
					commands = append(commands, l)
				}
			}
			var want []string
			if format == "text" {
				// kcloud's own two annotations, escaped by GitHub's rules.
				want = []string{
					`::error file=specs/a%2Cb%3Ac.yaml,line=3,col=5::unknown environment "x\n::add-mask::hunter2\r\n::error title=pwned::owned"; 100%25`,
					`::warning file=%3A%3Awarning%3A%3Ax.yaml,line=1,col=1::\x3a:notice::hi`,
				}
			}
			if d := cmp.Diff(want, commands); d != "" {
				t.Errorf("workflow commands in the output (-want +got):\n%s\nall output:\n%s", d, b.String())
			}
		})
	}
}
