package diff

import (
	"encoding/json"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestSameYAMLIsYAMLEquality: a change is decided without rendering its
// text, and must be decided as the text would decide it.
func TestSameYAMLIsYAMLEquality(t *testing.T) {
	tests := []struct {
		name string
		a, b any
	}{
		{"equal maps", map[string]any{"a": "x", "n": int64(1)}, map[string]any{"n": int64(1), "a": "x"}},
		{"a changed string", map[string]any{"a": "x"}, map[string]any{"a": "y"}},
		{"int and float of one value", map[string]any{"n": int64(2)}, map[string]any{"n": float64(2)}},
		{"int and float of two values", map[string]any{"n": int64(2)}, map[string]any{"n": 2.5}},
		{"json.Number and int", int64(7), json.Number("7")},
		{"nil map and empty map", map[string]any{"m": map[string]any(nil)}, map[string]any{"m": map[string]any{}}},
		{"nil list and empty list", map[string]any{"l": []any(nil)}, map[string]any{"l": []any{}}},
		{"nil and a nil map", map[string]any{"m": nil}, map[string]any{"m": map[string]any(nil)}},
		{"a missing key and a null", map[string]any{"m": nil}, map[string]any{}},
		{"string and number", map[string]any{"a": "1"}, map[string]any{"a": int64(1)}},
		{"bool and string", true, "true"},
		{"lists in order", []any{"a", "b"}, []any{"a", "b"}},
		{"lists out of order", []any{"a", "b"}, []any{"b", "a"}},
		{"a longer list", []any{"a"}, []any{"a", "a"}},
		{"nested change", map[string]any{"s": map[string]any{"l": []any{map[string]any{"k": int64(1)}}}}, map[string]any{"s": map[string]any{"l": []any{map[string]any{"k": int64(2)}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ya, err := yaml.Marshal(tt.a)
			if err != nil {
				t.Fatal(err)
			}
			yb, err := yaml.Marshal(tt.b)
			if err != nil {
				t.Fatal(err)
			}
			want := string(ya) == string(yb)
			if got := sameYAML(tt.a, tt.b); got != want {
				t.Errorf("sameYAML = %v, YAML equal = %v\n%s---\n%s", got, want, ya, yb)
			}
			if got := sameYAML(tt.b, tt.a); got != want {
				t.Errorf("sameYAML reversed = %v, YAML equal = %v", got, want)
			}
		})
	}
}
