package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kcloud.dev/kcloud/internal/sopstest"
	"kcloud.dev/kcloud/pkg/printer"
)

// commitTree writes files into the git repository dir (creating it) and
// commits them; a nil content removes the file.
func commitTree(t *testing.T, dir, msg string, files map[string]*string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, ".git")); err != nil {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		git(t, dir, "init", "-q", "-b", "main")
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if content == nil {
			git(t, dir, "rm", "-q", name)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(*content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git(t, dir, "add", "-A")
	git(t, dir, "-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-q", "-m", msg)
}

func ptr(s string) *string { return &s }

// TestDiffAgainstARevisionInAFreshClone: `diff --against HEAD~1` in a fresh
// clone with no kubeconfig renders both revisions and diffs them offline,
// with diff's formats and exit codes, Secret values masked.
func TestDiffAgainstARevisionInAFreshClone(t *testing.T) {
	const canary, canary2 = "CANARY-against-old-value", "CANARY-against-new-value"
	key := sopstest.MustKey(t)
	t.Setenv("SOPS_AGE_KEY", key.Identity)
	app := func(color string) string {
		return component("app", "L4", "staging", `    - apiVersion: v1
      kind: ConfigMap
      metadata: {name: settings}
      data: {color: `+color+`}
`) + "  manifests: [creds.yaml]\n"
	}
	// The Secret is sops-encrypted: a plaintext one is a vet error.
	creds := func(secret string) *string {
		enc, err := sopstest.Encrypt([]byte("apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\nstringData: {password: "+secret+"}\n"), sopstest.KubernetesRegex, key.Recipient)
		if err != nil {
			t.Fatal(err)
		}
		return ptr(string(enc))
	}
	origin := t.TempDir()
	commitTree(t, origin, "first", map[string]*string{
		"specs/cluster.yaml": ptr(clusterYAML()),
		"specs/app.yaml":     ptr(app("blue")),
		"specs/creds.yaml":   creds(canary),
		"specs/old.yaml":     ptr(component("old", "L4", "staging", configMaps(1, "x"))),
		"README":             ptr("not a spec\n"),
	})
	commitTree(t, origin, "second", map[string]*string{
		"specs/app.yaml":   ptr(app("green")),
		"specs/creds.yaml": creds(canary2),
		"specs/old.yaml":   nil,
		"specs/new.yaml":   ptr(component("new", "L4", "staging", configMaps(1, "y"))),
	})
	clone := filepath.Join(t.TempDir(), "clone")
	git(t, origin, "clone", "-q", origin, clone)
	t.Chdir(filepath.Join(clone, "specs"))
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("KUBECONFIG", filepath.Join(home, "no-such-kubeconfig"))

	var all strings.Builder
	kc := func(args ...string) (int, string) {
		code, stdout, stderr := kcloud(t, args...)
		all.WriteString(stdout + stderr)
		return code, stdout
	}

	code, stdout := kc("diff", ".", "--against", "HEAD~1", "-o", "json")
	if code != exitFailed {
		t.Fatalf("exit %d, want 1\n%s", code, all.String())
	}
	var recs []printer.DiffRecord
	if err := json.Unmarshal([]byte(stdout), &recs); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	got := map[string]string{}
	for _, r := range recs {
		if r.Action != "unchanged" {
			got[r.Kind+" "+r.Namespace+"/"+r.Name] = r.Action
		}
	}
	want := map[string]string{
		"ConfigMap apps-staging/settings": "update",
		"Secret apps-staging/creds":       "update",
		"ConfigMap apps-staging/cm-000":   "update", // old's y → new's x: same name, same stack
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("changes (-want +got):\n%s\n%s", d, stdout)
	}

	code, stdout = kc("diff", ".", "--against", "HEAD~1")
	if code != exitFailed || !strings.Contains(stdout, "--- HEAD~1/") || !strings.Contains(stdout, "+++ working-tree/") ||
		!strings.Contains(stdout, "-  color: blue") || !strings.Contains(stdout, "*** (changed)") {
		t.Errorf("text diff: exit %d\n%s", code, stdout)
	}
	if code, stdout = kc("diff", ".", "--against", "HEAD~1", "-o", "markdown"); code != exitFailed || !strings.Contains(stdout, "### kcloud diff") {
		t.Errorf("markdown diff: exit %d\n%s", code, stdout)
	}
	if code, stdout = kc("diff", ".", "--against", "HEAD"); code != exitOK || !strings.Contains(stdout, "No changes") {
		t.Errorf("against HEAD: exit %d, want 0\n%s", code, stdout)
	}
	for _, v := range []string{canary, canary2} {
		for _, form := range []string{v, base64.StdEncoding.EncodeToString([]byte(v))} {
			if strings.Contains(all.String(), form) {
				t.Errorf("a Secret value (%q) was printed:\n%s", form, all.String())
			}
		}
	}

	t.Run("bad revisions exit 2", func(t *testing.T) {
		for _, ref := range []string{"--upload-pack=touch /tmp/x", "-h", "HEAD;id", "a..b", "no-such-branch", "$(id)"} {
			code, _, stderr := kcloud(t, "diff", ".", "--against", ref)
			if code != exitDiffErr || !strings.Contains(stderr, "--against") {
				t.Errorf("--against %q: exit %d, want 2\n%s", ref, code, stderr)
			}
		}
	})
	t.Run("invalid specs at the revision name ref:path", func(t *testing.T) {
		commitTree(t, clone, "broken", map[string]*string{"specs/bad.yaml": ptr(component("bad", "L9", "staging", configMaps(1, "z")))})
		commitTree(t, clone, "fixed", map[string]*string{"specs/bad.yaml": nil})
		code, _, stderr := kcloud(t, "diff", ".", "--against", "HEAD~1")
		if code != exitDiffErr || !strings.Contains(stderr, "HEAD~1:specs/bad.yaml:") {
			t.Errorf("exit %d, want 2 and HEAD~1:specs/bad.yaml:\n%s", code, stderr)
		}
	})
}
