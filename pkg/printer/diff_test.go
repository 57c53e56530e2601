package printer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/diff"
)

func changes(n, diffLen int) *diff.Result {
	res := &diff.Result{Stacks: []string{"l1", "l4-prod"}}
	cm := schema.GroupKind{Kind: "ConfigMap"}
	for i := range n {
		res.Changes = append(res.Changes, diff.Change{
			Stack: "l4-prod", Action: change.Update, Ref: change.Ref{GroupKind: cm, Namespace: "apps-prod", Name: fmt.Sprintf("cm-%03d", i)}, Version: "v1",
			Diff: "--- a\n+++ b\n@@ -1 +1 @@\n-" + strings.Repeat("x", diffLen) + "\n+y\n",
		})
	}
	res.Changes = append(res.Changes, diff.Change{Stack: "l1", Action: change.Unchanged, Ref: change.Ref{GroupKind: cm, Name: "same"}, Version: "v1"})
	return res
}

func TestDiffMarkdownIsCappedAndSaysWhatWasCut(t *testing.T) {
	for _, tc := range []struct {
		name    string
		res     *diff.Result
		wantCut int
	}{
		{"small diff is whole", changes(3, 10), 0},
		{"large diff is cut", changes(200, 1000), -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Diff(&b, tc.res, DiffOptions{Format: "markdown"}); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if len(out) > MarkdownLimit {
				t.Errorf("markdown is %d characters, over %d", len(out), MarkdownLimit)
			}
			shown := strings.Count(out, "<details>")
			cut := strings.Contains(out, "**Cut:**")
			if tc.wantCut == 0 {
				if cut || shown != 3 {
					t.Errorf("shown %d sections, cut %v; want all 3 and no cut", shown, cut)
				}
				return
			}
			if !cut || !strings.Contains(out, fmt.Sprintf("%d more changed object(s)", 200-shown)) || !strings.Contains(out, fmt.Sprintf("ConfigMap apps-prod/cm-%03d (l4-prod)", shown)) {
				t.Errorf("the cut note does not name what was cut (%d shown):\n%s", shown, out[len(out)-600:])
			}
			if !strings.Contains(out, "| `l4-prod` | 0 | 200 | 0 | 0 | 0 |") {
				t.Errorf("summary table missing:\n%s", out[:400])
			}
		})
	}
}

func TestDiffJSONHasOneRecordPerObject(t *testing.T) {
	var b bytes.Buffer
	if err := Diff(&b, changes(2, 1), DiffOptions{Format: "json"}); err != nil {
		t.Fatal(err)
	}
	var got []DiffRecord
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := []string{"l4-prod update v1 ConfigMap apps-prod/cm-000", "l4-prod update v1 ConfigMap apps-prod/cm-001", "l1 unchanged v1 ConfigMap /same"}
	var gotS []string
	for _, r := range got {
		gotS = append(gotS, fmt.Sprintf("%s %s %s %s %s/%s", r.Stack, r.Action, r.APIVersion, r.Kind, r.Namespace, r.Name))
	}
	if d := cmp.Diff(want, gotS); d != "" {
		t.Errorf("records (-want +got):\n%s", d)
	}
}

func TestDiffTextColoursOnlyWhenAsked(t *testing.T) {
	for _, color := range []bool{false, true} {
		var b bytes.Buffer
		if err := Diff(&b, changes(1, 1), DiffOptions{Format: "text", Color: color}); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(b.String(), "\x1b["); got != color {
			t.Errorf("color %v: escape codes present = %v", color, got)
		}
		if !strings.Contains(b.String(), "0 to create, 1 to update, 0 to delete, 0 to detach, 1 unchanged.") {
			t.Errorf("no totals line:\n%s", b.String())
		}
	}
}

func TestDiffSaysWhenComputedClientSide(t *testing.T) {
	for _, format := range []string{"text", "markdown", "json"} {
		for _, local := range []bool{false, true} {
			res := changes(1, 1)
			res.ClientSide = local
			for i := range res.Changes {
				res.Changes[i].ClientSide = local
			}
			var b bytes.Buffer
			if err := Diff(&b, res, DiffOptions{Format: format}); err != nil {
				t.Fatal(err)
			}
			label := clientSide
			if format == "json" {
				label = `"clientSide": true`
			}
			if got := strings.Contains(b.String(), label); got != local {
				t.Errorf("%s, client side %v: labelled %v:\n%s", format, local, got, b.String())
			}
		}
	}
}

// TestDiffJSONRendersDiffsOnlyWhenAsked: -o json leaves the unified diffs
// out unless WithDiff.
func TestDiffJSONRendersDiffsOnlyWhenAsked(t *testing.T) {
	for _, withDiff := range []bool{false, true} {
		var b bytes.Buffer
		if err := Diff(&b, changes(2, 5), DiffOptions{Format: "json", WithDiff: withDiff}); err != nil {
			t.Fatal(err)
		}
		var recs []map[string]any
		if err := json.Unmarshal(b.Bytes(), &recs); err != nil {
			t.Fatal(err)
		}
		got := 0
		for _, r := range recs {
			if _, ok := r["diff"]; ok {
				got++
			}
		}
		if want := map[bool]int{false: 0, true: 2}[withDiff]; got != want || len(recs) != 3 {
			t.Errorf("WithDiff %v: %d of %d records have a diff, want %d of 3", withDiff, got, len(recs), want)
		}
	}
}
