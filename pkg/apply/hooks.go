package apply

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"kcloud.dev/kcloud/pkg/render"
)

// The annotations of a chart hook and the events kcloud runs. The names
// are Helm's (https://github.com/helm/helm/blob/v4.3.2/pkg/release/v1/hook.go,
// HookAnnotation, HookWeightAnnotation, HookDeleteAnnotation, HookEvent,
// HookDeletePolicy).
const (
	hookAnnotation       = "helm.sh/hook"
	hookWeightAnnotation = "helm.sh/hook-weight"
	hookDeleteAnnotation = "helm.sh/hook-delete-policy"

	preInstall  = "pre-install"
	postInstall = "post-install"
	preUpgrade  = "pre-upgrade"
	postUpgrade = "post-upgrade"
	// testHook marks a chart's tests (`helm test`); "test-success" is its
	// Helm 2 spelling. They are never applied.
	testHook    = "test"
	testSuccess = "test-success"

	beforeHookCreation = "before-hook-creation"
	hookSucceeded      = "hook-succeeded"
	hookFailed         = "hook-failed"
)

// hook is one object a chart renders as a hook: applied outside the
// stack's inventory around the chart's other objects, awaited, and
// deleted as its delete policy says.
type hook struct {
	render.Object
	events   []string
	weight   int
	policies []string
}

// runsOn reports whether the hook runs on event.
func (h hook) runsOn(event string) bool { return slices.Contains(h.events, event) }

// deletedOn reports whether the hook's delete policy names policy.
func (h hook) deletedOn(policy string) bool { return slices.Contains(h.policies, policy) }

// where names the hook's chart template, or the object when no chart
// rendered it.
func (h hook) where() string {
	if h.Template != "" {
		return fmt.Sprintf("chart template %s (component %s)", h.Template, h.Component)
	}
	return fmt.Sprintf("%s (component %s)", h.Unstructured.GetName(), h.Component)
}

// splitHooks takes the hooks out of a plan (render.Result.WithoutHooks):
// the plan without them is what is diffed, inventoried and pruned; the
// hooks, per stack, are run around it. Test hooks are dropped. A hook
// kcloud cannot run (pre-delete, post-rollback, …: there is no release to
// delete or roll back) is an error naming its chart template, before
// anything is written.
func splitHooks(plan *render.Result) (*render.Result, map[string][]hook, error) {
	hooks := map[string][]hook{}
	var errs []error
	for _, s := range plan.Stacks {
		for _, o := range s.Objects {
			if !o.IsHook() {
				continue
			}
			h, err := parseHook(o)
			if err != nil {
				errs = append(errs, err)
			} else if len(h.events) > 0 {
				hooks[s.Name] = append(hooks[s.Name], h)
			}
		}
	}
	return plan.WithoutHooks(), hooks, errors.Join(errs...)
}

// parseHook reads an object's hook annotations. Without a delete policy a
// hook is deleted before it is created again, as Helm does
// (https://github.com/helm/helm/blob/v4.3.2/pkg/action/hooks.go,
// hookSetDeletePolicy).
func parseHook(o render.Object) (hook, error) {
	a := o.GetAnnotations()
	h := hook{Object: o}
	var bad []string
	for _, e := range splitList(a[hookAnnotation]) {
		switch e {
		case preInstall, postInstall, preUpgrade, postUpgrade:
			h.events = append(h.events, e)
		case testHook, testSuccess:
		default:
			bad = append(bad, e)
		}
	}
	if len(bad) > 0 {
		return h, fmt.Errorf("%s: %s hook %s: kcloud runs only pre-install, post-install, pre-upgrade and post-upgrade hooks (and never test hooks); disable it in the chart's values",
			h.where(), strings.Join(bad, ", "), h.Unstructured.GetName())
	}
	if w := strings.TrimSpace(a[hookWeightAnnotation]); w != "" {
		n, err := strconv.Atoi(w)
		if err != nil {
			return h, fmt.Errorf("%s: hook %s: %s %q is not an integer", h.where(), h.Unstructured.GetName(), hookWeightAnnotation, w)
		}
		h.weight = n
	}
	h.policies = splitList(a[hookDeleteAnnotation])
	for _, p := range h.policies {
		if p != beforeHookCreation && p != hookSucceeded && p != hookFailed {
			return h, fmt.Errorf("%s: hook %s: unknown %s %q", h.where(), h.Unstructured.GetName(), hookDeleteAnnotation, p)
		}
	}
	if len(h.policies) == 0 {
		h.policies = []string{beforeHookCreation}
	}
	return h, nil
}

func splitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// hooksFor returns the hooks of components that run event, in Helm's
// order: by weight, then by name
// (https://github.com/helm/helm/blob/v4.3.2/pkg/action/hooks.go, hookByWeight).
func hooksFor(hooks []hook, event func(component string) string, pre bool) []hook {
	var out []hook
	for _, h := range hooks {
		e := event(h.Component)
		if e == "" {
			continue
		}
		if pre {
			e = "pre-" + e
		} else {
			e = "post-" + e
		}
		if h.runsOn(e) {
			out = append(out, h)
		}
	}
	slices.SortStableFunc(out, func(a, b hook) int {
		return cmp.Or(cmp.Compare(a.weight, b.weight), cmp.Compare(a.Unstructured.GetName(), b.Unstructured.GetName()))
	})
	return out
}
