package testenv

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// JobController plays the Job controller and the kubelet for the Jobs
// created in namespace, which the test API server (no controllers) would
// leave pending forever: each new Job gets one pod, on a stand-in node
// whose kubelet serves outcome's Log as the pod's log, and ends complete,
// or failed when outcome says Fail. It stops when the test ends, or after
// five minutes.
func JobController(t testing.TB, cfg *rest.Config, namespace string, outcome func(job *batchv1.Job) ChartOutcome) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	stop, err := StartJobController(ctx, cfg, namespace, outcome, func(err error) {
		if ctx.Err() == nil {
			t.Errorf("stand-in Job controller: %v", err)
		}
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); stop() })
}

// StartJobController is JobController for a caller that is not a test
// (hack/apiserver, for make demo): it runs until ctx ends, reports what
// fails through report, and stop waits for it to end once ctx has.
func StartJobController(ctx context.Context, cfg *rest.Config, namespace string, outcome func(job *batchv1.Job) ChartOutcome, report func(error)) (stop func(), err error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	var logs sync.Map // namespace/pod → log; stored before the pod exists
	node, stopKubelet, err := startStandInKubelet(cs, func(ns, pod string) string {
		log, _ := logs.Load(ns + "/" + pod)
		s, _ := log.(string)
		return s
	})
	if err != nil {
		return nil, err
	}
	w, err := cs.BatchV1().Jobs(namespace).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		stopKubelet()
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			job, ok := ev.Object.(*batchv1.Job)
			if !ok || ev.Type != watch.Added {
				continue
			}
			out := outcome(job)
			pod := job.Name + "-" + string(job.UID)[:5]
			logs.Store(job.Namespace+"/"+pod, out.Log)
			if err := endJob(ctx, cs, job, node, pod, out.Fail); err != nil {
				report(fmt.Errorf("%s/%s: %w", job.Namespace, job.Name, err))
			}
		}
	}()
	return func() { w.Stop(); <-done; stopKubelet() }, nil
}

// podSpec is the pod the Job controller would create from the Job's
// template, scheduled on node: its ServiceAccount among the rest (the API
// server refuses a pod whose ServiceAccount does not exist, and no
// controller makes the namespace's default one here).
func podSpec(job *batchv1.Job, node string) corev1.PodSpec {
	spec := *job.Spec.Template.Spec.DeepCopy()
	spec.NodeName = node
	if spec.RestartPolicy == "" {
		spec.RestartPolicy = corev1.RestartPolicyNever
	}
	return spec
}

// endJob creates a Job's pod on node and ends the Job as complete or
// failed, with the conditions the Job controller sets.
func endJob(ctx context.Context, cs kubernetes.Interface, job *batchv1.Job, node, podName string, fail bool) error {
	if _, err := cs.CoreV1().Pods(job.Namespace).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: podName, Namespace: job.Namespace, Labels: job.Spec.Template.Labels},
		Spec:       podSpec(job, node),
	}, metav1.CreateOptions{}); err != nil {
		return err
	}
	now := metav1.Now()
	job.Status.StartTime = &now
	if fail {
		job.Status.Failed = 1
		job.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", LastTransitionTime: now},
			{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", LastTransitionTime: now},
		}
	} else {
		job.Status.Succeeded = 1
		job.Status.CompletionTime = &now
		job.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: now},
		}
	}
	_, err := cs.BatchV1().Jobs(job.Namespace).UpdateStatus(ctx, job, metav1.UpdateOptions{})
	return err
}
