package validate

import (
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// checkPVC follows ValidatePersistentVolumeClaimSpec in
// https://github.com/kubernetes/kubernetes/blob/v1.37.2/pkg/apis/core/validation/validation.go
func checkPVC(c *corev1.PersistentVolumeClaim) field.ErrorList {
	p := field.NewPath("spec")
	errs := required(p.Child("accessModes"), len(c.Spec.AccessModes) == 0)
	for i, m := range c.Spec.AccessModes {
		errs = append(errs, enum(p.Child("accessModes").Index(i), m, corev1.ReadWriteOnce, corev1.ReadOnlyMany, corev1.ReadWriteMany, corev1.ReadWriteOncePod)...)
	}
	if c.Spec.Selector != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(c.Spec.Selector, metav1validation.LabelSelectorValidationOptions{}, p.Child("selector"))...)
	}
	storage, ok := c.Spec.Resources.Requests[corev1.ResourceStorage]
	switch {
	case !ok:
		errs = append(errs, field.Required(p.Child("resources").Key(string(corev1.ResourceStorage)), ""))
	case storage.Sign() <= 0:
		errs = append(errs, field.Invalid(p.Child("resources", "requests").Key(string(corev1.ResourceStorage)), storage.String(), "must be greater than zero"))
	}
	if c.Spec.VolumeMode != nil {
		errs = append(errs, enum(p.Child("volumeMode"), *c.Spec.VolumeMode, corev1.PersistentVolumeBlock, corev1.PersistentVolumeFilesystem)...)
	}
	return errs
}

// dataKeys checks the keys of a ConfigMap's or a Secret's data
// (IsConfigMapKey) and the 1 MiB total (ValidateConfigMap, ValidateSecret).
func dataKeys(p *field.Path, maps ...map[string]int) field.ErrorList {
	var errs field.ErrorList
	total := 0
	for _, m := range maps {
		for k, n := range m {
			errs = append(errs, msgs(p.Key(k), k, validation.IsConfigMapKey(k))...)
			total += n
		}
	}
	if total > corev1.MaxSecretSize {
		errs = append(errs, field.TooLong(p, "", corev1.MaxSecretSize))
	}
	return errs
}

func checkConfigMap(c *corev1.ConfigMap) field.ErrorList {
	sizes := func(p *field.Path, m map[string]int) field.ErrorList { return dataKeys(p, m) }
	d, b := map[string]int{}, map[string]int{}
	var errs field.ErrorList
	for k, v := range c.Data {
		d[k] = len(v)
	}
	for k, v := range c.BinaryData {
		b[k] = len(v)
		if _, dup := c.Data[k]; dup {
			errs = append(errs, field.Invalid(field.NewPath("binaryData").Key(k), k, "duplicate of key present in data"))
		}
	}
	errs = append(errs, sizes(field.NewPath("data"), d)...)
	return append(errs, sizes(field.NewPath("binaryData"), b)...)
}

// checkSecret follows ValidateSecret: keys, and the keys each type needs.
func checkSecret(s *corev1.Secret) field.ErrorList {
	d := map[string]int{}
	for k, v := range s.Data {
		d[k] = len(v)
	}
	for k, v := range s.StringData {
		d[k] = len(v)
	}
	errs := dataKeys(field.NewPath("data"), d)
	need := func(keys ...string) {
		for _, k := range keys {
			if _, ok := d[k]; !ok {
				errs = append(errs, field.Required(field.NewPath("data").Key(k), ""))
			}
		}
	}
	switch s.Type {
	case corev1.SecretTypeTLS:
		need(corev1.TLSCertKey, corev1.TLSPrivateKeyKey)
	case corev1.SecretTypeDockerConfigJson:
		need(corev1.DockerConfigJsonKey)
	case corev1.SecretTypeDockercfg:
		need(corev1.DockerConfigKey)
	case corev1.SecretTypeServiceAccountToken:
		if s.Annotations[corev1.ServiceAccountNameKey] == "" {
			errs = append(errs, field.Required(field.NewPath("metadata", "annotations").Key(corev1.ServiceAccountNameKey), ""))
		}
	case corev1.SecretTypeSSHAuth:
		need(corev1.SSHAuthPrivateKey)
	}
	return errs
}

// checkRules follows ValidatePolicyRule in
// https://github.com/kubernetes/kubernetes/blob/v1.37.2/pkg/apis/rbac/validation/validation.go
func checkRules(rules []rbacv1.PolicyRule, namespaced bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, r := range rules {
		rp := p.Index(i)
		errs = append(errs, required(rp.Child("verbs"), len(r.Verbs) == 0)...)
		if len(r.NonResourceURLs) > 0 {
			if namespaced {
				errs = append(errs, field.Invalid(rp.Child("nonResourceURLs"), r.NonResourceURLs, "namespaced rules cannot apply to non-resource URLs"))
			}
			continue
		}
		errs = append(errs, required(rp.Child("apiGroups"), len(r.APIGroups) == 0)...)
		errs = append(errs, required(rp.Child("resources"), len(r.Resources) == 0)...)
	}
	return errs
}

