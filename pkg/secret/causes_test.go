package secret

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/getsops/sops/v3"
	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"kcloud.dev/kcloud/internal/sopstest"
)

// withDataKey replaces the first recipient's enc with key encrypted to
// recipient, armored as sops writes it.
func withDataKey(t *testing.T, enc []byte, recipient string, key []byte) []byte {
	t.Helper()
	r, err := age.ParseX25519Recipient(recipient)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(key); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := aw.Close(); err != nil {
		t.Fatal(err)
	}
	return withEnc(t, enc, buf.String())
}

// withEnc replaces the first recipient's armored enc with armored.
func withEnc(t *testing.T, enc []byte, armored string) []byte {
	t.Helper()
	re := regexp.MustCompile(`(?s)enc: \|\n.*?-----END AGE ENCRYPTED FILE-----\n`)
	loc := re.FindIndex(enc)
	if loc == nil {
		t.Fatalf("no age enc in\n%s", enc)
	}
	indent := "            "
	body := "enc: |\n" + indent + strings.ReplaceAll(strings.TrimSuffix(armored, "\n"), "\n", "\n"+indent) + "\n"
	return bytes.Join([][]byte{enc[:loc[0]], []byte(body), enc[loc[1]:]}, nil)
}

// Reproduction 4 of issue 18: a wrong-length data key, a malformed age
// stanza and an unreadable key file were reported as "no key" (a
// *KeyError, a warning for vet). sops fails on each; so does kcloud, with
// the cause.
func TestDecryptNamesRealCauses(t *testing.T) {
	noKeys(t)
	key := sopstest.MustKey(t)
	enc, err := sopstest.Encrypt([]byte("kind: Secret\nstringData:\n  a: one\n"), sopstest.KubernetesRegex, key.Recipient)
	if err != nil {
		t.Fatal(err)
	}
	short := make([]byte, 16)
	if _, err := rand.Read(short); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.txt")
	for _, tc := range []struct {
		name    string
		src     []byte
		key     string
		keyFile string
		says    string
	}{
		{name: "data key of 16 bytes", src: withDataKey(t, enc, key.Recipient, short), key: key.Identity, says: "the data key is 16 bytes long, not 32"},
		{name: "malformed age stanza", src: withEnc(t, enc, "-----BEGIN AGE ENCRYPTED FILE-----\nbm90IGFuIGFnZSBoZWFkZXI=\n-----END AGE ENCRYPTED FILE-----\n"), key: key.Identity, says: "recipient " + key.Recipient},
		{name: "unreadable key file", src: enc, keyFile: missing, says: "missing.txt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noKeys(t)
			if tc.key != "" {
				t.Setenv("SOPS_AGE_KEY", tc.key)
			}
			if tc.keyFile != "" {
				t.Setenv("SOPS_AGE_KEY_FILE", tc.keyFile)
			}
			if _, err := sopstest.Decrypt(tc.src); err == nil {
				t.Fatal("sops decrypts the file; the case is wrong")
			}
			_, err := Decrypt(tc.src)
			var k *KeyError
			if err == nil || errors.As(err, &k) || errors.Is(err, ErrIntegrity) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("Decrypt: err %v; want an error of its own (not a *KeyError) saying %q", err, tc.says)
			}
		})
	}
	t.Run("unreadable key file beside the right key", func(t *testing.T) {
		noKeys(t)
		t.Setenv("SOPS_AGE_KEY", key.Identity)
		t.Setenv("SOPS_AGE_KEY_FILE", missing)
		if _, err := Decrypt(enc); err != nil {
			t.Fatalf("Decrypt: %v; sops decrypts with the key it has", err)
		}
	})
}

