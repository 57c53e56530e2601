package main

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/inventory"
)

// requestCounts counts what reaches the fault proxy, by kind of request.
type requestCounts struct {
	mu                                            sync.Mutex
	applies, dryRuns, inventory, lock, other, all int
	writes                                        []string
	// reads are the GETs and LISTs, by path; full are those that asked for
	// whole objects, not their metadata only.
	reads, full []string
}

// count observes every request through p until the test ends.
func (c *requestCounts) count(t *testing.T, p *testenv.FaultProxy) {
	remove := p.OnRequest(testenv.Hook{N: 1 << 30, Func: func(*http.Request) {}, Match: func(r *http.Request) bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.all++
		verb := testenv.RequestVerb(r)
		if verb != testenv.VerbGet && verb != testenv.VerbList && verb != testenv.VerbWatch {
			c.writes = append(c.writes, r.Method+" "+r.URL.Path)
		} else {
			c.reads = append(c.reads, verb+" "+r.URL.Path)
			if !strings.Contains(r.Header.Get("Accept"), "as=PartialObjectMetadata") {
				c.full = append(c.full, verb+" "+r.URL.Path)
			}
		}
		switch {
		case testenv.IsDryRun(r):
			c.dryRuns++
		case strings.Contains(r.URL.Path, "/leases"):
			c.lock++
		case isInventoryWrite(r):
			c.inventory++
		case testenv.IsApplyPatch(r):
			c.applies++
		case verb != testenv.VerbGet && verb != testenv.VerbList && verb != testenv.VerbWatch:
			c.other++
		}
		return false // observe only
	}})
	t.Cleanup(remove)
}

// TestFirstApplyRequests counts, at the fault proxy, the requests of a
// successful first apply of a fresh environment: one server-side apply
// PATCH per object, no dry run, each stack's inventory written once
// (created with everything it will list, before the first object). The
// environment renders two stacks: l3 (its generated namespace only) and
// l4 (its namespace and n ConfigMaps). Nothing is read in the namespaces
// the run creates.
func TestFirstApplyRequests(t *testing.T) {
	p, kc := proxyFor(t)
	env := uniqueEnv("first")
	const n = 40
	dir := writeTree(t, map[string]string{"cluster.yaml": clusterYAML(env), "web.yaml": component("web", "L4", env, configMaps(n, "v"))})
	var c requestCounts
	c.count(t, p)
	code, stdout, stderr := kcloud(t, "apply", dir, "--env", env, "--kubeconfig", kc, "--context", "proxy", "--log-format", "json", "--wait=false")
	if code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, stdout, stderr)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t.Logf("first apply of %d objects in 2 stacks: %d requests: %d applies, %d dry runs, %d inventory writes, %d lock requests, %d other writes, %d reads",
		n+2, c.all, c.applies, c.dryRuns, c.inventory, c.lock, c.other, c.all-c.applies-c.dryRuns-c.inventory-c.lock-c.other)
	type writes struct{ applies, dryRuns, inventory, other int }
	want := writes{applies: n + 2, inventory: 2}
	got := writes{applies: c.applies, dryRuns: c.dryRuns, inventory: c.inventory, other: c.other}
	if got != want {
		t.Errorf("writes: got %d applies, %d dry runs, %d inventory writes, %d other writes; want %d applies (one per object, the namespaces included), no dry run, 2 inventory writes (one per stack), nothing else",
			got.applies, got.dryRuns, got.inventory, got.other, want.applies)
		t.Logf("writes:\n%s", strings.Join(c.writes, "\n"))
	}
	// Each stack's inventory is read by its name, never found by listing
	// the inventory namespace's ConfigMaps whole (cli-utils' label
	// strategy): right after the lock is written, that LIST waits for the
	// API server's cache.
	if n := slices.Index(c.full, testenv.VerbList+" /api/v1/namespaces/"+inventory.Namespace+"/configmaps"); n >= 0 {
		t.Errorf("%s: the inventories were listed, not read by name", c.full[n])
	}
	// The environment's namespaces do not exist yet: nothing in them is
	// read (the namespaces themselves are, once each).
	for _, r := range c.reads {
		if strings.Contains(r, "/namespaces/apps-"+env+"/") || strings.Contains(r, "/namespaces/data-"+env+"/") {
			t.Errorf("%s: a read in a namespace the run creates", r)
		}
	}
}

