package seal_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/seal"
)

func configMap(name, value string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name}, "data": map[string]any{"v": value}}}
}

// memo is a memo of a test server with its own key.
func memo(t *testing.T) *seal.Memo {
	dir := t.TempDir()
	return &seal.Memo{Dir: filepath.Join(dir, "cache", "seals"), Server: "https://a:6443", KeyFile: filepath.Join(dir, "config", "seal.key")}
}

// TestPlanDigestsWhatIsSent: the digest changes with any value of the
// object, with its stack (the inventory kcloud writes into it) and with
// the types the server applies it with (a CRD's schema), and only with
// them.
func TestPlanDigestsWhatIsSent(t *testing.T) {
	m := memo(t)
	digest := func(stack string, o *unstructured.Unstructured) string {
		t.Helper()
		d, err := m.Plan(stack, o, "builtin")
		if err != nil || d == "" {
			t.Fatalf("digest %q, %v", d, err)
		}
		return d
	}
	base := digest("l4-prod", configMap("a", "1"))
	if again := digest("l4-prod", configMap("a", "1")); again != base {
		t.Errorf("the same object digests as %s and %s", base, again)
	}
	secret := configMap("a", "1")
	secret.SetKind("Secret")
	labelled := configMap("a", "1")
	labelled.SetLabels(map[string]string{"x": "y"})
	crd := func(rv string) string {
		t.Helper()
		d, err := m.Plan("l4-prod", configMap("a", "1"), "crd uid/"+rv)
		if err != nil || d == "" {
			t.Fatalf("digest %q, %v", d, err)
		}
		return d
	}
	if crd("1") == crd("2") {
		t.Error("the CRD changed, the digest did not")
	}
	for name, d := range map[string]string{
		"the types": crd("1"),
		"a value":   digest("l4-prod", configMap("a", "2")),
		"the name":  digest("l4-prod", configMap("b", "1")),
		"the kind":  digest("l4-prod", secret),
		"a label":   digest("l4-prod", labelled),
		"the stack": digest("l4-staging", configMap("a", "1")),
	} {
		if d == base {
			t.Errorf("%s changed, the digest did not", name)
		}
	}
}

// TestPlanIsKeyed: digests are keyed with a random key kept outside the
// seal directory, made once (0600) and kept: whoever reads the seals
// cannot test a guess of a secret value against them. Without a key there
// are no digests.
func TestPlanIsKeyed(t *testing.T) {
	m, other := memo(t), memo(t)
	secret := configMap("db", "hunter2")
	secret.SetKind("Secret")
	a, _ := m.Plan("l4-prod", secret, "builtin")
	b, _ := other.Plan("l4-prod", secret, "builtin")
	if a == "" || a == b {
		t.Errorf("two keys digest the same object as %q and %q", a, b)
	}
	again := &seal.Memo{Dir: m.Dir, Server: m.Server, KeyFile: m.KeyFile}
	if c, _ := again.Plan("l4-prod", secret, "builtin"); c != a {
		t.Errorf("the key was not kept: %q, then %q", a, c)
	}
	fi, err := os.Stat(m.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Size() != 32 {
		t.Errorf("key file: mode %v, %d bytes; want 0600, 32", fi.Mode().Perm(), fi.Size())
	}
	if strings.HasPrefix(m.KeyFile, m.Dir) {
		t.Errorf("the key %s is in the seal directory %s", m.KeyFile, m.Dir)
	}
	if d, err := (&seal.Memo{Dir: m.Dir}).Plan("l4-prod", secret, "builtin"); d != "" || err != nil {
		t.Errorf("a memo with no key digests as %q (%v)", d, err)
	}
	if d, err := m.Plan("l4-prod", secret, ""); d != "" || err != nil {
		t.Errorf("an object of unknown types digests as %q (%v)", d, err)
	}
}

// TestOf: the state is the UID and the resourceVersion.
func TestOf(t *testing.T) {
	a := seal.Of(&metav1.ObjectMeta{UID: "u1", ResourceVersion: "10"})
	for name, o := range map[string]*metav1.ObjectMeta{
		"a write":          {UID: "u1", ResourceVersion: "11"},
		"another object":   {UID: "u2", ResourceVersion: "10"},
		"no object at all": {},
	} {
		if seal.Of(o) == a {
			t.Errorf("%s has the state %s too", name, a)
		}
	}
}

// TestMemo: seals are kept per server and stack, in files only the user
// reads; storing none removes a stack's.
func TestMemo(t *testing.T) {
	m := memo(t)
	dir := m.Dir
	other := &seal.Memo{Dir: dir, Server: "https://b:6443"}
	if got := m.Load("l4-prod"); len(got) != 0 {
		t.Fatalf("seals before any was stored: %v", got)
	}
	key := seal.Key(change.NewRef(schema.GroupKind{Kind: "ConfigMap"}, "apps-prod", "web"))
	want := seal.Seals{key: {Plan: "p", State: "u1/10"}, seal.Key(change.NewRef(schema.GroupKind{Group: "apps", Kind: "Deployment"}, "apps-prod", "web")): {Plan: "q", State: "u2/11"}}
	if err := m.Store("l4-prod", want); err != nil {
		t.Fatal(err)
	}
	if got := m.Load("l4-prod"); len(got) != 2 || got[key] != want[key] {
		t.Errorf("loaded %v, stored %v", got, want)
	}
	if got := other.Load("l4-prod"); len(got) != 0 {
		t.Errorf("another server's stack loaded %v", got)
	}
	if got := m.Load("l4-staging"); len(got) != 0 {
		t.Errorf("another stack loaded %v", got)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("seal directory mode %v, want 0700", fi.Mode().Perm())
	}
	files, _ := os.ReadDir(dir)
	for _, f := range files {
		info, _ := f.Info()
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", f.Name(), info.Mode().Perm())
		}
	}
	if len(files) != 1 {
		t.Errorf("%d files after one store, want 1", len(files))
	}
	if err := m.Store("l4-prod", nil); err != nil {
		t.Fatal(err)
	}
	if got := m.Load("l4-prod"); len(got) != 0 {
		t.Errorf("after storing none, loaded %v", got)
	}
	var none *seal.Memo
	if err := none.Store("x", want); err != nil || len(none.Load("x")) != 0 {
		t.Error("a nil Memo keeps seals")
	}
}