// checkRoleRef follows ValidateRoleBinding and ValidateRoleBindingSubject.
func checkRoleRef(ref rbacv1.RoleRef, subjects []rbacv1.Subject, namespaced bool) field.ErrorList {
	p := field.NewPath("roleRef")
	var errs field.ErrorList
	if ref.APIGroup != rbacv1.GroupName {
		errs = append(errs, field.NotSupported(p.Child("apiGroup"), ref.APIGroup, []string{rbacv1.GroupName}))
	}
	kinds := []string{"ClusterRole"}
	if namespaced {
		kinds = append(kinds, "Role")
	}
	errs = append(errs, enum(p.Child("kind"), ref.Kind, kinds...)...)
	errs = append(errs, required(p.Child("kind"), ref.Kind == "")...)
	errs = append(errs, required(p.Child("name"), ref.Name == "")...)
	for i, s := range subjects {
		sp := field.NewPath("subjects").Index(i)
		errs = append(errs, required(sp.Child("name"), s.Name == "")...)
		switch s.Kind {
		case rbacv1.ServiceAccountKind:
			if s.APIGroup != "" {
				errs = append(errs, field.NotSupported(sp.Child("apiGroup"), s.APIGroup, []string{""}))
			}
			if !namespaced && s.Namespace == "" {
				errs = append(errs, field.Required(sp.Child("namespace"), ""))
			}
		case rbacv1.UserKind, rbacv1.GroupKind:
			if s.APIGroup != rbacv1.GroupName {
				errs = append(errs, field.NotSupported(sp.Child("apiGroup"), s.APIGroup, []string{rbacv1.GroupName}))
			}
		default:
			errs = append(errs, field.NotSupported(sp.Child("kind"), s.Kind, []string{rbacv1.ServiceAccountKind, rbacv1.UserKind, rbacv1.GroupKind}))
		}
	}
	return errs
}

// checkHPA follows ValidateHorizontalPodAutoscalerSpec in
// https://github.com/kubernetes/kubernetes/blob/v1.37.2/pkg/apis/autoscaling/validation/validation.go
func checkHPA(ref autoscalingv2.CrossVersionObjectReference, min *int32, max int32) field.ErrorList {
	p := field.NewPath("spec")
	errs := required(p.Child("scaleTargetRef", "kind"), ref.Kind == "")
	errs = append(errs, required(p.Child("scaleTargetRef", "name"), ref.Name == "")...)
	if min != nil && *min < 1 {
		errs = append(errs, field.Invalid(p.Child("minReplicas"), *min, "must be greater than or equal to 1"))
	}
	if max < 1 {
		errs = append(errs, field.Invalid(p.Child("maxReplicas"), max, "must be greater than 0"))
	}
	if min != nil && max < *min {
		errs = append(errs, field.Invalid(p.Child("maxReplicas"), max, "must be greater than or equal to `minReplicas`"))
	}
	return errs
}

func checkHPAv1(h *autoscalingv1.HorizontalPodAutoscaler) field.ErrorList {
	r := h.Spec.ScaleTargetRef
	errs := checkHPA(autoscalingv2.CrossVersionObjectReference{Kind: r.Kind, Name: r.Name, APIVersion: r.APIVersion}, h.Spec.MinReplicas, h.Spec.MaxReplicas)
	if t := h.Spec.TargetCPUUtilizationPercentage; t != nil && *t < 1 {
		errs = append(errs, field.Invalid(field.NewPath("spec", "targetCPUUtilizationPercentage"), *t, "must be greater than 0"))
	}
	return errs
}

// checkPDB follows ValidatePodDisruptionBudgetSpec in
// https://github.com/kubernetes/kubernetes/blob/v1.37.2/pkg/apis/policy/validation/validation.go
func checkPDB(pdb *policyv1.PodDisruptionBudget) field.ErrorList {
	p := field.NewPath("spec")
	var errs field.ErrorList
	if pdb.Spec.MinAvailable != nil && pdb.Spec.MaxUnavailable != nil {
		errs = append(errs, field.Invalid(p, pdb.Spec, "minAvailable and maxUnavailable cannot be both set"))
	}
	errs = append(errs, intOrPercent(p.Child("minAvailable"), pdb.Spec.MinAvailable)...)
	errs = append(errs, intOrPercent(p.Child("maxUnavailable"), pdb.Spec.MaxUnavailable)...)
	if pdb.Spec.Selector != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(pdb.Spec.Selector, metav1validation.LabelSelectorValidationOptions{}, p.Child("selector"))...)
	}
	return errs
}
