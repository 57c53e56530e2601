package diff

import (
	"math"
	"strconv"
	"unicode/utf8"

	yamlv2 "go.yaml.in/yaml/v2"
	"sigs.k8s.io/yaml"
)

// toYAML prints obj as sigs.k8s.io/yaml.Marshal does — JSON first, then
// the JSON read back by go.yaml.in/yaml/v2 and written as YAML
// (JSONToYAML in sigs.k8s.io/yaml v1.6.0, yaml.go) — but in one pass:
// the values are given the types that reading the JSON back would give
// them, and written by the same YAML library. What that cannot promise
// the same text for (a string that is not UTF-8, which JSON rewrites; a
// type JSON would marshal its own way) goes the long way.
func toYAML(obj map[string]any) (string, error) {
	if obj == nil {
		return "", nil
	}
	if v, ok := asReadBack(obj); ok {
		b, err := yamlv2.Marshal(v)
		return string(b), err
	}
	b, err := yaml.Marshal(obj)
	return string(b), err
}

// asReadBack is v with the types go.yaml.in/yaml/v2 gives what JSON writes
// of v: an integral float written without a fraction reads back as an
// integer, a nil map or list as null. ok is false for what it cannot
// promise (see toYAML).
func asReadBack(v any) (out any, ok bool) {
	switch x := v.(type) {
	case nil, bool, int64:
		return x, true
	case string:
		return x, utf8.ValidString(x)
	case float64:
		return readBackFloat(x)
	case map[string]any:
		if x == nil {
			return nil, true
		}
		m := make(map[string]any, len(x))
		for k, e := range x {
			if !utf8.ValidString(k) {
				return nil, false
			}
			if m[k], ok = asReadBack(e); !ok {
				return nil, false
			}
		}
		return m, true
	case []any:
		if x == nil {
			return nil, true
		}
		l := make([]any, len(x))
		for i, e := range x {
			if l[i], ok = asReadBack(e); !ok {
				return nil, false
			}
		}
		return l, true
	}
	return nil, false
}

// readBackFloat: encoding/json writes a float64 of magnitude below 1e21
// in its shortest decimal digits without an exponent, so an integral one
// reads back as the integer those digits say (an int, or a uint64 above
// int64's range, else a float again); any other reads back as the same
// float64.
func readBackFloat(f float64) (any, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, false // JSON refuses them: the long way says so
	}
	if f != math.Trunc(f) || math.Abs(f) >= 1e21 {
		return f, true
	}
	digits := strconv.FormatFloat(f, 'f', -1, 64)
	if i, err := strconv.ParseInt(digits, 10, 64); err == nil {
		return i, true
	}
	if u, err := strconv.ParseUint(digits, 10, 64); err == nil {
		return u, true
	}
	return f, true
}
