package main

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/inventory"
)

// proxyFor starts a fault proxy in front of the shared API server and
// returns it with a kubeconfig (context "proxy") that reaches it.
func proxyFor(t *testing.T) (*testenv.FaultProxy, string) {
	t.Helper()
	p, err := testenv.NewFaultProxy(testenv.Shared(t).Config())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := p.WriteKubeconfig(kc); err != nil {
		t.Fatal(err)
	}
	return p, kc
}

// transientMix are the faults of TestApplyConvergesUnderTransientWriteFaults,
// in turn: errors the server answers, a refusal with Retry-After, a
// connection dropped before the request got through, and one dropped after
// it landed (its answer lost).
var transientMix = []testenv.Fault{
	{Status: 500},
	{Status: 503},
	{Status: 429, RetryAfter: time.Second},
	{Drop: true},
	{Lost: true},
}

// TestApplyConvergesUnderTransientWriteFaults: with every 5th write failing
// transiently (mixed faults), and the lock's and the inventory's own writes
// losing their answers after landing, one apply reaches the desired state —
// creates, then updates and prunes — and the next diff is empty.
func TestApplyConvergesUnderTransientWriteFaults(t *testing.T) {
	p, kc := proxyFor(t)
	env := uniqueEnv("faults")
	ns := "apps-" + env
	run := func(args ...string) (int, string, string) {
		return kcloud(t, append(args, "--env", env, "--kubeconfig", kc, "--context", "proxy", "--log-format", "json")...)
	}
	first := writeTree(t, map[string]string{"cluster.yaml": clusterYAML(env), "web.yaml": component("web", "L4", env, configMaps(30, "one"))})
	second := writeTree(t, map[string]string{"cluster.yaml": clusterYAML(env), "web.yaml": component("web", "L4", env, configMaps(20, "two"))})
	isInventory := func(r *http.Request) bool { return strings.Contains(r.URL.Path, "/namespaces/kube-system/configmaps") }
	total := 0
	for _, tc := range []struct {
		name string
		dir  string
		want int // ConfigMaps in the inventory, and the namespace
	}{
		{"create 31 objects", first, 31},
		{"update 20, prune 10", second, 21},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p.Reset()
			p.Inject(testenv.Rule{Verbs: []string{testenv.VerbCreate}, Path: "/leases", Times: 1, Fault: testenv.Fault{Lost: true}})
			p.Inject(testenv.Rule{Verbs: []string{testenv.VerbCreate, testenv.VerbUpdate}, When: isInventory, Times: 1, Fault: testenv.Fault{Lost: true}})
			p.Inject(testenv.Rule{Verbs: testenv.WriteVerbs, Every: 5, Faults: transientMix})
			code, stdout, stderr := run("apply", tc.dir, "--wait=false", "--allow-mass-prune")
			if code != 0 {
				t.Fatalf("apply under faults: exit %d\n%s%s", code, stdout, stderr)
			}
			writes, faults := p.Writes(), p.Faults()
			total += faults
			t.Logf("apply: %d writes sent (dry runs included), %d faults injected and survived", writes, faults)
			if faults < writes/5 || faults < len(transientMix)+2 {
				t.Errorf("only %d faults injected in %d writes: the test does not test much", faults, writes)
			}
			p.Reset()
			if code, stdout, stderr := run("diff", tc.dir); code != 0 {
				t.Errorf("diff after the apply: exit %d, want 0 (converged)\n%s%s", code, stdout, stderr)
			}
			objs, found, err := inventory.Get(context.Background(), typed(t), "l4-"+env)
			if err != nil || !found || len(objs) != tc.want {
				t.Errorf("inventory: %d objects (found %v, %v), want %d", len(objs), found, err, tc.want)
			}
			if held, err := inventory.Held(context.Background(), typed(t)); err != nil || held != nil {
				t.Errorf("the lock is still held after the apply: %v %v", held, err)
			}
		})
	}
	cms, err := typed(t).CoreV1().ConfigMaps(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil || len(cms.Items) != 20 { // the test API server runs no controller that adds kube-root-ca.crt
		t.Errorf("namespace %s holds %d ConfigMaps, want 20 (%v)", ns, len(cms.Items), err)
	}
	t.Logf("faults injected and survived: %d", total)
}

