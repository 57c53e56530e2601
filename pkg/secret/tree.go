package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// macOnlyEncryptedInit starts the MAC of a file with mac_only_encrypted, so
// that it differs from one without; sha256("sops")
// (https://github.com/getsops/sops/blob/v3.13.3/sops.go, MACOnlyEncryptedInitialization).
var macOnlyEncryptedInit = []byte{0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b, 0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69}

// encValue is a value sops encrypted: AES-256-GCM, the ciphertext, IV and
// tag in base64, and the plaintext's type
// (https://github.com/getsops/sops/blob/v3.13.3/aes/cipher.go).
var encValue = regexp.MustCompile(`^ENC\[AES256_GCM,data:([^,]+),iv:([^,]+),tag:([^,]+),type:([a-z]+)\]`)

// walker decrypts a file's documents in place and hashes their values in
// order for the MAC, as sops' Tree.Decrypt does
// (https://github.com/getsops/sops/blob/v3.13.3/sops.go, Tree.Decrypt,
// walkBranch, walkSlice, shouldBeEncrypted).
type walker struct {
	md             *metadata
	gcm            func(nonce int) (cipher.AEAD, error)
	mac            hash.Hash
	unencRe, encRe *regexp.Regexp
	// values are the decrypted values, as decrypted and as written to the
	// plaintext: what an output must never show.
	values []string
}

func newWalker(md *metadata, key []byte) (*walker, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("the data key: %w", err)
	}
	w := &walker{md: md, mac: sha512.New(), gcm: func(n int) (cipher.AEAD, error) { return cipher.NewGCMWithNonceSize(block, n) }}
	if md.MACOnlyEncrypted {
		w.mac.Write(macOnlyEncryptedInit)
	}
	for _, r := range []struct {
		name, expr string
		re         **regexp.Regexp
	}{{"unencrypted_regex", md.UnencryptedRegex, &w.unencRe}, {"encrypted_regex", md.EncryptedRegex, &w.encRe}} {
		if r.expr == "" {
			continue
		}
		if *r.re, err = regexp.Compile(r.expr); err != nil {
			return nil, fmt.Errorf("read sops metadata: %s: %w", r.name, err)
		}
	}
	return w, nil
}

// encrypted reports whether sops encrypted the values under path.
func (w *walker) encrypted(path []string) bool {
	suffix := func(s string) func(string) bool {
		return func(p string) bool { return strings.HasSuffix(p, s) }
	}
	enc := true
	if s := w.md.UnencryptedSuffix; s != "" && slices.ContainsFunc(path, suffix(s)) {
		enc = false
	}
	if s := w.md.EncryptedSuffix; s != "" {
		enc = slices.ContainsFunc(path, suffix(s))
	}
	if w.unencRe != nil && slices.ContainsFunc(path, w.unencRe.MatchString) {
		enc = false
	}
	if w.encRe != nil {
		enc = slices.ContainsFunc(path, w.encRe.MatchString)
	}
	return enc
}

// document walks one document; its own comments and the root mapping's
// belong to the empty path.
func (w *walker) document(d *yaml.Node) error {
	w.comments(d, nil)
	w.comments(d.Content[0], nil)
	return w.node(d.Content[0], nil)
}

// node walks n's contents at path. A mapping's keys extend the path; a
// sequence's items share it. The comments of a key, of a scalar value and
// of a sequence item belong to the enclosing path; those of a mapping or
// sequence value to its own (stores/yaml/store.go, appendYamlNodeToTreeBranch).
func (w *walker) node(n *yaml.Node, path []string) error {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
				return fmt.Errorf("decrypt %s: a key that is not a string (line %d) is not supported", pathString(path), k.Line)
			}
			sub := append(path[:len(path):len(path)], k.Value)
			w.comments(k, path)
			if v.Kind == yaml.ScalarNode || v.Kind == yaml.AliasNode {
				w.comments(v, path)
			} else {
				w.comments(v, sub)
			}
			if err := w.node(v, sub); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		return w.sequence(n, path)
	case yaml.ScalarNode:
		return w.leaf(n, path)
	default:
		return fmt.Errorf("decrypt %s: YAML aliases (line %d) are not supported", pathString(path), n.Line)
	}
	return nil
}

