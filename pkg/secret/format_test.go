package secret

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/getsops/sops/v3"
	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"kcloud.dev/kcloud/internal/sopstest"
)

// noKeys clears every place an age key could come from.
func noKeys(t *testing.T) {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	for _, env := range []string{"SOPS_AGE_KEY", "SOPS_AGE_KEY_FILE"} {
		t.Setenv(env, "")
		os.Unsetenv(env)
	}
}

// roundTrip has every value type and comments in every place sops keeps
// them: in mappings, sequences, inline, and in two documents.
const roundTrip = `# top comment
apiVersion: v1 # inline
kind: Secret
metadata:
  name: app
  labels:
    # a label
    tier: "1"
stringData:
  # the password
  password: hunter2
  port: 5432
  ratio: 0.25
  huge: 1e3
  enabled: true
  disabled: false
  quoted: "123"
  truthy: "true"
  empty: ""
  nothing: null
  multi: |
    line one
    line two
  list:
    # first
    - one # inline item
    - 2
    - 3.5
    - false
    - nested: x
      deeper: [a, 1]
  note_unencrypted: plain
  token_secret: s3
  meta_plain: m
# foot comment
---
# second document
b: two
c: 3
`

func TestDecryptMatchesSops(t *testing.T) {
	noKeys(t)
	key := sopstest.MustKey(t)
	t.Setenv("SOPS_AGE_KEY", key.Identity)
	for _, tc := range []struct {
		name string
		md   sops.Metadata
	}{
		{name: "every value", md: sops.Metadata{UnencryptedSuffix: "_unencrypted"}},
		{name: "encrypted_regex", md: sops.Metadata{EncryptedRegex: sopstest.KubernetesRegex}},
		{name: "encrypted_suffix", md: sops.Metadata{EncryptedSuffix: "_secret"}},
		{name: "unencrypted_regex", md: sops.Metadata{UnencryptedRegex: "^(meta|kind)"}},
		{name: "mac_only_encrypted", md: sops.Metadata{EncryptedRegex: sopstest.KubernetesRegex, MACOnlyEncrypted: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc, err := sopstest.EncryptWith([]byte(roundTrip), tc.md, key.Recipient)
			if err != nil {
				t.Fatal(err)
			}
			want, err := sopstest.Decrypt(enc)
			if err != nil {
				t.Fatalf("sops decrypt: %v", err)
			}
			got, err := Decrypt(enc)
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			if d := cmp.Diff(documents(t, want), documents(t, got)); d != "" {
				t.Errorf("values differ from sops' (-sops +kcloud):\n%s", d)
			}
			if d := cmp.Diff(comments(t, want), comments(t, got)); d != "" {
				t.Errorf("comments differ from sops' (-sops +kcloud):\n%s", d)
			}
			if strings.Contains(string(got), "ENC[") || strings.Contains(string(got), "sops:") {
				t.Errorf("Decrypt left ciphertext or metadata:\n%s", got)
			}
		})
	}
}

// documents decodes every document of a YAML stream.
func documents(t *testing.T, src []byte) []any {
	t.Helper()
	var docs []any
	dec := yaml.NewDecoder(bytes.NewReader(src))
	for {
		var v any
		if err := dec.Decode(&v); errors.Is(err, io.EOF) {
			return docs
		} else if err != nil {
			t.Fatalf("decode %s: %v", src, err)
		}
		docs = append(docs, v)
	}
}

// comments lists a YAML stream's comment lines in the order they appear.
func comments(t *testing.T, src []byte) []string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(string(src), "\n") {
		if i := strings.Index(l, "#"); i >= 0 {
			out = append(out, strings.TrimSpace(l[i:]))
		}
	}
	return out
}

// flipData changes one bit of the first encrypted value's ciphertext that
// follows marker.
func flipData(t *testing.T, enc []byte, marker string) []byte {
	t.Helper()
	re := regexp.MustCompile(regexp.QuoteMeta(marker) + `ENC\[AES256_GCM,data:([^,]+),`)
	m := re.FindSubmatchIndex(enc)
	if m == nil {
		t.Fatalf("no encrypted value after %q in\n%s", marker, enc)
	}
	data, err := base64.StdEncoding.DecodeString(string(enc[m[2]:m[3]]))
	if err != nil {
		t.Fatal(err)
	}
	data[0] ^= 1
	return bytes.Join([][]byte{enc[:m[2]], []byte(base64.StdEncoding.EncodeToString(data)), enc[m[3]:]}, nil)
}

