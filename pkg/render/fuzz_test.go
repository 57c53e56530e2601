package render

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kcloud.dev/kcloud/pkg/spec"
)

// FuzzRender loads a valid Cluster and one fuzzed file and, when that
// loads, renders it twice: it must never panic, every diagnostic must be
// positioned, and the two renders must be identical (no map-order
// dependence).
func FuzzRender(f *testing.F) {
	for _, root := range []string{"../../testdata", "../../specs"} {
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
				return nil
			}
			if data, err := os.ReadFile(path); err == nil && len(data) < 4<<10 {
				f.Add(data)
			}
			return nil
		})
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "cluster.yaml"), []byte(cluster), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "fuzz.yaml"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		tree, _, err := spec.Load(context.Background(), []string{dir})
		if err != nil || tree == nil {
			return
		}
		getenv := func(name string) (string, bool) { return "v-" + strings.ToLower(name), true }
		render := func() string {
			res, diags := Render(context.Background(), tree, Options{Getenv: getenv})
			for _, d := range diags {
				if d.Severity == spec.SeverityError && d.Pos.File != "" && d.Pos.Line < 1 {
					t.Errorf("diagnostic without a line: %+v", d)
				}
			}
			if res == nil {
				return fmt.Sprint(diags.Sorted())
			}
			objs := make([]any, 0, len(res.Objects()))
			for _, o := range res.Objects() {
				objs = append(objs, o.Object)
			}
			b, err := MarshalYAML(objs)
			if err != nil {
				t.Fatalf("marshal the render: %v", err)
			}
			return string(b)
		}
		if d := cmp.Diff(render(), render()); d != "" {
			t.Errorf("two renders differ (-first +second):\n%s", d)
		}
	})
}