// sequence walks a sequence's items. sops writes the comments of an
// encrypted sequence as items, strings of type comment (sops.go,
// walkSlice); they become comments again here, on the next item (the last
// one's foot, or the sequence's head when it has no other items), and are
// not in the MAC.
func (w *walker) sequence(n *yaml.Node, path []string) error {
	var kept []*yaml.Node
	var pending []string
	for _, item := range n.Content {
		w.comments(item, path)
		text, isComment, err := w.commentItem(item, path)
		if err != nil {
			return err
		}
		if isComment {
			pending = append(pending, item.HeadComment, "#"+text, item.LineComment, item.FootComment)
			continue
		}
		if err := w.node(item, path); err != nil {
			return err
		}
		item.HeadComment = joinComments(append(pending, item.HeadComment)...)
		pending = nil
		kept = append(kept, item)
	}
	switch {
	case len(pending) == 0:
	case len(kept) == 0:
		n.HeadComment = joinComments(append([]string{n.HeadComment}, pending...)...)
	default:
		last := kept[len(kept)-1]
		last.FootComment = joinComments(append([]string{last.FootComment}, pending...)...)
	}
	n.Content = kept
	return nil
}

// commentItem decrypts a sequence item that is an encrypted comment.
func (w *walker) commentItem(item *yaml.Node, path []string) (string, bool, error) {
	if item.Kind != yaml.ScalarNode || item.ShortTag() != "!!str" || !w.encrypted(path) {
		return "", false, nil
	}
	if m := encValue.FindStringSubmatch(item.Value); m == nil || m[4] != "comment" {
		return "", false, nil
	}
	text, _, err := w.open(item.Value, pathString(path))
	if err != nil {
		return "", false, fmt.Errorf("%w: %s (line %d): %v", ErrIntegrity, pathString(path), item.Line, err)
	}
	return text, true, nil
}

func joinComments(cs ...string) string {
	return strings.Join(slices.DeleteFunc(cs, func(c string) bool { return c == "" }), "\n")
}

// pathString is sops' additional data for the values under path: the keys
// joined by ":" and a final ":" (sops.go, Tree.Decrypt).
func pathString(path []string) string { return strings.Join(path, ":") + ":" }

// comments decrypts n's comment lines that sops encrypted. They are not in
// the MAC; one that does not decrypt is kept as it is, as sops does (a
// comment left in plaintext by older sops versions).
func (w *walker) comments(n *yaml.Node, path []string) {
	if !w.encrypted(path) {
		return
	}
	for _, c := range []*string{&n.HeadComment, &n.LineComment, &n.FootComment} {
		if *c == "" {
			continue
		}
		lines := strings.Split(*c, "\n")
		for i, l := range lines {
			if !strings.HasPrefix(l, "#") {
				continue
			}
			if text, _, err := w.open(l[1:], pathString(path)); err == nil {
				lines[i] = "#" + text
			}
		}
		*c = strings.Join(lines, "\n")
	}
}

// leaf decrypts an encrypted scalar in place and adds every value to the
// MAC (only the encrypted ones with mac_only_encrypted). Nulls are neither.
func (w *walker) leaf(n *yaml.Node, path []string) error {
	if n.ShortTag() == "!!null" {
		return nil
	}
	enc := w.encrypted(path)
	var v any
	if enc {
		if n.ShortTag() != "!!str" {
			return fmt.Errorf("%w: %s (line %d) should be encrypted but is a %s", ErrIntegrity, pathString(path), n.Line, n.ShortTag())
		}
		text, typ, err := w.open(n.Value, pathString(path))
		if err != nil {
			return fmt.Errorf("%w: %s (line %d): %v", ErrIntegrity, pathString(path), n.Line, err)
		}
		w.values = append(w.values, text)
		if v, err = typed(text, typ); err != nil {
			return fmt.Errorf("decrypt %s (line %d): %w", pathString(path), n.Line, err)
		}
		var plain yaml.Node
		if err := plain.Encode(v); err != nil {
			return fmt.Errorf("decrypt %s (line %d): %w", pathString(path), n.Line, err)
		}
		plain.HeadComment, plain.LineComment, plain.FootComment = n.HeadComment, n.LineComment, n.FootComment
		*n = plain
		w.values = append(w.values, plain.Value)
	} else if err := n.Decode(&v); err != nil {
		return fmt.Errorf("decrypt %s (line %d): %w", pathString(path), n.Line, err)
	}
	if w.md.MACOnlyEncrypted && !enc {
		return nil
	}
	b, err := macBytes(v)
	if err != nil {
		return fmt.Errorf("decrypt %s (line %d): %w", pathString(path), n.Line, err)
	}
	w.mac.Write(b)
	return nil
}

