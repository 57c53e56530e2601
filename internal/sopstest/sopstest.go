package sopstest

import (
	"fmt"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/keyservice"
	sopsyaml "github.com/getsops/sops/v3/stores/yaml"
	"github.com/getsops/sops/v3/version"
)

// Key is a fresh age key pair.
type Key struct {
	// Identity is the private key (AGE-SECRET-KEY-1…), what SOPS_AGE_KEY
	// holds; Recipient is the public key (age1…).
	Identity, Recipient string
}

// NewKey generates an age key pair.
func NewKey() (Key, error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return Key{}, err
	}
	return Key{Identity: id.String(), Recipient: id.Recipient().String()}, nil
}

// KubernetesRegex is the encrypted_regex Kubernetes users give sops: only
// data and stringData are encrypted, the rest stays readable.
const KubernetesRegex = "^(data|stringData)$"

// Encrypt encrypts a YAML stream to the recipients, as 'sops encrypt'
// does with the given encrypted_regex (empty: every value).
//
// Steps as in getsops/sops v3.13.3 cmd/sops/encrypt.go and
// cmd/sops/common/common.go (EncryptTree).
func Encrypt(plain []byte, encryptedRegex string, recipients ...string) ([]byte, error) {
	md := sops.Metadata{EncryptedRegex: encryptedRegex}
	if encryptedRegex == "" {
		md.UnencryptedSuffix = "_unencrypted" // sops' default
	}
	return EncryptWith(plain, md, recipients...)
}

// EncryptWith encrypts a YAML stream to the recipients with the rules of
// md (its suffixes, regexes and MACOnlyEncrypted; the keys, version and
// MAC are set here), as 'sops encrypt' does.
func EncryptWith(plain []byte, md sops.Metadata, recipients ...string) ([]byte, error) {
	store := sopsyaml.NewStore(&config.YAMLStoreConfig{})
	branches, err := store.LoadPlainFile(plain)
	if err != nil {
		return nil, err
	}
	var group sops.KeyGroup
	for _, r := range recipients {
		k, err := sopsage.MasterKeyFromRecipient(r)
		if err != nil {
			return nil, err
		}
		group = append(group, k)
	}
	md.KeyGroups, md.Version = []sops.KeyGroup{group}, version.Version
	tree := sops.Tree{Branches: branches, Metadata: md}
	svcs := []keyservice.KeyServiceClient{keyservice.NewLocalClient()}
	dataKey, errs := tree.GenerateDataKeyWithKeyServices(svcs)
	if len(errs) > 0 {
		return nil, fmt.Errorf("generate data key: %v", errs)
	}
	cipher := aes.NewCipher()
	mac, err := tree.Encrypt(dataKey, cipher)
	if err != nil {
		return nil, err
	}
	tree.Metadata.LastModified = time.Now().UTC()
	tree.Metadata.MessageAuthenticationCode, err = cipher.Encrypt(mac, dataKey, tree.Metadata.LastModified.Format(time.RFC3339))
	if err != nil {
		return nil, err
	}
	return store.EmitEncryptedFile(tree)
}

// Decrypt is sops' own decryption of a YAML stream (getsops/sops v3.13.3
// decrypt/decrypt.go), with the keys sops finds: what kcloud's own must
// give.
func Decrypt(src []byte) ([]byte, error) {
	store := sopsyaml.NewStore(&config.YAMLStoreConfig{})
	tree, err := store.LoadEncryptedFile(src)
	if err != nil {
		return nil, err
	}
	key, err := tree.Metadata.GetDataKeyWithKeyServices([]keyservice.KeyServiceClient{keyservice.NewLocalClient()}, nil)
	if err != nil {
		return nil, err
	}
	cipher := aes.NewCipher()
	mac, err := tree.Decrypt(key, cipher)
	if err != nil {
		return nil, err
	}
	want, err := cipher.Decrypt(tree.Metadata.MessageAuthenticationCode, key, tree.Metadata.LastModified.Format(time.RFC3339))
	if err != nil {
		return nil, err
	}
	if want != mac {
		return nil, fmt.Errorf("MAC mismatch")
	}
	return store.EmitPlainFile(tree.Branches)
}

// MustKey is NewKey for tests: it fails t on error.
func MustKey(t testing.TB) Key {
	t.Helper()
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}
