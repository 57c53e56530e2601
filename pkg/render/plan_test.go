package render_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"kcloud.dev/kcloud/pkg/render"
)

func TestSelectionMatch(t *testing.T) {
	stacks := []string{"l1", "l2", "l3-staging", "l3-prod", "l4-staging", "l4-prod", "bogus"}
	for _, tc := range []struct {
		name string
		sel  render.Selection
		want []string
	}{
		{"everything", render.Selection{}, []string{"l1", "l2", "l3-staging", "l3-prod", "l4-staging", "l4-prod"}},
		{"a shared layer", render.Selection{Order: 2}, []string{"l2"}},
		{"a per-env layer", render.Selection{Order: 3}, []string{"l3-staging", "l3-prod"}},
		{"an environment: its L3 and L4 only", render.Selection{Env: "prod"}, []string{"l3-prod", "l4-prod"}},
		{"a layer in an environment", render.Selection{Order: 4, Env: "staging"}, []string{"l4-staging"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, s := range stacks {
				if tc.sel.Match(s) {
					got = append(got, s)
				}
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("matched (-want +got):\n%s", d)
			}
		})
	}
}