// TestUpdateRequests counts, at the fault proxy, the writes of applies
// that change objects the stack already owns: one server-side apply PATCH
// per changed object and no dry run. A Pod is never proven unchanged on
// the client (built-in admission mutates Pods on update), so it is sent
// each time; the server leaves it as it was, and apply reports it
// unchanged.
func TestUpdateRequests(t *testing.T) {
	p, kc := proxyFor(t)
	env := uniqueEnv("update")
	const n = 20
	pod := "    - apiVersion: v1\n      kind: Pod\n      metadata: {name: web}\n" +
		"      spec: {containers: [{name: web, image: \"busybox:1.37.0@sha256:0000000000000000000000000000000000000000000000000000000000000000\"}]}\n"
	tree := func(value string) string {
		return writeTree(t, map[string]string{"cluster.yaml": clusterYAML(env), "web.yaml": component("web", "L4", env, pod+configMaps(n, value))})
	}
	apply := func(dir string) (requestCounts, string) {
		t.Helper()
		var c requestCounts
		c.count(t, p)
		code, stdout, stderr := kcloud(t, "apply", dir, "--env", env, "--kubeconfig", kc, "--context", "proxy", "--wait=false")
		if code != 0 {
			t.Fatalf("apply: exit %d\n%s%s", code, stdout, stderr)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		return requestCounts{applies: c.applies, dryRuns: c.dryRuns, other: c.other, writes: slices.Clone(c.writes)}, stdout
	}
	apply(tree("v1"))
	for _, tc := range []struct {
		value            string
		applies          int
		configured, same string
	}{
		// Every ConfigMap changes, and the Pod is sent.
		{value: "v2", applies: n + 1, configured: fmt.Sprint(n), same: "2"},
		// Nothing changes but the Pod, which is sent and left as it was.
		{value: "v2", applies: 1, configured: "0", same: fmt.Sprint(n + 2)},
	} {
		c, stdout := apply(tree(tc.value))
		if c.applies != tc.applies || c.dryRuns != 0 || c.other != 0 {
			t.Errorf("value %s: %d applies, %d dry runs, %d other writes; want %d applies (the changed objects and the Pod), no dry run\n%s",
				tc.value, c.applies, c.dryRuns, c.other, tc.applies, strings.Join(c.writes, "\n"))
		}
		var row []string
		for _, line := range strings.Split(stdout, "\n") {
			if f := strings.Fields(line); len(f) > 3 && f[0] == "l4-"+env {
				row = f
			}
		}
		if len(row) < 4 || row[2] != tc.configured || row[3] != tc.same {
			t.Errorf("value %s: summary row %q, want %s configured and %s unchanged\n%s", tc.value, row, tc.configured, tc.same, stdout)
		}
	}
}

// TestInvalidSpecsOnlyReadTheAPI: an online command reads the cluster
// while its specs are loaded and checked (discovery, the CRDs, the
// mutating admission configuration); when the specs turn out invalid it
// stops with their error, and nothing but those reads reached the server.
func TestInvalidSpecsOnlyReadTheAPI(t *testing.T) {
	p, kc := proxyFor(t)
	env := uniqueEnv("invalid")
	objects := configMaps(3, "v") + "    - apiVersion: v1\n      kind: ConfigMap\n      metadata: {name: bad}\n      data: {value: 1}\n"
	dir := writeTree(t, map[string]string{"cluster.yaml": clusterYAML(env), "web.yaml": component("web", "L4", env, objects)})
	var c requestCounts
	c.count(t, p)
	for _, args := range [][]string{{"apply", "--wait=false"}, {"diff"}, {"status"}} {
		code, stdout, stderr := kcloud(t, append(args, dir, "--env", env, "--kubeconfig", kc, "--context", "proxy")...)
		if code == 0 || !strings.Contains(stderr, "web.yaml:") {
			t.Errorf("%s: exit %d, want an error naming web.yaml\n%s%s", args[0], code, stdout, stderr)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t.Logf("%d reads, %d writes", len(c.reads), len(c.writes))
	if len(c.writes) > 0 {
		t.Errorf("writes sent for invalid specs:\n%s", strings.Join(c.writes, "\n"))
	}
	for _, r := range c.reads {
		path := strings.Fields(r)[1]
		switch {
		case path == "/api" || path == "/apis" || strings.Count(path, "/") <= 3 && strings.HasPrefix(path, "/api"): // discovery
		case path == "/apis/apiextensions.k8s.io/v1/customresourcedefinitions":
		case strings.HasPrefix(path, "/apis/admissionregistration.k8s.io/") && strings.Contains(path, "/mutating"):
		default:
			t.Errorf("%s: read before the specs were valid", r)
		}
	}
}

// denyValue installs a ValidatingAdmissionPolicy (CEL, no webhook) that
// rejects ConfigMaps whose data.value is value, and waits until the API
// server enforces it.
func denyValue(t *testing.T, value string) {
	t.Helper()
	cs := typed(t)
	ctx := context.Background()
	fail := admissionv1.Fail
	policy := &admissionv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "deny-" + value},
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: &fail,
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionv1.RuleWithOperations{
					Operations: []admissionv1.OperationType{admissionv1.Create, admissionv1.Update},
					Rule:       admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}},
				},
			}}},
			Validations: []admissionv1.Validation{{
				Expression: "!has(object.data) || !('value' in object.data) || object.data.value != '" + value + "'",
				Message:    "the value " + value + " is not allowed here",
			}},
		},
	}
	binding := &admissionv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "deny-" + value},
		Spec:       admissionv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: policy.Name, ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny}},
	}
	if _, err := cs.AdmissionregistrationV1().ValidatingAdmissionPolicies().Create(ctx, policy, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cs.AdmissionregistrationV1().ValidatingAdmissionPolicies().Delete(ctx, policy.Name, metav1.DeleteOptions{})
	})
	if _, err := cs.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cs.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Delete(ctx, binding.Name, metav1.DeleteOptions{})
	})
	probe := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: "default"}, Data: map[string]string{"value": value}}
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().ConfigMaps("default").Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return apierrors.IsInvalid(err) || apierrors.IsForbidden(err), nil
	})
	if err != nil {
		t.Fatalf("the policy is not enforced: %v", err)
	}
}

