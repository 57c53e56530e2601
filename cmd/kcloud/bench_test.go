package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"

	"kcloud.dev/kcloud/internal/sopstest"
	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/inventory"
)

// BenchmarkLive times kcloud against kubectl v1.37.2 and against the
// floor (hack/floor: one server-side-apply PATCH per object from 16
// workers, unthrottled; its dry-run variant for diffs), all three as
// processes on the same test API server, field manager kcloud, on the same
// objects: specs/ (diff, no-op apply), and the object mix (mixTree) at
// each size of KCLOUD_BENCH_SIZES (default "1000 4000 10000"): first apply (a
// fresh environment on a fresh API server for each tool and sample), no-op apply, 10 %-changed apply, no-change
// diff, all-changed diff. Each of KCLOUD_BENCH_COUNT samples (default 5)
// runs every measurement once per tool, the tools in turn, starting with
// a different one each sample. With KCLOUD_BENCH_RESULTS set, the medians,
// ratios and the targets are written there as Markdown (hack/bench.sh:
// bench/RESULTS.md). KCLOUD_BIN and KCLOUD_FLOOR name the binaries to time
// (default: built from this tree); KCLOUD_BENCH_PROFILE, a directory, takes
// a CPU profile of every kcloud run into it.
//
//	go test ./cmd/kcloud -run '^$' -bench '^BenchmarkLive$' -benchtime 1x -timeout 0
func BenchmarkLive(b *testing.B) {
	count, sizes := benchSettings(b)
	t := newBenchTools(b)
	key := sopstest.MustKey(b)
	b.Setenv("SOPS_AGE_KEY", key.Identity)
	res := newBenchResults(count)
	for b.Loop() {
		// specs/ first and alone: its diff and apply see every stack's
		// inventory, and the mix's stacks are not in specs/.
		specs := benchSpecsSetup(b, t, res)
		for s := range count {
			specs.sample(b, res, s)
		}
		var mixes []*benchMix
		for _, n := range sizes {
			mixes = append(mixes, benchMixSetup(b, t, res, n, key.Recipient))
		}
		// Sizes inside samples: a run stopped early has as many samples of
		// each, and RESULTS.md holds them.
		for s := range count {
			res.sampleStart()
			for _, m := range mixes {
				m.sample(b, t, res, s)
			}
			res.write(b, t, sizes, s+1)
		}
	}
	fmt.Print(res.markdown(b, t, sizes))
}

func benchSettings(b *testing.B) (count int, sizes []int) {
	count = 5
	if s := os.Getenv("KCLOUD_BENCH_COUNT"); s != "" {
		var err error
		if count, err = strconv.Atoi(s); err != nil || count < 1 {
			b.Fatalf("KCLOUD_BENCH_COUNT=%q: want a positive number", s)
		}
	}
	for _, f := range strings.Fields(cmpOr(os.Getenv("KCLOUD_BENCH_SIZES"), "1000 4000 10000")) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 100 {
			b.Fatalf("KCLOUD_BENCH_SIZES: %q: want numbers of objects, at least 100", f)
		}
		sizes = append(sizes, n)
	}
	return count, sizes
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// The measurements, in the order of the tables.
const (
	mFirst     = "first apply"
	mNoop      = "no-op apply"
	mChange    = "10 %-changed apply"
	mDiffNone  = "no-change diff"
	mDiffAll   = "all-changed diff"
	toolKcloud = "kcloud"
	toolKubect = "kubectl"
	toolFloor  = "floor"
)

var benchToolNames = []string{toolKcloud, toolKubect, toolFloor}

// benchInput is one set of objects: a spec tree and stack selection for
// kcloud, the same objects rendered into a manifest for kubectl and the
// floor.
type benchInput struct {
	dir      string
	sel      []string
	manifest string
}

// benchTools runs kcloud, kubectl and the floor as processes.
type benchTools struct {
	kcloud, floor, kubectl, kubeconfig, context string
}

