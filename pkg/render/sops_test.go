package render

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"kcloud.dev/kcloud/internal/sopstest"
	"kcloud.dev/kcloud/pkg/secret"
	"kcloud.dev/kcloud/pkg/spec"
)

const sopsComponent = `apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata: {name: db}
spec:
  layer: L2
  namespace: platform
  helm:
    repo: https://charts.example.com
    chart: pg
    version: "1.0.0"
    values: {auth: {password: "${secret:db-auth/password}"}}
  manifests: [secrets.yaml]
  objects:
    - apiVersion: v1
      kind: ConfigMap
      metadata: {name: db-url}
      data: {url: "postgres://app:${secret:db-auth/password}@db", port: "${secret:db-auth/port}"}
`

const sopsSecret = `apiVersion: v1
kind: Secret
metadata:
  name: db-auth
stringData:
  password: s3cr3t-Pa55
data:
  port: NTQzMg==
`

// sopsTree writes a tree whose db component lists an encrypted manifest.
func sopsTree(t *testing.T, encrypted []byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{"cluster.yaml": cluster, "db.yaml": sopsComponent, "secrets.yaml": string(encrypted)} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func renderDir(t *testing.T, dir string, lenient bool) (*Result, spec.Diagnostics) {
	t.Helper()
	tree, diags, err := spec.LoadPartial(context.Background(), []string{dir})
	if err != nil || diags.HasErrors() {
		t.Fatalf("load: %v %v", err, diags)
	}
	return Render(context.Background(), tree, Options{Lenient: lenient, Decrypt: secret.Decrypt, Charts: pgChart(t)})
}

func find(r *Result, kind, name string) *unstructured.Unstructured {
	for _, o := range r.Objects() {
		if o.GetKind() == kind && o.GetName() == name {
			return o.Unstructured
		}
	}
	return nil
}

func TestRenderDecryptsSOPS(t *testing.T) {
	key := sopstest.MustKey(t)
	other := sopstest.MustKey(t)
	enc, err := sopstest.Encrypt([]byte(sopsSecret), sopstest.KubernetesRegex, key.Recipient)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(enc, []byte("s3cr3t")) {
		t.Fatal("the test's encryption left the value in clear")
	}
	dir := sopsTree(t, enc)

	t.Run("with the key", func(t *testing.T) {
		t.Setenv("SOPS_AGE_KEY", key.Identity)
		res, diags := renderDir(t, dir, false)
		if diags.HasErrors() {
			t.Fatalf("render: %v", diags)
		}
		s := find(res, "Secret", "db-auth")
		if s == nil {
			t.Fatal("no Secret rendered")
		}
		got := map[string]any{"stringData": s.Object["stringData"], "data": s.Object["data"]}
		want := map[string]any{"stringData": map[string]any{"password": "s3cr3t-Pa55"}, "data": map[string]any{"port": "NTQzMg=="}}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("decrypted Secret (-want +got):\n%s", d)
		}
		cm := find(res, "ConfigMap", "db-url")
		if d := cmp.Diff(map[string]any{"url": "postgres://app:s3cr3t-Pa55@db", "port": "5432"}, cm.Object["data"]); d != "" {
			t.Errorf("ConfigMap with secret references (-want +got):\n%s", d)
		}
		hc := find(res, "ConfigMap", "db")
		if v, _, _ := unstructured.NestedString(hc.Object, "data", "password"); v != "s3cr3t-Pa55" {
			t.Errorf("the chart's values lack the secret: %q", v)
		}
		if d := cmp.Diff([]string{"5432", "NTQzMg==", "s3cr3t-Pa55"}, res.Secrets); d != "" {
			t.Errorf("Result.Secrets (-want +got):\n%s", d)
		}
	})

	// Flip one character of the encrypted password (base64 stays base64).
	tampered := bytes.Clone(enc)
	i := bytes.Index(enc, []byte("password: ENC[AES256_GCM,data:"))
	if i < 0 {
		t.Fatalf("no encrypted password in\n%s", enc)
	}
	j := i + len("password: ENC[AES256_GCM,data:")
	tampered[j] = map[bool]byte{true: 'B', false: 'A'}[tampered[j] == 'A']
	for _, tc := range []struct {
		name, key, file string
		lenient         bool
		want            string
		sev             spec.Severity
	}{
		{"no key", "", dir, false, "no key of its recipients (" + key.Recipient + ") is set", spec.SeverityError},
		{"wrong key", other.Identity, dir, false, "no key of its recipients (" + key.Recipient + ") is set", spec.SeverityError},
		{"tampered value", key.Identity, sopsTree(t, tampered), false, "MAC does not verify", spec.SeverityError},
		{"tampered clear field", key.Identity, sopsTree(t, bytes.Replace(enc, []byte("name: db-auth"), []byte("name: db-other"), 1)), false, "MAC does not verify", spec.SeverityError},
		{"vet without a key", "", dir, true, "its encrypted values were not checked", spec.SeverityWarning},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SOPS_AGE_KEY", tc.key)
			if tc.key == "" {
				os.Unsetenv("SOPS_AGE_KEY")
			}
			t.Setenv("HOME", t.TempDir()) // no ~/.config/sops/age/keys.txt, no ~/.ssh keys
			t.Setenv("XDG_CONFIG_HOME", t.TempDir())
			res, diags := renderDir(t, tc.file, tc.lenient)
			var hit *spec.Diagnostic
			for i, d := range diags {
				if strings.Contains(d.Message, tc.want) {
					hit = &diags[i]
				}
			}
			if hit == nil || hit.Severity != tc.sev || !strings.HasSuffix(hit.Pos.File, "secrets.yaml") || hit.Pos.Line == 0 {
				t.Fatalf("want a %s at secrets.yaml:line:col with %q, got %v", tc.sev, tc.want, diags)
			}
			if tc.sev == spec.SeverityError && res != nil {
				t.Error("a render with an undecryptable file returned objects")
			}
			if tc.lenient && res != nil {
				if s := find(res, "Secret", "db-auth"); s == nil {
					t.Error("vet without a key did not check the Secret's object")
				}
			}
		})
	}
}

func TestPlaintextSecretIsAnError(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"cluster.yaml": cluster,
		"app.yaml": `apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata: {name: app}
spec:
  layer: L2
  namespace: platform
  manifests: [plain.yaml]
  objects:
    - apiVersion: v1
      kind: Secret
      metadata: {name: inline}
      stringData:
        token: abc
`,
		"plain.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: file}\ndata:\n  empty: \"\"\n  key: " + base64.StdEncoding.EncodeToString([]byte("x")) + "\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: odd}\nstringData: just-a-string\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: ref}\nstringData: {token: \"Bearer ${secret:db-auth/password}\"}\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, diags, err := spec.LoadPartial(context.Background(), []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range diags {
		if strings.Contains(d.Message, "encrypt it with sops") {
			got = append(got, filepath.Base(d.Pos.File)+":"+d.Pos.String()[len(d.Pos.File)+1:]+" "+d.Message[:strings.Index(d.Message, " is in")])
		}
	}
	want := []string{
		`app.yaml:13:9 Secret "inline": stringData.token`,
		`plain.yaml:6:3 Secret "file": data.key`,
		`plain.yaml:11:13 Secret "odd": stringData`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("plaintext Secret errors (-want +got):\n%s\n%v", d, diags)
	}
}
