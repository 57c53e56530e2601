package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kcloud.dev/kcloud/internal/sopstest"
	"kcloud.dev/kcloud/pkg/printer"
)

// init gives the package's tests the demo key specs/ is encrypted to,
// as the Makefile does, unless a key file is set already; tests of missing
// keys unset it (noKeys).
func init() {
	if os.Getenv("SOPS_AGE_KEY_FILE") == "" && moduleRoot != "" {
		os.Setenv("SOPS_AGE_KEY_FILE", filepath.Join(moduleRoot, "hack", "demo.agekey"))
	}
}

// canaries are secret values of every shape masking must handle: long, short
// (under redact.MinRedactLen) and numeric.
type canaries struct{ long, short, num string }

var (
	canary1 = canaries{long: "CANARY-7f3a9-do-not-print", short: "q7Z", num: "731904216"}
	canary2 = canaries{long: "CANARY-second-value-hidden", short: "w4X", num: "582039174"}
)

// forms are the ways a value could leak: as is, base64, JSON-escaped, %q.
func (c canaries) forms() []string {
	var out []string
	for _, v := range []string{c.long, c.short, c.num} {
		q := strconv.Quote(v)
		out = append(out, v, base64.StdEncoding.EncodeToString([]byte(v)), q[1:len(q)-1])
	}
	return out
}

// secretApp is an L4 component whose Secret comes from an encrypted
// manifest and whose ConfigMap and helm values reuse its values.
func secretApp(env string) string {
	return `apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata:
  name: app
spec:
  layer: L4
  envs: [` + env + `]
  manifests: [secrets.yaml]
  helm:
    # A chart written for the tests (testdata/charts/README.md): its
    # ConfigMap app-config carries server.host and podAnnotations.
    repo: https://charts.example.com
    chart: kv
    version: 0.1.0
    values:
      server: {host: "${secret:app-creds/long}"}
      podAnnotations: {pin: "${secret:app-creds/short}", port: "${secret:app-creds/num}"}
  objects:
    - apiVersion: v1
      kind: ConfigMap
      metadata: {name: app-settings}
      data:
        short: "${secret:app-creds/short}"
        num: "${secret:app-creds/num}"
        url: "postgres://app:${secret:app-creds/long}@db"
        app.env: |
          USER=app
          PIN=${secret:app-creds/short}
`
}

