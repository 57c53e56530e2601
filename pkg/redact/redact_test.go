package redact

import (
	"bytes"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func secret(data, stringData map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "s"}}}
	if data != nil {
		u.Object["data"] = data
	}
	if stringData != nil {
		u.Object["stringData"] = stringData
	}
	return u
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestMaskSecrets(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		before, after         *unstructured.Unstructured
		wantBefore, wantAfter map[string]any
	}{
		{
			name:       "unchanged and changed values",
			before:     secret(map[string]any{"same": b64("one"), "diff": b64("two")}, nil),
			after:      secret(map[string]any{"same": b64("one"), "diff": b64("three"), "new": b64("four")}, nil),
			wantBefore: map[string]any{"same": Mask, "diff": Mask},
			wantAfter:  map[string]any{"same": Mask, "diff": MaskChanged, "new": MaskChanged},
		},
		{
			name:      "a create is all masked",
			after:     secret(map[string]any{"a": b64("x")}, nil),
			wantAfter: map[string]any{"a": Mask},
		},
		{
			name:       "stringData compares with data",
			before:     secret(map[string]any{"a": b64("x")}, nil),
			after:      secret(nil, map[string]any{"a": "x"}),
			wantBefore: map[string]any{"a": Mask},
			wantAfter:  nil,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			MaskSecrets(tc.before, tc.after)
			if tc.before != nil {
				got, _, _ := unstructured.NestedMap(tc.before.Object, "data")
				if d := cmp.Diff(tc.wantBefore, got); d != "" {
					t.Errorf("before data (-want +got):\n%s", d)
				}
			}
			if tc.wantAfter != nil {
				got, _, _ := unstructured.NestedMap(tc.after.Object, "data")
				if d := cmp.Diff(tc.wantAfter, got); d != "" {
					t.Errorf("after data (-want +got):\n%s", d)
				}
			}
			if sd, ok, _ := unstructured.NestedMap(tc.after.Object, "stringData"); ok {
				if d := cmp.Diff(map[string]any{"a": Mask}, sd); d != "" {
					t.Errorf("after stringData (-want +got):\n%s", d)
				}
			}
		})
	}
}

func TestRedactor(t *testing.T) {
	r := NewRedactor([]*unstructured.Unstructured{
		secret(map[string]any{"k": b64("hunter2-long-secret")}, map[string]any{"p": "plain-canary-value", "short": "ab"}),
	})
	for _, tc := range []struct{ in, want string }{
		{"password hunter2-long-secret leaked", "password *** leaked"},
		{"as base64: " + b64("hunter2-long-secret"), "as base64: ***"},
		{"plain-canary-value in an error", "*** in an error"},
		{"short values like ab stay readable", "short values like ab stay readable"},
	} {
		if got := r.String(tc.in); got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	err := r.Error(errors.New("apply failed: plain-canary-value"))
	if err.Error() != "apply failed: ***" {
		t.Errorf("Error() = %q", err)
	}
	var b bytes.Buffer
	if _, err := r.Writer(&b).Write([]byte(`{"msg":"hunter2-long-secret"}` + "\n")); err != nil {
		t.Fatal(err)
	}
	if b.String() != `{"msg":"***"}`+"\n" {
		t.Errorf("Writer wrote %q", b.String())
	}
}
