package spec

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"github.com/google/go-cmp/cmp"
)

// viaCUE decodes a document the way everything was decoded before
// toGo: built into CUE, exported to JSON, decoded with int64s.
func viaCUE(t *testing.T, d document) (map[string]any, error) {
	t.Helper()
	tabs, err := LoadTables()
	if err != nil {
		t.Fatal(err)
	}
	v := tabs.ctx.BuildExpr(d.expr, cue.Filename("x.yaml"))
	if err := v.Err(); err != nil {
		return nil, err
	}
	out := map[string]any{}
	return out, decodeJSON(v, &out)
}

// checkToGo asserts that toGo, where it decodes a document, decodes it as
// CUE does; it returns whether toGo decoded it.
func checkToGo(t *testing.T, name string, d document) bool {
	t.Helper()
	got, ok := toGo(d.expr)
	if !ok {
		return false
	}
	want, err := viaCUE(t, d)
	if err != nil {
		t.Errorf("%s: toGo decoded what CUE rejects (%v)", name, err)
		return true
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: toGo differs from CUE (-want +got):\n%s", name, diff)
	}
	return true
}

func TestToGoAgreesWithCUE(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		plain bool // toGo decodes it (else it leaves it to CUE)
	}{
		{"scalars", "a: x\nb: 1\nc: -7\nd: true\ne: false\nf: null\ng: ~\nh: ''\ni: \"quoted \\t tab\"\n", true},
		{"ints in other bases", "hex: 0x1F\noct: 0o17\nyaml11oct: 017\nbig: 9223372036854775807\nneg: -9223372036854775808\n", true},
		{"strings that look like other things", "a: '1'\nb: 'true'\nc: \"null\"\nd: 01289\ne: 2001-12-14t21:59:43.10-05:00\nf: \"\\\\(x)\"\n", true},
		{"multi-line and unicode", "a: |\n  line one\n  line \"two\"\n  \tb\nb: >\n  folded\n  text\nc: \"é ☃ \\u00e9\"\n", true},
		{"nesting", "a:\n  b: [1, {c: d}, [], {}]\n  e: {}\nl: []\n", true},
		{"anchors and merge keys", "base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\nlist: [*b, *b]\n", true},
		{"keys that need quoting", "\"a.b\": 1\n\"with space\": 2\n\"1\": 3\ntrue: 4\nnull: 5\n", true},
		{"floats go through CUE", "a: 1.5\n", false},
		{"exponents go through CUE", "a: 1e3\n", false},
		{"infinity goes through CUE", "a: .inf\n", false},
		{"tagged floats go through CUE", "a: !!float 3\n", false},
		{"bytes go through CUE", "a: !!binary aGVsbG8=\n", false},
		{"ints beyond int64 go through CUE", "a: 9223372036854775808\n", false},
		// parseYAML reports a duplicate key (one error, where it repeats)
		// and drops the repeat, so what reaches toGo is plain data.
		{"duplicate keys are reported by the parser, then plain", "a: 1\na: 1\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, diags := parseYAML("x.yaml", []byte(tt.yaml))
			if len(docs) != 1 {
				t.Fatalf("parse: %d documents, %v", len(docs), diags)
			}
			if dup := strings.Contains(tt.name, "duplicate"); dup != diags.HasErrors() {
				t.Errorf("parse errors %v, want errors: %v", diags, dup)
			}
			if got := checkToGo(t, tt.name, docs[0]); got != tt.plain {
				t.Errorf("toGo decoded it: %v, want %v", got, tt.plain)
			}
		})
	}
}

// TestToGoAgreesOnUpstream decodes every document of the upstream
// manifests beside the project (../shared/upstream: the corpus, the CRDs,
// the pinned manifests) both ways.
func TestToGoAgreesOnUpstream(t *testing.T) {
	root := filepath.Join("..", "..", "..", "shared", "upstream")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("no upstream manifests beside the project (../shared/upstream, as in CI): %v", err)
	}
	docs, plain := 0, 0
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		parsed, _ := parseYAML(path, src)
		for _, d := range parsed {
			docs++
			if checkToGo(t, path, d) {
				plain++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if docs == 0 || plain < docs/2 {
		t.Errorf("toGo decoded %d of %d upstream documents; most are plain data", plain, docs)
	}
	t.Logf("toGo decoded %d of %d upstream documents", plain, docs)
}

// TestStripComponentDecodesAlike validates and decodes every Component of
// specs/ and testdata/ both ways: whole through CUE, and stripped with its
// data decoded from the syntax.
func TestStripComponentDecodesAlike(t *testing.T) {
	tabs, err := LoadTables()
	if err != nil {
		t.Fatal(err)
	}
	def := tabs.def("#Component")
	comps := 0
	for _, root := range []string{filepath.Join("..", "..", "specs"), filepath.Join("..", "..", "testdata")} {
		err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() || !strings.HasSuffix(path, ".yaml") {
				return err
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			docs, _ := parseYAML(path, src)
			for _, d := range docs {
				whole, plain := toGo(d.expr)
				if d.kind != "Component" || !plain {
					continue
				}
				full := def.Unify(tabs.ctx.BuildExpr(d.expr))
				stripped := def.Unify(tabs.ctx.BuildExpr(stripComponent(d.expr)))
				errFull, errStripped := full.Validate(cue.Concrete(true)), stripped.Validate(cue.Concrete(true))
				if (errFull == nil) != (errStripped == nil) {
					t.Errorf("%s: whole: %v; stripped: %v", path, errFull, errStripped)
				}
				if errFull != nil {
					continue
				}
				comps++
				var want, got rawComponent
				if err := decodeJSON(full, &want); err != nil {
					t.Fatal(err)
				}
				if err := decodeComponentData(stripped, whole, true, &got); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s: %s (-whole +stripped):\n%s", path, want.Metadata.Name, diff)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if comps < 20 {
		t.Errorf("only %d components compared", comps)
	}
}
