package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/cache"
	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/inventory"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/secret"
	"kcloud.dev/kcloud/pkg/spec"
)

// crashLockDuration is the apply lock's duration in the runs the crash loop
// kills: the next apply watches the Lease a killed run left for this long,
// unrenewed, then takes it over, as users' next CI run does after 30 s.
const crashLockDuration = 3 * time.Second

// crashState is a spec tree the crash loop applies, and what it renders.
type crashState struct {
	name string
	dir  string
	// sel selects stacks (--env E); flags are the apply's own
	// (--wait=false, --allow-empty).
	sel, flags []string
	// stacks are the rendered objects of the selected stacks, by stack;
	// protected are those pruning detaches rather than deletes.
	stacks    map[string][]change.Ref
	protected map[change.Ref]bool
}

// killPoint is where a run is killed: when its hook fires.
type killPoint struct {
	name string
	hook testenv.Hook
}

// crashStep applies a state, kills the run at a point, and repairs it.
type crashStep struct {
	to   *crashState
	kill killPoint
}

// crashRig is an API server behind a fault proxy that kills kcloud at a
// chosen request, and what the loop has applied to it so far.
type crashRig struct {
	proxy  *testenv.FaultProxy
	kc     string // a kubeconfig through the proxy
	cs     kubernetes.Interface
	dyn    dynamic.Interface
	mapper meta.ResettableRESTMapper
	// ever is every object a state of the loop rendered, and whether
	// pruning detaches it.
	ever  map[change.Ref]bool
	stats crashStats
}

// crashStats count kill points for the README's Reliability table.
type crashStats struct {
	tried, repaired int
	killed, repair  time.Duration
}

func newCrashRig(t *testing.T, cfg *rest.Config) *crashRig {
	t.Helper()
	proxy, err := testenv.NewFaultProxy(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	kc := t.TempDir() + "/kubeconfig"
	if err := proxy.WriteKubeconfig(kc); err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	return &crashRig{
		proxy:  proxy,
		kc:     kc,
		cs:     cs,
		dyn:    dynamic.NewForConfigOrDie(cfg),
		mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(cs.Discovery())),
		ever:   map[change.Ref]bool{},
	}
}

// newCrashState renders dir as kcloud does, with the selection of args.
func newCrashState(t *testing.T, name, dir string, sel []string, flags ...string) *crashState {
	t.Helper()
	tree, diags, err := spec.Load(context.Background(), []string{dir})
	if err != nil || diags.HasErrors() {
		t.Fatalf("load %s: %v %v", dir, err, diags)
	}
	opts := render.Options{Getenv: os.LookupEnv, Fetcher: &cache.Fetcher{Dir: cache.Dir{Path: os.Getenv(cache.EnvDir)}}, Decrypt: secret.Decrypt,
		Charts: sharedChartSource(t, tree)}
	if len(sel) == 2 && sel[0] == "--env" {
		opts.Env = sel[1]
	}
	res, diags := render.Render(context.Background(), tree, opts)
	if diags.HasErrors() {
		t.Fatalf("render %s: %v", dir, diags)
	}
	// Chart hooks are not kept objects: apply runs them around their chart
	// and deletes them by their policy (cert-manager's startupapicheck).
	res = res.WithoutHooks()
	s := &crashState{name: name, dir: dir, sel: sel, flags: flags, stacks: map[string][]change.Ref{}, protected: map[change.Ref]bool{}}
	for _, st := range res.Stacks {
		for _, o := range st.Unstructured() {
			id := change.RefOf(o)
			s.stacks[st.Name] = append(s.stacks[st.Name], id)
			s.protected[id] = tree.Tables.Retention.Protects(o.GetKind(), o.GetAnnotations())
		}
	}
	return s
}

// args are the arguments of a kcloud command on s through kubeconfig kc.
func (s *crashState) args(cmd, kc string) []string {
	args := append([]string{cmd, s.dir, "--kubeconfig", kc, "--context", "proxy", "--log-format", "json"}, s.sel...)
	if cmd == "apply" {
		args = append(args, s.flags...)
	}
	return args
}

// apply applies a state without a kill: the loop's starting points.
func (r *crashRig) apply(t *testing.T, s *crashState) {
	t.Helper()
	r.learn(s)
	if code, stdout, stderr := r.kcloud(t, "apply", s); code != 0 {
		t.Fatalf("apply %s: exit %d\n%s\n%s", s.name, code, stdout, tail(stderr))
	}
	r.checkConverged(t, s)
}

