package spec

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/literal"
	"cuelang.org/go/cue/token"
)

// sopsKey is the top-level key sops writes its metadata under, in every
// document of a YAML file it encrypts.
const sopsKey = "sops"

// encValue matches a value sops encrypted, and captures its type:
// ENC[AES256_GCM,data:…,iv:…,tag:…,type:str].
var encValue = regexp.MustCompile(`^ENC\[AES256_GCM,data:[^,]*,iv:[^,]*,tag:[^,]*,type:([a-z]+)\]$`)

// IsEncryptedValue reports whether s is a value sops encrypted.
func IsEncryptedValue(s string) bool { return encValue.MatchString(s) }

// sopsMasterKeys are the other kinds of master keys sops metadata lists.
var sopsMasterKeys = []string{"kms", "gcp_kms", "azure_kv", "hc_vault", "hckms", "pgp"}

// readSOPS returns a file's sops metadata (nil when it has none) and its
// documents without it.
func readSOPS(path string, src []byte, docs []document) (*SOPSFile, []document) {
	var meta *SOPSFile
	out := make([]document, 0, len(docs))
	for _, d := range docs {
		var kept []ast.Decl
		for _, el := range d.expr.Elts {
			f, ok := el.(*ast.Field)
			if !ok || fieldLabel(f) != sopsKey {
				kept = append(kept, el)
				continue
			}
			md, ok := f.Value.(*ast.StructLit)
			if !ok || fieldValue(md, "mac") == nil {
				kept = append(kept, el) // not sops' metadata
				continue
			}
			if meta == nil {
				meta = &SOPSFile{Path: path, Source: src, Pos: toPos(f.Pos(), path)}
				readKeys(md, meta)
			}
		}
		if len(kept) != len(d.expr.Elts) {
			d.expr = &ast.StructLit{Lbrace: d.expr.Lbrace, Elts: kept, Rbrace: d.expr.Rbrace}
		}
		out = append(out, d)
	}
	return meta, out
}

// readKeys collects the master keys of sops metadata, key groups included.
func readKeys(md *ast.StructLit, meta *SOPSFile) {
	if list, ok := fieldValue(md, "age").(*ast.ListLit); ok {
		for _, el := range list.Elts {
			if r, ok := stringValue(fieldValue(el, "recipient")); ok {
				meta.Recipients = append(meta.Recipients, r)
			}
		}
	}
	for _, k := range sopsMasterKeys {
		if list, ok := fieldValue(md, k).(*ast.ListLit); ok {
			meta.OtherKeys += len(list.Elts)
		}
	}
	if groups, ok := fieldValue(md, "key_groups").(*ast.ListLit); ok {
		for _, g := range groups.Elts {
			if sl, ok := g.(*ast.StructLit); ok {
				readKeys(sl, meta)
			}
		}
	}
}

// stringValue returns the value of a string literal.
func stringValue(e ast.Node) (string, bool) {
	b, ok := e.(*ast.BasicLit)
	if !ok || b.Kind != token.STRING {
		return "", false
	}
	s, err := literal.Unquote(b.Value)
	return s, err == nil
}

// placeholders replaces each encrypted value under v by its type's zero
// value, so an encrypted file's objects can be checked without a key.
func placeholders(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			x[k] = placeholders(val)
		}
	case []any:
		for i, val := range x {
			x[i] = placeholders(val)
		}
	case string:
		if m := encValue.FindStringSubmatch(x); m != nil {
			switch m[1] {
			case "int":
				return int64(0)
			case "float":
				return float64(0)
			case "bool":
				return false
			}
			return ""
		}
	}
	return v
}

// DemoOnly reports whether the file is encrypted to the demo recipient
// alone: anyone can decrypt it.
func (f *SOPSFile) DemoOnly(tabs *Tables) bool {
	return f.OtherKeys == 0 && len(f.Recipients) > 0 &&
		!slices.ContainsFunc(f.Recipients, func(r string) bool { return r != tabs.Secrets.DemoRecipient })
}

// DemoFiles counts the encrypted files of the tree that only the public
// demo key decrypts.
func (t *Tree) DemoFiles() int {
	n := 0
	for _, f := range t.Encrypted {
		if f.DemoOnly(t.Tables) {
			n++
		}
	}
	return n
}

