package apply_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/apply"
	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/inventory"
	"kcloud.dev/kcloud/pkg/render"
)

// widgetCRD is a CRD of a chart's crds/, its one version serving the
// columns given.
func widgetCRD(group, column string) string {
	return fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.%[1]s}
spec:
  group: %[1]s
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    additionalPrinterColumns: [{name: %[2]s, type: string, jsonPath: .spec.size}]
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: string}}}`, group, column)
}

// TestChartCRDs: a CRD of a chart's crds/ is applied before the chart's
// other objects (a Widget of its kind among them), is upgraded when the
// chart changes it, and is detached — left in the cluster, out of the
// inventory — when the chart is removed.
func TestChartCRDs(t *testing.T) {
	p, c := proxied(t)
	_, opts, id := setup(t)
	ns := "crds-" + id
	group := id + ".charts.example.org"
	widget := fmt.Sprintf("apiVersion: %s/v1\nkind: Widget\nmetadata: {name: big, namespace: NS}\nspec: {size: large}", group)
	other := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: NS}\ndata: {a: b}"
	// A pre-install hook of the CRD's kind: the CRD is applied before it.
	early := fmt.Sprintf("apiVersion: %s/v1\nkind: Widget\nmetadata:\n  name: early\n  namespace: NS\n  annotations: {helm.sh/hook: pre-install}\nspec: {size: small}", group)
	chartPlan := func(column string) render.Stack {
		s := chartStack(t, "l4-"+id, ns, cmDoc, widget, early, widgetCRD(group, column))
		crd := &s.Objects[len(s.Objects)-1]
		crd.ChartCRD, crd.Template = true, "demo/crds/widgets.yaml"
		// The CRD comes first, as the render orders CRDs.
		s.Objects = append(append(s.Objects[:1:1], *crd), s.Objects[1:len(s.Objects)-1]...)
		keep := stack(t, "", ns, other).Objects[0]
		s.Objects = append(s.Objects, keep)
		return s
	}
	order := applied(p, "")
	if _, err := apply.Run(context.Background(), c, plan(chartPlan("Size")), opts); err != nil {
		t.Fatal(err)
	}
	ext := apiextensionsclient.NewForConfigOrDie(testenv.Shared(t).Config())
	if _, err := ext.ApiextensionsV1().CustomResourceDefinitions().Get(context.Background(), "widgets."+group, metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	got := order()
	crdAt, hookAt := slices.Index(got, "widgets."+group), slices.Index(got, "early")
	widgetAt, cmAt := slices.Index(got, "big"), slices.Index(got, "settings")
	if crdAt < 0 || hookAt < crdAt || widgetAt < hookAt || cmAt < hookAt {
		t.Errorf("applied %v: want the chart's CRD, then its pre-install hook, then its Widget and ConfigMap", got)
	}

	// The chart changes its CRD: apply upgrades it.
	if _, err := apply.Run(context.Background(), c, plan(chartPlan("Bigness")), opts); err != nil {
		t.Fatal(err)
	}
	crd, err := ext.ApiextensionsV1().CustomResourceDefinitions().Get(context.Background(), "widgets."+group, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := crd.Spec.Versions[0].AdditionalPrinterColumns[0].Name; got != "Bigness" {
		t.Errorf("the CRD's column is %q after the upgrade, want Bigness", got)
	}

	// The chart is removed: its CRD is detached, not deleted.
	rest := stack(t, "l4-"+id, ns, nsDoc+"\n---\n"+other)
	res, err := apply.Run(context.Background(), c, plan(rest), apply.Options{AllowMassPrune: true})
	if err != nil {
		t.Fatal(err)
	}
	crdRef := change.RefOf(chartPlan("Size").Objects[1].Unstructured)
	if diff := cmp.Diff([]change.Ref{crdRef}, res.Detached); diff != "" {
		t.Errorf("detached (-want +got):\n%s", diff)
	}
	if _, err := ext.ApiextensionsV1().CustomResourceDefinitions().Get(context.Background(), "widgets."+group, metav1.GetOptions{}); err != nil {
		t.Errorf("the chart's CRD is gone: %v", err)
	}
	refs, _, err := inventory.Get(context.Background(), c.Typed, "l4-"+id)
	if err != nil {
		t.Fatal(err)
	}
	if containsRef(refs, crdRef) {
		t.Errorf("the inventory still lists the detached CRD")
	}
}