func TestDecryptRefuses(t *testing.T) {
	noKeys(t)
	key := sopstest.MustKey(t)
	other := sopstest.MustKey(t)
	t.Setenv("SOPS_AGE_KEY", key.Identity)
	plain := "kind: Secret\nstringData:\n  a: one\n  b: two\n"
	enc, err := sopstest.Encrypt([]byte(plain), sopstest.KubernetesRegex, key.Recipient)
	if err != nil {
		t.Fatal(err)
	}
	isKeyErr := func(err error) bool { var k *KeyError; return errors.As(err, &k) }
	isIntegrity := func(err error) bool { return errors.Is(err, ErrIntegrity) }
	for _, tc := range []struct {
		name  string
		src   []byte
		key   string
		check func(error) bool
		says  string
	}{
		{name: "tampered value", src: flipData(t, enc, "a: "), key: key.Identity, check: isIntegrity, says: "stringData:a:"},
		{name: "values swapped", src: bytes.Replace(bytes.Replace(enc, []byte("a: ENC"), []byte("x: ENC"), 1), []byte("b: ENC"), []byte("a: ENC"), 1), key: key.Identity, check: isIntegrity},
		{name: "tampered MAC", src: flipData(t, enc, "mac: "), key: key.Identity, check: isIntegrity, says: "the MAC itself"},
		{name: "plaintext value changed", src: bytes.Replace(enc, []byte("kind: Secret"), []byte("kind: Other"), 1), key: key.Identity, check: isIntegrity},
		{name: "wrong key", src: enc, key: other.Identity, check: isKeyErr, says: "did not match"},
		{name: "no key", src: enc, check: isKeyErr, says: "SOPS_AGE_KEY_FILE"},
		{name: "only pgp keys", src: bytes.Replace(enc, []byte("\n    age:\n"), []byte("\n    pgp:\n"), 1), key: key.Identity, check: isKeyErr, says: "only pgp keys"},
		{name: "key groups", src: []byte("a: b\nsops:\n    key_groups:\n        - age: []\n        - age: []\n    shamir_threshold: 2\n    lastmodified: \"2026-01-01T00:00:00Z\"\n    mac: x\n"),
			key: key.Identity, check: func(err error) bool { return err != nil }, says: "2 key groups (shamir_threshold 2) are not supported"},
		{name: "not sops", src: []byte("a: b\n"), key: key.Identity, check: func(err error) bool { return err != nil }, says: "not encrypted with sops"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SOPS_AGE_KEY", tc.key)
			if tc.key == "" {
				os.Unsetenv("SOPS_AGE_KEY")
			}
			got, err := Decrypt(tc.src)
			if err == nil || !tc.check(err) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("Decrypt = %q, %v; want the other kind of error, saying %q", got, err, tc.says)
			}
		})
	}
}

func TestDecryptKeySources(t *testing.T) {
	key := sopstest.MustKey(t)
	other := sopstest.MustKey(t)
	enc, err := sopstest.Encrypt([]byte("a: one\n"), "", key.Recipient)
	if err != nil {
		t.Fatal(err)
	}
	keysFile := func(t *testing.T, dir, content string) string {
		path := filepath.Join(dir, "keys.txt")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	for _, tc := range []struct {
		name string
		set  func(t *testing.T)
	}{
		{name: "SOPS_AGE_KEY, several on a line", set: func(t *testing.T) { t.Setenv("SOPS_AGE_KEY", other.Identity+" "+key.Identity) }},
		{name: "SOPS_AGE_KEY_FILE", set: func(t *testing.T) {
			t.Setenv("SOPS_AGE_KEY_FILE", keysFile(t, t.TempDir(), "# created: now\n"+other.Identity+"\n\n"+key.Identity+"\n"))
		}},
		{name: "default keys file", set: func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("XDG_CONFIG_HOME", dir)
			keysFile(t, filepath.Join(dir, "sops", "age"), key.Identity+"\n")
		}},
		{name: "default keys file beside SOPS_AGE_KEY", set: func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("XDG_CONFIG_HOME", dir)
			t.Setenv("SOPS_AGE_KEY", other.Identity)
			keysFile(t, filepath.Join(dir, "sops", "age"), key.Identity+"\n")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noKeys(t)
			tc.set(t)
			got, err := Decrypt(enc)
			if err != nil || string(got) != "a: one\n" {
				t.Fatalf("Decrypt = %q, %v; want %q", got, err, "a: one\n")
			}
		})
	}
}

func TestTypedHidesValue(t *testing.T) {
	for _, typ := range []string{"int", "float", "bool"} {
		_, err := typed("hunter2", typ)
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("typed(%q): err %v, want an error without the value", typ, err)
		}
	}
}
