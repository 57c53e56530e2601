package redact

import (
	"encoding/base64"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

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
// A stringData that is not a map is masked whole. It changes the objects
// in place.
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
	switch sdata := obj.Object["stringData"].(type) {
	case map[string]any:
		for k, v := range sdata {
			s, _ := v.(string)
			out[k] = base64.StdEncoding.EncodeToString([]byte(s))
		}
	case string:
		out[""] = base64.StdEncoding.EncodeToString([]byte(sdata))
	}
	return out
}

func maskField(obj *unstructured.Unstructured, field string, mask func(k, v string) string) {
	switch m := obj.Object[field].(type) {
	case map[string]any:
		for k, v := range m {
			s, _ := v.(string)
			m[k] = mask(k, s)
		}
	case nil:
	default:
		// Not a map (invalid, but it would be printed): mask it whole.
		obj.Object[field] = Mask
	}
}

// Mask masks secret values in a live object (before) and a planned one
// (after), either of which may be nil: Secrets' data and stringData as
// MaskSecrets does, and in every object each string field whose value is a
// known secret value, or whose value in the other object is. Lines of
// multi-line strings (helm values, config files) whose value is a secret
// are masked the same way. A masked field whose value changed is
// MaskChanged in after, so a diff still sees the change. It changes the
// objects in place.
func (r *Redactor) Mask(before, after *unstructured.Unstructured) {
	if IsSecret(before) {
		r.Add(before) // older values, still in the cluster
	}
	MaskSecrets(before, after)
	var b, a any
	if before != nil {
		b = before.Object
	}
	if after != nil {
		a = after.Object
	}
	nb, na := r.maskPair(b, a, after != nil && before != nil)
	if before != nil {
		before.Object, _ = nb.(map[string]any)
	}
	if after != nil {
		after.Object, _ = na.(map[string]any)
	}
}

// MaskObject masks one object for display (render): Secret values and
// every field holding a secret value.
func (r *Redactor) MaskObject(obj *unstructured.Unstructured) { r.Mask(nil, obj) }

// maskPair walks two values that stand at the same path.
func (r *Redactor) maskPair(b, a any, both bool) (any, any) {
	switch av := a.(type) {
	case map[string]any:
		bm, _ := b.(map[string]any)
		for k, v := range av {
			var bv any
			if bm != nil {
				bv = bm[k]
			}
			nb, na := r.maskPair(bv, v, both && bm != nil && bm[k] != nil)
			av[k] = na
			if bm != nil && bv != nil {
				bm[k] = nb
			}
		}
		for k, v := range bm {
			if _, ok := av[k]; !ok {
				bm[k], _ = r.maskPair(v, nil, false)
			}
		}
		return b, a
	case []any:
		bl, _ := b.([]any)
		for i, v := range av {
			var bv any
			if i < len(bl) {
				bv = bl[i]
			}
			nb, na := r.maskPair(bv, v, both && i < len(bl))
			av[i] = na
			if i < len(bl) {
				bl[i] = nb
			}
		}
		for i := len(av); i < len(bl); i++ {
			bl[i], _ = r.maskPair(bl[i], nil, false)
		}
		return b, a
	case string:
		bs, bIsStr := b.(string)
		return r.maskStrings(bs, av, bIsStr, both)
	case nil:
		switch bv := b.(type) {
		case map[string]any, []any:
			r.maskPair(nil, bv, false)
			return bv, nil
		case string:
			_, masked := r.maskStrings("", bv, false, false)
			return masked, nil
		}
	}
	return b, a
}

// maskStrings masks a string field in both objects. A value that
// changed never looks unchanged once masked.
func (r *Redactor) maskStrings(b, a string, hasB, both bool) (any, any) {
	if r.isSecret(a) || (hasB && r.isSecret(b)) {
		mark := Mask
		if both && a != b {
			mark = MaskChanged
		}
		if hasB {
			return Mask, mark
		}
		return b, mark
	}
	var nb, na string
	if strings.Contains(a, "\n") || strings.Contains(b, "\n") {
		// Multi-line strings: mask the value of each key: value or
		// KEY=value line whose value is a secret, and the same key's line
		// on the other side.
		keys := map[string]bool{}
		r.secretLines(a, keys)
		if hasB {
			r.secretLines(b, keys)
		}
		na, nb = r.String(maskLines(a, keys)), r.String(maskLines(b, keys))
	} else {
		na, nb = r.String(a), r.String(b)
	}
	if !hasB {
		return b, na
	}
	if na != a && nb == b && a != b {
		// A secret inside the planned value; the live one may hold an
		// older secret nobody knows any more: hide it whole.
		nb = Mask
	}
	if both && a != b && na == nb {
		na = MaskChanged
	}
	return nb, na
}

// lineValue splits a YAML "key: value" or env "KEY=value" line.
var lineValue = regexp.MustCompile(`^(\s*(?:- )?[^\s:=#"'][^:=#]*?(?::\s+|=))(.*?)\s*$`)

// secretLines adds to keys the key part of each line of s whose value is
// a known secret.
func (r *Redactor) secretLines(s string, keys map[string]bool) {
	for _, line := range strings.Split(s, "\n") {
		m := lineValue.FindStringSubmatch(line)
		if m != nil && r.isSecret(unquote(m[2])) {
			keys[m[1]] = true
		}
	}
}

// maskLines masks the values of the lines whose key part is in keys.
func maskLines(s string, keys map[string]bool) string {
	if len(keys) == 0 {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		if m := lineValue.FindStringSubmatch(line); m != nil && keys[m[1]] {
			lines[i] = m[1] + `"` + Mask + `"`
		}
	}
	return strings.Join(lines, "\n")
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}
