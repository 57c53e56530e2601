package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/render"
)

// logTail is how many lines of a failed install's pod log an error shows.
const logTail = 20

// waitCharts waits, within the timeout, until K3s's Helm controller has
// installed every HelmChart of a stack: kstatus calls a HelmChart Current
// as soon as it exists, so a chart whose install fails forever (a
// repository that does not exist) would otherwise leave apply green.
func (r *runner) waitCharts(ctx context.Context, s render.Stack) error {
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	var errs []error
	for _, o := range s.Objects {
		if o.GroupVersionKind().GroupKind() != render.HelmChartGK {
			continue
		}
		if err := r.waitChart(ctx, s.Name, o.Unstructured); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// waitChart waits for the install Job of one HelmChart to complete. The
// Helm controller runs the chart in a Job named helm-install-<name> in the
// HelmChart's namespace and records its name in status.jobName
// (https://github.com/k3s-io/helm-controller/blob/v0.17.7/pkg/controllers/chart/chart.go,
// jobName and the JobName status field).
func (r *runner) waitChart(ctx context.Context, stack string, hc *unstructured.Unstructured) error {
	ref := change.RefOf(hc)
	jobs := r.c.Typed.BatchV1().Jobs(hc.GetNamespace())
	for {
		job, err := jobs.Get(ctx, r.jobName(ctx, hc), metav1.GetOptions{})
		switch {
		case err == nil && jobCondition(job, batchv1.JobComplete):
			r.emit(Event{Type: ObjectEvent, Stack: stack, Object: ref, Op: OpWait, Outcome: Current, Message: "installed by Job " + job.Name})
			return nil
		case err == nil && jobCondition(job, batchv1.JobFailed):
			r.emit(Event{Type: ObjectEvent, Stack: stack, Object: ref, Op: OpWait, Outcome: Failed, Message: "install Job " + job.Name + " failed"})
			return fmt.Errorf("%s: install Job %s failed: %s%s", chartDesc(hc), job.Name, failure(job), r.podLog(ctx, job))
		case err != nil && !apierrors.IsNotFound(err) && ctx.Err() == nil:
			r.emit(Event{Type: ObjectEvent, Stack: stack, Object: ref, Op: OpWait, Outcome: Failed, Message: "its install Job cannot be read", Err: err})
			return fmt.Errorf("%s: read its install Job: %w", chartDesc(hc), err)
		}
		select {
		case <-ctx.Done():
			r.emit(Event{Type: ObjectEvent, Stack: stack, Object: ref, Op: OpWait, Outcome: Timeout, Message: "install Job not complete"})
			return fmt.Errorf("%s: its install Job did not complete within %s (is K3s's Helm controller running?)", chartDesc(hc), r.opts.Timeout)
		case <-time.After(pollInterval):
		}
	}
}

// jobName is the name status.jobName gives, else the controller's default.
func (r *runner) jobName(ctx context.Context, hc *unstructured.Unstructured) string {
	if m, err := r.c.Mapping(hc.GroupVersionKind()); err == nil {
		live, err := r.c.Dynamic.Resource(m.Resource).Namespace(hc.GetNamespace()).Get(ctx, hc.GetName(), metav1.GetOptions{})
		if name, _, _ := unstructured.NestedString(liveObject(live, err), "status", "jobName"); name != "" {
			return name
		}
	}
	return "helm-install-" + hc.GetName()
}

func liveObject(u *unstructured.Unstructured, err error) map[string]any {
	if err != nil || u == nil {
		return nil
	}
	return u.Object
}

// chartDesc names a HelmChart with its chart, version and repository.
func chartDesc(hc *unstructured.Unstructured) string {
	chart, _, _ := unstructured.NestedString(hc.Object, "spec", "chart")
	version, _, _ := unstructured.NestedString(hc.Object, "spec", "version")
	repo, _, _ := unstructured.NestedString(hc.Object, "spec", "repo")
	desc := fmt.Sprintf("%s (chart %s", change.RefOf(hc), chart)
	if version != "" {
		desc += " " + version
	}
	if repo != "" {
		desc += " from " + repo
	}
	return desc + ")"
}

func jobCondition(job *batchv1.Job, t batchv1.JobConditionType) bool {
	return slices.ContainsFunc(job.Status.Conditions, func(c batchv1.JobCondition) bool {
		return c.Type == t && c.Status == corev1.ConditionTrue
	})
}

// failure is the reason and message of a failed Job.
func failure(job *batchv1.Job) string {
	for _, c := range job.Status.Conditions {
		if c.Type == batchv1.JobFailed {
			return strings.TrimSpace(c.Reason + ": " + c.Message)
		}
	}
	return "failed"
}

// podLog returns the last lines of the newest pod of job, indented under
// a heading; the container's termination message when the log cannot be
// read.
func (r *runner) podLog(ctx context.Context, job *batchv1.Job) string {
	sel, err := metav1.LabelSelectorAsSelector(job.Spec.Selector)
	if err != nil {
		return ""
	}
	pods, err := r.c.Typed.CoreV1().Pods(job.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil || len(pods.Items) == 0 {
		return ""
	}
	pod := slices.MaxFunc(pods.Items, func(a, b corev1.Pod) int { return a.CreationTimestamp.Compare(b.CreationTimestamp.Time) })
	if len(pod.Spec.Containers) == 0 {
		return ""
	}
	tail := int64(logTail)
	container := pod.Spec.Containers[0].Name
	out, err := r.c.Typed.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{Container: container, TailLines: &tail}).DoRaw(ctx)
	heading := fmt.Sprintf("\nlast %d lines of pod %s:", logTail, pod.Name)
	if err != nil {
		out = []byte(terminationMessage(pod, container))
		heading = fmt.Sprintf("\nthe pod log of %s cannot be read (%v); its termination message:", pod.Name, err)
	}
	text := strings.TrimRight(string(out), "\n")
	if text == "" {
		return ""
	}
	// Indented, so that no line of a chart's output starts a line of ours.
	return heading + "\n  | " + strings.ReplaceAll(text, "\n", "\n  | ")
}

func terminationMessage(pod corev1.Pod, container string) string {
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name == container && cs.State.Terminated != nil {
			return cs.State.Terminated.Message
		}
	}
	return ""
}