// open decrypts one ENC[…] value with its additional data (a value's
// path, the MAC's lastmodified). An empty value is the empty string (sops
// does not encrypt those).
func (w *walker) open(s, ad string) (text, typ string, err error) {
	if s == "" {
		return "", "str", nil
	}
	m := encValue.FindStringSubmatch(s)
	if m == nil {
		return "", "", errors.New("not a sops-encrypted value")
	}
	var parts [3][]byte
	for i := range parts {
		if parts[i], err = base64.StdEncoding.DecodeString(m[i+1]); err != nil {
			return "", "", fmt.Errorf("encrypted value: %w", err)
		}
	}
	gcm, err := w.gcm(len(parts[1]))
	if err != nil {
		return "", "", err
	}
	plain, err := gcm.Open(nil, parts[1], append(parts[0], parts[2]...), []byte(ad))
	if err != nil {
		return "", "", errors.New("its authentication tag does not verify")
	}
	return string(plain), m[4], nil
}

// typed turns decrypted text into its value by the type sops recorded, as
// sops' cipher does (https://github.com/getsops/sops/blob/v3.13.3/aes/cipher.go,
// Decrypt): bytes stay bytes, time is RFC 3339 text. Its errors never
// contain the text: it is a secret.
func typed(text, typ string) (any, error) {
	var v any
	var err error
	switch typ {
	case "str":
		return text, nil
	case "bytes":
		return []byte(text), nil
	case "int":
		v, err = strconv.Atoi(text)
	case "float":
		v, err = strconv.ParseFloat(text, 64)
	case "bool":
		v, err = strconv.ParseBool(text)
	case "time":
		var t time.Time
		err = t.UnmarshalText([]byte(text))
		v = t
	default:
		return nil, fmt.Errorf("values of sops type %q are not supported by kcloud", typ)
	}
	if err != nil {
		return nil, fmt.Errorf("the decrypted value is not a valid %s", typ)
	}
	return v, nil
}

// macBytes is a value as sops hashes it (sops.go, ToBytes).
func macBytes(v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		return []byte(v), nil
	case int:
		return []byte(strconv.Itoa(v)), nil
	case float64:
		return []byte(strconv.FormatFloat(v, 'f', -1, 64)), nil
	case bool:
		if v {
			return []byte("True"), nil
		}
		return []byte("False"), nil
	case []byte:
		return v, nil
	case time.Time:
		return v.MarshalText()
	default:
		return nil, fmt.Errorf("a value of type %T is not supported by sops", v)
	}
}

// verify compares the MAC of the walked values with the file's, which is
// encrypted with the data key and lastmodified as additional data
// (https://github.com/getsops/sops/blob/v3.13.3/decrypt/decrypt.go).
func (w *walker) verify(md *metadata) error {
	ad, err := md.lastModified()
	if err != nil {
		return fmt.Errorf("read sops metadata: lastmodified: %w", err)
	}
	if md.MAC == "" {
		return fmt.Errorf("%w: the file has no MAC", ErrIntegrity)
	}
	want, _, err := w.open(md.MAC, ad)
	if err != nil {
		return fmt.Errorf("%w: the MAC itself: %v", ErrIntegrity, err)
	}
	if want != fmt.Sprintf("%X", w.mac.Sum(nil)) {
		return ErrIntegrity
	}
	return nil
}
