package validate

import (
	"fmt"
	"strings"

	"github.com/robfig/cron/v3"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The workload rules follow ValidateDeploymentSpec, ValidateReplicaSetSpec,
// ValidateStatefulSetSpec, ValidateDaemonSetSpec and
// ValidatePodTemplateSpecForReplicaSet in
// https://github.com/kubernetes/kubernetes/blob/v1.37.2/pkg/apis/apps/validation/validation.go,
// ValidateReplicationControllerSpec in
// https://github.com/kubernetes/kubernetes/blob/v1.37.2/pkg/apis/core/validation/validation.go
// and validateJobSpec, ValidateCronJobSpec in
// https://github.com/kubernetes/kubernetes/blob/v1.37.2/pkg/apis/batch/validation/validation.go

// checkSelected checks a workload whose selector must be set, non-empty
// and match its pod template's labels; its pods must restart Always.
func checkSelected(sel *metav1.LabelSelector, t *corev1.PodTemplateSpec, replicas *int32, kind string, p *field.Path) field.ErrorList {
	errs := nonNegative(p.Child("replicas"), replicas)
	errs = append(errs, checkSelector(sel, t.Labels, kind, p)...)
	return append(errs, checkPodTemplate(t, p.Child("template"), corev1.RestartPolicyAlways)...)
}

// checkSelector checks a required label selector against the labels of
// the pods it must select.
func checkSelector(sel *metav1.LabelSelector, podLabels map[string]string, kind string, p *field.Path) field.ErrorList {
	if sel == nil {
		return field.ErrorList{field.Required(p.Child("selector"), "")}
	}
	errs := metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{}, p.Child("selector"))
	if len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
		return append(errs, field.Invalid(p.Child("selector"), sel, "empty selector is invalid for "+kind))
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err == nil && !s.Matches(labels.Set(podLabels)) {
		errs = append(errs, field.Invalid(p.Child("template", "metadata", "labels"), podLabels, "`selector` does not match template `labels`"))
	}
	return errs
}

func checkDeployment(d *appsv1.Deployment) field.ErrorList {
	p := field.NewPath("spec")
	errs := checkSelected(d.Spec.Selector, &d.Spec.Template, d.Spec.Replicas, "deployment", p)
	errs = append(errs, enum(p.Child("strategy", "type"), d.Spec.Strategy.Type, appsv1.RecreateDeploymentStrategyType, appsv1.RollingUpdateDeploymentStrategyType)...)
	if ru := d.Spec.Strategy.RollingUpdate; ru != nil {
		errs = append(errs, intOrPercent(p.Child("strategy", "rollingUpdate", "maxUnavailable"), ru.MaxUnavailable)...)
		errs = append(errs, intOrPercent(p.Child("strategy", "rollingUpdate", "maxSurge"), ru.MaxSurge)...)
		if d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
			errs = append(errs, field.Forbidden(p.Child("strategy", "rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"))
		}
	}
	errs = append(errs, nonNegative(p.Child("revisionHistoryLimit"), d.Spec.RevisionHistoryLimit)...)
	return append(errs, nonNegative(p.Child("minReadySeconds"), &d.Spec.MinReadySeconds)...)
}

func checkJobSpec(s *batchv1.JobSpec, p *field.Path) field.ErrorList {
	errs := nonNegative(p.Child("parallelism"), s.Parallelism)
	errs = append(errs, nonNegative(p.Child("completions"), s.Completions)...)
	errs = append(errs, nonNegative(p.Child("backoffLimit"), s.BackoffLimit)...)
	if s.ActiveDeadlineSeconds != nil && *s.ActiveDeadlineSeconds <= 0 {
		errs = append(errs, field.Invalid(p.Child("activeDeadlineSeconds"), *s.ActiveDeadlineSeconds, "must be greater than 0"))
	}
	errs = append(errs, enum(p.Child("completionMode"), ptrVal(s.CompletionMode), batchv1.NonIndexedCompletion, batchv1.IndexedCompletion)...)
	return append(errs, checkPodTemplate(&s.Template, p.Child("template"), corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever)...)
}

// checkJob: without manualSelector, a selector must select the labels the
// server generates for the Job's pods (validateGeneratedSelector); their
// controller-uid is unknown before the Job exists.
func checkJob(j *batchv1.Job) field.ErrorList {
	p := field.NewPath("spec")
	errs := checkJobSpec(&j.Spec, p)
	if j.Spec.Selector == nil || (j.Spec.ManualSelector != nil && *j.Spec.ManualSelector) {
		return errs
	}
	generated := labels.Set{batchv1.JobNameLabel: j.Name, "job-name": j.Name} // and the legacy label

	if s, err := metav1.LabelSelectorAsSelector(j.Spec.Selector); err == nil && !s.Matches(generated) {
		errs = append(errs, field.Invalid(p.Child("selector"), j.Spec.Selector, "`selector` not auto-generated"))
	}
	return errs
}

func checkCronJob(c *batchv1.CronJob) field.ErrorList {
	p := field.NewPath("spec")
	var errs field.ErrorList
	// ParseCronScheduleWithPanicRecovery parses with robfig/cron's
	// ParseStandard (k8s.io/kubernetes pkg/controller/cronjob/parsers).
	if _, err := parseCron(c.Spec.Schedule); err != nil {
		errs = append(errs, field.Invalid(p.Child("schedule"), c.Spec.Schedule, err.Error()))
	} else if strings.Contains(c.Spec.Schedule, "TZ") {
		errs = append(errs, field.Invalid(p.Child("schedule"), c.Spec.Schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
	}
	errs = append(errs, enum(p.Child("concurrencyPolicy"), c.Spec.ConcurrencyPolicy, batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent)...)
	errs = append(errs, nonNegative(p.Child("startingDeadlineSeconds"), c.Spec.StartingDeadlineSeconds)...)
	errs = append(errs, nonNegative(p.Child("successfulJobsHistoryLimit"), c.Spec.SuccessfulJobsHistoryLimit)...)
	errs = append(errs, nonNegative(p.Child("failedJobsHistoryLimit"), c.Spec.FailedJobsHistoryLimit)...)
	jt := p.Child("jobTemplate")
	errs = append(errs, metav1validation.ValidateLabels(c.Spec.JobTemplate.Labels, jt.Child("metadata", "labels"))...)
	// ValidateJobTemplateSpec: a template's selector is always generated.
	if c.Spec.JobTemplate.Spec.Selector != nil {
		errs = append(errs, field.Invalid(jt.Child("spec", "selector"), c.Spec.JobTemplate.Spec.Selector, "`selector` will be auto-generated"))
	}
	return append(errs, checkJobSpec(&c.Spec.JobTemplate.Spec, jt.Child("spec"))...)
}

// parseCron parses a schedule, turning robfig/cron's panics on malformed
// input into errors as the API server does.
func parseCron(s string) (sched cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("invalid schedule: %v", r)
		}
	}()
	return cron.ParseStandard(s)
}

func ptrVal[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