func encryptedCreds(t *testing.T, c canaries, recipient string) string {
	t.Helper()
	plain := fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: app-creds
stringData:
  long: %s
  short: %s
  num: "%s"
data:
  token: %s
`, c.long, c.short, c.num, base64.StdEncoding.EncodeToString([]byte(c.long)))
	enc, err := sopstest.Encrypt([]byte(plain), sopstest.KubernetesRegex, recipient)
	if err != nil {
		t.Fatal(err)
	}
	return string(enc)
}

// noKeys makes sure no age identity is found but the ones a test sets.
func noKeys(t *testing.T) {
	t.Helper()
	for _, k := range []string{"SOPS_AGE_KEY", "SOPS_AGE_KEY_FILE", "SOPS_AGE_KEY_CMD", "SOPS_AGE_SSH_PRIVATE_KEY_FILE"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // no sops/age/keys.txt (HOME stays: the test server needs its module cache)
}

// TestSecretValuesNeverPrinted runs every command on a plan whose Secret
// comes from a sops-encrypted file and is reused in a ConfigMap and in helm
// values, at debug level, and searches everything printed for the values.
func TestSecretValuesNeverPrinted(t *testing.T) {
	noKeys(t)
	key := sopstest.MustKey(t)
	t.Setenv("SOPS_AGE_KEY", key.Identity)
	env := uniqueEnv("secret")
	testdataChartCache(t)
	tree := func(c canaries) string {
		return writeTree(t, map[string]string{"cluster.yaml": clusterYAML(env), "app.yaml": secretApp(env), "secrets.yaml": encryptedCreds(t, c, key.Recipient),
			"charts.lock": testdataChartsLock(t)})
	}
	dir, dir2 := tree(canary1), tree(canary2)
	gone := writeTree(t, map[string]string{"cluster.yaml": clusterYAML(env), "app.yaml": component("app", "L4", env, configMaps(1, "x"))})

	var all strings.Builder
	runAll := func(args ...string) (int, string) {
		code, stdout, stderr := kcLive(t, append(args, "--log-level", "debug")...)
		all.WriteString(stdout + stderr)
		return code, stdout
	}
	for _, args := range [][]string{
		{"vet", dir}, {"render", dir}, {"render", dir, "-o", "json"},
		{"diff", dir, "--env", env}, {"diff", dir, "--env", env, "-o", "markdown"}, {"diff", dir, "--env", env, "-o", "json"},
		{"apply", dir, "--env", env, "--wait=false", "--dry-run"},
	} {
		runAll(args...)
	}
	if code, _ := runAll("apply", dir, "--env", env, "--wait=false"); code != 0 {
		t.Fatalf("apply failed:\n%s", all.String())
	}
	checkLiveSecret(t, "apps-"+env, canary1)

	code, stdout := runAll("diff", dir2, "--env", env, "-o", "json", "--with-diff")
	var recs []printer.DiffRecord
	if err := json.Unmarshal([]byte(stdout), &recs); err != nil {
		t.Fatalf("diff -o json: %v\n%s", err, stdout)
	}
	changed := map[string]bool{}
	for _, r := range recs {
		if r.Action == "update" && strings.Contains(r.Diff, "*** (changed)") {
			changed[r.Kind+"/"+r.Name] = true
		}
	}
	for _, want := range []string{"Secret/app-creds", "ConfigMap/app-settings", "ConfigMap/app-config"} {
		if code != 1 || !changed[want] {
			t.Errorf("diff of changed secret values: exit %d, %s not shown as '*** (changed)' (changed: %v)\n%s", code, want, changed, stdout)
		}
	}
	for _, args := range [][]string{
		{"diff", dir2, "--env", env}, {"diff", dir2, "--env", env, "-o", "markdown"},
		{"apply", dir2, "--env", env, "--wait=false"}, {"status", dir2, "--env", env}, {"status", dir2, "--env", env, "-o", "json"},
		{"render", dir2, "--env", env},
	} {
		runAll(args...)
	}
	checkLiveSecret(t, "apps-"+env, canary2)
	runAll("diff", gone, "--env", env)
	runAll("apply", gone, "--env", env, "--wait=false")

	out := all.String()
	for _, c := range []canaries{canary1, canary2} {
		for _, form := range c.forms() {
			if strings.Contains(out, form) {
				t.Errorf("a secret value (%q) was printed:\n%s", form, out)
			}
		}
	}
	if !strings.Contains(out, "Secret apps-"+env+"/app-creds") || !strings.Contains(out, "ConfigMap apps-"+env+"/app-settings") {
		t.Error("the test saw no Secret or ConfigMap in the output: it proves nothing")
	}

	// --show-secrets is the one way to see them.
	if _, stdout, _ := kcloud(t, "render", dir, "--env", env, "--show-secrets"); !strings.Contains(stdout, canary1.long) {
		t.Error("render --show-secrets does not show the decrypted values")
	}
}

// checkLiveSecret checks that the cluster holds the decrypted values, in
// the Secret and where they are reused.
func checkLiveSecret(t *testing.T, ns string, c canaries) {
	t.Helper()
	ctx := context.Background()
	s, err := typed(t).CoreV1().Secrets(ns).Get(ctx, "app-creds", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for k, v := range s.Data {
		got[k] = string(v)
	}
	want := map[string]string{"long": c.long, "short": c.short, "num": c.num, "token": c.long}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("live Secret holds other values than the decrypted ones (keys %d, want %d)", len(got), len(want))
	}
	cm, err := typed(t).CoreV1().ConfigMaps(ns).Get(ctx, "app-settings", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["short"] != c.short || cm.Data["num"] != c.num || cm.Data["url"] != "postgres://app:"+c.long+"@db" {
		t.Error("live ConfigMap does not hold the decrypted values")
	}
}

// TestUndecryptableFilesWriteNothing: a missing key, a wrong key and a
// tampered file each fail render, diff and apply naming the file, and
// nothing reaches the cluster.
func TestUndecryptableFilesWriteNothing(t *testing.T) {
	noKeys(t)
	key := sopstest.MustKey(t)
	wrong := sopstest.MustKey(t)
	good := encryptedCreds(t, canary1, key.Recipient)
	tampered := strings.Replace(good, "name: app-creds", "name: app-credz", 1)
	for _, tc := range []struct {
		name, key, file, want string
	}{
		{"missing key", "", good, "no key of its recipients (" + key.Recipient + ") is set"},
		{"wrong key", wrong.Identity, good, "no key of its recipients (" + key.Recipient + ") is set"},
		{"tampered", key.Identity, tampered, "its MAC does not verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SOPS_AGE_KEY", tc.key)
			env := uniqueEnv("nokey")
			dir := writeTree(t, map[string]string{"cluster.yaml": clusterYAML(env), "app.yaml": secretApp(env), "secrets.yaml": tc.file})
			for _, args := range [][]string{{"render"}, {"diff"}, {"apply", "--wait=false"}, {"status"}} {
				code, stdout, stderr := kcLive(t, append(args, dir, "--env", env)...)
				if code == 0 || !strings.Contains(stderr, "secrets.yaml:") || !strings.Contains(stderr, tc.want) {
					t.Errorf("%s: exit %d, want an error naming secrets.yaml with %q\n%s%s", args[0], code, tc.want, stdout, stderr)
				}
				for _, form := range canary1.forms() {
					if strings.Contains(stdout+stderr, form) {
						t.Errorf("%s printed a secret value", args[0])
					}
				}
			}
			ctx := context.Background()
			if _, err := typed(t).CoreV1().Namespaces().Get(ctx, "apps-"+env, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("namespace apps-%s: %v, want not found: something was written", env, err)
			}
			if _, err := typed(t).CoreV1().ConfigMaps("kube-system").Get(ctx, "kcloud-inventory-l4-"+env, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("inventory of l4-%s: %v, want not found: something was written", env, err)
			}
			// vet without a usable key still checks the rest, and warns.
			if tc.key == "" {
				code, stdout, stderr := kcloud(t, "vet", dir)
				if code != 0 || !strings.Contains(stdout, "its encrypted values were not checked") {
					t.Errorf("vet without a key: exit %d, want 0 and a warning\n%s%s", code, stdout, stderr)
				}
			}
		})
	}
}

// TestPlaintextSecretFailsVet: a Secret written in clear is a vet error at
// its file:line:col, and never reaches render.
func TestPlaintextSecretFailsVet(t *testing.T) {
	env := uniqueEnv("plain")
	dir := writeTree(t, map[string]string{"cluster.yaml": clusterYAML(env), "app.yaml": component("app", "L4", env, `    - apiVersion: v1
      kind: Secret
      metadata: {name: app-creds}
      stringData: {password: hunter2-in-clear}
`)})
	code, stdout, _ := kcloud(t, "vet", dir)
	want := "app.yaml:12:20: Secret \"app-creds\": stringData.password is in plaintext: encrypt it with sops"
	if code != exitFailed || !strings.Contains(stdout, want) {
		t.Errorf("vet: exit %d, want %d and %q\n%s", code, exitFailed, want, stdout)
	}
	if code, _, _ := kcloud(t, "render", dir); code != exitFailed {
		t.Errorf("render of a plaintext Secret: exit %d, want %d", code, exitFailed)
	}
}

// TestVetSpecsWithoutKey: specs/ vets with no key at all (a pull request
// from a fork), warning that encrypted values went unchecked; its files are
// encrypted to the demo key alone, which the Cluster's demo field accepts,
// so the summary says so once instead of a warning per file.
func TestVetSpecsWithoutKey(t *testing.T) {
	noKeys(t)
	code, stdout, stderr := kcloud(t, "vet", filepath.Join(moduleRoot, "specs"))
	if code != exitOK {
		t.Fatalf("vet specs/ without a key: exit %d\n%s%s", code, stdout, stderr)
	}
	if want := "its encrypted values were not checked"; !strings.Contains(stdout, want) {
		t.Errorf("vet specs/ without a key does not warn %q:\n%s", want, stdout)
	}
	if strings.Contains(stdout, "encrypted to the public demo key") {
		t.Errorf("vet warns file by file about the demo key although cluster.yaml says specs/ is a demo:\n%s", stdout)
	}
	if want := "cluster.yaml:36:9: a demo: 6 sops file(s) encrypted to the public demo key alone"; !strings.Contains(stderr, want) {
		t.Errorf("vet's summary does not say %q:\n%s", want, stderr)
	}
}

// TestDemoKeyWarnsWithoutDemo: a tree that does not say it is a demo gets
// a warning for each file encrypted to the public demo key alone.
func TestDemoKeyWarnsWithoutDemo(t *testing.T) {
	noKeys(t)
	dir := filepath.Join(t.TempDir(), "specs")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(moduleRoot, "specs"))); err != nil {
		t.Fatal(err)
	}
	cl := filepath.Join(dir, "cluster.yaml")
	b, err := os.ReadFile(cl)
	if err != nil {
		t.Fatal(err)
	}
	kept := slices.DeleteFunc(strings.SplitAfter(string(b), "\n"), func(l string) bool { return strings.HasPrefix(l, "  demo:") })
	if err := os.WriteFile(cl, []byte(strings.Join(kept, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := kcloud(t, "vet", dir)
	if code != exitOK {
		t.Fatalf("vet: exit %d\n%s%s", code, stdout, stderr)
	}
	if n := strings.Count(stdout, "warning: encrypted to the public demo key (hack/demo.agekey) alone"); n != 6 {
		t.Errorf("%d demo-key warnings, want one per sops file (6):\n%s", n, stdout)
	}
	if strings.Contains(stderr, "a demo:") {
		t.Errorf("the summary calls a tree without demo: a demo:\n%s", stderr)
	}
}

// demoIdentity is the age identity of hack/demo.agekey, as a CI secret
// holds it (SOPS_AGE_KEY).
func demoIdentity(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(moduleRoot, "hack", "demo.agekey"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "AGE-SECRET-KEY-") {
			return line
		}
	}
	t.Fatal("hack/demo.agekey holds no identity")
	return ""
}

// testdataChartsLock is the lock file of testdata/valid-minimal, which pins
// the charts written for the tests (testdata/charts).
func testdataChartsLock(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(moduleRoot, "testdata", "valid-minimal", "charts.lock"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
