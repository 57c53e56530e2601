package validate

import (
	"fmt"
	"slices"
	"strings"

	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// nameRules are the kinds whose names Kubernetes holds to a stricter rule
// than the DNS subdomain pkg/spec checks every name against (RBAC's looser
// path segment is checked there too):
// ValidateServiceName, ValidateNamespaceName in
// https://github.com/kubernetes/kubernetes/blob/v1.37.2/pkg/apis/core/validation/validation.go
// and ValidateCronJob's 52 characters (a Job's name is the CronJob's plus
// 11) in
// https://github.com/kubernetes/kubernetes/blob/v1.37.2/pkg/apis/batch/validation/validation.go
var nameRules = map[schema.GroupKind]func(string) []string{
	{Kind: "Service"}:   validation.IsDNS1035Label,
	{Kind: "Namespace"}: validation.IsDNS1123Label,
	{Group: "batch", Kind: "CronJob"}: func(name string) []string {
		if len(name) > 52 {
			return []string{"must be no more than 52 characters"}
		}
		return nil
	},
}

// checkMeta checks an object's metadata as the API server's
// ValidateObjectMetaAccessor does (k8s.io/apimachinery/pkg/api/validation,
// objectmeta.go): label keys and values, annotation keys and their total
// size, owner references, finalizers; the name by its kind's rule. Each
// label and annotation is checked on its own path so that its error is
// placed at its key.
func checkMeta(u *unstructured.Unstructured) field.ErrorList {
	var errs field.ErrorList
	md := field.NewPath("metadata")
	if rule := nameRules[u.GroupVersionKind().GroupKind()]; rule != nil && u.GetName() != "" {
		for _, msg := range rule(u.GetName()) {
			errs = append(errs, field.Invalid(md.Child("name"), u.GetName(), msg))
		}
	}
	meta, _ := u.Object["metadata"].(map[string]any)
	labels, _ := meta["labels"].(map[string]any)
	for k, v := range labels {
		// Per key (metav1validation.ValidateLabels' two checks), so that
		// each error is placed at its key.
		if bad := validation.IsQualifiedName(k); len(bad) > 0 {
			errs = append(errs, metav1validation.ValidateLabelName(k, md.Child("labels").Key(k))...)
		}
		if s, ok := v.(string); ok {
			if bad := validation.IsValidLabelValue(s); len(bad) > 0 {
				errs = append(errs, msgs(md.Child("labels").Key(k), s, bad)...)
			}
		}
	}
	ann, _ := meta["annotations"].(map[string]any)
	size := 0
	for k, v := range ann {
		// apivalidation.ValidateAnnotations: a qualified name, any case.
		if bad := validation.IsQualifiedName(strings.ToLower(k)); len(bad) > 0 {
			errs = append(errs, msgs(md.Child("annotations").Key(k), k, bad)...)
		}
		s, _ := v.(string)
		size += len(k) + len(s)
	}
	if size > apivalidation.TotalAnnotationSizeLimitB {
		errs = append(errs, field.TooLong(md.Child("annotations"), "", apivalidation.TotalAnnotationSizeLimitB))
	}
	if refs, ok, _ := unstructured.NestedSlice(u.Object, "metadata", "ownerReferences"); ok {
		owners := make([]metav1.OwnerReference, len(refs))
		for i, r := range refs {
			m, _ := r.(map[string]any)
			_ = runtime.DefaultUnstructuredConverter.FromUnstructured(m, &owners[i])
		}
		errs = append(errs, apivalidation.ValidateOwnerReferences(owners, md.Child("ownerReferences"))...)
	}
	if fins, ok, err := unstructured.NestedStringSlice(u.Object, "metadata", "finalizers"); ok && err == nil {
		for i, f := range fins {
			errs = append(errs, apivalidation.ValidateFinalizerName(f, md.Child("finalizers").Index(i))...)
		}
		errs = append(errs, finalizerConflict(fins, md.Child("finalizers"))...)
	}
	return errs
}

// finalizerConflict is ValidateFinalizers' rule beyond the names.
func finalizerConflict(fins []string, p *field.Path) field.ErrorList {
	if slices.Contains(fins, metav1.FinalizerOrphanDependents) && slices.Contains(fins, metav1.FinalizerDeleteDependents) {
		return field.ErrorList{field.Invalid(p, fins, fmt.Sprintf("finalizer %s and %s cannot be both set", metav1.FinalizerOrphanDependents, metav1.FinalizerDeleteDependents))}
	}
	return nil
}
