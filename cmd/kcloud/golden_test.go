package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kcloud.dev/kcloud/pkg/printer"
	"kcloud.dev/kcloud/pkg/redact"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/secret"
	"kcloud.dev/kcloud/pkg/spec"
)

// golden compares got with testdata/golden/name, or rewrites it when
// KCLOUD_UPDATE=1.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(repoRoot(t), "testdata", "golden", name)
	if os.Getenv("KCLOUD_UPDATE") == "1" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with KCLOUD_UPDATE=1 to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

// repoRoot is the module root, two levels above this package (found once,
// before any test changes the working directory).
func repoRoot(t *testing.T) string {
	t.Helper()
	if moduleRoot == "" {
		t.Fatal("module root unknown")
	}
	return moduleRoot
}

var moduleRoot = func() string {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return ""
	}
	return root
}()

// kcloud runs the CLI in-process and returns its exit code and output.
func kcloud(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestVetGolden runs vet on every testdata tree: each invalid-* tree fails
// with exactly its golden errors (file:line:col: message, paths relative to
// the working directory), each valid-* tree passes.
func TestVetGolden(t *testing.T) {
	testdata := filepath.Join(repoRoot(t), "testdata")
	entries, err := os.ReadDir(testdata)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(testdata)
	t.Setenv("GITHUB_ACTIONS", "")
	testdataChartCache(t)
	var seen int
	for _, e := range entries {
		name := e.Name()
		valid := strings.HasPrefix(name, "valid-")
		if !e.IsDir() || !(valid || strings.HasPrefix(name, "invalid-")) {
			continue
		}
		seen++
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := kcloud(t, "vet", name)
			wantCode := exitFailed
			if valid {
				wantCode = exitOK
			}
			if code != wantCode {
				t.Fatalf("vet %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", name, code, wantCode, stdout, stderr)
			}
			if !valid {
				for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
					if !strings.HasPrefix(line, name+string(filepath.Separator)) && !strings.HasPrefix(line, name+":") {
						t.Errorf("line does not start with a path in %s: %q", name, line)
					}
				}
			}
			golden(t, name+".vet.txt", stdout)
		})
	}
	if seen < 10 {
		t.Fatalf("found only %d testdata trees", seen)
	}
}

// TestRenderGolden renders the valid trees and the real platform's specs.
// specs/ is rendered without its URL manifests and without the objects
// its charts render: what upstream publishes stays out of this
// repository, golden files included.
func TestRenderGolden(t *testing.T) {
	root := repoRoot(t)
	testdataChartCache(t)
	t.Run("valid-minimal", func(t *testing.T) {
		code, stdout, stderr := kcloud(t, "render", filepath.Join(root, "testdata", "valid-minimal"))
		if code != exitOK {
			t.Fatalf("render: exit %d\n%s", code, stderr)
		}
		golden(t, "valid-minimal.render.yaml", stdout)
	})
	t.Run("specs", func(t *testing.T) {
		specsEnv(t)
		tree, diags, err := spec.Load(context.Background(), []string{filepath.Join(root, "specs")})
		if err != nil || diags.HasErrors() {
			t.Fatalf("load: %v %v", err, diags)
		}
		res, diags := render.Render(context.Background(), tree, render.Options{Getenv: os.LookupEnv, Decrypt: secret.Decrypt, Charts: sharedChartSource(t, tree)})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		for i := range res.Stacks {
			res.Stacks[i].Objects = slices.DeleteFunc(res.Stacks[i].Objects, render.Object.FromChart)
		}
		var out bytes.Buffer
		if err := printer.Render(&out, res, "yaml", redact.NewRedactor(nil)); err != nil {
			t.Fatal(err)
		}
		golden(t, "specs.render.yaml", out.String())
	})
}
