package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/cli-utils/pkg/common"

	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/diff"
	"kcloud.dev/kcloud/pkg/inventory"
	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/render"
)

// What a Helm release leaves in a cluster. Helm marks every object it
// installs with the release's name and namespace
// (https://github.com/helm/helm/blob/v4.3.2/pkg/action/validate.go,
// helmReleaseNameAnnotation, helmReleaseNamespaceAnnotation) and records
// each revision as a Secret sh.helm.release.v1.<name>.v<N> labelled
// owner=helm, name=<name> (https://github.com/helm/helm/blob/v4.3.2/pkg/storage/driver/secrets.go,
// newSecretsObject) — the helm CLI and Terraform's helm provider alike.
// K3s's helm-controller runs Helm too, and keeps a HelmChart whose
// finalizer makes it uninstall the release when the HelmChart is deleted
// (https://github.com/k3s-io/helm-controller/blob/v0.17.7/pkg/controllers/chart/chart.go,
// RegisterScopedOnRemoveHandler "on-helm-chart-remove"; wrangler v3.3.3
// pkg/generic/remove.go prefixes it with "wrangler.cattle.io/"). Its
// release is the HelmChart's name, in spec.targetNamespace or else the
// HelmChart's own namespace (chart.go, the targetNamespace default).
const (
	releaseNameAnnotation      = "meta.helm.sh/release-name"
	releaseNamespaceAnnotation = "meta.helm.sh/release-namespace"
	helmChartFinalizer         = "wrangler.cattle.io/on-helm-chart-remove"
)

var helmChartsGVR = schema.GroupVersionResource{Group: "helm.cattle.io", Version: "v1", Resource: "helmcharts"}

// helmRelease names a Helm release: a chart component of the plan takes
// over the release named after it in its namespace.
type helmRelease struct{ name, namespace string }

func (h helmRelease) String() string { return h.namespace + "/" + h.name }

// releaseRecords are what keeps a release installed: its revision
// Secrets and the HelmChart that installed it, if any.
type releaseRecords struct {
	secrets    []string
	helmCharts []change.Ref
}

// chartReleases are the releases a stack's charts take over.
func chartReleases(s render.Stack) []helmRelease {
	var out []helmRelease
	for _, o := range s.Objects {
		rel := helmRelease{name: o.Component, namespace: o.GetNamespace()}
		if o.Template != "" && rel.namespace != "" && !slices.Contains(out, rel) {
			out = append(out, rel)
		}
	}
	return out
}

// findReleases reads the records of the releases the plan's charts take
// over: none for a plan without charts, and none in a cluster that never
// ran Helm.
func (r *runner) findReleases(ctx context.Context) (map[helmRelease]releaseRecords, error) {
	var rels []helmRelease
	for _, s := range r.plan.Stacks {
		rels = append(rels, chartReleases(s)...)
	}
	if len(rels) == 0 {
		return nil, nil
	}
	charts, err := r.helmCharts(ctx)
	if err != nil {
		return nil, err
	}
	out := map[helmRelease]releaseRecords{}
	for _, rel := range rels {
		secrets, err := r.c.Typed.CoreV1().Secrets(rel.namespace).List(ctx, metav1.ListOptions{LabelSelector: "owner=helm,name=" + rel.name})
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("helm release %s: read its records: %w", rel, err)
		}
		var rec releaseRecords
		if secrets != nil {
			for _, s := range secrets.Items {
				rec.secrets = append(rec.secrets, s.Name)
			}
		}
		for _, hc := range charts {
			if helmChartRelease(hc) == rel {
				rec.helmCharts = append(rec.helmCharts, change.RefOf(hc))
			}
		}
		if len(rec.secrets)+len(rec.helmCharts) > 0 {
			out[rel] = rec
		}
	}
	return out, nil
}

// helmCharts lists K3s's HelmCharts; none where the kind is not served.
func (r *runner) helmCharts(ctx context.Context) ([]*unstructured.Unstructured, error) {
	list, err := r.c.Dynamic.Resource(helmChartsGVR).List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) || meta.IsNoMatchError(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list HelmCharts: %w", err)
	}
	out := make([]*unstructured.Unstructured, len(list.Items))
	for i := range list.Items {
		out[i] = &list.Items[i]
	}
	return out, nil
}

// helmChartRelease is the release a HelmChart installs.
func helmChartRelease(hc *unstructured.Unstructured) helmRelease {
	ns, _, _ := unstructured.NestedString(hc.Object, "spec", "targetNamespace")
	if ns == "" {
		ns = hc.GetNamespace()
	}
	return helmRelease{name: hc.GetName(), namespace: ns}
}

// markAdoptions clears the conflict of planned objects that belong to a
// release the plan takes over (Helm's annotations name it): apply adopts
// them in place, without --adopt. Objects of other releases, or of none,
// keep their conflict.
func (r *runner) markAdoptions(planned *diff.Result) {
	if len(r.releases) == 0 {
		return
	}
	for i, ch := range planned.Changes {
		if ch.Conflict != change.Unmanaged || ch.Before == nil {
			continue
		}
		a := ch.Before.GetAnnotations()
		rel := helmRelease{name: a[releaseNameAnnotation], namespace: a[releaseNamespaceAnnotation]}
		if _, ok := r.releases[rel]; !ok || rel.name != ch.Component {
			continue
		}
		ch.Conflict = change.NoConflict
		ch.Note = "installed by Helm release " + rel.String() + ": apply adopts it in place"
		planned.Changes[i] = ch
		r.adopted[ch.Ref] = rel
	}
}

