package render

import "slices"

// hookAnnotation marks a chart's hook
// (https://github.com/helm/helm/blob/v4.3.2/pkg/release/v1/hook.go,
// HookAnnotation).
const hookAnnotation = "helm.sh/hook"

// IsHook reports whether the object is a chart hook: pkg/apply runs it
// around its chart; it is in no inventory and no diff against a cluster.
func (o Object) IsHook() bool {
	_, ok := o.GetAnnotations()[hookAnnotation]
	return ok
}

// WithoutHooks returns the plan without its chart hooks: what diff and
// status compare with the cluster (hooks are in no inventory, and most
// delete themselves once run). The plan itself is not changed.
func (r *Result) WithoutHooks() *Result {
	if !slices.ContainsFunc(r.WholePlan(), Object.IsHook) {
		return r
	}
	out := *r
	out.Stacks, out.Others = withoutHooks(r.Stacks), withoutHooks(r.Others)
	return &out
}

func withoutHooks(stacks []Stack) []Stack {
	out := make([]Stack, len(stacks))
	for i, s := range stacks {
		s.Objects = slices.DeleteFunc(slices.Clone(s.Objects), Object.IsHook)
		out[i] = s
	}
	return out
}
