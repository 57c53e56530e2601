package spec

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kcloud.dev/kcloud/internal/gentree"
)

// TestDecodeInShardsAsOneByOne: a tree large enough to be decoded on
// many CPUs gives the tree and diagnostics of decoding its files one by
// one, broken documents and rule errors included.
func TestDecodeInShardsAsOneByOne(t *testing.T) {
	dir := t.TempDir()
	if err := gentree.Write(dir, 60); err != nil {
		t.Fatal(err)
	}
	for i, bad := range []string{
		"spec: {layer: L9}",                         // not a layer
		"spec: {layer: L3, dependsOn: [nowhere]}",   // depends on nothing
		"spec: {layer: L4, storage: [{name: 1}]}",   // a name of the wrong type
		"spec: {layer: L3, colour: blue}",           // not a field
		"spec: {layer: L3}\n---\nkind: Component\n", // a stray document
	} {
		src := fmt.Sprintf("apiVersion: kcloud.dev/v1alpha1\nkind: Component\nmetadata: {name: bad-%d}\n%s\n", i, bad)
		if err := os.WriteFile(filepath.Join(dir, "data", fmt.Sprintf("db-%04d-bad.yaml", i*7)), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	load := func(procs int) (string, Diagnostics) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		tree, diags, err := LoadPartial(context.Background(), []string{dir})
		if err != nil {
			t.Fatal(err)
		}
		return treeSummary(t, tree), diags
	}
	oneByOne, oneByOneDiags := load(1)
	inShards, inShardsDiags := load(8)
	if diff := cmp.Diff(oneByOne, inShards); diff != "" {
		t.Errorf("tree (-one by one +in shards):\n%s", diff)
	}
	if diff := cmp.Diff(oneByOneDiags, inShardsDiags); diff != "" {
		t.Errorf("diagnostics (-one by one +in shards):\n%s", diff)
	}
	if len(inShardsDiags) < 5 {
		t.Errorf("want a diagnostic for each broken file at least, got %v", inShardsDiags)
	}
}

// treeSummary is what a tree says, as JSON: its Cluster and components,
// positions included (syntax nodes are pointers, left out).
func treeSummary(t *testing.T, tree *Tree) string {
	t.Helper()
	type doc struct {
		Object map[string]any
		Pos    Pos
	}
	type component struct {
		*Component
		Objects []doc
		Helm    any
		Values  any
		HelmPos Pos
	}
	var cs []component
	for _, c := range tree.Components {
		x := component{Component: c}
		for _, d := range c.Objects {
			x.Objects = append(x.Objects, doc{d.Object, d.Pos})
		}
		if h := c.Helm; h != nil {
			x.Helm, x.Values, x.HelmPos = []string{h.Repo, h.Chart, h.Version}, h.Values, h.Pos
		}
		cs = append(cs, x)
	}
	b, err := json.MarshalIndent(map[string]any{"cluster": tree.Cluster, "components": cs}, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
