package render

import (
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"

	"kcloud.dev/kcloud/pkg/secret"
	"kcloud.dev/kcloud/pkg/spec"
)

// secretData maps a Secret's name to its decoded values by key.
type secretData map[string]map[string]string

// decryptAll decrypts every sops-encrypted manifest of the tree once, in
// memory, and collects the Secrets each component renders from them. A
// file no key decrypts is an error, or for vet (Lenient) a warning, its
// objects then checked with placeholders.
func (r *renderer) decryptAll() {
	r.decrypted = map[string][]spec.Doc{}
	r.secrets = map[string]secretData{}
	for _, c := range r.tree.Components {
		for _, m := range c.Manifests {
			if m.SOPS == nil {
				continue
			}
			docs, ok := r.decrypted[m.Path]
			if !ok {
				docs = r.decrypt(m)
				r.decrypted[m.Path] = docs
			}
			for _, d := range docs {
				collectSecret(r.secretsOf(c.Name), d.Object)
			}
		}
	}
	r.checkSecretRefs()
}

func (r *renderer) secretsOf(component string) secretData {
	s, ok := r.secrets[component]
	if !ok {
		s = secretData{}
		r.secrets[component] = s
	}
	return s
}

// decrypt returns an encrypted manifest's objects, decrypted, positioned
// at the documents of the encrypted file.
func (r *renderer) decrypt(m spec.Manifest) []spec.Doc {
	f := m.SOPS
	if r.opts.Decrypt == nil {
		return r.undecrypted(m)
	}
	plain, err := r.opts.Decrypt(f.Source)
	if err != nil {
		var keyErr *secret.KeyError
		if errors.As(err, &keyErr) {
			return r.undecrypted(m)
		}
		r.diags.Errorf(f.Pos, "cannot decrypt this sops file: %v", err)
		return m.Docs
	}
	docs, diags := spec.ParseManifest(f.Path, plain)
	if diags.HasErrors() || len(docs) != len(m.Docs) {
		// Never quote the plaintext: name the file only.
		r.diags.Errorf(f.Pos, "this sops file's decrypted content does not parse as %d Kubernetes object(s)", len(m.Docs))
		return m.Docs
	}
	for i := range docs {
		docs[i].Pos = m.Docs[i].Pos
		r.values = append(r.values, decryptedValues(m.Docs[i].Object, docs[i].Object)...)
	}
	return docs
}

// undecrypted reports a file no key decrypts and returns its placeholder
// objects.
func (r *renderer) undecrypted(m spec.Manifest) []spec.Doc {
	f := m.SOPS
	keyEnv := strings.Join(r.tabs.Secrets.KeyEnv, " or ")
	if r.opts.Lenient {
		r.diags = append(r.diags, spec.Diagnostic{Pos: f.Pos, Severity: spec.SeverityWarning,
			Message: fmt.Sprintf("sops file not decrypted (no key; set %s): its encrypted values were not checked", keyEnv)})
		return m.Docs
	}
	r.diags.Errorf(f.Pos, "cannot decrypt this sops file: no key of its recipients (%s) is set: set %s to one",
		strings.Join(f.Recipients, ", "), keyEnv)
	return m.Docs
}

// decryptedValues returns the values of plain that differ from the
// placeholders at the same place: the values sops had encrypted.
func decryptedValues(placeholder, plain any) []string {
	var out []string
	switch p := plain.(type) {
	case map[string]any:
		ph, _ := placeholder.(map[string]any)
		for k, v := range p {
			out = append(out, decryptedValues(ph[k], v)...)
		}
	case []any:
		ph, _ := placeholder.([]any)
		for i, v := range p {
			var pv any
			if i < len(ph) {
				pv = ph[i]
			}
			out = append(out, decryptedValues(pv, v)...)
		}
	default:
		if s := fmt.Sprint(p); p != nil && s != fmt.Sprint(placeholder) {
			out = append(out, s)
			if dec, err := base64.StdEncoding.DecodeString(s); err == nil && len(dec) > 0 {
				out = append(out, string(dec))
			}
		}
	}
	return out
}