func newBenchTools(b *testing.B) *benchTools {
	t := &benchTools{kubectl: kubectlPath(b), kubeconfig: kubeconfig(b)}
	// kcloud apply refuses a server that is not the Cluster's unless the
	// context is named: name it.
	cfg, err := clientcmd.LoadFromFile(t.kubeconfig)
	if err != nil {
		b.Fatal(err)
	}
	t.context = cfg.CurrentContext
	t.kcloud = os.Getenv("KCLOUD_BIN")
	t.floor = os.Getenv("KCLOUD_FLOOR")
	dir := b.TempDir()
	for _, x := range []struct {
		path *string
		pkg  string
	}{{&t.kcloud, "./cmd/kcloud"}, {&t.floor, "./hack/floor"}} {
		if *x.path != "" {
			continue
		}
		*x.path = filepath.Join(dir, filepath.Base(x.pkg))
		cmd := exec.Command("go", "build", "-o", *x.path, x.pkg)
		cmd.Dir = moduleRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("go build %s: %v\n%s", x.pkg, err, out)
		}
	}
	return t
}

// args is the command line of tool doing verb (apply or diff) on in.
func (t *benchTools) args(tool, verb string, in benchInput) []string {
	switch tool {
	case toolKcloud:
		args := []string{t.kcloud, verb, in.dir, "--kubeconfig", t.kubeconfig, "--context", t.context, "--log-level", "warn"}
		if verb == "apply" {
			args = append(args, "--wait=false")
		}
		return append(args, in.sel...)
	case toolKubect:
		return []string{t.kubectl, verb, "--kubeconfig", t.kubeconfig, "--server-side", "--field-manager", "kcloud", "--force-conflicts", "-f", in.manifest}
	default:
		args := []string{t.floor, "--kubeconfig", t.kubeconfig}
		if verb == "diff" {
			args = append(args, "--dry-run")
		}
		return append(args, in.manifest)
	}
}

// benchProfiles counts the CPU profiles taken with KCLOUD_BENCH_PROFILE.
var benchProfiles int

// run runs tool and returns its wall time and peak RSS; it fails b unless
// the tool exits with 0, or, for a diff that finds changes, 1 (the floor
// compares nothing and always exits 0).
func (t *benchTools) run(b *testing.B, tool, verb string, in benchInput, changes bool) benchSample {
	b.Helper()
	want := 0
	if verb == "diff" && changes && tool != toolFloor {
		want = 1
	}
	args := t.args(tool, verb, in)
	// The peak RSS comes from GNU time, which forks: Go starts a process
	// sharing this one's memory until it execs (CLONE_VM), and Linux
	// counts that memory's high-water mark in the child's ru_maxrss, so
	// the child's own rusage says at least this test process's RSS.
	if _, err := os.Stat("/usr/bin/time"); err != nil {
		b.Fatalf("GNU time (/usr/bin/time) is needed for the peak RSS of each run: %v", err)
	}
	rssFile := filepath.Join(b.TempDir(), "rss")
	cmd := exec.Command("/usr/bin/time", append([]string{"-f", "%M", "-o", rssFile}, args...)...)
	if dir := os.Getenv("KCLOUD_BENCH_PROFILE"); dir != "" && tool == toolKcloud {
		// A CPU profile of each kcloud run, numbered in the order taken
		// (bench/RESULTS.md's profiles of the missed targets).
		benchProfiles++
		path := filepath.Join(dir, fmt.Sprintf("%03d-%s.pprof", benchProfiles, verb))
		cmd.Env = append(os.Environ(), "KCLOUD_CPUPROFILE="+path)
		fmt.Fprintf(os.Stderr, "profile %s: %s\n", path, strings.Join(args[1:], " "))
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr // stdout: /dev/null
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var exit *exec.ExitError
	if code := cmd.ProcessState.ExitCode(); code != want || (err != nil && !errors.As(err, &exit)) {
		b.Fatalf("%s %s: exit %d (want %d): %v\n%s", tool, strings.Join(args[1:], " "), code, want, err, tail(stderr.String()))
	}
	out, err := os.ReadFile(rssFile)
	if err != nil {
		b.Fatal(err)
	}
	fields := strings.Fields(string(out))
	kb, err := strconv.ParseInt(strings.Join(fields[max(len(fields)-1, 0):], ""), 10, 64)
	if err != nil {
		b.Fatalf("GNU time's peak RSS %q: %v", out, err)
	}
	return benchSample{secs: wall.Seconds(), rss: kb * 1024}
}

// onFreshServer runs tool's first apply of in on an API server started for
// it alone: every tool's first apply meets the same empty etcd, whatever
// the samples before it left in the shared one.
func (t *benchTools) onFreshServer(b *testing.B, tool string, in benchInput) benchSample {
	b.Helper()
	srv, err := testenv.StartAPIServer()
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = srv.Stop() }()
	return t.on(b, srv).run(b, tool, "apply", in, false)
}

