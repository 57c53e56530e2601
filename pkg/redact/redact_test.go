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

func TestRedactorForms(t *testing.T) {
	r := NewRedactor(nil)
	r.AddValues("p@ss\"word-long", "q7Z", "731904216", "a%b:c,d-long")
	for _, tc := range []struct{ name, in, want string }{
		{"long value", "auth failed for p@ss\"word-long here", "auth failed for *** here"},
		{"JSON-escaped", `{"msg":"p@ss\"word-long"}`, `{"msg":"***"}`},
		{"Go %q", `value "p@ss\"word-long"`, `value "***"`},
		{"base64", "token " + b64("p@ss\"word-long"), "token ***"},
		{"numeric", "port 731904216 open", "port *** open"},
		{"GitHub annotation message", "::error file=x.yaml::got a%25b:c,d-long", "::error file=x.yaml::got ***"},
		{"GitHub annotation property", "::error title=a%25b%3Ac%2Cd-long::x", "::error title=***::x"},
		{"short quoted", `{"pin":"q7Z"}`, `{"pin":"***"}`},
		{"short after colon", "pin: q7Z", "pin: ***"},
		{"short after equals", "PIN=q7Z\n", "PIN=***\n"},
		{"short inside a word stays", "the q7Zeta value and aq7Z", "the q7Zeta value and aq7Z"},
		{"short in prose stays", "found q7Z things", "found q7Z things"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.String(tc.in); got != tc.want {
				t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestMaskByStructure(t *testing.T) {
	obj := func(data map[string]any) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c"}, "data": data}}
	}
	for _, tc := range []struct {
		name                  string
		before, after         map[string]any
		wantBefore, wantAfter map[string]any
	}{
		{
			name:      "a create",
			after:     map[string]any{"pin": "q7Z", "other": "q7Z-not", "env": "USER=a\nPIN=q7Z\n", "url": "db://u:long-secret-value@h"},
			wantAfter: map[string]any{"pin": Mask, "other": "q7Z-not", "env": "USER=a\nPIN=\"***\"\n", "url": "db://u:***@h"},
		},
		{
			name:       "unchanged values stay equal",
			before:     map[string]any{"pin": "q7Z", "env": "PIN=q7Z"},
			after:      map[string]any{"pin": "q7Z", "env": "PIN=q7Z"},
			wantBefore: map[string]any{"pin": Mask, "env": "PIN=***"},
			wantAfter:  map[string]any{"pin": Mask, "env": "PIN=***"},
		},
		{
			name:       "a changed secret still differs, the old value is hidden",
			before:     map[string]any{"pin": "old", "env": "PIN=old", "url": "db://u:older-secret@h"},
			after:      map[string]any{"pin": "q7Z", "env": "PIN=q7Z", "url": "db://u:long-secret-value@h"},
			wantBefore: map[string]any{"pin": Mask, "env": Mask, "url": Mask},
			wantAfter:  map[string]any{"pin": MaskChanged, "env": "PIN=***", "url": "db://u:***@h"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRedactor(nil)
			r.AddValues("q7Z", "long-secret-value")
			var before *unstructured.Unstructured
			if tc.before != nil {
				before = obj(tc.before)
			}
			after := obj(tc.after)
			r.Mask(before, after)
			if before != nil {
				if d := cmp.Diff(tc.wantBefore, before.Object["data"]); d != "" {
					t.Errorf("before (-want +got):\n%s", d)
				}
			}
			if d := cmp.Diff(tc.wantAfter, after.Object["data"]); d != "" {
				t.Errorf("after (-want +got):\n%s", d)
			}
		})
	}
}

func TestMaskSecretsNonMapStringData(t *testing.T) {
	s := secret(nil, nil)
	s.Object["stringData"] = "a: whole-file-of-secrets"
	NewRedactor(nil).MaskObject(s)
	if s.Object["stringData"] != Mask {
		t.Errorf("non-map stringData = %v, want %s", s.Object["stringData"], Mask)
	}
}
