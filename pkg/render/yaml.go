package render

import (
	"bytes"

	yaml "go.yaml.in/yaml/v3"
)

// MarshalYAML encodes a decoded YAML/JSON value (maps, lists, scalars) as
// YAML with sorted keys and two-space indentation. It encodes directly,
// without the JSON round trip of sigs.k8s.io/yaml, which dominated the
// cost of printing large renders.
func MarshalYAML(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
