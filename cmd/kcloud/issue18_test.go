package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kcloud.dev/kcloud/internal/sopstest"
)

// The reproductions of issue 18, one test each (5 and 6 are
// pkg/secret's TestDecryptCryptRulesAsSops and TestDecryptTimeAndBytesAsSops).

// vetLeaks runs vet (text with GITHUB_ACTIONS annotations, and JSON) on
// dir and checks that it fails saying want, without the canary.
func vetLeaks(t *testing.T, dir, want string) {
	t.Helper()
	t.Setenv("GITHUB_ACTIONS", "true")
	for _, format := range []string{"text", "json"} {
		code, stdout, stderr := kcloud(t, "vet", dir, "-o", format, "--log-level", "debug")
		if code != exitFailed || !strings.Contains(stdout+stderr, want) {
			t.Errorf("vet -o %s: exit %d, want %d saying %q\n%s%s", format, code, exitFailed, want, stdout, stderr)
		}
		if format == "text" && !strings.Contains(stdout, "::error file=") {
			t.Errorf("vet with GITHUB_ACTIONS=true writes no annotation: the test proves nothing\n%s", stdout)
		}
		checkNoLeak(t, "vet -o "+format, stdout+stderr)
	}
}

func TestIssue18Repro1WrongTypeQuotesNoSecret(t *testing.T) {
	noKeys(t)
	key := sopstest.MustKey(t)
	t.Setenv("SOPS_AGE_KEY", key.Identity)
	dir := canaryTree(t, uniqueEnv("r1"), key.Recipient, canaryPositions[0].objects)
	vetLeaks(t, dir, "immutable")
}

func TestIssue18Repro1IngressHostQuotesNoSecret(t *testing.T) {
	noKeys(t)
	key := sopstest.MustKey(t)
	t.Setenv("SOPS_AGE_KEY", key.Identity)
	for _, pos := range canaryPositions {
		if pos.name == "ingress host on the internal domain" {
			vetLeaks(t, canaryTree(t, uniqueEnv("r1"), key.Recipient, pos.objects), "kcloud.dev/auth")
		}
	}
}

// A value's type: is not covered by sops' MAC: type:str → type:int on a
// numeric secret decrypts, and the wrong type must not quote it.
func TestIssue18Repro1TypeChangedInSopsFile(t *testing.T) {
	noKeys(t)
	key := sopstest.MustKey(t)
	t.Setenv("SOPS_AGE_KEY", key.Identity)
	dir := canaryTree(t, uniqueEnv("r1"), key.Recipient, "    []\n")
	path := filepath.Join(dir, "secrets.yaml")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(num: ENC\[[^\]]*)type:str\]`)
	if !re.Match(src) {
		t.Fatalf("no encrypted num in\n%s", src)
	}
	if err := os.WriteFile(path, re.ReplaceAll(src, []byte("${1}type:int]")), 0o644); err != nil {
		t.Fatal(err)
	}
	vetLeaks(t, dir, "stringData")
}

// strippedSops is a sops file with its metadata deleted and a label
// added, as a pull request could.
func strippedSops(t *testing.T, recipient string) string {
	t.Helper()
	enc := encryptedCreds(t, canary, recipient)
	i := strings.Index(enc, "\nsops:")
	if i < 0 {
		t.Fatalf("no sops metadata in\n%s", enc)
	}
	return strings.Replace(enc[:i+1], "    name: app-creds\n", "    name: app-creds\n    labels: {team: web}\n", 1)
}

func TestIssue18Repro2SopsMetadataDeleted(t *testing.T) {
	noKeys(t)
	key := sopstest.MustKey(t)
	t.Setenv("SOPS_AGE_KEY", key.Identity)
	env := uniqueEnv("r2")
	dir := canaryTree(t, env, key.Recipient, "    []\n")
	if err := os.WriteFile(filepath.Join(dir, "secrets.yaml"), []byte(strippedSops(t, key.Recipient)), 0o644); err != nil {
		t.Fatal(err)
	}
	want := "secrets.yaml:7:11: stringData.long holds a sops-encrypted value (ENC[…]) but this file has no sops metadata"
	code, stdout, stderr := kcloud(t, "vet", dir)
	if code != exitFailed || !strings.Contains(stdout, want) {
		t.Errorf("vet: exit %d, want %d and %q\n%s%s", code, exitFailed, want, stdout, stderr)
	}
	if code, stdout, stderr := kcLive(t, "apply", dir, "--env", env, "--wait=false"); code != exitFailed || !strings.Contains(stderr, "no sops metadata") {
		t.Errorf("apply: exit %d, want %d naming the missing metadata\n%s%s", code, exitFailed, stdout, stderr)
	}
	if _, err := typed(t).CoreV1().Namespaces().Get(context.Background(), "apps-"+env, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("namespace apps-%s: %v, want not found: something was written", env, err)
	}
}

func TestIssue18Repro2EncryptedLiteralInObjects(t *testing.T) {
	noKeys(t)
	key := sopstest.MustKey(t)
	t.Setenv("SOPS_AGE_KEY", key.Identity)
	dir := canaryTree(t, uniqueEnv("r2"), key.Recipient, `    - apiVersion: v1
      kind: Secret
      metadata: {name: copied}
      stringData: {password: "ENC[AES256_GCM,data:AAAA,iv:AAAA,tag:AAAA,type:str]"}
    - apiVersion: v1
      kind: ConfigMap
      metadata: {name: cfg}
      data: {url: "ENC[AES256_GCM,data:BBBB,iv:BBBB,tag:BBBB,type:str]"}