// adopt takes a stack's objects of adopted releases into its inventory in
// place (the inventory lists them before they name it, as reattach does),
// then removes the releases' records without an uninstall: the HelmChart's
// finalizer first, so that helm-controller never runs its uninstall, then
// the HelmChart and the revision Secrets. A run killed in between leaves
// objects kcloud owns and records the next run removes.
func (r *runner) adopt(ctx context.Context, s render.Stack, changes []diff.Change) error {
	var refs []change.Ref
	for _, ch := range changes {
		if _, ok := r.adopted[ch.Ref]; ok {
			refs = append(refs, ch.Ref)
		}
	}
	if len(refs) > 0 {
		invClient, err := inventory.NewClient(r.c)
		if err != nil {
			return err
		}
		if _, err := invClient.Merge(inventory.Info(s.Name), change.IDs(refs), common.DryRunNone); err != nil {
			return fmt.Errorf("adopt %s into the inventory of stack %s: %w", refList(refs), s.Name, err)
		}
		for _, ref := range refs {
			if err := r.annotate(ctx, ref, inventory.OwningAnnotation, inventory.ID(s.Name), kube.FieldManager); err != nil {
				return fmt.Errorf("%s: adopt it: %w", ref, err)
			}
			r.emit(Event{Type: ObjectEvent, Stack: s.Name, Object: ref, Op: OpApply, Action: change.Reattach, Outcome: Done, Message: "adopted from Helm release " + r.adopted[ref].String()})
		}
	}
	var errs []error
	for _, rel := range chartReleases(s) {
		if rec, ok := r.releases[rel]; ok {
			errs = append(errs, r.forgetRelease(ctx, s.Name, rel, rec))
		}
	}
	return errors.Join(errs...)
}

// forgetRelease removes a release's records, never its objects.
func (r *runner) forgetRelease(ctx context.Context, stack string, rel helmRelease, rec releaseRecords) error {
	for _, hc := range rec.helmCharts {
		if err := r.releaseHelmChart(ctx, hc, true); err != nil {
			return fmt.Errorf("helm release %s: %w", rel, err)
		}
	}
	secrets := r.c.Typed.CoreV1().Secrets(rel.namespace)
	for _, name := range rec.secrets {
		if err := secrets.Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("helm release %s: delete its record %s: %w", rel, name, err)
		}
	}
	r.emit(Event{Type: Warning, Stack: stack, Message: fmt.Sprintf("Helm release %s is kcloud's now: its records (%d revision Secret(s), %d HelmChart(s)) removed, none of its objects", rel, len(rec.secrets), len(rec.helmCharts))})
	delete(r.releases, rel)
	return nil
}

// releaseHelmCharts removes helm-controller's finalizer from the
// HelmCharts a stack prunes (what an earlier kcloud rendered for a chart):
// deleting them then leaves their releases' objects in the cluster, where
// the finalizer would have uninstalled them and deleted their data.
func (r *runner) releaseHelmCharts(ctx context.Context, changes []diff.Change) error {
	for _, ch := range changes {
		if ch.Action == change.Delete && ch.Ref.GroupKind == render.HelmChartGK {
			if err := r.releaseHelmChart(ctx, ch.Ref, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// releaseHelmChart removes helm-controller's finalizer from a HelmChart,
// with a JSON patch that tests the list it rewrites, and deletes it when
// del is set.
func (r *runner) releaseHelmChart(ctx context.Context, ref change.Ref, del bool) error {
	res := r.c.Dynamic.Resource(helmChartsGVR).Namespace(ref.Namespace)
	hc, err := res.Get(ctx, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", ref, err)
	}
	if fins := hc.GetFinalizers(); slices.Contains(fins, helmChartFinalizer) {
		kept := slices.DeleteFunc(slices.Clone(fins), func(f string) bool { return f == helmChartFinalizer })
		patch, err := finalizerPatch(fins, kept)
		if err != nil {
			return err
		}
		if _, err := res.Patch(ctx, ref.Name, types.JSONPatchType, patch, metav1.PatchOptions{FieldManager: kube.FieldManager}); err != nil {
			return fmt.Errorf("%s: remove the finalizer %s: %w", ref, helmChartFinalizer, err)
		}
	}
	if !del {
		return nil
	}
	if err := res.Delete(ctx, ref.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("%s: delete it: %w", ref, err)
	}
	return nil
}

// finalizerPatch is a JSON patch that replaces the finalizers from with
// to, and fails if they changed meanwhile.
func finalizerPatch(from, to []string) ([]byte, error) {
	if to == nil {
		to = []string{}
	}
	return json.Marshal([]map[string]any{
		{"op": "test", "path": "/metadata/finalizers", "value": from},
		{"op": "replace", "path": "/metadata/finalizers", "value": to},
	})
}

// takesOver reports whether a stack takes over a release whose records
// are still there (a run killed after adopting its objects).
func (r *runner) takesOver(s render.Stack) bool {
	return slices.ContainsFunc(chartReleases(s), func(rel helmRelease) bool { _, ok := r.releases[rel]; return ok })
}