// collectSecret adds a Secret's decoded values to secrets.
func collectSecret(secrets secretData, obj map[string]any) {
	if obj["apiVersion"] != "v1" || obj["kind"] != "Secret" {
		return
	}
	md, _ := obj["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	vals := map[string]string{}
	if data, ok := obj["data"].(map[string]any); ok {
		for k, v := range data {
			s, _ := v.(string)
			dec, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				dec = []byte(s)
			}
			vals[k] = string(dec)
		}
	}
	if data, ok := obj["stringData"].(map[string]any); ok {
		for k, v := range data {
			vals[k] = fmt.Sprint(v)
		}
	}
	secrets[name] = vals
}

// secretValue resolves ${secret:NAME/KEY} for a component: its own
// Secrets first, then those of the components it dependsOn.
func (r *renderer) secretValue(c *spec.Component, ref string) (string, bool) {
	name, key, ok := r.tabs.ParseSecretRef(ref)
	if !ok {
		return "", false
	}
	for _, from := range append([]string{c.Name}, c.DependsOn...) {
		if v, ok := r.secrets[from][name][key]; ok {
			return v, true
		}
	}
	return "", false
}

// checkSecretRefs reports each ${secret:NAME/KEY} that names no Secret
// value a sops-encrypted manifest of the component, or of a component it
// dependsOn, renders.
func (r *renderer) checkSecretRefs() {
	for _, ref := range r.tree.SecretRefs {
		c := r.tree.Component(ref.Component)
		if c == nil {
			continue
		}
		if _, ok := r.secretValue(c, "secret:"+ref.Secret+"/"+ref.Key); !ok {
			r.diags.Errorf(ref.Pos, "${secret:%s/%s}: no Secret %q with key %q in a sops-encrypted manifest of component %q or of a component it dependsOn",
				ref.Secret, ref.Key, ref.Secret, ref.Key, ref.Component)
		}
	}
}

func uniqueSorted(vals []string) []string {
	out := slices.Clone(vals)
	slices.Sort(out)
	return slices.Compact(out)
}

// expandSOPS substitutes a decrypted sops manifest's documents around its
// decrypted values (expandDecrypted), and says whether the documents of m
// are still to be substituted: those of any other local manifest are.
func (r *renderer) expandSOPS(m spec.Manifest, docs []spec.Doc, lookup func(string) (string, bool)) ([]spec.Doc, bool) {
	if m.SOPS == nil || len(docs) != len(m.Docs) {
		return docs, m.URL == ""
	}
	expanded := make([]spec.Doc, len(docs))
	for i, d := range docs {
		d.Object, _ = expandDecrypted(d.Object, m.Docs[i].Object, lookup, r.clashAt(d.Pos)).(map[string]any)
		expanded[i] = d
	}
	return expanded, false
}

// expandDecrypted substitutes the ${…}s of a decrypted sops manifest's
// plaintext parts only: a value sops had encrypted is used verbatim, as
// sops outputs it, so that a secret is never changed by kcloud and cannot
// pull the environment of whoever runs it into the cluster. placeholder
// is the document as written, each encrypted value a zero placeholder
// (spec.ParseManifest); a value that differs from it was encrypted. Keys
// are never encrypted.
func expandDecrypted(plain, placeholder any, lookup func(string) (string, bool), clash func(a, b, key string)) any {
	switch p := plain.(type) {
	case map[string]any:
		ph, _ := placeholder.(map[string]any)
		out := make(map[string]any, len(p))
		from := make(map[string]string, len(p))
		for _, k := range slices.Sorted(maps.Keys(p)) {
			ek, _ := spec.Expand(k, lookup)
			if prev, dup := from[ek]; dup {
				clash(prev, k, ek)
				continue
			}
			from[ek] = k
			out[ek] = expandDecrypted(p[k], ph[k], lookup, clash)
		}
		return out
	case []any:
		ph, _ := placeholder.([]any)
		out := make([]any, len(p))
		for i, v := range p {
			var pv any
			if i < len(ph) {
				pv = ph[i]
			}
			out[i] = expandDecrypted(v, pv, lookup, clash)
		}
		return out
	case string:
		if ps, ok := placeholder.(string); ok && ps == p {
			s, _ := spec.Expand(p, lookup)
			return s
		}
		return p
	default:
		return runtime.DeepCopyJSONValue(p)
	}
}
