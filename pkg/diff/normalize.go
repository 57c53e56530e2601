package diff

import (
	"fmt"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"kcloud.dev/kcloud/pkg/change"
)

// Normalize returns a copy of obj without what the server owns and no one
// diffs: managedFields, resourceVersion, uid, generation, timestamps and
// status. Nil stays nil.
func Normalize(obj *unstructured.Unstructured) *unstructured.Unstructured {
	if obj == nil {
		return nil
	}
	out := obj.DeepCopy()
	for _, f := range []string{"managedFields", "resourceVersion", "uid", "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"} {
		unstructured.RemoveNestedField(out.Object, "metadata", f)
	}
	unstructured.RemoveNestedField(out.Object, "status")
	if len(out.GetAnnotations()) == 0 {
		unstructured.RemoveNestedField(out.Object, "metadata", "annotations")
	}
	return out
}

// unified returns a unified diff of the live and the planned object as
// YAML; empty when equal.
func unified(ref change.Ref, before, after *unstructured.Unstructured) (string, error) {
	return unifiedLabeled(ref, "live", "planned", before, after)
}

// unifiedLabeled is unified with the two sides labelled from and to.
func unifiedLabeled(ref change.Ref, from, to string, before, after *unstructured.Unstructured) (string, error) {
	a, err := toYAML(before)
	if err != nil {
		return "", fmt.Errorf("%s: %w", ref, err)
	}
	b, err := toYAML(after)
	if err != nil {
		return "", fmt.Errorf("%s: %w", ref, err)
	}
	if a == b {
		return "", nil
	}
	name := strings.ReplaceAll(ref.String(), " ", "/")
	return difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A:        lines(a),
		B:        lines(b),
		FromFile: from + "/" + name,
		ToFile:   to + "/" + name,
		Context:  3,
	})
}

// lines splits s after each newline, for difflib; "" has no lines.
func lines(s string) []string {
	out := strings.SplitAfter(s, "\n")
	if len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

func toYAML(obj *unstructured.Unstructured) (string, error) {
	if obj == nil {
		return "", nil
	}
	b, err := yaml.Marshal(obj.Object)
	return string(b), err
}
