package spec

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// addSeeds adds every YAML file under the repository's testdata/ and
// specs/ to the corpus.
func addSeeds(f *testing.F) {
	for _, root := range []string{"../../testdata", "../../specs"} {
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !isYAML(path) {
				return nil
			}
			if data, err := os.ReadFile(path); err == nil && len(data) < 4<<10 {
				f.Add(data)
			}
			return nil
		})
	}
}

// FuzzLoad loads a tree of a valid Cluster and one fuzzed file. It must
// never panic, and every problem must be a diagnostic with a file and a
// line.
func FuzzLoad(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "cluster.yaml"), []byte(testCluster), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "fuzz.yaml"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, diags, err := LoadPartial(context.Background(), []string{dir})
		if err != nil {
			t.Fatalf("LoadPartial: %v", err)
		}
		for _, d := range diags {
			if d.Pos.File == "" || d.Pos.Line < 1 {
				t.Errorf("diagnostic without file:line: %+v", d)
			}
		}
	})
}

// FuzzParseManifest parses fuzzed manifest bytes the way fetched manifests
// are parsed: never a panic, every diagnostic positioned.
func FuzzParseManifest(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, diags := ParseManifest("fuzz.yaml", data)
		for _, d := range diags {
			if !strings.HasPrefix(d.Pos.File, "fuzz.yaml") || d.Pos.Line < 1 {
				t.Errorf("diagnostic without file:line: %+v", d)
			}
		}
		if !diags.HasErrors() {
			for _, d := range docs {
				if d.Object["apiVersion"] == nil || d.Object["kind"] == nil {
					t.Errorf("object without apiVersion or kind accepted: %v", d.Object)
				}
			}
		}
	})
}
