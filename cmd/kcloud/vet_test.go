package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestVetOutputs(t *testing.T) {
	t.Chdir(filepath.Join(moduleRoot, "testdata"))
	tree := "invalid-rule1-layers"

	t.Run("json", func(t *testing.T) {
		code, stdout, _ := kcloud(t, "vet", "-o", "json", tree)
		if code != exitFailed {
			t.Fatalf("exit %d, want 1", code)
		}
		var got struct {
			Valid       bool
			Errors      int
			Diagnostics []struct {
				File         string
				Line, Column int
				Severity     string
				Message      string
			}
		}
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, stdout)
		}
		if got.Valid || got.Errors != 5 || len(got.Diagnostics) != 5 {
			t.Fatalf("got %+v", got)
		}
		first := got.Diagnostics[0]
		if first.File != filepath.Join(tree, "components.yaml") || first.Line != 7 || first.Column != 14 || first.Severity != "error" {
			t.Errorf("first diagnostic = %+v", first)
		}
	})

	t.Run("github annotations", func(t *testing.T) {
		t.Setenv("GITHUB_ACTIONS", "true")
		code, stdout, _ := kcloud(t, "vet", tree)
		if code != exitFailed {
			t.Fatalf("exit %d, want 1", code)
		}
		want := "::error file=invalid-rule1-layers/components.yaml,line=7,col=14::namespace \"apps-staging\" is not an L1 namespace; use one of kube-system, cert-manager, bootstrap"
		if !strings.Contains(stdout, want+"\n") {
			t.Errorf("missing annotation %q in:\n%s", want, stdout)
		}
		if n := strings.Count(stdout, "::error "); n != 5 {
			t.Errorf("%d annotations, want 5", n)
		}
	})

	t.Run("usage and io errors exit 2", func(t *testing.T) {
		for _, args := range [][]string{{"vet", "no-such-dir"}, {"vet", "-o", "xml", tree}, {"vet", "--bogus"}} {
			if code, _, stderr := kcloud(t, args...); code != exitUsage {
				t.Errorf("%v: exit %d, want 2 (%s)", args, code, stderr)
			}
		}
	})

	t.Run("unset variables warn", func(t *testing.T) {
		t.Setenv("VPS_HOST", "") // restored after the test
		os.Unsetenv("VPS_HOST")
		code, stdout, _ := kcloud(t, "vet", filepath.Join(moduleRoot, "specs"))
		if code != exitOK || !strings.Contains(stdout, "warning: ${VPS_HOST} is not set") {
			t.Errorf("exit %d, output:\n%s", code, stdout)
		}
	})
}

// TestRenderIsDeterministic renders specs/ twice from the directory above
// it and once from elsewhere: the bytes are the same.
func TestRenderIsDeterministic(t *testing.T) {
	specs, kubero := specsCopy(t)
	render := func(dir, specs string) string {
		t.Chdir(dir)
		code, stdout, stderr := kcloud(t, "render", specs)
		if code != exitOK {
			t.Fatalf("render: exit %d: %s", code, stderr)
		}
		return stdout
	}
	a := render(filepath.Dir(specs), "specs")
	b := render(filepath.Dir(specs), "specs/")
	c := render(t.TempDir(), specs)
	if a != b || a != c {
		t.Errorf("renders differ:\n%s", cmp.Diff(a, c))
	}
	kinds := []string{"StatefulSet", "Deployment", "HelmChartConfig", "ClusterIssuer", "Certificate", "StorageClass", "PersistentVolumeClaim", "Namespace", "Ingress", "Secret"}
	if kubero == "" {
		kinds = append(kinds, "Kubero", "CustomResourceDefinition")
	}
	for _, kind := range kinds {
		if !strings.Contains(a, "\nkind: "+kind+"\n") {
			t.Errorf("specs/ renders no %s", kind)
		}
	}
}

func TestDocs(t *testing.T) {
	code, stdout, _ := kcloud(t, "docs")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"## Layers", "## Namespaces", "## StorageClasses and retention", "## Environments",
		"| L3 | data | per-env | `data-<env>` |", "| `local-path-retain` | `rancher.io/local-path` | Retain |", "`<prefix>-api.<base>`"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("docs lack %q", want)
		}
	}
}
