package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/inventory"
)

// TestMain shares one test API server between the package's tests. With
// KCLOUD_TEST_MAIN=1 the test binary is kcloud itself: the SIGKILL test
// runs it as a separate process; KCLOUD_TEST_LOCK_DURATION shortens its
// apply lock (the crash loop's killed runs).
func TestMain(m *testing.M) {
	if os.Getenv("KCLOUD_TEST_MAIN") == "1" {
		if d, err := time.ParseDuration(os.Getenv("KCLOUD_TEST_LOCK_DURATION")); err == nil {
			lockDuration = d
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	code := testenv.Run(m)
	if kubeconfigOnce.path != "" {
		_ = os.RemoveAll(filepath.Dir(kubeconfigOnce.path))
	}
	os.Exit(code)
}

var kubeconfigOnce struct {
	sync.Once
	path string
	err  error
}

// kubeconfig returns the path of a kubeconfig for the shared API server.
func kubeconfig(t testing.TB) string {
	t.Helper()
	srv := testenv.Shared(t)
	kubeconfigOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kcloud-kubeconfig-")
		if err != nil {
			kubeconfigOnce.err = err
			return
		}
		kubeconfigOnce.path = filepath.Join(dir, "kubeconfig")
		kubeconfigOnce.err = srv.WriteKubeconfig(kubeconfigOnce.path)
	})
	if kubeconfigOnce.err != nil {
		t.Fatal(kubeconfigOnce.err)
	}
	return kubeconfigOnce.path
}

func typed(t testing.TB) kubernetes.Interface {
	t.Helper()
	return kubernetes.NewForConfigOrDie(testenv.Shared(t).Config())
}

// kcLive runs kcloud against the shared API server.
func kcLive(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return kcloud(t, append(args, "--kubeconfig", kubeconfig(t), "--context", testContext, "--log-format", "json")...)
}

// testContext is the context of the test API server's kubeconfig (what
// controller-runtime's envtest names it). Its server, 127.0.0.1, is not the
// test trees' cluster: the tests name the context, as a user who means it
// does, to get past the wrong-cluster guard.
const testContext = "envtest"

// writeTree writes a spec tree and returns its directory.
func writeTree(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var envCounter struct {
	sync.Mutex
	n int
}

// uniqueEnv names a fresh environment, so that a test has stacks and
// namespaces of its own on the shared server.
func uniqueEnv(prefix string) string {
	envCounter.Lock()
	defer envCounter.Unlock()
	envCounter.n++
	return fmt.Sprintf("%s%d", prefix, envCounter.n)
}

// clusterYAML is a Cluster with staging, prod and the extra environments.
func clusterYAML(envs ...string) string {
	var b strings.Builder
	b.WriteString(`apiVersion: kcloud.dev/v1alpha1
kind: Cluster
metadata:
  name: test
spec:
  k3s: {channel: stable}
  nodes:
    - {name: n1, host: 10.0.0.1, role: server}
  storage: {path: /data}
  domains: {internal: int.example.com, base: example.com}
  environments:
    - {name: staging, prefix: x-staging}
    - {name: prod, prefix: ""}
`)
	for _, e := range envs {
		fmt.Fprintf(&b, "    - {name: %s, prefix: %s}\n", e, e)
	}
	return b.String()
}

// component is an L4 component in env only, with inline objects (YAML list
// items, indented by 4).
func component(name, layer, env, objects string) string {
	return fmt.Sprintf(`apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata:
  name: %s
spec:
  layer: %s
  envs: [%s]
  objects:
%s`, name, layer, env, objects)
}

func configMaps(n int, value string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "    - apiVersion: v1\n      kind: ConfigMap\n      metadata: {name: cm-%03d}\n      data: {value: %q}\n", i, value)
	}
	return b.String()
}

