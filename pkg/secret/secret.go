package secret

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// KeyError says that no key at hand decrypts a file's data key: none is
// set, or the ones set are not among the file's recipients.
type KeyError struct{ Err error }

func (e *KeyError) Error() string {
	return "no key decrypts its data key: " + e.Err.Error()
}

func (e *KeyError) Unwrap() error { return e.Err }

// ErrIntegrity is returned for a file whose MAC does not match its
// contents: it was changed without sops.
var ErrIntegrity = errors.New("its MAC does not verify: the file was changed without sops (or is corrupt)")

// sopsKey is the top-level key sops keeps its metadata under; the first
// document's is the file's
// (https://github.com/getsops/sops/blob/v3.13.3/stores/metadata.go, ExtractMetadata).
const sopsKey = "sops"

// Decrypt decrypts a SOPS-encrypted YAML stream (every document, the
// format the sops CLI writes) and returns the plaintext YAML, without the
// sops metadata. A missing or wrong key is a *KeyError; a MAC or a value
// that does not verify is ErrIntegrity; any other error (a key file that
// cannot be read, a malformed age stanza, a data key of the wrong length,
// crypt rules sops refuses) names its cause. Only age recipients and a
// single key group are supported; anything else is an error naming it.
//
// The format is sops v3.13.3's: the data key from age/keysource.go, the
// values from aes/cipher.go, the walk and the MAC from sops.go, the YAML
// layout from stores/yaml/store.go
// (https://github.com/getsops/sops/tree/v3.13.3).
func Decrypt(src []byte) ([]byte, error) {
	plain, _, err := DecryptValues(src)
	return plain, err
}

// DecryptValues is Decrypt that also returns the values it decrypted
// (each as decrypted and as written to the plaintext, unsorted, with
// duplicates), so that a caller can mask them before anything that might
// quote them is printed. The values of a file that does not verify are
// returned too: a caller masks them all the same.
func DecryptValues(src []byte) ([]byte, []string, error) {
	docs, md, err := load(src)
	if err != nil {
		return nil, nil, err
	}
	key, err := dataKey(md)
	if err != nil {
		return nil, nil, err
	}
	w, err := newWalker(md, key)
	if err != nil {
		return nil, nil, err
	}
	for _, d := range docs {
		if err := w.document(d); err != nil {
			return nil, w.values, err
		}
	}
	if err := w.verify(md); err != nil {
		return nil, w.values, err
	}
	plain, err := encode(docs)
	return plain, w.values, err
}

// encode writes the decrypted documents as sops writes plaintext YAML.
func encode(docs []*yaml.Node) ([]byte, error) {
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(4) // sops' YAML store default (IndentDefault)
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return nil, fmt.Errorf("write plaintext yaml: %w", err)
		}
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("write plaintext yaml: %w", err)
	}
	return out.Bytes(), nil
}

// load parses the documents, takes the sops metadata out of them and
// returns both.
func load(src []byte) ([]*yaml.Node, *metadata, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var docs []*yaml.Node
	var md *metadata
	for {
		d := new(yaml.Node)
		if err := dec.Decode(d); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, nil, fmt.Errorf("read sops file: %w", err)
		}
		var dup any
		if err := d.Decode(&dup); err != nil { // duplicate keys, as sops checks
			return nil, nil, fmt.Errorf("read sops file: %w", err)
		}
		if len(d.Content) == 0 || d.Content[0].Kind == yaml.ScalarNode && d.Content[0].ShortTag() == "!!null" {
			d.Content = []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}} // sops writes {}
			docs = append(docs, d)
			continue
		}
		root := d.Content[0]
		if root.Kind != yaml.MappingNode {
			return nil, nil, errors.New("read sops file: a document that is not a mapping is not supported")
		}
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value != sopsKey {
				continue
			}
			if len(docs) == 0 {
				md = new(metadata)
				if err := root.Content[i+1].Decode(md); err != nil {
					return nil, nil, fmt.Errorf("read sops metadata: %w", err)
				}
			}
			keepComments(root, i)
			root.Content = slices.Delete(root.Content, i, i+2)
			break
		}
		docs = append(docs, d)
	}
	if md == nil {
		return nil, nil, errors.New("read sops metadata: the first document has no sops key: not encrypted with sops")
	}
	return docs, md, md.check()
}

// keepComments moves the comments on the sops key at root.Content[i] to a
// neighbour before the key is removed: a document's trailing comments end
// up there when sops appends its metadata, and they stay in sops' tree
// (https://github.com/getsops/sops/blob/v3.13.3/stores/yaml/store.go).
func keepComments(root *yaml.Node, i int) {
	k := root.Content[i]
	c := joinComments(k.HeadComment, k.LineComment, k.FootComment)
	switch {
	case c == "":
	case i >= 2:
		prev := root.Content[i-2]
		prev.FootComment = joinComments(prev.FootComment, c)
	case len(root.Content) > 2:
		next := root.Content[i+2]
		next.HeadComment = joinComments(c, next.HeadComment)
	default:
		root.HeadComment = joinComments(root.HeadComment, c)
	}
}

