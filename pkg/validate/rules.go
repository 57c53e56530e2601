package validate

import (
	"encoding/base64"
	"maps"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// checkFields runs Kubernetes' own field rules on a built-in object that
// has passed its schema check: it is converted to its Go type and checked
// by its kind's rules. Kinds without rules here get only their schema and
// metadata checks; the server's dry run checks the rest.
func checkFields(u *unstructured.Unstructured) field.ErrorList {
	obj, ok := newBuiltin(u.GroupVersionKind())
	if !ok {
		return nil
	}
	if _, ok := obj.(*corev1.Secret); ok {
		if errs := secretBase64(u); len(errs) > 0 {
			return errs
		}
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj); err != nil {
		return nil // the schema check has said what is wrong
	}
	return kindRules(obj)
}

// kindRules dispatches a typed object to its kind's rules.
func kindRules(obj any) field.ErrorList {
	spec := field.NewPath("spec")
	switch o := obj.(type) {
	case *corev1.Pod:
		return checkPodSpec(&o.Spec, spec)
	case *corev1.PodTemplate:
		return checkPodTemplate(&o.Template, field.NewPath("template"))
	case *corev1.ReplicationController:
		return checkRC(o)
	case *appsv1.Deployment:
		return checkDeployment(o)
	case *appsv1.ReplicaSet:
		return checkSelected(o.Spec.Selector, &o.Spec.Template, o.Spec.Replicas, "deployment", spec)
	case *appsv1.StatefulSet:
		return checkStatefulSet(o)
	case *appsv1.DaemonSet:
		return checkSelected(o.Spec.Selector, &o.Spec.Template, nil, "daemonset", spec)
	case *batchv1.Job:
		return checkJob(o)
	case *batchv1.CronJob:
		return checkCronJob(o)
	case *corev1.Service:
		return checkService(o)
	case *networkingv1.Ingress:
		return checkIngress(o)
	case *networkingv1.NetworkPolicy:
		return checkNetworkPolicy(o)
	case *corev1.LimitRange:
		return checkLimitRange(o)
	case *corev1.PersistentVolumeClaim:
		return checkPVC(o)
	case *corev1.ConfigMap:
		return checkConfigMap(o)
	case *corev1.Secret:
		return checkSecret(o)
	case *rbacv1.Role:
		return checkRules(o.Rules, true, field.NewPath("rules"))
	case *rbacv1.ClusterRole:
		return checkRules(o.Rules, false, field.NewPath("rules"))
	case *rbacv1.RoleBinding:
		return checkRoleRef(o.RoleRef, o.Subjects, true)
	case *rbacv1.ClusterRoleBinding:
		return checkRoleRef(o.RoleRef, o.Subjects, false)
	case *autoscalingv2.HorizontalPodAutoscaler:
		return checkHPA(o.Spec.ScaleTargetRef, o.Spec.MinReplicas, o.Spec.MaxReplicas)
	case *autoscalingv1.HorizontalPodAutoscaler:
		return checkHPAv1(o)
	case *policyv1.PodDisruptionBudget:
		return checkPDB(o)
	}
	return nil
}

// checkStatefulSet: its volumeClaimTemplates are volumes of its pods
// (ValidateStatefulSetSpec checks the template with them added).
func checkStatefulSet(s *appsv1.StatefulSet) field.ErrorList {
	t := s.Spec.Template.DeepCopy()
	for _, c := range s.Spec.VolumeClaimTemplates {
		t.Spec.Volumes = append(t.Spec.Volumes, corev1.Volume{Name: c.Name, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: c.Name}}})
	}
	return checkSelected(s.Spec.Selector, t, s.Spec.Replicas, "statefulset", field.NewPath("spec"))
}

// checkLimitRange: every limit names its type (ValidateLimitRange).
func checkLimitRange(lr *corev1.LimitRange) field.ErrorList {
	var errs field.ErrorList
	for i, l := range lr.Spec.Limits {
		p := field.NewPath("spec", "limits").Index(i).Child("type")
		errs = append(errs, required(p, l.Type == "")...)
		if l.Type != "" {
			errs = append(errs, msgs(p, l.Type, validation.IsQualifiedName(string(l.Type)))...)
		}
	}
	return errs
}

// checkRC: a ReplicationController's selector is a plain map, defaulted
// from the template's labels when empty (ValidateReplicationControllerSpec).
func checkRC(rc *corev1.ReplicationController) field.ErrorList {
	p := field.NewPath("spec")
	errs := nonNegative(p.Child("replicas"), rc.Spec.Replicas)
	if rc.Spec.Template == nil {
		return append(errs, field.Required(p.Child("template"), ""))
	}
	for k, v := range rc.Spec.Selector {
		if rc.Spec.Template.Labels[k] != v {
			errs = append(errs, field.Invalid(p.Child("template", "metadata", "labels"), rc.Spec.Template.Labels, "`selector` does not match template `labels`"))
			break
		}
	}
	return append(errs, checkPodTemplate(rc.Spec.Template, p.Child("template"), corev1.RestartPolicyAlways)...)
}

// secretBase64: a Secret's data values are base64; the API server cannot
// decode the object otherwise.
func secretBase64(u *unstructured.Unstructured) field.ErrorList {
	data, _, _ := unstructured.NestedMap(u.Object, "data")
	var errs field.ErrorList
	for _, k := range slices.Sorted(maps.Keys(data)) {
		s, ok := data[k].(string)
		if !ok {
			continue
		}
		if _, err := base64.StdEncoding.DecodeString(s); err != nil {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(k), "(value not shown)", "must be base64: "+err.Error()))
		}
	}
	return errs
}