// on is t with srv as its API server.
func (t *benchTools) on(b *testing.B, srv *testenv.APIServer) *benchTools {
	b.Helper()
	kc := filepath.Join(b.TempDir(), "kubeconfig")
	if err := srv.WriteKubeconfig(kc); err != nil {
		b.Fatal(err)
	}
	cfg, err := clientcmd.LoadFromFile(kc)
	if err != nil {
		b.Fatal(err)
	}
	other := *t
	other.kubeconfig, other.context = kc, cfg.CurrentContext
	return &other
}

// inTurn is the tools in the order of sample s: each sample starts with
// another tool.
func inTurn(s int) []string {
	k := s % len(benchToolNames)
	return slices.Concat(benchToolNames[k:], benchToolNames[:k])
}

// benchSpecs is specs/, applied by kcloud on an API server of its own that
// serves what a fresh K3s does (specs/ installs cert-manager's CRDs, which
// the mix's server has from the start): its no-change diff and no-op
// apply are measured.
type benchSpecs struct {
	in    benchInput
	tools *benchTools
}

func benchSpecsSetup(b *testing.B, t *benchTools, res *benchResults) *benchSpecs {
	dir, kubero := specsCopy(b)
	if kubero != "" {
		res.specsNote = " without its Kubero components: the operator manifest they pin could not be had offline"
	}
	in := benchInput{dir: dir}
	t = t.on(b, platformServer(b))
	t.run(b, toolKcloud, "apply", in, false)
	in.manifest, res.objects["specs/"] = kubectlManifest(b, dir, nil)
	t.run(b, toolKubect, "diff", in, false) // kubectl sees kcloud's apply as a no-op
	return &benchSpecs{in: in, tools: t}
}

func (x *benchSpecs) sample(b *testing.B, res *benchResults, s int) {
	for _, tool := range inTurn(s) {
		res.add("specs/", mDiffNone, tool, x.tools.run(b, tool, "diff", x.in, false))
	}
	for _, tool := range inTurn(s) {
		res.add("specs/", mNoop, tool, x.tools.run(b, tool, "apply", x.in, false))
	}
}

// benchMix is the mix of n objects. kcloud applies environment m<n> once;
// from then on the three tools apply and diff the same objects (kubectl's
// and the floor's manifest carry kcloud's inventory annotation), so each
// tool's no-op is a true no-op and each 10 %-changed apply flips the
// objects between variants a and b. First applies go to a fresh
// environment per tool and sample (f<n>s<sample><tool>).
type benchMix struct {
	n         int
	set       string
	recipient string
	in        map[mixVariant]benchInput
	state     mixVariant // the variant the objects hold
}