// Reproduction 5 of issue 18: crypt rules are checked as sops checks them.
func TestDecryptCryptRulesAsSops(t *testing.T) {
	noKeys(t)
	key := sopstest.MustKey(t)
	t.Setenv("SOPS_AGE_KEY", key.Identity)
	plain := []byte("kind: Secret\nstringData:\n  a: one\n  note_unencrypted: plain\n")
	enc, err := sopstest.EncryptWith(plain, sops.Metadata{UnencryptedSuffix: "_unencrypted"}, key.Recipient)
	if err != nil {
		t.Fatal(err)
	}
	rule := []byte("    unencrypted_suffix: _unencrypted\n")
	if !bytes.Contains(enc, rule) {
		t.Fatalf("no unencrypted_suffix in\n%s", enc)
	}
	for _, tc := range []struct {
		name string
		src  []byte
		says string // empty: decrypts as sops does
	}{
		{name: "no rule: sops' default suffix", src: bytes.Replace(enc, rule, nil, 1)},
		{name: "two rules", src: bytes.Replace(enc, rule, append(rule, "    encrypted_regex: ^stringData$\n"...), 1), says: "unencrypted_suffix, encrypted_regex"},
		{name: "a rule and a comment rule", src: bytes.Replace(enc, rule, append(rule, "    encrypted_comment_regex: ^x$\n"...), 1), says: "sops allows only one crypt rule"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, sopsErr := sopstest.Decrypt(tc.src)
			got, err := Decrypt(tc.src)
			if tc.says != "" {
				if sopsErr == nil || err == nil || !strings.Contains(err.Error(), tc.says) {
					t.Fatalf("sops: %v; kcloud: %v; want both to refuse, kcloud saying %q", sopsErr, err, tc.says)
				}
				return
			}
			if sopsErr != nil || err != nil {
				t.Fatalf("sops: %v; kcloud: %v; want both to decrypt", sopsErr, err)
			}
			if d := cmp.Diff(documents(t, want), documents(t, got)); d != "" {
				t.Errorf("values differ from sops' (-sops +kcloud):\n%s", d)
			}
		})
	}
}

// Reproduction 6 of issue 18: values of sops type time and bytes decrypt
// as sops decrypts them. sops writes time for YAML timestamps: compared
// with sops' own decrypt. bytes it writes for binary values of its other
// stores; sops v3.13.3's own YAML decrypt panics on one (its cipher keeps
// the plaintext as a map key: aes/cipher.go, Decrypt), so the value is
// compared with what its YAML store emits for the []byte that cipher
// returns (stores/yaml/store.go, treeValueToNode: yaml Node.Encode). The
// type is rewritten here, which the MAC does not see.
func TestDecryptTimeAndBytesAsSops(t *testing.T) {
	noKeys(t)
	key := sopstest.MustKey(t)
	t.Setenv("SOPS_AGE_KEY", key.Identity)
	plain := []byte("kind: Secret\nstringData:\n  when: 2026-01-02T03:04:05Z\n  nano: 2026-01-02T03:04:05.123456789+02:00\n")
	enc, err := sopstest.Encrypt(plain, sopstest.KubernetesRegex, key.Recipient)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(enc, []byte("type:time]")); n != 2 {
		t.Fatalf("sops wrote %d time values, want 2:\n%s", n, enc)
	}
	want, err := sopstest.Decrypt(enc)
	if err != nil {
		t.Fatalf("sops decrypt: %v", err)
	}
	got, err := Decrypt(enc)
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("plaintext differs from sops' (-sops +kcloud):\n%s", d)
	}

	enc, err = sopstest.Encrypt([]byte("raw: some bytes\n"), "", key.Recipient)
	if err != nil {
		t.Fatal(err)
	}
	enc = bytes.Replace(enc, []byte("type:str]"), []byte("type:bytes]"), 1)
	got, err = Decrypt(enc)
	if err != nil {
		t.Fatalf("Decrypt bytes: %v", err)
	}
	var n yaml.Node
	if err := n.Encode(map[string]any{"raw": []byte("some bytes")}); err != nil {
		t.Fatal(err)
	}
	wantBytes, err := yaml.Marshal(&n)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(documents(t, wantBytes), documents(t, got)); d != "" {
		t.Errorf("bytes value differs from sops' (-sops +kcloud):\n%s", d)
	}
}

// FuzzDecrypt feeds the sops reader mutated sops files: it never panics,
// what it decrypts is YAML, and no error quotes an encrypted value.
func FuzzDecrypt(f *testing.F) {
	key := sopstest.MustKey(f)
	f.Setenv("HOME", f.TempDir())
	f.Setenv("XDG_CONFIG_HOME", f.TempDir())
	f.Setenv("SOPS_AGE_KEY_FILE", "")
	os.Unsetenv("SOPS_AGE_KEY_FILE")
	f.Setenv("SOPS_AGE_KEY", key.Identity)
	const canary = "fuzz-canary-9f3c"
	for _, md := range []sops.Metadata{{EncryptedRegex: sopstest.KubernetesRegex}, {UnencryptedSuffix: "_unencrypted"}, {MACOnlyEncrypted: true, EncryptedSuffix: "_x"}} {
		enc, err := sopstest.EncryptWith([]byte(strings.ReplaceAll(roundTrip, "hunter2", canary)), md, key.Recipient)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc)
	}
	f.Add([]byte("a: ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:str]\nsops:\n    mac: x\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		got, err := Decrypt(src)
		if err != nil {
			if !bytes.Contains(src, []byte(canary)) && strings.Contains(err.Error(), canary) {
				t.Fatalf("the error quotes an encrypted value: %v", err)
			}
			return
		}
		documents(t, got)
	})
}