func (r *crashRig) learn(s *crashState) {
	for id, p := range s.protected {
		r.ever[id] = p
	}
}

// kcloud runs a command on a state in this process, through the proxy.
func (r *crashRig) kcloud(t *testing.T, cmd string, s *crashState) (int, string, string) {
	t.Helper()
	return kcloud(t, s.args(cmd, r.kc)...)
}

// loop runs the steps in order; under -short, the first short ones.
func (r *crashRig) loop(t *testing.T, steps []crashStep, short int) {
	t.Helper()
	if testing.Short() {
		steps = steps[:short]
	}
	for i, s := range steps {
		if !t.Run(fmt.Sprintf("%02d %s", i, s.kill.name), func(t *testing.T) { r.step(t, s) }) {
			t.FailNow()
		}
	}
}

// step runs one kill point: an apply of step.to killed with SIGKILL when
// the point's hook fires, then one more apply, which must converge.
func (r *crashRig) step(t *testing.T, step crashStep) {
	t.Helper()
	r.learn(step.to)
	r.stats.tried++
	start := time.Now()
	if !r.killedRun(t, step) {
		return
	}
	if held, err := inventory.Held(context.Background(), r.cs); err != nil || held == nil {
		t.Fatalf("the killed run left no lock (%v): the next apply does not go through taking it over", err)
	}
	r.checkRecorded(t, step.to)
	killed := time.Since(start)

	start = time.Now()
	code, stdout, stderr := r.kcloud(t, "apply", step.to)
	if code != 0 {
		t.Fatalf("the apply after the kill: exit %d\n%s\n%s", code, stdout, tail(stderr))
	}
	repair := time.Since(start)
	if code, stdout, stderr := r.kcloud(t, "diff", step.to); code != 0 {
		t.Errorf("diff after the repair: exit %d, want 0 (live equals rendered)\n%s\n%s", code, tail(stdout), tail(stderr))
	}
	r.checkConverged(t, step.to)
	if held, err := inventory.Held(context.Background(), r.cs); err != nil || held != nil {
		t.Errorf("after the repair the lock is still held (%v): %v", err, held)
	}
	if !t.Failed() {
		r.stats.repaired++
		r.stats.killed += killed
		r.stats.repair += repair
	}
}

// killedRun runs kcloud apply as a process and kills it when the step's
// hook fires. It fails the test when the run ended before that: a kill
// that would have landed after the run finished.
func (r *crashRig) killedRun(t *testing.T, step crashStep) bool {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := execCommand(exe, step.to.args("apply", r.kc)...)
	cmd.Env = append(cmd.Env, "KCLOUD_TEST_LOCK_DURATION="+crashLockDuration.String())
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	started, exited := make(chan struct{}), make(chan struct{})
	var fired atomic.Bool
	var at string
	h := step.kill.hook
	h.Func = func(req *http.Request) {
		<-started
		at = req.Method + " " + req.URL.Path
		fired.Store(true)
		_ = cmd.Process.Kill()
		<-exited
	}
	remove := r.proxy.OnRequest(h)
	defer remove()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	close(started)
	go func() { _ = cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(3 * time.Minute):
		_ = cmd.Process.Kill()
		<-exited
		t.Fatalf("the apply to be killed at %q ran for 3 minutes\n%s", step.kill.name, tail(out.String()))
	}
	if !fired.Load() {
		t.Fatalf("kill point %q never came: the apply ended first (%v), the kill would have landed after the run\n%s", step.kill.name, cmd.ProcessState, tail(out.String()))
		return false
	}
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("kill point %q: the apply ended with %v, not by SIGKILL\n%s", step.kill.name, cmd.ProcessState, tail(out.String()))
	}
	t.Logf("killed at %s", at)
	return true
}

// syncBuffer is a bytes.Buffer for a process's stdout and stderr at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// liveObject is a kcloud object found in the cluster.
type liveObject struct {
	id    change.Ref
	owner string // its owning-inventory annotation
}

