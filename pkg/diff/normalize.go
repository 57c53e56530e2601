package diff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"kcloud.dev/kcloud/pkg/change"
)

// Normalize returns a copy of obj without what the server owns and no one
// diffs: managedFields, resourceVersion, uid, generation, timestamps and
// status. Nil stays nil.
func Normalize(obj *unstructured.Unstructured) *unstructured.Unstructured {
	if obj == nil {
		return nil
	}
	out := obj.DeepCopy()
	for _, f := range []string{"managedFields", "resourceVersion", "uid", "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"} {
		unstructured.RemoveNestedField(out.Object, "metadata", f)
	}
	unstructured.RemoveNestedField(out.Object, "status")
	if len(out.GetAnnotations()) == 0 {
		unstructured.RemoveNestedField(out.Object, "metadata", "annotations")
	}
	return out
}

// unifiedLabeled returns a unified diff of two objects as YAML, the sides
// labelled from and to; empty when equal.
func unifiedLabeled(ref change.Ref, from, to string, before, after *unstructured.Unstructured) (string, error) {
	a, err := toYAML(content(before))
	if err != nil {
		return "", fmt.Errorf("%s: %w", ref, err)
	}
	b, err := toYAML(content(after))
	if err != nil {
		return "", fmt.Errorf("%s: %w", ref, err)
	}
	if a == b {
		return "", nil
	}
	name := strings.ReplaceAll(ref.String(), " ", "/")
	return difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A:        lines(a),
		B:        lines(b),
		FromFile: from + "/" + name,
		ToFile:   to + "/" + name,
		Context:  3,
	})
}

// content is obj's content; nil for nil.
func content(obj *unstructured.Unstructured) map[string]any {
	if obj == nil {
		return nil
	}
	return obj.Object
}

// lines splits s after each newline, for difflib; "" has no lines.
func lines(s string) []string {
	out := strings.SplitAfter(s, "\n")
	if len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// sameYAML reports whether two decoded JSON values print as the same YAML
// (sigs.k8s.io/yaml marshals through JSON): equal but for an integer and
// a float of the same value, which JSON writes alike. Unlike
// equality.Semantic, a nil map or list is not an empty one ("null" is not
// "{}").
func sameYAML(a, b any) bool {
	if null(a) || null(b) {
		return null(a) && null(b)
	}
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !sameYAML(xv, yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameYAML(x[i], y[i]) {
				return false
			}
		}
		return true
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case int64:
		if y, ok := b.(int64); ok {
			return x == y
		}
	}
	// Numbers (int64, float64, json.Number) and anything else: as JSON.
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

// null reports whether v is JSON's null: nil, a nil map or a nil list.
func null(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case map[string]any:
		return x == nil
	case []any:
		return x == nil
	}
	return false
}
