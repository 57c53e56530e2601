package diff

import (
	"encoding/json"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"kcloud.dev/kcloud/internal/testenv"
)

// TestToYAMLPrintsAsSigsYAML: the text of a diff is what
// sigs.k8s.io/yaml.Marshal prints (the goldens and every diff before hold
// it), for the values decoded JSON holds — numbers at the edges of their
// types, strings YAML would read as something else, nil and empty maps
// and lists, strings JSON rewrites — for generated objects, and for every
// object of the real-world corpus.
func TestToYAMLPrintsAsSigsYAML(t *testing.T) {
	same := func(t *testing.T, what string, obj map[string]any) {
		t.Helper()
		want, err := yaml.Marshal(obj)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		got, err := toYAML(obj)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got != string(want) {
			t.Errorf("%s:\n got %q\nwant %q", what, got, want)
		}
	}
	edges := []any{
		nil, true, false, int64(0), int64(-1), int64(math.MaxInt64), int64(math.MinInt64),
		0.0, math.Copysign(0, -1), 1.0, -1.0, 2.5, 1e-7, 1e-6, 123456789.0, 1e15, 1e20, 1e21, 1.5e21, -1e21,
		float64(1 << 53), float64(1<<63) - 1024, float64(1 << 63), float64(1<<64) - 4096, float64(1 << 64), 1e300, 5e-324,
		json.Number("7"),
		"", "x", "true", "no", "~", "null", "1", "1.0", "1e3", "0x1F", "0o17", ".inf", "-.Inf", ".nan", "2001-12-14", "12:30",
		"a: b", "- x", "#c", "line\nbreak", "tab\t", " lead", "trail ", "<html>&", "ünïcödé", "\x00", "\xff\xfe", "'quote\"",
		map[string]any(nil), map[string]any{}, []any(nil), []any{}, map[string]any{"\xff": "k"},
	}
	for i, v := range edges {
		same(t, "edge "+strings.Repeat("·", i%3)+jsonOf(v), map[string]any{"v": v, "l": []any{v, v}})
	}
	keys := []string{"a", "b", "a10", "a9", "A", "_", "1", "10", "2", "-", "z.z", "metadata", "é", ""}
	r := rand.New(rand.NewPCG(20261206, 1))
	var gen func(depth int) any
	gen = func(depth int) any {
		switch n := r.IntN(8); {
		case depth > 3 || n < 4:
			return edges[r.IntN(len(edges))]
		case n < 6:
			m := map[string]any{}
			for range r.IntN(5) {
				m[keys[r.IntN(len(keys))]] = gen(depth + 1)
			}
			return m
		default:
			l := []any{}
			for range r.IntN(4) {
				l = append(l, gen(depth+1))
			}
			return l
		}
	}
	for i := range 3000 {
		m := map[string]any{}
		for range 1 + r.IntN(6) {
			m[keys[r.IntN(len(keys))]] = gen(0)
		}
		same(t, "generated "+jsonOf(i), m)
	}

	// The corpus: real manifests, decoded as the API server's answers are.
	dir := filepath.Join("..", "..", "..", "shared", "upstream", "corpus")
	if _, err := os.Stat(dir); err != nil {
		testenv.Note(t, "the real-world corpus (../shared/upstream/corpus) is not here: toYAML checked on generated values only")
		return
	}
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, doc := range strings.Split(string(data), "\n---") {
			var obj map[string]any
			if yaml.Unmarshal([]byte(doc), &obj) != nil || obj == nil {
				continue // not an object: the corpus holds templates too
			}
			j, err := json.Marshal(obj)
			if err != nil {
				continue
			}
			var decoded map[string]any
			dec := json.NewDecoder(strings.NewReader(string(j)))
			dec.UseNumber()
			if dec.Decode(&decoded) != nil {
				continue
			}
			same(t, path+" document "+jsonOf(i+1), intsAndFloats(decoded).(map[string]any))
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 150 { // 196 objects in 115 files when written
		t.Fatalf("only %d corpus objects compared", n)
	}
	t.Logf("%d corpus objects", n)
}

// intsAndFloats turns json.Numbers into int64 or float64, as the API
// machinery's JSON decoding does.
func intsAndFloats(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = intsAndFloats(e)
		}
	case []any:
		for i, e := range x {
			x[i] = intsAndFloats(e)
		}
	}
	return v
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