// live lists kcloud's objects (its managed-by label) of every kind the loop
// rendered, in the namespaces it rendered into, and the cluster-scoped
// objects it rendered; inventories are not among them.
func (r *crashRig) live(t *testing.T) []liveObject {
	t.Helper()
	r.mapper.Reset()
	kinds := map[schema.GroupKind]bool{}
	namespaces := map[string]bool{}
	for id := range r.ever {
		kinds[id.GroupKind] = true
		namespaces[id.Namespace] = true
	}
	var out []liveObject
	for gk := range kinds {
		m, err := r.mapper.RESTMapping(gk)
		if meta.IsNoMatchError(err) {
			continue // a CRD that is gone, and its objects with it
		}
		if err != nil {
			t.Fatal(err)
		}
		list, err := r.dyn.Resource(m.Resource).List(context.Background(), metav1.ListOptions{LabelSelector: inventory.ManagedByLabel + "=" + inventory.ManagedBy})
		if err != nil {
			t.Fatal(err)
		}
		for i := range list.Items {
			o := &list.Items[i]
			id := change.RefOf(o)
			if _, ours := r.ever[id]; !ours && (o.GetNamespace() == "" || !namespaces[o.GetNamespace()]) {
				continue // another test's
			}
			if o.GetNamespace() == inventory.Namespace && strings.HasPrefix(o.GetName(), inventory.NamePrefix) {
				continue
			}
			out = append(out, liveObject{id: id, owner: o.GetAnnotations()[inventory.OwningAnnotation]})
		}
	}
	return out
}

// inventories returns which inventories list each object.
func (r *crashRig) inventories(t *testing.T) map[change.Ref][]string {
	t.Helper()
	stacks, err := inventory.List(context.Background(), r.cs)
	if err != nil {
		t.Fatal(err)
	}
	out := map[change.Ref][]string{}
	for _, s := range stacks {
		for _, id := range s.Objects {
			out[id] = append(out[id], s.Name)
		}
	}
	return out
}

// checkRecorded checks what a killed run left: every object it applied is
// in the inventory its annotation names (the README's promise: a killed
// apply has recorded everything it created in the inventory first).
func (r *crashRig) checkRecorded(t *testing.T, s *crashState) {
	t.Helper()
	listed := r.inventories(t)
	for _, o := range r.live(t) {
		if o.owner != "" && !inStack(listed[o.id], o.owner) {
			t.Errorf("after the kill: %s carries inventory %s but is listed in %v", o.id, o.owner, listed[o.id])
		}
	}
}

func inStack(stacks []string, owner string) bool {
	for _, s := range stacks {
		if inventory.ID(s) == owner {
			return true
		}
	}
	return false
}

// checkConverged checks that the cluster holds exactly what s renders:
// every kcloud object is listed in exactly one inventory, the one its
// annotation names; every inventory entry exists; nothing is orphaned;
// objects are detached (in the cluster, in no inventory) only when a
// state rendered them and s no longer does and pruning protects them;
// anything else s no longer renders is gone.
func (r *crashRig) checkConverged(t *testing.T, s *crashState) {
	t.Helper()
	listed := r.inventories(t)
	rendered := map[change.Ref]string{}
	for stack, ids := range s.stacks {
		for _, id := range ids {
			rendered[id] = stack
		}
	}
	seen := map[change.Ref]bool{}
	for _, o := range r.live(t) {
		seen[o.id] = true
		stacks := listed[o.id]
		switch {
		case len(stacks) > 1:
			t.Errorf("%s is listed in %d inventories: %v", o.id, len(stacks), stacks)
		case o.owner == "" && len(stacks) > 0:
			t.Errorf("%s is listed in inventory %v but carries no inventory annotation", o.id, stacks)
		case o.owner == "" && rendered[o.id] != "":
			t.Errorf("%s is rendered into %s but detached", o.id, rendered[o.id])
		case o.owner == "" && !r.ever[o.id]:
			t.Errorf("%s is detached but pruning does not protect it", o.id)
		case o.owner != "" && len(stacks) == 0:
			t.Errorf("%s is orphaned: it carries inventory %s and no inventory lists it", o.id, o.owner)
		case o.owner != "" && inventory.ID(stacks[0]) != o.owner:
			t.Errorf("%s carries inventory %s but is listed in %s", o.id, o.owner, stacks[0])
		case o.owner != "" && rendered[o.id] == "" && r.ever[o.id]:
			t.Errorf("%s is no longer rendered, but still in inventory %s instead of detached", o.id, stacks[0])
		}
	}
	for id, stack := range rendered {
		if !seen[id] {
			t.Errorf("%s is rendered into %s but missing", id, stack)
		} else if !inStack(listed[id], inventory.ID(stack)) {
			t.Errorf("%s is rendered into %s but listed in %v", id, stack, listed[id])
		}
	}
	for id, stacks := range listed {
		if _, ours := r.ever[id]; ours && !seen[id] {
			t.Errorf("inventory %v lists %s, which does not exist", stacks, id)
		}
	}
	for id, protected := range r.ever {
		if rendered[id] != "" {
			continue
		}
		switch exists := r.exists(t, id); {
		case protected && !exists:
			t.Errorf("%s was deleted; pruning must detach it", id)
		case !protected && exists:
			t.Errorf("%s is no longer rendered but still exists", id)
		}
	}
}

