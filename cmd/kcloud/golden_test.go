package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
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
func TestRenderGolden(t *testing.T) {
	root := repoRoot(t)
	for _, tc := range []struct{ name, dir string }{
		{"valid-minimal", filepath.Join(root, "testdata", "valid-minimal")},
		{"specs", filepath.Join(root, "specs")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := kcloud(t, "render", tc.dir)
			if code != exitOK {
				t.Fatalf("render: exit %d\n%s", code, stderr)
			}
			golden(t, tc.name+".render.yaml", stdout)
		})
	}
}