// TestApplyGivesUpWhenTheAPIIsDown: with the API server unreachable past
// the retry budget, apply fails naming the server and the budget spent,
// writes nothing, and the next apply converges.
func TestApplyGivesUpWhenTheAPIIsDown(t *testing.T) {
	p, kc := proxyFor(t)
	env := uniqueEnv("down")
	dir := writeTree(t, map[string]string{"cluster.yaml": clusterYAML(env), "web.yaml": component("web", "L4", env, configMaps(3, "one"))})
	run := func(args ...string) (int, string, string) {
		return kcloud(t, append(args, "--env", env, "--kubeconfig", kc, "--context", "proxy", "--log-format", "json", "--api-attempts", "3")...)
	}
	p.Inject(testenv.Rule{Fault: testenv.Fault{Drop: true}}) // every request, until Reset
	start := time.Now()
	code, stdout, stderr := run("apply", dir, "--wait=false")
	took := time.Since(start)
	u, _ := url.Parse(p.URL())
	if code != exitFailed {
		t.Errorf("apply with the API down: exit %d, want %d", code, exitFailed)
	}
	for _, want := range []string{"no answer from the API server " + u.Host, "gave up", "after 3 attempt(s)"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("apply's error lacks %q:\n%s%s", want, stdout, stderr)
		}
	}
	if w := p.Writes(); w != 0 {
		t.Errorf("%d writes reached the proxy", w)
	}
	t.Logf("apply with the API down gave up after %s (3 attempts a request)", took.Round(100*time.Millisecond))
	p.Reset()
	if code, stdout, stderr := run("apply", dir, "--wait=false"); code != 0 {
		t.Fatalf("apply with the API back: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, stderr := run("diff", dir); code != 0 {
		t.Errorf("diff: exit %d, want 0\n%s%s", code, stdout, stderr)
	}
}

// TestWrongClusterGuard: apply refuses a kubeconfig whose server is neither
// the Cluster's apiEndpoint nor a node host — with nothing written — unless
// --context names the context or --allow-other-server is given; diff only
// warns.
func TestWrongClusterGuard(t *testing.T) {
	p, kc := proxyFor(t)
	env := uniqueEnv("guard")
	dir := writeTree(t, map[string]string{"cluster.yaml": clusterYAML(env), "web.yaml": component("web", "L4", env, configMaps(1, "one"))})
	run := func(args ...string) (int, string, string) {
		return kcloud(t, append(args, dir, "--env", env, "--kubeconfig", kc, "--log-format", "json")...)
	}
	u, _ := url.Parse(p.URL())
	code, stdout, stderr := run("apply", "--wait=false")
	if code != exitFailed {
		t.Errorf("apply to another server: exit %d, want %d", code, exitFailed)
	}
	for _, want := range []string{"server 127.0.0.1 (" + p.URL(), `context "proxy"`, "cluster.yaml", "10.0.0.1", "--context", "--allow-other-server", "nothing was written"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the refusal lacks %q:\n%s%s", want, stdout, stderr)
		}
	}
	if w := p.Writes(); w != 0 {
		t.Errorf("%d writes reached %s during a refused apply", w, u.Host)
	}
	for _, flag := range []string{"--context=proxy", "--allow-other-server"} {
		if code, stdout, stderr := run("apply", "--wait=false", flag); code != 0 {
			t.Errorf("apply %s: exit %d\n%s%s", flag, code, stdout, stderr)
		}
	}
	// The node's host is the server: no flag needed.
	local := writeTree(t, map[string]string{"cluster.yaml": strings.Replace(clusterYAML(env), "host: 10.0.0.1", `host: "${KCLOUD_GUARD_HOST}"`, 1), "web.yaml": component("web", "L4", env, configMaps(1, "one"))})
	t.Setenv("KCLOUD_GUARD_HOST", "127.0.0.1")
	if code, stdout, stderr := kcloud(t, "apply", local, "--env", env, "--kubeconfig", kc, "--wait=false"); code != 0 {
		t.Errorf("apply with the server as the node's host (expanded): exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = run("diff")
	if code != 0 || !strings.Contains(stderr, "is not the cluster of") || !strings.Contains(stderr, `"level":"warn"`) {
		t.Errorf("diff against another server: exit %d, want 0 with a warning\n%s%s", code, stdout, stderr)
	}
}
