package diff_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/yaml"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/diff"
	"kcloud.dev/kcloud/pkg/inventory"
	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/spec"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

func clients(t *testing.T) *kube.Clients {
	t.Helper()
	c, err := kube.NewForConfig(testenv.Shared(t).Config(), kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// objects parses YAML documents, replacing NS with ns.
func objects(t *testing.T, ns, docs string) []render.Object {
	t.Helper()
	var out []render.Object
	for _, doc := range strings.Split(strings.ReplaceAll(docs, "NS", ns), "\n---\n") {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatal(err)
		}
		out = append(out, render.Object{Unstructured: u, Component: "test"})
	}
	return out
}

// applyLive server-side applies objs the way kcloud's apply leaves them:
// owned by the stack's inventory.
func applyLive(t *testing.T, c *kube.Clients, stack string, objs []render.Object, owned bool) {
	t.Helper()
	for _, o := range objs {
		u := o.DeepCopy()
		if owned {
			u.SetAnnotations(map[string]string{inventory.OwningAnnotation: inventory.ID(stack)})
		}
		m, err := c.Mapping(u.GroupVersionKind())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Dynamic.Resource(m.Resource).Namespace(u.GetNamespace()).Apply(context.Background(), u.GetName(), u,
			metav1.ApplyOptions{FieldManager: kube.FieldManager, Force: true}); err != nil {
			t.Fatalf("apply %s: %v", u.GetName(), err)
		}
	}
}

const base = `apiVersion: v1
kind: Namespace
metadata:
  name: NS
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: NS
data:
  color: blue
  size: large
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: NS
stringData:
  password: CANARY-s3cr3t-value`

// plan is the plan of stacks, selecting the stacks of environment ns.
func plan(ns string, stacks ...render.Stack) *render.Result {
	tabs, err := spec.LoadTables()
	if err != nil {
		panic(err) // the embedded schema: every test would fail
	}
	return render.NewResult(tabs, render.Selection{Env: ns}, stacks...)
}

// checkActions compares the action of every change with want, whose keys
// are refs with NS standing for ns.
func checkActions(t *testing.T, res *diff.Result, ns string, want map[string]change.Action) {
	t.Helper()
	got := map[string]change.Action{}
	for _, c := range res.Changes {
		got[strings.ReplaceAll(c.Ref.String(), ns, "NS")] = c.Action
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("actions (-want +got):\n%s", d)
	}
}

func TestRunActions(t *testing.T) {
	c := clients(t)
	proxy, err := testenv.NewFaultProxy(testenv.Shared(t).Config())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	viaProxy, err := kube.NewForConfig(proxy.Config(), kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		live     string // applied before the diff, owned by the stack
		plan     string
		want     map[string]change.Action
		wantDiff map[string][]string // lines the object's diff contains
	}{
		{
			name: "first diff creates everything, namespace included",
			plan: base,
			want: map[string]change.Action{"Namespace NS": change.Create, "ConfigMap NS/settings": change.Create, "Secret NS/creds": change.Create},
			wantDiff: map[string][]string{
				"ConfigMap NS/settings": {"+  color: blue"},
				"Secret NS/creds":       {"+  password: '***'"},
			},
		},
		{
			name: "applied plan is unchanged",
			live: base,
			plan: base,
			want: map[string]change.Action{"Namespace NS": change.Unchanged, "ConfigMap NS/settings": change.Unchanged, "Secret NS/creds": change.Unchanged},
		},
		{
			name:     "a changed value shows exactly that change",
			live:     base,
			plan:     strings.Replace(base, "color: blue", "color: green", 1),
			want:     map[string]change.Action{"Namespace NS": change.Unchanged, "ConfigMap NS/settings": change.Update, "Secret NS/creds": change.Unchanged},
			wantDiff: map[string][]string{"ConfigMap NS/settings": {"-  color: blue", "+  color: green"}},
		},
		{
			name:     "a changed secret is masked and marked changed",
			live:     base,
			plan:     strings.Replace(base, "CANARY-s3cr3t-value", "CANARY-other-value", 1),
			want:     map[string]change.Action{"Namespace NS": change.Unchanged, "ConfigMap NS/settings": change.Unchanged, "Secret NS/creds": change.Update},
			wantDiff: map[string][]string{"Secret NS/creds": {"-  password: '***'", "+  password: '*** (changed)'"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := fmt.Sprintf("diff-%d", nextID())
			stack := "l3-" + ns
			if tc.live != "" {
				applyLive(t, c, stack, objects(t, ns, tc.live), true)
			}
			for _, mode := range []diff.ReadOnlyMode{diff.ReadOnlyNever, diff.ReadOnlyAlways} {
				readOnly := mode == diff.ReadOnlyAlways
				proxy.Reset()
				res, err := diff.Run(context.Background(), viaProxy, plan(ns, render.Stack{Name: stack, Objects: objects(t, ns, tc.plan)}), diff.Options{ReadOnly: mode})
				if err != nil {
					t.Fatal(err)
				}
				checkActions(t, res, ns, tc.want)
				checkChanges(t, res, ns, tc.wantDiff)
				if got := res.HasChanges(); got != (tc.name != "applied plan is unchanged") {
					t.Errorf("read-only %v: HasChanges() = %v", readOnly, got)
				}
				// Unchanged objects are proven so on the client: only what
				// changes is dry-run, and nothing in a read-only diff.
				dryRuns := 0
				for _, ch := range res.Changes {
					if !readOnly && ch.Changed() && !ch.Unverified {
						dryRuns++
					}
				}
				if got := proxy.Count(testenv.VerbPatch); got != dryRuns || res.ClientSide != readOnly {
					t.Errorf("read-only %v: %d dry runs, want %d; ClientSide %v", readOnly, got, dryRuns, res.ClientSide)
				}
			}
		})
	}
}

// checkChanges checks that no secret value shows and that each object's
// diff has the lines of want (refs with NS standing for ns), and no more.
func checkChanges(t *testing.T, res *diff.Result, ns string, want map[string][]string) {
	t.Helper()
	for _, ch := range res.Changes {
		text, err := ch.Text()
		if err != nil {
			t.Fatalf("%s: %v", ch.Ref, err)
		}
		if strings.Contains(text, "CANARY") || strings.Contains(text, "Q0FOQVJZ") {
			t.Errorf("%s: secret value in diff:\n%s", ch.Ref, text)
		}
		for _, line := range want[strings.ReplaceAll(ch.Ref.String(), ns, "NS")] {
			if !strings.Contains(text, line+"\n") {
				t.Errorf("%s: diff lacks %q:\n%s", ch.Ref, line, text)
			}
		}
		if ch.Action == change.Update && strings.Count(text, "\n-") > 2 {
			t.Errorf("%s: more changed than expected:\n%s", ch.Ref, text)
		}
		if (ch.Action == change.Update || ch.Action == change.Create) && ch.Conflict == "" && !ch.Unverified && text == "" {
			t.Errorf("%s: %s with no diff", ch.Ref, ch.Action)
		}
	}
}

var idCounter int

func nextID() int { idCounter++; return idCounter }

func TestRunCRDAndCustomResourceInOnePlanIsACreate(t *testing.T) {
	c := clients(t)
	ns := fmt.Sprintf("diff-%d", nextID())
	objs := objects(t, ns, `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.NS.example.com
spec:
  group: NS.example.com
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
---
apiVersion: v1
kind: Namespace
metadata:
  name: NS
---
apiVersion: NS.example.com/v1
kind: Widget
metadata:
  name: w
  namespace: NS
spec:
  size: 3`)
	res, err := diff.Run(context.Background(), c, plan(ns, render.Stack{Name: "l1-" + ns, Objects: objs}), diff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkActions(t, res, ns, map[string]change.Action{
		"CustomResourceDefinition widgets.NS.example.com": change.Create,
		"Namespace NS": change.Create,
		"Widget NS/w":  change.Create,
	})
}

func TestRunUnservedKindIsAnErrorNamingIt(t *testing.T) {
	c := clients(t)
	objs := objects(t, "x", `apiVersion: nothing.example.com/v1
kind: Gadget
metadata:
  name: g
  namespace: default`)
	_, err := diff.Run(context.Background(), c, plan("x", render.Stack{Name: "l2", Objects: objs}), diff.Options{})
	if err == nil || !kube.IsUnserved(err) || !strings.Contains(err.Error(), "kind Gadget (nothing.example.com/v1) is not served") {
		t.Fatalf("err = %v, want an unserved-kind error naming Gadget", err)
	}
}

func TestRunPrunePreview(t *testing.T) {
	c := clients(t)
	ns := fmt.Sprintf("diff-%d", nextID())
	stack := "l3-" + ns
	live := objects(t, ns, base+`
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
  namespace: NS
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}`)
	applyLive(t, c, stack, live, true)
	writeInventory(t, c, stack, live)
	kept := live[:1] // only the namespace stays

	for _, tc := range []struct {
		name          string
		allowDataLoss bool
		want          map[string]change.Action
	}{
		{"protected kinds are detached", false, map[string]change.Action{
			"Namespace NS": change.Unchanged, "ConfigMap NS/settings": change.Delete, "Secret NS/creds": change.Delete,
			"PersistentVolumeClaim NS/data": change.Detach,
		}},
		{"--allow-data-loss deletes them", true, map[string]change.Action{
			"Namespace NS": change.Unchanged, "ConfigMap NS/settings": change.Delete, "Secret NS/creds": change.Delete,
			"PersistentVolumeClaim NS/data": change.Delete,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := diff.Run(context.Background(), c, plan(ns, render.Stack{Name: stack, Objects: kept}), diff.Options{AllowDataLoss: tc.allowDataLoss})
			if err != nil {
				t.Fatal(err)
			}
			checkActions(t, res, ns, tc.want)
			for _, ch := range res.Changes {
				if text, _ := ch.Text(); strings.Contains(text, "CANARY") {
					t.Errorf("secret value in the diff of %s", ch.Ref)
				}
			}
		})
	}

	// A removed environment: its stack is not rendered at all.
	res, err := diff.Run(context.Background(), c, plan(ns), diff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkActions(t, res, ns, map[string]change.Action{
		"Namespace NS": change.Detach, "ConfigMap NS/settings": change.Delete, "Secret NS/creds": change.Delete,
		"PersistentVolumeClaim NS/data": change.Detach,
	})
	if d := cmp.Diff([]string{stack}, res.Orphans); d != "" {
		t.Errorf("orphans (-want +got):\n%s", d)
	}
	// Each prune says that apply refuses it without --allow-empty.
	for _, ch := range res.Changes {
		if !strings.Contains(ch.Note, "apply refuses to prune it without --allow-empty") {
			t.Errorf("%s: note %q does not say that apply needs --allow-empty", ch.Ref, ch.Note)
		}
	}
}

func TestRunUnmanagedObjectIsFlagged(t *testing.T) {
	c := clients(t)
	ns := fmt.Sprintf("diff-%d", nextID())
	objs := objects(t, ns, base)
	applyLive(t, c, "", objs, false)
	res, err := diff.Run(context.Background(), c, plan(ns, render.Stack{Name: "l3-" + ns, Objects: objs}), diff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range res.Changes {
		if ch.Action != change.Update || ch.Conflict != change.Unmanaged || !strings.Contains(ch.Note, "not managed by kcloud") {
			t.Errorf("%s: action %s note %q, want an update noting it is not ours", ch.Ref, ch.Action, ch.Note)
		}
	}
}

// writeInventory stores objs as the stack's inventory, as cli-utils does.
func writeInventory(t *testing.T, c *kube.Clients, stack string, objs []render.Object) {
	t.Helper()
	data := map[string]any{}
	for _, o := range objs {
		gk := schema.FromAPIVersionAndKind(o.GetAPIVersion(), o.GetKind()).GroupKind()
		data[fmt.Sprintf("%s_%s_%s_%s", o.GetNamespace(), o.GetName(), gk.Group, gk.Kind)] = ""
	}
	cm := inventory.Info(stack).(interface {
		UnstructuredInventory() *unstructured.Unstructured
	}).UnstructuredInventory().DeepCopy()
	cm.Object["data"] = data
	if _, err := c.Dynamic.Resource(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}).Namespace(inventory.Namespace).
		Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestRunRejectsUnknownFieldsAtTheirOrigin: an unknown field, of a
// built-in kind or of a custom resource, fails the dry run (server-side
// apply, field validation Strict) with an error naming where the object is
// written.
func TestRunRejectsUnknownFieldsAtTheirOrigin(t *testing.T) {
	c := clients(t)
	ns := fmt.Sprintf("diff-%d", nextID())
	crd := objects(t, ns, `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gizmos.NS.example.com
spec:
  group: NS.example.com
  names: {kind: Gizmo, plural: gizmos, singular: gizmo, listKind: GizmoList}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
---
apiVersion: v1
kind: Namespace
metadata: {name: NS}`)
	applyLive(t, c, "l1-"+ns, crd, true)
	waitEstablished(t, c, "gizmos."+ns+".example.com")
	waitServed(t, c, schema.GroupVersionKind{Group: ns + ".example.com", Version: "v1", Kind: "Gizmo"})
	for _, tc := range []struct{ name, doc, want string }{
		{"built-in kind", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: NS}\ndatta: {a: b}", ".datta: field not declared in schema"},
		{"custom resource", "apiVersion: NS.example.com/v1\nkind: Gizmo\nmetadata: {name: g, namespace: NS}\nspec: {size: 3, colour: red}", ".spec.colour: field not declared in schema"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs := objects(t, ns, tc.doc)
			objs[0].Origin = spec.Pos{File: "specs/l3/x.yaml", Line: 12, Column: 7}
			_, err := diff.Run(context.Background(), c, plan(ns, render.Stack{Name: "l3-" + ns, Objects: objs}), diff.Options{})
			if err == nil || !strings.Contains(err.Error(), "specs/l3/x.yaml:12:7: ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q at the object's file:line:col", err, tc.want)
			}
		})
	}
}

// waitServed waits until discovery, which may lag a CRD's Established
// condition, serves gvk: kubectl's way of waiting, a bounded poll.
func waitServed(t *testing.T, c *kube.Clients, gvk schema.GroupVersionKind) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		c.Mapper.Reset()
		_, err := c.Mapping(gvk)
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("%s not served within 30s: %v", gvk, err)
	}
}

// waitEstablished watches a CRD until the server serves its kind.
func waitEstablished(t *testing.T, c *kube.Clients, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	gvr := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	w, err := c.Dynamic.Resource(gvr).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for ev := range w.ResultChan() {
		u, ok := ev.Object.(*unstructured.Unstructured)
		if !ok {
			continue
		}
		conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
		for _, cond := range conds {
			m, _ := cond.(map[string]any)
			if m["type"] == "Established" && m["status"] == "True" {
				return
			}
		}
	}
	t.Fatalf("CRD %s not established within 30s", name)
}

// changedPlan applies base in namespace ns (stack l4-ns) and returns the
// plan that changes its ConfigMap and its Secret and creates a ConfigMap.
func changedPlan(t *testing.T, c *kube.Clients, ns string) *render.Result {
	t.Helper()
	stack := "l4-" + ns
	applyLive(t, c, stack, objects(t, ns, base), true)
	planned := strings.NewReplacer("color: blue", "color: green", "CANARY-s3cr3t-value", "CANARY-other-value").Replace(base)
	objs := objects(t, ns, planned+"\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: not-yet, namespace: NS}\ndata: {a: b}")
	return plan(ns, render.Stack{Name: stack, Layer: "L4", Env: ns, Objects: objs})
}

// TestRunKeepsLiveObjectsOnlyWhenAsked diffs a plan against what is
// applied: a diff releases the live objects it compared (Result.Live
// reports none), and one asked to keep them (apply's) reports those of
// what would change — unmasked, the absent ones as nil — and not those of
// unchanged objects.
func TestRunKeepsLiveObjectsOnlyWhenAsked(t *testing.T) {
	c := clients(t)
	ns := "keep-live"
	p := changedPlan(t, c, ns)
	for _, keep := range []bool{false, true} {
		res, err := diff.Run(context.Background(), c, p, diff.Options{KeepLive: keep})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		res.Live(func(ref change.Ref, live *unstructured.Unstructured) {
			switch {
			case live == nil:
				got[ref.String()] = "absent"
			case live.GetKind() == "Secret":
				// Compared here, not printed: the value is a secret's.
				data, _ := live.Object["data"].(map[string]any)
				got[ref.String()] = fmt.Sprint("unmasked: ", data["password"] == base64.StdEncoding.EncodeToString([]byte("CANARY-s3cr3t-value")))
			default:
				got[ref.String()] = "read"
			}
		})
		want := map[string]string{}
		if keep {
			want = map[string]string{
				"ConfigMap " + ns + "/settings": "read",
				"Secret " + ns + "/creds":       "unmasked: true",
				"ConfigMap " + ns + "/not-yet":  "absent",
			}
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("KeepLive %v: live objects reported (-want +got):\n%s", keep, d)
		}
	}
}

// TestTextsRenderedAsDecided: with Options.Texts every change carries the
// text a diff without it renders when asked (Change.Text), and neither of
// its normalised objects.
func TestTextsRenderedAsDecided(t *testing.T) {
	c := clients(t)
	ns := "texts"
	p := changedPlan(t, c, ns)
	texts := func(opts diff.Options) map[string]string {
		t.Helper()
		res, err := diff.Run(context.Background(), c, p, opts)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, ch := range res.Changes {
			text, err := ch.Text()
			if err != nil {
				t.Fatal(err)
			}
			out[ch.Ref.String()] = string(ch.Action) + "\n" + text
			if opts.Texts && (ch.Before != nil || ch.After != nil) {
				t.Errorf("%s: Texts kept its normalised objects", ch.Ref)
			}
		}
		return out
	}
	want, got := texts(diff.Options{}), texts(diff.Options{Texts: true})
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("texts with Texts (-without +with):\n%s", d)
	}
	for ref, text := range want {
		if strings.HasPrefix(text, "update") && !strings.Contains(text, "+++ planned/") {
			t.Errorf("%s: no text to compare:\n%s", ref, text)
		}
	}
	if len(want) < 3 {
		t.Errorf("%d changes, want the updated ConfigMap and Secret and the created ConfigMap: %v", len(want), want)
	}
}