func TestApplyClashWithUnmanagedObjectNeedsAdopt(t *testing.T) {
	env := uniqueEnv("clash")
	ns := "apps-" + env
	dir := writeTree(t, map[string]string{
		"cluster.yaml": clusterYAML(env),
		"web.yaml":     component("web", "L4", env, configMaps(2, "ours")),
	})
	if code, _, stderr := kcLive(t, "apply", dir, "--env", env, "--wait=false"); code != 0 {
		t.Fatalf("first apply: exit %d\n%s", code, stderr)
	}
	// Someone creates web-settings by hand; then the specs add one too.
	cs := typed(t)
	if _, err := cs.CoreV1().ConfigMaps(ns).Create(context.Background(), configMap(ns, "web-settings", "theirs"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	withClash := writeTree(t, map[string]string{
		"cluster.yaml": clusterYAML(env),
		"web.yaml": component("web", "L4", env, configMaps(2, "ours")+
			"    - apiVersion: v1\n      kind: ConfigMap\n      metadata: {name: web-settings}\n      data: {value: ours}\n"),
	})

	code, stdout, stderr := kcLive(t, "diff", withClash, "--env", env)
	if code != 1 || !strings.Contains(stdout, "not managed by kcloud") {
		t.Errorf("diff: exit %d, want 1 and a note that web-settings is not ours:\n%s\n%s", code, stdout, stderr)
	}
	code, _, stderr = kcLive(t, "apply", withClash, "--env", env, "--wait=false")
	if code == 0 {
		t.Fatalf("apply over an unmanaged object: exit 0\n%s", stderr)
	}
	if !strings.Contains(stderr, "ConfigMap "+ns+"/web-settings") || !strings.Contains(stderr, "pass --adopt") {
		t.Errorf("apply error does not name the object and --adopt:\n%s", stderr)
	}
	if got := configMapValue(t, ns, "web-settings"); got != "theirs" {
		t.Errorf("unmanaged object overwritten: value = %q", got)
	}

	if code, _, stderr := kcLive(t, "apply", withClash, "--env", env, "--wait=false", "--adopt"); code != 0 {
		t.Fatalf("apply --adopt: exit %d\n%s", code, stderr)
	}
	if got := configMapValue(t, ns, "web-settings"); got != "ours" {
		t.Errorf("adopted object: value = %q, want ours", got)
	}
	if code, stdout, _ := kcLive(t, "diff", withClash, "--env", env); code != 0 {
		t.Errorf("diff after adopting: exit %d\n%s", code, stdout)
	}
}

func TestApplyHeldLockBlocksAndUnlockRemovesIt(t *testing.T) {
	env := uniqueEnv("lock")
	dir := writeTree(t, map[string]string{
		"cluster.yaml": clusterYAML(env),
		"web.yaml":     component("web", "L4", env, configMaps(1, "x")),
	})
	cs := typed(t)
	held, err := inventory.Acquire(context.Background(), cs, inventory.LockOptions{Holder: "alice@laptop pid 42"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = held.Release(context.Background()) })

	code, _, stderr := kcLive(t, "apply", dir, "--env", env, "--wait=false")
	if code == 0 {
		t.Fatal("apply ran while another held the lock")
	}
	for _, want := range []string{"alice@laptop pid 42", "holds the lock", "kcloud unlock"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if _, found, _ := inventory.Get(context.Background(), cs, "l4-"+env); found {
		t.Error("the blocked apply wrote an inventory")
	}
	// A dry run takes no lock.
	if code, _, stderr := kcLive(t, "apply", dir, "--env", env, "--dry-run"); code != 0 {
		t.Errorf("apply --dry-run under a held lock: exit %d\n%s", code, stderr)
	}

	code, stdout, stderr := kcLive(t, "unlock")
	if code != 0 || !strings.Contains(stdout, "alice@laptop pid 42") {
		t.Fatalf("unlock: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, stderr := kcLive(t, "apply", dir, "--env", env, "--wait=false"); code != 0 {
		t.Fatalf("apply after unlock: exit %d\n%s", code, stderr)
	}
	// The apply released its lock.
	if h, err := inventory.Held(context.Background(), cs); err != nil || h != nil {
		t.Errorf("lock after apply: %v, %v", h, err)
	}
	if code, stdout, _ := kcLive(t, "unlock"); code != 0 || !strings.Contains(stdout, "not locked") {
		t.Errorf("unlock with no lock: exit %d %q", code, stdout)
	}
}

func TestApplyReleasesLockOnInterrupt(t *testing.T) {
	env := uniqueEnv("intr")
	dir := writeTree(t, map[string]string{
		"cluster.yaml": clusterYAML(env),
		// A Deployment never becomes ready on the test API server: the
		// apply waits until it is interrupted.
		"web.yaml": component("web", "L4", env, deployment("web")),
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	// The event that says the Deployment was applied: the apply waits for
	// it to become ready from then on.
	applied := &eventWaiter{want: []string{`"kind":"Deployment"`, `"status":"created"`}, seen: make(chan struct{})}
	go func() {
		done <- run(ctx, []string{"apply", dir, "--env", env, "--timeout", "1m", "--kubeconfig", kubeconfig(t), "--context", testContext, "--log-format", "json"}, io.Discard, applied)
	}()
	cs := typed(t)
	// Interrupt it while it waits for the Deployment.
	select {
	case <-applied.seen:
	case code := <-done:
		t.Fatalf("apply ended (exit %d) before it applied the Deployment", code)
	}
	if h, err := inventory.Held(context.Background(), cs); err != nil || h == nil {
		t.Fatalf("lock while waiting: %v, %v", h, err)
	}
	cancel()
	if code := <-done; code == 0 {
		t.Errorf("interrupted apply exited 0")
	}
	if h, err := inventory.Held(context.Background(), cs); err != nil || h != nil {
		t.Errorf("lock after Ctrl-C: %v, %v", h, err)
	}
}

func deployment(name string) string {
	return fmt.Sprintf(`    - apiVersion: apps/v1
      kind: Deployment
      metadata: {name: %s}
      spec:
        replicas: 1
        selector: {matchLabels: {app: %s}}
        template:
          metadata: {labels: {app: %s}}
          spec:
            containers: [{name: web, image: nginx:1.27}]
`, name, name, name)
}

func TestApplyWaitsForHealthAndTimesOut(t *testing.T) {
	env := uniqueEnv("wait")
	ns := "apps-" + env
	dir := writeTree(t, map[string]string{
		"cluster.yaml": clusterYAML(env),
		"web.yaml":     component("web", "L4", env, deployment("web")),
	})
	code, _, stderr := kcLive(t, "apply", dir, "--env", env, "--timeout", "2s")
	if code == 0 || !strings.Contains(stderr, "Deployment "+ns+"/web") || !strings.Contains(stderr, "timeout") {
		t.Fatalf("apply of a Deployment that never gets ready: exit %d, want a timeout naming it\n%s", code, stderr)
	}
	// The controller the test server lacks: mark it available.
	cs := typed(t)
	d, err := cs.AppsV1().Deployments(ns).Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d.Status.ObservedGeneration = d.Generation
	d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas = 1, 1, 1, 1
	d.Status.Conditions = []appsv1.DeploymentCondition{
		{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable"},
		{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable"},
	}
	if _, err := cs.AppsV1().Deployments(ns).UpdateStatus(context.Background(), d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := kcLive(t, "apply", dir, "--env", env, "--timeout", "20s"); code != 0 {
		t.Fatalf("apply of a healthy Deployment: exit %d\n%s", code, stderr)
	}
	if code, _, _ := kcLive(t, "apply", dir, "--env", env, "--timeout", "0s"); code != exitUsage {
		t.Errorf("--timeout 0: exit %d, want %d (never infinite)", code, exitUsage)
	}
}

func TestApplyKilledMidwayLeavesNoOrphans(t *testing.T) {
	env := uniqueEnv("kill")
	ns := "apps-" + env
	stack := "l4-" + env
	const n = 300
	dir := writeTree(t, map[string]string{
		"cluster.yaml": clusterYAML(env),
		"many.yaml":    component("many", "L4", env, configMaps(n, "v")),
	})
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := execCommand(exe, "apply", dir, "--env", env, "--wait=false", "--kubeconfig", kubeconfig(t), "--context", testContext, "--log-format", "json")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cs := typed(t)
	waitForConfigMaps(t, ns, 20)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	// Everything the killed apply created is in the inventory.
	ids, found, err := inventory.Get(context.Background(), cs, stack)
	if err != nil || !found {
		t.Fatalf("inventory after SIGKILL: found %v, %v", found, err)
	}
	inInv := map[string]bool{}
	for _, id := range ids {
		inInv[id.GroupKind.Kind+"/"+id.Namespace+"/"+id.Name] = true
	}
	created := liveConfigMaps(t, ns)
	if len(created) == n {
		t.Logf("the apply finished before the kill: the test proves less")
	}
	for _, name := range created {
		if !inInv["ConfigMap/"+ns+"/"+name] {
			t.Errorf("ConfigMap %s/%s was created but is in no inventory", ns, name)
		}
	}

	// The killed run left its lock; unlock clears it at once (the next
	// apply would otherwise take it over once it has gone unrenewed for
	// its 30 s, on the next apply's own clock: pkg/inventory's lock tests).
	if code, stdout, _ := kcLive(t, "unlock"); code != 0 || strings.Contains(stdout, "not locked") {
		t.Fatalf("unlock: exit %d", code)
	}
	if code, _, stderr := kcLive(t, "apply", dir, "--env", env, "--wait=false"); code != 0 {
		t.Fatalf("re-apply: exit %d\n%s", code, stderr)
	}
	if got := len(liveConfigMaps(t, ns)); got != n {
		t.Errorf("after re-apply: %d ConfigMaps, want %d", got, n)
	}
	ids, _, _ = inventory.Get(context.Background(), cs, stack)
	if len(ids) != n+1 { // the ConfigMaps and the namespace
		t.Errorf("inventory lists %d objects, want %d", len(ids), n+1)
	}

	// A smaller plan prunes the rest: no orphans.
	small := writeTree(t, map[string]string{
		"cluster.yaml": clusterYAML(env),
		"many.yaml":    component("many", "L4", env, configMaps(10, "v")),
	})
	if code, _, stderr := kcLive(t, "apply", small, "--env", env, "--wait=false", "--allow-mass-prune"); code != 0 {
		t.Fatalf("apply of the smaller plan: exit %d\n%s", code, stderr)
	}
	if got := len(liveConfigMaps(t, ns)); got != 10 {
		t.Errorf("after pruning: %d ConfigMaps, want 10", got)
	}
}

// liveConfigMaps returns the names of kcloud's ConfigMaps in ns.
func liveConfigMaps(t *testing.T, ns string) []string {
	t.Helper()
	list, err := typed(t).CoreV1().ConfigMaps(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=kcloud"})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, cm := range list.Items {
		out = append(out, cm.Name)
	}
	slices.Sort(out)
	return out
}

// eventWaiter is kcloud's log: it closes seen at the first line that holds
// every string of want.
type eventWaiter struct {
	want []string
	seen chan struct{}
	once sync.Once
}

func (e *eventWaiter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(string(p), "\n") {
		if slices.IndexFunc(e.want, func(w string) bool { return !strings.Contains(line, w) }) < 0 {
			e.once.Do(func() { close(e.seen) })
		}
	}
	return len(p), nil
}

// execCommand runs this test binary as kcloud.
func execCommand(exe string, args ...string) *exec.Cmd {
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "KCLOUD_TEST_MAIN=1")
	return cmd
}

// waitForConfigMaps watches ns until kcloud has created n ConfigMaps
// there, for at most 30 s.
func waitForConfigMaps(t *testing.T, ns string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w, err := typed(t).CoreV1().ConfigMaps(ns).Watch(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=kcloud"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	seen := map[string]bool{}
	for ev := range w.ResultChan() {
		if cm, ok := ev.Object.(*corev1.ConfigMap); ok && ev.Type == watch.Added {
			seen[cm.Name] = true
		}
		if len(seen) >= n {
			return
		}
	}
	t.Fatalf("%d of %d ConfigMaps created in %s within 30s", len(seen), n, ns)
}

func configMap(ns, name, value string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Data:       map[string]string{"value": value},
	}
}

func configMapValue(t *testing.T, ns, name string) string {
	t.Helper()
	cm, err := typed(t).CoreV1().ConfigMaps(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cm.Data["value"]
}

// TestApplyRefusesWhatLooksLikeALostTree: stacks are judged by what their
// components render, not by the namespaces kcloud generates for them.
func TestApplyRefusesWhatLooksLikeALostTree(t *testing.T) {
	env := uniqueEnv("lost")
	ns := "apps-" + env
	full := writeTree(t, map[string]string{
		"cluster.yaml": clusterYAML(env),
		"data.yaml":    component("data", "L3", env, configMaps(1, "kept")),
		"web.yaml":     component("web", "L4", env, configMaps(10, "v")),
	})
	if code, _, stderr := kcLive(t, "apply", full, "--env", env, "--wait=false"); code != 0 {
		t.Fatalf("first apply: exit %d\n%s", code, stderr)
	}
	for _, tc := range []struct {
		name  string
		files map[string]string
		flag  string
		want  string
		live  int // ConfigMaps left in ns after the apply with flag
	}{
		{"no component at all", map[string]string{"cluster.yaml": clusterYAML(env)}, "", "render no component at all", 10},
		{"a stack's components vanished", map[string]string{"cluster.yaml": clusterYAML(env), "data.yaml": component("data", "L3", env, configMaps(1, "kept"))},
			"--allow-empty", "stack l4-" + env + ": no component renders anything into it", 0},
		{"more than half of a stack", map[string]string{"cluster.yaml": clusterYAML(env), "data.yaml": component("data", "L3", env, configMaps(1, "kept")), "web.yaml": component("web", "L4", env, configMaps(4, "v"))},
			"--allow-mass-prune", "apply would delete 6 of the 11 object(s)", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, _, stderr := kcLive(t, "apply", full, "--env", env, "--wait=false", "--allow-empty"); code != 0 {
				t.Fatalf("restore: exit %d\n%s", code, stderr)
			}
			dir := writeTree(t, tc.files)
			code, _, stderr := kcLive(t, "apply", dir, "--env", env, "--wait=false")
			if code != 1 || !strings.Contains(stderr, tc.want) || (tc.flag != "" && !strings.Contains(stderr, "ConfigMap "+ns+"/cm-00")) {
				t.Fatalf("apply: exit %d, want 1 with %q (naming what it would delete)\n%s", code, tc.want, tail(stderr))
			}
			if got := len(liveConfigMaps(t, ns)); got != 10 {
				t.Fatalf("the refused apply left %d ConfigMaps, want 10", got)
			}
			if tc.flag == "" {
				return
			}
			if code, _, stderr := kcLive(t, "apply", dir, "--env", env, "--wait=false", tc.flag); code != 0 {
				t.Fatalf("apply %s: exit %d\n%s", tc.flag, code, stderr)
			}
			if got := len(liveConfigMaps(t, ns)); got != tc.live {
				t.Errorf("after apply %s: %d ConfigMaps, want %d", tc.flag, got, tc.live)
			}
		})
	}
}

// TestTenAppliesAtOnce: ten applies started together, as ten processes;
// exactly one proceeds, the others exit non-zero naming the holder, and
// the inventory is intact.
func TestTenAppliesAtOnce(t *testing.T) {
	env := uniqueEnv("ten")
	ns := "apps-" + env
	dir := writeTree(t, map[string]string{
		"cluster.yaml": clusterYAML(env),
		"many.yaml":    component("many", "L4", env, configMaps(50, "v")),
	})
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		code   int
		stderr string
	}
	// "At once" on a loaded machine: the proxy holds every run's first
	// request for the lock until all ten have sent one.
	proxy, err := testenv.NewFaultProxy(testenv.Shared(t).Config())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := proxy.WriteKubeconfig(kc); err != nil {
		t.Fatal(err)
	}
	all := make(chan struct{})
	arrived := 0
	proxy.Inject(testenv.Rule{Path: "/leases", Times: 10, Fault: testenv.Fault{Hold: all}, When: func(*http.Request) bool {
		if arrived++; arrived == 10 {
			close(all)
		}
		return true
	}})
	results := make(chan result, 10)
	for range 10 {
		cmd := execCommand(exe, "apply", dir, "--env", env, "--wait=false", "--kubeconfig", kc, "--context", "proxy", "--log-format", "json")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			err := cmd.Wait()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				code = -1
			}
			results <- result{code, stderr.String()}
		}()
	}
	var ok, held int
	for range 10 {
		r := <-results
		switch {
		case r.code == 0:
			ok++
		case strings.Contains(r.stderr, "another apply holds the lock") && strings.Contains(r.stderr, " pid "):
			held++
		default:
			t.Errorf("an apply exited %d without naming the holder:\n%s", r.code, tail(r.stderr))
		}
	}
	if ok != 1 || held != 9 {
		t.Errorf("%d applies proceeded and %d were refused, want 1 and 9", ok, held)
	}
	ids, _, err := inventory.Get(context.Background(), typed(t), "l4-"+env)
	if err != nil || len(ids) != 51 {
		t.Errorf("inventory lists %d objects (%v), want 51", len(ids), err)
	}
	if got := len(liveConfigMaps(t, ns)); got != 50 {
		t.Errorf("%d ConfigMaps, want 50", got)
	}
	if code, stdout, _ := kcLive(t, "diff", dir, "--env", env); code != 0 {
		t.Errorf("diff after the applies: exit %d\n%s", code, tail(stdout))
	}
}
