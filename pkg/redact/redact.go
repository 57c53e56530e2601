package redact

import (
	"encoding/base64"
	"io"
	"sort"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Mask is what a Secret value is shown as.
const Mask = "***"

// MaskChanged is what a changed Secret value is shown as in the planned
// object.
const MaskChanged = "*** (changed)"

// lastApplied is kubectl's client-side apply annotation: on a Secret it
// holds the values.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// IsSecret reports whether obj is a core Secret.
func IsSecret(obj *unstructured.Unstructured) bool {
	if obj == nil {
		return false
	}
	gvk := obj.GroupVersionKind()
	return gvk.Group == "" && gvk.Kind == "Secret"
}

// MaskSecrets replaces the values of Secrets' data and stringData with
// Mask in both objects (either may be nil); a value that differs is
// MaskChanged in after. stringData counts as data: the server merges it.
// It changes the objects in place.
func MaskSecrets(before, after *unstructured.Unstructured) {
	if !IsSecret(before) && !IsSecret(after) {
		return
	}
	old := secretValues(before)
	for _, obj := range []*unstructured.Unstructured{before, after} {
		if obj == nil {
			continue
		}
		if ann := obj.GetAnnotations(); ann[lastApplied] != "" {
			ann[lastApplied] = Mask
			obj.SetAnnotations(ann)
		}
	}
	if before != nil {
		maskField(before, "data", func(string, string) string { return Mask })
		maskField(before, "stringData", func(string, string) string { return Mask })
	}
	if after != nil {
		mark := func(k, v string) string {
			if ov, ok := old[k]; ok && ov == v {
				return Mask
			}
			if before == nil {
				return Mask
			}
			return MaskChanged
		}
		maskField(after, "data", mark)
		maskField(after, "stringData", func(k, v string) string {
			return mark(k, base64.StdEncoding.EncodeToString([]byte(v)))
		})
	}
}

// secretValues returns a Secret's values as base64, stringData included.
func secretValues(obj *unstructured.Unstructured) map[string]string {
	out := map[string]string{}
	if obj == nil {
		return out
	}
	data, _, _ := unstructured.NestedMap(obj.Object, "data")
	for k, v := range data {
		s, _ := v.(string)
		out[k] = s
	}
	sdata, _, _ := unstructured.NestedMap(obj.Object, "stringData")
	for k, v := range sdata {
		s, _ := v.(string)
		out[k] = base64.StdEncoding.EncodeToString([]byte(s))
	}
	return out
}

func maskField(obj *unstructured.Unstructured, field string, mask func(k, v string) string) {
	m, ok, _ := unstructured.NestedMap(obj.Object, field)
	if !ok {
		return
	}
	for k, v := range m {
		s, _ := v.(string)
		m[k] = mask(k, s)
	}
	_ = unstructured.SetNestedMap(obj.Object, m, field)
}

// MinRedactLen is the shortest Secret value the Redactor hides in free
// text: shorter ones would mangle ordinary words.
const MinRedactLen = 4

// Redactor hides known Secret values in free text: error messages and log
// lines. Structured output is masked by MaskSecrets instead.
type Redactor struct {
	mu     sync.RWMutex
	values []string // longest first
	r      *strings.Replacer
}

// NewRedactor returns a Redactor for the Secrets among objs.
func NewRedactor(objs []*unstructured.Unstructured) *Redactor {
	r := &Redactor{}
	r.Add(objs...)
	return r
}

// Add learns the values of the Secrets among objs: base64 and decoded.
func (r *Redactor) Add(objs ...*unstructured.Unstructured) {
	seen := map[string]bool{}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range r.values {
		seen[v] = true
	}
	add := func(v string) {
		if len(v) >= MinRedactLen && !seen[v] {
			seen[v] = true
			r.values = append(r.values, v)
		}
	}
	for _, obj := range objs {
		if !IsSecret(obj) {
			continue
		}
		for _, b64 := range secretValues(obj) {
			add(b64)
			if dec, err := base64.StdEncoding.DecodeString(b64); err == nil {
				add(string(dec))
				for _, line := range strings.Split(string(dec), "\n") {
					add(strings.TrimSpace(line))
				}
			}
		}
		sdata, _, _ := unstructured.NestedStringMap(obj.Object, "stringData")
		for _, v := range sdata {
			add(v)
		}
	}
	sort.Slice(r.values, func(i, j int) bool { return len(r.values[i]) > len(r.values[j]) })
	pairs := make([]string, 0, 2*len(r.values))
	for _, v := range r.values {
		pairs = append(pairs, v, Mask)
	}
	r.r = strings.NewReplacer(pairs...)
}

// String returns s with every known Secret value replaced by Mask.
func (r *Redactor) String(s string) string {
	if r == nil {
		return s
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.r == nil {
		return s
	}
	return r.r.Replace(s)
}

// Error returns err with its message redacted, or nil.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if red := r.String(msg); red != msg {
		return &redactedError{msg: red, err: err}
	}
	return err
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Writer returns a writer that redacts each write before passing it to w.
// Writes are expected to be whole lines (zerolog writes one per event).
func (r *Redactor) Writer(w io.Writer) io.Writer { return &redactWriter{r: r, w: w} }

type redactWriter struct {
	r *Redactor
	w io.Writer
}

func (rw *redactWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(rw.w, rw.r.String(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
