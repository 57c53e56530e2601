package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/diff"
	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/render"
)

// OpHook is a chart hook being run: applied, awaited, deleted.
const OpHook Op = "hook"

// withHooks applies a stack between its charts' hooks: the pre-install or
// pre-upgrade hooks of every chart that changes, then the stack (pass),
// then its post-install or post-upgrade hooks — once the chart's objects
// are healthy with Wait (the pass waits for them), right after them
// without, as Helm does with and without --wait. A chart none of whose objects exist yet is
// installed, one that has some is upgraded (an adopted Helm release
// included); a chart that does not change runs no hook. Dry runs run
// none.
func (r *runner) withHooks(ctx context.Context, s render.Stack, planned *diff.Result, pass func() error) error {
	hooks := r.hooks[s.Name]
	if len(hooks) == 0 || r.opts.DryRun {
		return pass()
	}
	events := hookEvents(s, planned.Stack(s.Name))
	event := func(component string) string { return events[component] }
	pre := hooksFor(hooks, event, true)
	if err := r.applyChartCRDs(ctx, s, planned.Stack(s.Name), pre); err != nil {
		return err
	}
	if err := r.runHooks(ctx, s.Name, pre); err != nil {
		return err
	}
	if err := pass(); err != nil {
		return err
	}
	return r.runHooks(ctx, s.Name, hooksFor(hooks, event, false))
}

// hookEvents says, per component of a stack that changes, whether its
// chart is installed ("install": none of its objects exists) or upgraded.
func hookEvents(s render.Stack, changes []diff.Change) map[string]string {
	component := make(map[change.Ref]string, len(s.Objects))
	for _, o := range s.Objects {
		component[change.RefOf(o.Unstructured)] = o.Component
	}
	changed, exists := map[string]bool{}, map[string]bool{}
	for _, ch := range changes {
		c, ok := component[ch.Ref]
		if !ok {
			continue
		}
		changed[c] = changed[c] || ch.Action.Changed()
		exists[c] = exists[c] || ch.Action != change.Create
	}
	out := map[string]string{}
	for c := range changed {
		switch {
		case !changed[c]:
		case exists[c]:
			out[c] = "upgrade"
		default:
			out[c] = "install"
		}
	}
	return out
}

// runHooks runs hooks one after the other, as Helm does
// (https://github.com/helm/helm/blob/v4.3.2/pkg/action/hooks.go,
// execHookWithDelayedShutdown): each is deleted first when its policy says
// before-hook-creation, applied and awaited; once all succeeded, those
// whose policy says hook-succeeded are deleted, last first. A failed hook
// stops the run, deleted when its policy says hook-failed.
func (r *runner) runHooks(ctx context.Context, stack string, hooks []hook) error {
	for i, h := range hooks {
		if err := r.runHook(ctx, stack, h); err != nil {
			if h.deletedOn(hookFailed) {
				err = errors.Join(err, r.deleteHook(ctx, h))
			}
			return errors.Join(err, r.deleteHooks(ctx, hooks[:i], hookSucceeded))
		}
	}
	return r.deleteHooks(ctx, hooks, hookSucceeded)
}

// deleteHooks deletes, last first, the hooks whose policy names policy.
func (r *runner) deleteHooks(ctx context.Context, hooks []hook, policy string) error {
	var errs []error
	for _, h := range slices.Backward(hooks) {
		if h.deletedOn(policy) {
			errs = append(errs, r.deleteHook(ctx, h))
		}
	}
	return errors.Join(errs...)
}

// runHook applies one hook and waits until it has run.
func (r *runner) runHook(ctx context.Context, stack string, h hook) error {
	ref := change.RefOf(h.Unstructured)
	res, err := r.resource(h.Unstructured)
	if err != nil {
		return fmt.Errorf("%s: %w", h.where(), err)
	}
	if h.deletedOn(beforeHookCreation) {
		if err := r.deleteHook(ctx, h); err != nil {
			return err
		}
	}
	if err := serverSideApply(ctx, res, h.Unstructured); err != nil {
		r.emit(Event{Type: ObjectEvent, Stack: stack, Object: ref, Op: OpHook, Outcome: Failed, Err: err})
		return fmt.Errorf("%s: apply hook %s: %w", h.where(), ref, err)
	}
	if err := r.awaitHook(ctx, res, h); err != nil {
		r.emit(Event{Type: ObjectEvent, Stack: stack, Object: ref, Op: OpHook, Outcome: Failed, Message: "hook failed", Err: err})
		return fmt.Errorf("%s: hook %s failed: %w", h.where(), ref, err)
	}
	r.emit(Event{Type: ObjectEvent, Stack: stack, Object: ref, Op: OpHook, Outcome: Current, Message: "hook " + hookEventsString(h) + " ran"})
	return nil
}