// metadata is the part of sops' metadata kcloud reads
// (https://github.com/getsops/sops/blob/v3.13.3/stores/stores.go, Metadata).
type metadata struct {
	Age                     []ageKey   `yaml:"age"`
	KeyGroups               []keyGroup `yaml:"key_groups"`
	ShamirThreshold         int        `yaml:"shamir_threshold"`
	LastModified            string     `yaml:"lastmodified"`
	MAC                     string     `yaml:"mac"`
	UnencryptedSuffix       string     `yaml:"unencrypted_suffix"`
	EncryptedSuffix         string     `yaml:"encrypted_suffix"`
	UnencryptedRegex        string     `yaml:"unencrypted_regex"`
	EncryptedRegex          string     `yaml:"encrypted_regex"`
	UnencryptedCommentRegex string     `yaml:"unencrypted_comment_regex"`
	EncryptedCommentRegex   string     `yaml:"encrypted_comment_regex"`
	MACOnlyEncrypted        bool       `yaml:"mac_only_encrypted"`
	// Other holds the other kinds of master keys (kms, pgp, …), to name them.
	Other map[string]any `yaml:",inline"`
}

type keyGroup struct {
	Age   []ageKey       `yaml:"age"`
	Other map[string]any `yaml:",inline"`
}

// ageKey is one age recipient and the data key encrypted to it, armored.
type ageKey struct {
	Recipient string `yaml:"recipient"`
	Enc       string `yaml:"enc"`
}

// otherKeyKinds are the master key kinds sops has besides age.
var otherKeyKinds = []string{"kms", "gcp_kms", "azure_kv", "hc_vault", "hckms", "pgp"}

// check refuses the features kcloud does not implement and the crypt
// rules sops refuses: more than one of them in a file. With none, sops
// leaves the keys ending in its default suffix unencrypted
// (https://github.com/getsops/sops/blob/v3.13.3/stores/stores.go,
// ToInternal; sops.go, DefaultUnencryptedSuffix).
func (m *metadata) check() error {
	switch {
	case len(m.KeyGroups) > 1:
		return fmt.Errorf("read sops metadata: %d key groups (shamir_threshold %d) are not supported by kcloud: use one group of age recipients", len(m.KeyGroups), m.ShamirThreshold)
	}
	var rules []string
	for _, r := range []struct{ name, value string }{
		{"encrypted_suffix", m.EncryptedSuffix}, {"unencrypted_suffix", m.UnencryptedSuffix},
		{"encrypted_regex", m.EncryptedRegex}, {"unencrypted_regex", m.UnencryptedRegex},
		{"encrypted_comment_regex", m.EncryptedCommentRegex}, {"unencrypted_comment_regex", m.UnencryptedCommentRegex},
	} {
		if r.value != "" {
			rules = append(rules, r.name)
		}
	}
	switch {
	case len(rules) > 1:
		return fmt.Errorf("read sops metadata: %s: sops allows only one crypt rule in a file", strings.Join(rules, ", "))
	case len(rules) == 0:
		m.UnencryptedSuffix = defaultUnencryptedSuffix
	case m.UnencryptedCommentRegex != "" || m.EncryptedCommentRegex != "":
		return fmt.Errorf("read sops metadata: %s is not supported by kcloud", rules[0])
	}
	if _, err := m.lastModified(); err != nil {
		return fmt.Errorf("read sops metadata: lastmodified: %w", err)
	}
	return nil
}

// defaultUnencryptedSuffix is the suffix sops leaves unencrypted when a
// file names no crypt rule
// (https://github.com/getsops/sops/blob/v3.13.3/sops.go, DefaultUnencryptedSuffix).
const defaultUnencryptedSuffix = "_unencrypted"

// lastModified is the MAC's additional data: lastmodified as RFC 3339
// (https://github.com/getsops/sops/blob/v3.13.3/stores/stores.go and
// decrypt/decrypt.go).
func (m *metadata) lastModified() (string, error) {
	t, err := time.Parse(time.RFC3339, m.LastModified)
	if err != nil {
		return "", err
	}
	return t.Format(time.RFC3339), nil
}

// ageKeys returns the file's age entries, or an error naming the key
// kinds it has instead.
func (m *metadata) ageKeys() ([]ageKey, error) {
	keys, other := m.Age, m.Other
	if len(m.KeyGroups) == 1 {
		keys, other = m.KeyGroups[0].Age, m.KeyGroups[0].Other
	}
	if len(keys) > 0 {
		return keys, nil
	}
	var kinds []string
	for _, k := range otherKeyKinds {
		if v, ok := other[k].([]any); ok && len(v) > 0 {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) == 0 {
		return nil, errors.New("the file has no age recipient")
	}
	return nil, fmt.Errorf("the file has no age recipient, only %s keys, which kcloud does not decrypt", strings.Join(kinds, ", "))
}