func benchMixSetup(b *testing.B, t *benchTools, res *benchResults, n int, recipient string) *benchMix {
	x := &benchMix{n: n, set: strconv.Itoa(n), recipient: recipient, in: map[mixVariant]benchInput{}, state: 'a'}
	env := "m" + x.set
	for _, v := range []mixVariant{'a', 'b', 'c'} {
		dir := mixTree(b, env, n, v, recipient)
		sel := []string{"--env", env}
		x.in[v] = benchInput{dir: dir, sel: sel, manifest: mixManifest(b, dir, sel, n)}
	}
	res.objects[x.set] = n
	t.run(b, toolKcloud, "apply", x.in['a'], false)
	t.run(b, toolKcloud, "diff", x.in['a'], false)
	t.run(b, toolKubect, "diff", x.in['a'], false)
	return x
}

func (x *benchMix) sample(b *testing.B, t *benchTools, res *benchResults, s int) {
	fresh := map[string]benchInput{}
	for _, tool := range benchToolNames {
		e := fmt.Sprintf("f%ds%d%s", x.n, s, tool[:2])
		dir := mixTree(b, e, x.n, 'a', x.recipient)
		sel := []string{"--env", e}
		fresh[tool] = benchInput{dir: dir, sel: sel, manifest: mixManifest(b, dir, sel, x.n)}
	}
	for _, tool := range inTurn(s) {
		res.add(x.set, mFirst, tool, t.onFreshServer(b, tool, fresh[tool]))
	}
	for _, tool := range inTurn(s) {
		res.add(x.set, mNoop, tool, t.run(b, tool, "apply", x.in[x.state], false))
	}
	for _, tool := range inTurn(s) {
		x.state = 'a' + 'b' - x.state
		res.add(x.set, mChange, tool, t.run(b, tool, "apply", x.in[x.state], false))
	}
	for _, tool := range inTurn(s) {
		res.add(x.set, mDiffNone, tool, t.run(b, tool, "diff", x.in[x.state], false))
	}
	for _, tool := range inTurn(s) {
		res.add(x.set, mDiffAll, tool, t.run(b, tool, "diff", x.in['c'], true))
	}
	for _, in := range fresh {
		benchCleanup(b, in.sel[1])
	}
}

// benchCleanup deletes what a first apply created in environment env, but
// its two Namespaces (without controllers a deleted Namespace stays
// Terminating), so that the API server holds the same objects in every
// sample.
func benchCleanup(b *testing.B, env string) {
	b.Helper()
	ctx := context.Background()
	client := dynamic.NewForConfigOrDie(testenv.Shared(b).Config())
	for _, ns := range []string{"data-" + env, "apps-" + env} {
		for _, r := range []schema.GroupVersionResource{
			{Version: "v1", Resource: "configmaps"}, {Version: "v1", Resource: "secrets"},
			{Version: "v1", Resource: "services"}, {Group: "apps", Version: "v1", Resource: "deployments"},
			{Group: "cert-manager.io", Version: "v1", Resource: "certificates"}, {Group: "cert-manager.io", Version: "v1", Resource: "issuers"},
		} {
			if err := client.Resource(r).Namespace(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
				b.Fatalf("delete %s in %s: %v", r.Resource, ns, err)
			}
		}
	}
	for _, layer := range []string{"l3-", "l4-"} {
		err := client.Resource(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}).Namespace("kube-system").Delete(ctx, inventory.Name(layer+env), metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			b.Fatal(err)
		}
	}
}

// mixManifest is kubectlManifest of a mix tree, which must hold n objects.
func mixManifest(b *testing.B, dir string, sel []string, n int) string {
	path, got := kubectlManifest(b, dir, sel)
	if got != n {
		b.Fatalf("render %s: %d objects, want %d", dir, got, n)
	}
	return path
}

func kubectlPath(b *testing.B) string {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		dir = filepath.Join(moduleRoot, "bin")
	}
	path := filepath.Join(dir, "kubectl")
	if _, err := os.Stat(path); err != nil {
		b.Fatalf("kubectl not built: run 'make testbin' (%v)", err)
	}
	return path
}