// TestRejectedObjectUndoesTheRun: in a fresh environment (its L3 and L4
// stacks and namespaces new), an object an admission policy rejects stops
// the run naming its file:line, and nothing of the run's other objects is
// left in the cluster but the namespaces it created; the inventories list
// only those. The fixed specs then apply and converge.
func TestRejectedObjectUndoesTheRun(t *testing.T) {
	env := uniqueEnv("reject")
	bad := "rejected-" + env
	denyValue(t, bad)
	objs := configMaps(5, "ok")
	objs = strings.Replace(objs, "name: cm-002}\n      data: {value: \"ok\"}", "name: cm-002}\n      data: {value: \""+bad+"\"}", 1)
	if !strings.Contains(objs, bad) {
		t.Fatal("the tree has no rejected object")
	}
	files := map[string]string{"cluster.yaml": clusterYAML(env), "data.yaml": component("data", "L3", env, configMaps(3, "data")), "web.yaml": component("web", "L4", env, objs)}
	code, stdout, stderr := kcLive(t, "apply", writeTree(t, files), "--env", env, "--wait=false")
	if code == 0 {
		t.Fatalf("apply with a rejected object: exit 0\n%s", stdout)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`web\.yaml:\d+`), regexp.MustCompile("ConfigMap apps-" + env + "/cm-002"),
		regexp.MustCompile("rejected by the API server"), regexp.MustCompile(`undone: \d+ object`),
	} {
		if !want.MatchString(stderr) {
			t.Errorf("the error lacks %q:\n%s", want, stderr)
		}
	}
	cs := typed(t)
	for _, ns := range []string{"data-" + env, "apps-" + env} {
		left, err := cs.CoreV1().ConfigMaps(ns).List(context.Background(), metav1.ListOptions{LabelSelector: inventory.ManagedByLabel + "=" + inventory.ManagedBy})
		if err != nil {
			t.Fatal(err)
		}
		for _, cm := range left.Items {
			t.Errorf("left in the cluster after the rejection: ConfigMap %s/%s", ns, cm.Name)
		}
		for _, stack := range []string{"l3-" + env, "l4-" + env} {
			ids, _, err := inventory.Get(context.Background(), cs, stack)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				if id.GroupKind.Kind != "Namespace" {
					t.Errorf("inventory of %s still lists %s", stack, id)
				}
			}
		}
	}
	files["web.yaml"] = component("web", "L4", env, configMaps(5, "ok"))
	fixed := writeTree(t, files)
	if code, stdout, stderr := kcLive(t, "apply", fixed, "--env", env, "--wait=false"); code != 0 {
		t.Fatalf("apply of the fixed specs: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, stderr := kcLive(t, "diff", fixed, "--env", env); code != 0 {
		t.Errorf("diff after the fixed apply: exit %d, want 0\n%s%s", code, stdout, stderr)
	}
	// Updates are put back: every ConfigMap changes, one is rejected.
	changed := strings.ReplaceAll(configMaps(5, "new"), "name: cm-004}\n      data: {value: \"new\"}", "name: cm-004}\n      data: {value: \""+bad+"\"}")
	files["web.yaml"] = component("web", "L4", env, changed)
	if code, _, stderr := kcLive(t, "apply", writeTree(t, files), "--env", env, "--wait=false"); code == 0 || !strings.Contains(stderr, "cm-004") {
		t.Fatalf("apply of changes with a rejected one: exit %d, want the rejection of cm-004\n%s", code, stderr)
	}
	for i := range 4 {
		if got := configMapValue(t, "apps-"+env, fmt.Sprintf("cm-%03d", i)); got != "ok" {
			t.Errorf("cm-%03d: value %q after the rejected run, want it put back to ok", i, got)
		}
	}
	if code, stdout, stderr := kcLive(t, "diff", fixed, "--env", env); code != 0 {
		t.Errorf("diff of the fixed specs after the rejected run: exit %d, want 0 (everything put back)\n%s%s", code, stdout, stderr)
	}
}
