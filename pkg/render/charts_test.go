package render

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kcloud.dev/kcloud/pkg/spec"
)

// chainCharts: pg, which never calls lookup, and chain, which reads the
// ConfigMap its values name and writes what it read into its own.
func chainCharts(t *testing.T) testCharts {
	charts := pgChart(t)
	charts[ChartRef{Repo: "https://charts.example.com", Chart: "chain", Version: "1.0.0"}] = buildChart(t, "chain", "1.0.0", map[string]string{
		"values.yaml": "reads: \"\"\n",
		"templates/cm.yaml": `{{- $read := lookup "v1" "ConfigMap" .Release.Namespace .Values.reads }}
apiVersion: v1
kind: ConfigMap
metadata: {name: {{ .Release.Name }}}
data:
  read: {{ if $read }}{{ dig "data" "host" (printf "chained-%s" (dig "data" "read" "" $read)) $read | quote }}{{ else }}none{{ end }}
`,
	})
	return charts
}

// chainTree: 40 L3 components with charts, in both environments; every
// third reads the ConfigMap of the component before it (rendered before
// it), every fifth of the one after it (not yet rendered).
func chainTree(t *testing.T) *spec.Tree {
	files := map[string]string{}
	for i := range 40 {
		name := fmt.Sprintf("c%02d", i)
		helm := "    repo: https://charts.example.com\n    chart: pg\n    version: 1.0.0\n    values: {host: " + name + "-host}\n"
		switch {
		case i%3 == 0 && i > 0:
			helm = fmt.Sprintf("    repo: https://charts.example.com\n    chart: chain\n    version: 1.0.0\n    values: {reads: c%02d}\n", i-1)
		case i%5 == 0:
			helm = fmt.Sprintf("    repo: https://charts.example.com\n    chart: chain\n    version: 1.0.0\n    values: {reads: c%02d}\n", i+1)
		}
		files[name+".yaml"] = fmt.Sprintf("apiVersion: kcloud.dev/v1alpha1\nkind: Component\nmetadata: {name: %s}\nspec:\n  layer: L3\n  helm:\n%s", name, helm)
	}
	return load(t, files)
}

// TestChartsRenderedAheadAsInTurn: charts rendered on many CPUs give the
// plan and diagnostics of charts rendered one by one in tree order; a
// lookup still sees the charts before its own and not those after.
func TestChartsRenderedAheadAsInTurn(t *testing.T) {
	tree := chainTree(t)
	render := func(procs int) (string, spec.Diagnostics, *Result) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		res, diags := Render(context.Background(), tree, Options{Charts: chainCharts(t)})
		if diags.HasErrors() {
			t.Fatalf("render with %d CPUs: %v", procs, diags)
		}
		var out []byte
		for _, s := range append(res.Stacks, res.Others...) {
			for _, o := range s.Objects {
				y, err := MarshalYAML(o.Object)
				if err != nil {
					t.Fatal(err)
				}
				out = append(append(out, "---\n"...), y...)
			}
		}
		return string(out), diags, res
	}
	inTurn, inTurnDiags, _ := render(1)
	ahead, aheadDiags, res := render(8)
	if inTurn != ahead {
		t.Errorf("the plan rendered ahead differs from the one rendered in turn:\n%s", cmp.Diff(inTurn, ahead))
	}
	if diff := cmp.Diff(inTurnDiags, aheadDiags); diff != "" {
		t.Errorf("diagnostics (-in turn +ahead):\n%s", diff)
	}
	read := func(name string) any {
		cm := find(res, "ConfigMap", name)
		if cm == nil {
			t.Fatalf("no ConfigMap %s", name)
		}
		return cm.Object["data"].(map[string]any)["read"]
	}
	// c03 reads c02 (pg: its host); c05 reads c06, after it: nothing; c06
	// reads c05 (a chain: what c05 read).
	for name, want := range map[string]string{"c03": "c02-host", "c05": "none", "c06": "chained-none", "c10": "none", "c12": "c11-host", "c21": "chained-none"} {
		if got := read(name); got != want {
			t.Errorf("ConfigMap %s read %v, want %s", name, got, want)
		}
	}
}

// TestParseDocs: a rendered file's documents, as Helm splits them; empty
// ones skipped, anything but a mapping refused with the YAML library's
// words, as before objects were converted to JSON once.
func TestParseDocs(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		want          []string // names
		wantErr       string
	}{
		{name: "objects", content: "kind: ConfigMap\nmetadata: {name: a}\n---\n# only a comment\n---\n{}\n---\nkind: Secret\nmetadata: {name: b}\n", want: []string{"a", "b"}},
		{name: "null", content: "---\n~\n", want: nil},
		{name: "list", content: "- a\n- b\n", wantErr: "t.yaml: document 1: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type map[string]interface {}"},
		{name: "scalar", content: "kind: ConfigMap\n---\njust words\n", wantErr: "t.yaml: document 2: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go value of type map[string]interface {}"},
		{name: "bad YAML", content: "a: [\n", wantErr: "t.yaml: document 1: error converting YAML to JSON: yaml: line 1: did not find expected node content"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			docs, err := parseDocs("t.yaml", tc.content)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, u := range docs {
				got = append(got, u.GetName())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
		})
	}
}
