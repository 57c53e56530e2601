package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	yaml "go.yaml.in/yaml/v3"
)

// compileSchema compiles `kcloud schema`'s output with a JSON Schema
// validator independent of CUE.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	code, stdout, stderr := kcloud(t, "schema")
	if code != exitOK {
		t.Fatalf("schema: exit %d\n%s", code, stderr)
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(stdout))
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("kcloud.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("kcloud.schema.json")
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return s
}

// kcloudDocs returns the kcloud documents of a YAML stream as JSON values.
func kcloudDocs(t *testing.T, src []byte) []any {
	t.Helper()
	var out []any
	dec := yaml.NewDecoder(bytes.NewReader(src))
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if doc["apiVersion"] != "kcloud.dev/v1alpha1" {
			continue
		}
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
}

func TestSchemaAcceptsSpecs(t *testing.T) {
	s := compileSchema(t)
	var n int
	for _, dir := range []string{"specs", "testdata/valid-minimal"} {
		err := filepath.WalkDir(filepath.Join(repoRoot(t), dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
				return err
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for i, doc := range kcloudDocs(t, src) {
				n++
				if err := s.Validate(doc); err != nil {
					t.Errorf("%s document %d: %v", path, i+1, err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n < 10 {
		t.Fatalf("validated only %d documents", n)
	}
}

func TestSchemaRejectsTypos(t *testing.T) {
	s := compileSchema(t)
	cluster, err := os.ReadFile(filepath.Join(repoRoot(t), "specs", "cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, old, new, want string }{
		{"misspelt field", "domains:", "domain:", "domain"},
		{"unknown kind", "kind: Cluster", "kind: Clustre", "/kind"},
		{"bad node name", "name: vps-1", "name: VPS_1", "VPS_1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(string(cluster), tc.old, tc.new, 1)
			if src == string(cluster) {
				t.Fatalf("%q not in specs/cluster.yaml", tc.old)
			}
			docs := kcloudDocs(t, []byte(src))
			if len(docs) != 1 {
				t.Fatalf("%d documents", len(docs))
			}
			err := s.Validate(docs[0])
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error does not mention %q:\n%v", tc.want, err)
			}
		})
	}
}