func hookEventsString(h hook) string { return h.GetAnnotations()[hookAnnotation] }

// resource is the dynamic client of an object's kind and namespace.
func (r *runner) resource(u *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	m, err := r.c.Mapping(u.GroupVersionKind())
	if err != nil {
		return nil, err
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return r.c.Dynamic.Resource(m.Resource).Namespace(u.GetNamespace()), nil
	}
	return r.c.Dynamic.Resource(m.Resource), nil
}

// serverSideApply applies u as kcloud does everywhere: field manager
// kcloud, conflicts forced, strict field validation.
func serverSideApply(ctx context.Context, res dynamic.ResourceInterface, u *unstructured.Unstructured) error {
	data, err := runtime.Encode(unstructured.UnstructuredJSONScheme, u)
	if err != nil {
		return err
	}
	force := true
	_, err = res.Patch(ctx, u.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: kube.FieldManager, Force: &force, FieldValidation: "Strict"})
	return err
}

// awaitHook waits, within the timeout, until a hook Job completes or a
// hook Pod succeeds; other kinds are done once applied, as in Helm
// (https://github.com/helm/helm/blob/v4.3.2/pkg/kube/wait.go,
// watchUntilReady). A failed Job's error ends with its pod's log tail.
func (r *runner) awaitHook(ctx context.Context, res dynamic.ResourceInterface, h hook) error {
	kind := h.GroupVersionKind()
	if kind.Group != "" && kind.Group != "batch" || kind.Kind != "Job" && kind.Kind != "Pod" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	for {
		live, err := res.Get(ctx, h.GetName(), metav1.GetOptions{})
		if err != nil && ctx.Err() == nil {
			return err
		}
		if live != nil {
			if done, err := r.hookDone(ctx, live); done || err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not done within %s", r.opts.Timeout)
		case <-time.After(pollInterval):
		}
	}
}

// hookDone reports whether a live hook Job or Pod has finished, and its
// failure.
func (r *runner) hookDone(ctx context.Context, live *unstructured.Unstructured) (bool, error) {
	if live.GetKind() == "Pod" {
		var pod corev1.Pod
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(live.Object, &pod); err != nil {
			return false, err
		}
		switch pod.Status.Phase {
		case corev1.PodSucceeded:
			return true, nil
		case corev1.PodFailed:
			return true, fmt.Errorf("pod %s failed: %s", pod.Name, pod.Status.Message)
		}
		return false, nil
	}
	var job batchv1.Job
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(live.Object, &job); err != nil {
		return false, err
	}
	switch {
	case jobCondition(&job, batchv1.JobComplete):
		return true, nil
	case jobCondition(&job, batchv1.JobFailed):
		return true, fmt.Errorf("job %s: %s%s", job.Name, failure(&job), r.podLog(ctx, &job))
	}
	return false, nil
}

// deleteHook deletes a hook (its pods with it: background propagation)
// and waits until it is gone, so that it can be created again. CRDs are
// never deleted, as in Helm.
func (r *runner) deleteHook(ctx context.Context, h hook) error {
	if h.GetKind() == "CustomResourceDefinition" {
		return nil
	}
	res, err := r.resource(h.Unstructured)
	if err != nil {
		return fmt.Errorf("%s: %w", h.where(), err)
	}
	bg := metav1.DeletePropagationBackground
	err = res.Delete(ctx, h.GetName(), metav1.DeleteOptions{PropagationPolicy: &bg})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: delete hook %s: %w", h.where(), change.RefOf(h.Unstructured), err)
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	for {
		if _, err := res.Get(ctx, h.GetName(), metav1.GetOptions{}); apierrors.IsNotFound(err) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: hook %s not gone within %s", h.where(), change.RefOf(h.Unstructured), r.opts.Timeout)
		case <-time.After(time.Second / 4):
		}
	}
}
