package render

import (
	"maps"
	"slices"

	"k8s.io/apimachinery/pkg/runtime"

	"kcloud.dev/kcloud/pkg/spec"
)

// expandValue applies substitutions to every string and key of a decoded
// YAML value, returning a deep copy. Two keys of one mapping that expand to
// the same key are passed to clash (sorted): which one would win depends on
// map order, so the render would vary between runs.
func expandValue(v any, lookup func(string) (string, bool), clash func(a, b, key string)) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		from := make(map[string]string, len(x))
		for _, k := range slices.Sorted(maps.Keys(x)) {
			ek, _ := spec.Expand(k, lookup)
			if prev, dup := from[ek]; dup {
				clash(prev, k, ek)
				continue
			}
			from[ek] = k
			out[ek] = expandValue(x[k], lookup, clash)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = expandValue(val, lookup, clash)
		}
		return out
	case string:
		s, _ := spec.Expand(x, lookup)
		return s
	default:
		return runtime.DeepCopyJSONValue(x)
	}
}

// clashAt reports key clashes at pos.
func (r *renderer) clashAt(pos spec.Pos) func(a, b, key string) {
	return func(a, b, key string) {
		r.diags.Errorf(pos, "keys %q and %q of one mapping both become %q after substitution; rename one", a, b, key)
	}
}
