package secret

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"kcloud.dev/kcloud/internal/sopstest"
)

func TestDecrypt(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("SOPS_AGE_KEY_FILE", "")
	os.Unsetenv("SOPS_AGE_KEY_FILE")
	key := sopstest.MustKey(t)
	other := sopstest.MustKey(t)
	plain := "a: one\n---\nb: two\n"
	enc, err := sopstest.Encrypt([]byte(plain), "", key.Recipient)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, key string
		src       []byte
		want      string
		check     func(error) bool
	}{
		{name: "right key", key: key.Identity, src: enc, want: plain},
		{name: "no key", src: enc, check: func(err error) bool { var k *KeyError; return errors.As(err, &k) }},
		{name: "wrong key", key: other.Identity, src: enc, check: func(err error) bool { var k *KeyError; return errors.As(err, &k) }},
		{name: "MAC changed", key: key.Identity, src: bytes.Replace(enc, []byte("mac: ENC[AES256_GCM,data:"), []byte("mac: ENC[AES256_GCM,data:AA"), 1),
			check: func(err error) bool { return errors.Is(err, ErrIntegrity) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SOPS_AGE_KEY", tc.key)
			got, err := Decrypt(tc.src)
			if tc.check != nil {
				if err == nil || !tc.check(err) {
					t.Fatalf("Decrypt: err %v, want the other kind", err)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("Decrypt = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
