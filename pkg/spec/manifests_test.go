package spec_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kcloud.dev/kcloud/pkg/spec"
)

// TestParseManifestDocuments checks how a manifest's documents become
// objects: a List's items each on their own, a duplicate key reported once
// with the next problem of the same document still reported.
func TestParseManifestDocuments(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		objects   []string // kind/name at file:line:col
		diags     []string
	}{{
		// Old Mac line ends: a bare "\r" breaks lines as "\n" does, in the
		// objects and in the positions (CUE's decoder once panicked on it).
		name:    "carriage returns alone",
		src:     "apiVersion: v1\rkind: ConfigMap\rmetadata: {name: one}\r---\rapiVersion: v1\rkind: ConfigMap\rmetadata: {name: Two}\r",
		objects: []string{"ConfigMap/one at m.yaml:1:1", "ConfigMap/Two at m.yaml:5:1"},
		diags:   []string{`m.yaml:7:18: metadata.name "Two" is not a valid name: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`},
	}, {
		// A line break the decoder does not count is an error, not a crash.
		name:  "line separator",
		src:   "apiVersion: v1\u2028kind: ConfigMap\u2028metadata: {name: \"003\"}\n",
		diags: []string{`m.yaml:1:1: invalid YAML: the YAML decoder failed on this file (runtime error: index out of range [2] with length 2); a line break other than \n, \r\n or \r (U+0085, U+2028, U+2029) does this`},
	}, {
		name: "list expanded",
		src: `apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: one}
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: Two}
`,
		objects: []string{"ConfigMap/one at m.yaml:4:5", "ConfigMap/Two at m.yaml:7:5"},
		diags:   []string{`m.yaml:9:22: metadata.name "Two" is not a valid name: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`},
	}, {
		name: "nested list and an item that is no mapping",
		src: `apiVersion: v1
kind: ConfigMapList
items:
  - apiVersion: v1
    kind: List
    items: [{apiVersion: v1, kind: Secret, metadata: {name: s}}]
  - just a string
`,
		objects: []string{"Secret/s at m.yaml:6:13"},
		diags:   []string{"m.yaml:7:5: ConfigMapList: items[1] must be a mapping with apiVersion and kind"},
	}, {
		name: "duplicate key once, next error kept",
		src: `apiVersion: v1
kind: ConfigMap
metadata:
  name: a
  name: b
  namespace: Not_A_Label
`,
		objects: []string{"ConfigMap/a at m.yaml:1:1"},
		diags: []string{
			`m.yaml:5:3: duplicate key "name" (first at m.yaml:4:3)`,
			`m.yaml:6:14: metadata.namespace "Not_A_Label" is not a valid namespace (an RFC 1123 label)`,
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			docs, diags := spec.ParseManifest("m.yaml", []byte(tc.src))
			var objects, msgs []string
			for _, d := range docs {
				md, _ := d.Object["metadata"].(map[string]any)
				objects = append(objects, fmt.Sprintf("%v/%v at %s", d.Object["kind"], md["name"], d.Pos))
			}
			for _, d := range diags {
				msgs = append(msgs, fmt.Sprintf("%s: %s", d.Pos, d.Message))
			}
			if diff := cmp.Diff(tc.objects, objects); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.diags, msgs); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}