`)
	code, stdout, _ := kcloud(t, "vet", dir)
	for _, want := range []string{
		"app.yaml:13:30: spec.objects[0].stringData.password holds a sops-encrypted value (ENC[…])",
		"app.yaml:17:19: spec.objects[1].data.url holds a sops-encrypted value (ENC[…])",
	} {
		if code != exitFailed || !strings.Contains(stdout, want) {
			t.Errorf("vet: exit %d, want %d and %q\n%s", code, exitFailed, want, stdout)
		}
	}
}

// An encrypted value is used verbatim: no ${…} inside it is substituted.
func TestIssue18Repro3DecryptedValuesVerbatim(t *testing.T) {
	noKeys(t)
	key := sopstest.MustKey(t)
	t.Setenv("SOPS_AGE_KEY", key.Identity)
	t.Setenv("VPS_HOST", "203.0.113.10")
	env := uniqueEnv("r3")
	value := "pw$${x}-${VPS_HOST}"
	plain := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-creds\n  annotations: {at: \"${VPS_HOST}\"}\nstringData:\n  long: " + value + "\n  short: k9Q\n  num: \"1\"\n"
	enc, err := sopstest.Encrypt([]byte(plain), sopstest.KubernetesRegex, key.Recipient)
	if err != nil {
		t.Fatal(err)
	}
	dir := canaryTree(t, env, key.Recipient, `    - apiVersion: v1
      kind: ConfigMap
      metadata: {name: cfg}
      data: {copy: "${secret:app-creds/long}", host: "${VPS_HOST}"}
`)
	if err := os.WriteFile(filepath.Join(dir, "secrets.yaml"), enc, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := kcloud(t, "render", dir, "--env", env, "--show-secrets")
	if code != exitOK {
		t.Fatalf("render: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"long: " + value, "copy: " + value, "host: 203.0.113.10", "at: 203.0.113.10"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("render does not show %q:\n%s", want, stdout)
		}
	}
}

// A key file that cannot be read fails vet, naming it (it was a warning).
func TestIssue18Repro4UnreadableKeyFileFailsVet(t *testing.T) {
	noKeys(t)
	key := sopstest.MustKey(t)
	dir := canaryTree(t, uniqueEnv("r4"), key.Recipient, "    []\n")
	t.Setenv("SOPS_AGE_KEY_FILE", filepath.Join(t.TempDir(), "keys-missing.txt"))
	code, stdout, stderr := kcloud(t, "vet", dir)
	if code != exitFailed || !strings.Contains(stdout, "keys-missing.txt") || strings.Contains(stdout, "not decrypted (no key") {
		t.Errorf("vet: exit %d, want %d naming the key file as an error\n%s%s", code, exitFailed, stdout, stderr)
	}
}

// docs/secrets.md says what sops' MAC does not cover, and the README
// points there.
func TestIssue18Repro7DocsSayWhatTheMACCovers(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(moduleRoot, "docs", "secrets.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## What sops' MAC protects", "empty", "null", "moved", "`type:`", "ENC["} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("docs/secrets.md does not say %q", want)
		}
	}
	readme, err := os.ReadFile(filepath.Join(moduleRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "docs/secrets.md") {
		t.Error("README.md does not point to docs/secrets.md")
	}
}