// DemoWarnings warns about each encrypted file of the tree that only the
// public demo key decrypts, unless the Cluster says the tree is a demo.
func (t *Tree) DemoWarnings() Diagnostics {
	var d Diagnostics
	if t.Cluster != nil && t.Cluster.Demo != "" {
		return nil
	}
	for _, f := range t.Encrypted {
		if f.DemoOnly(t.Tables) {
			d = append(d, Diagnostic{Pos: f.Pos, Severity: SeverityWarning, Message: "encrypted to the public demo key (hack/demo.agekey) alone: anyone can decrypt it; " +
				"re-encrypt it to your own age recipient with 'sops updatekeys' before it holds a real secret"})
		}
	}
	return d
}

// checkPlainSecrets reports every Secret written in the tree, in a
// component's objects or in a local manifest, whose data or stringData
// holds a value that sops did not encrypt.
func (l *loader) checkPlainSecrets() {
	seen := map[*specFile]bool{}
	for _, c := range l.tree.Components {
		if doc, ok := l.compDoc[c]; ok {
			if list, ok := fieldValue(fieldValue(doc.expr, "spec"), "objects").(*ast.ListLit); ok {
				for _, el := range list.Elts {
					l.checkPlainSecret(el, c.File)
				}
			}
		}
		for _, m := range c.Manifests {
			f := l.byAbs[m.Path]
			if m.Path == "" || f == nil || seen[f] {
				continue
			}
			seen[f] = true
			_, docs := readSOPS(f.path, f.src, f.docs)
			for _, d := range docs {
				l.checkPlainSecret(d.expr, f.path)
			}
		}
	}
}

// checkPlainSecret checks one object as written; it reports whether the
// object is a Secret with a value in plaintext.
func (l *loader) checkPlainSecret(n ast.Node, file string) (found bool) {
	obj, ok := n.(*ast.StructLit)
	if !ok || obj == nil {
		return false
	}
	if api, _ := stringField(obj, "apiVersion"); api != "v1" {
		return false
	}
	if kind, _ := stringField(obj, "kind"); kind != "Secret" {
		return false
	}
	name, _ := stringValue(fieldValue(fieldValue(obj, "metadata"), "name"))
	plain := func(at token.Pos, what string) {
		found = true
		l.diags.errorf(toPos(at, file), "Secret %q: %s is in plaintext: encrypt it with sops (docs/secrets.md)", name, what)
	}
	for _, field := range []string{"data", "stringData"} {
		switch v := fieldValue(obj, field).(type) {
		case nil:
		case *ast.StructLit:
			for _, el := range v.Elts {
				if f, ok := el.(*ast.Field); ok && isPlain(f.Value) {
					plain(f.Pos(), fmt.Sprintf("%s.%s", field, fieldLabel(f)))
				}
			}
		default:
			if isPlain(v) {
				plain(v.Pos(), field)
			}
		}
	}
	return found
}

// isPlain reports whether a value is set and neither encrypted by sops
// nor taken from an encrypted Secret by a ${secret:NAME/KEY} reference.
func isPlain(e ast.Expr) bool {
	if b, ok := e.(*ast.BasicLit); ok {
		if b.Kind == token.NULL {
			return false
		}
		if s, ok := stringValue(b); ok {
			return s != "" && !IsEncryptedValue(strings.TrimSpace(s)) && !strings.Contains(s, "${"+secretRefPrefix)
		}
	}
	return true
}

// checkSecretRef records a ${secret:NAME/KEY} reference of a component, or
// reports a malformed one.
func (l *loader) checkSecretRef(name string, p Pos, component string) {
	m := l.tabs.secretRef.FindStringSubmatch(name)
	switch {
	case component == "":
		l.diags.errorf(p, "${%s}: secret references are for component sources (helm values, objects, manifests)", name)
	case m == nil:
		l.diags.errorf(p, "${%s}: write a secret reference as ${secret:NAME/KEY}, NAME a Secret from a sops-encrypted manifest", name)
	default:
		l.tree.SecretRefs = append(l.tree.SecretRefs, SecretRef{Secret: m[1], Key: m[len(m)-1], Pos: p, Component: component})
	}
}

// secretRefPrefix starts the name of a ${secret:NAME/KEY} reference.
const secretRefPrefix = "secret:"

// IsSecretRef reports whether a substitution name is a secret reference.
func IsSecretRef(name string) bool { return strings.HasPrefix(name, secretRefPrefix) }

// ParseSecretRef splits the name of a ${secret:NAME/KEY} reference.
func (t *Tables) ParseSecretRef(name string) (secret, key string, ok bool) {
	m := t.secretRef.FindStringSubmatch(name)
	if m == nil {
		return "", "", false
	}
	return m[1], m[len(m)-1], true
}