// exists reports whether id is in the cluster.
func (r *crashRig) exists(t *testing.T, id change.Ref) bool {
	t.Helper()
	m, err := r.mapper.RESTMapping(id.GroupKind)
	if meta.IsNoMatchError(err) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	var ri dynamic.ResourceInterface = r.dyn.Resource(m.Resource)
	if id.Namespace != "" {
		ri = r.dyn.Resource(m.Resource).Namespace(id.Namespace)
	}
	_, err = ri.Get(context.Background(), id.Name, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

// Kill points, by request.

// nthApply fires at the nth server-side apply of an object (not a dry run).
func nthApply(n int, after bool) testenv.Hook {
	return testenv.Hook{Verbs: []string{testenv.VerbPatch}, N: n, After: after, Match: func(r *http.Request) bool {
		return testenv.IsApplyPatch(r) && !testenv.IsDryRun(r)
	}}
}

// nthDelete fires at the nth delete of an object (not the lock's).
func nthDelete(n int, after bool) testenv.Hook {
	return testenv.Hook{Verbs: []string{testenv.VerbDelete}, N: n, After: after, Match: notLock}
}

// nthInventoryWrite fires at the nth write of an inventory ConfigMap.
func nthInventoryWrite(n int, after bool) testenv.Hook {
	return testenv.Hook{N: n, After: after, Match: isInventoryWrite}
}

// nthOtherWrite fires at the nth write that is neither a server-side apply
// nor the lock's: the detach and reattach annotations, abandoned objects.
func nthOtherWrite(verb string, n int, after bool) testenv.Hook {
	return testenv.Hook{Verbs: []string{verb}, N: n, After: after, Match: func(r *http.Request) bool {
		return notLock(r) && !testenv.IsApplyPatch(r) && !testenv.IsDryRun(r) && !strings.Contains(r.URL.Path, "/configmaps/"+inventory.NamePrefix)
	}}
}

// duringWait fires at the first list of ns after the second inventory
// write: the wait for the objects cli-utils did not apply. The request is
// never sent.
func duringWait(ns string) testenv.Hook {
	inventoryWrites := 0
	return testenv.Hook{Match: func(r *http.Request) bool {
		if isInventoryWrite(r) {
			inventoryWrites++
			return false
		}
		return inventoryWrites >= 2 && testenv.RequestVerb(r) == testenv.VerbList && strings.Contains(r.URL.Path, "/namespaces/"+ns+"/")
	}}
}

func isInventoryWrite(r *http.Request) bool {
	return slices.Contains(testenv.WriteVerbs, testenv.RequestVerb(r)) && !testenv.IsDryRun(r) &&
		strings.Contains(r.URL.Path, "/namespaces/"+inventory.Namespace+"/configmaps")
}

func notLock(r *http.Request) bool { return !strings.Contains(r.URL.Path, "/leases") }

// report logs the loop's figures (the README's Reliability table).
func (r *crashRig) report(t *testing.T, tree string) {
	t.Helper()
	if r.stats.repaired == 0 {
		return
	}
	t.Logf("crash loop on %s: %d kill points tried, %d repaired; killed runs %s, repairs %s on average", tree, r.stats.tried, r.stats.repaired,
		(r.stats.killed / time.Duration(r.stats.repaired)).Round(10*time.Millisecond), (r.stats.repair / time.Duration(r.stats.repaired)).Round(10*time.Millisecond))
}
