package printer

import (
	"bytes"
	"strings"
	"testing"
)

// TestMarkdownCutLinksToDetails: a markdown diff over its limit names what
// it leaves out and links to the whole diff when told where it is.
func TestMarkdownCutLinksToDetails(t *testing.T) {
	for _, tc := range []struct {
		name, url, want string
	}{
		{"artifact link", "https://github.com/o/r/actions/runs/1/artifacts/2", "The whole diff: https://github.com/o/r/actions/runs/1/artifacts/2\n"},
		{"no link", "", "Run `kcloud diff` for the whole diff.\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Diff(&b, changes(100, 200), DiffOptions{Format: "markdown", Limit: 4000, DetailsURL: tc.url}); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if len(out) > 4000 || !strings.HasSuffix(out, tc.want) || !strings.Contains(out, "**Cut:**") {
				t.Errorf("%d bytes, want ≤ 4000 ending in %q:\n%s", len(out), tc.want, out[max(0, len(out)-400):])
			}
		})
	}
}
