package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kcloud.dev/kcloud/internal/sopstest"
	"kcloud.dev/kcloud/internal/testenv"
)

// trace applies states in turn, logging their writes, when
// KCLOUD_CRASH_TRACE is set: for choosing kill points.
func (r *crashRig) trace(t *testing.T, states ...*crashState) bool {
	if os.Getenv("KCLOUD_CRASH_TRACE") == "" {
		return false
	}
	for _, s := range states {
		var log []string
		start := time.Now()
		remove := r.proxy.OnRequest(testenv.Hook{N: 1 << 30, Func: func(*http.Request) {}, Match: func(req *http.Request) bool {
			if v := testenv.RequestVerb(req); !testenv.IsDryRun(req) && v != testenv.VerbGet && v != testenv.VerbList {
				log = append(log, fmt.Sprintf("%6.2f %-6s %s %s", time.Since(start).Seconds(), req.Method, req.URL.Path, req.Header.Get("Content-Type")))
			}
			return false // hooks match one request at a time
		}})
		r.apply(t, s)
		remove()
		t.Logf("writes of the apply of %s:\n%s", s.name, strings.Join(log, "\n"))
	}
	return true
}

// specsStates writes the states of specs/ the loop moves between: the
// platform with a third environment (preview), the same on other domains
// (every stack changes), and without preview (its stacks are pruned).
func specsStates(t *testing.T) (base, domains, noPreview *crashState) {
	dir, _ := specsCopy(t)
	edit := func(dir, old, new string) {
		t.Helper()
		path := filepath.Join(dir, "cluster.yaml")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), old) {
			t.Fatalf("cluster.yaml does not contain %q", old)
		}
		if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	variant := func(name string) string {
		t.Helper()
		d := filepath.Join(t.TempDir(), name)
		if err := os.CopyFS(d, os.DirFS(dir)); err != nil {
			t.Fatal(err)
		}
		return d
	}
	other, without := variant("domains"), variant("nopreview")
	edit(dir, "    - name: prod\n", "    - name: preview\n      prefix: preview\n    - name: prod\n")
	edit(other, "    - name: prod\n", "    - name: preview\n      prefix: preview\n    - name: prod\n")
	edit(other, "internal: int.example.com\n    base: example.com", "internal: int.example.org\n    base: example.org")
	return newCrashState(t, "specs", dir, nil, "--wait=false"),
		newCrashState(t, "specs on other domains", other, nil, "--wait=false"),
		newCrashState(t, "specs without preview", without, nil, "--wait=false", "--allow-empty")
}

// TestCrashLoopSpecs kills kcloud apply of specs/ with SIGKILL at 18
// points — the first write on a fresh cluster, mid-stack, between stacks,
// the last write, and while pruning and reattaching a removed environment
// — and after each one checks that one more apply converges.
func TestCrashLoopSpecs(t *testing.T) {
	base, domains, noPreview := specsStates(t)
	rig := newCrashRig(t, platformServer(t).Config())
	if rig.trace(t, base, domains, base, noPreview, base) {
		return
	}
	// Between base and domains every stack changes: 14 objects (4 in l1,
	// 4 in l2, 2 in each l4). From base to noPreview, l4-preview then
	// l3-preview are pruned: the detach annotation, 4 deletes, the
	// namespace detached, the inventory deleted; the same in l3-preview
	// with claims. Back to base they are reattached and recreated.
	steps := []crashStep{
		{base, killPoint{"fresh cluster: the first inventory created, no object yet", nthInventoryWrite(1, true)}},
		{domains, killPoint{"the first object write, never sent", nthApply(1, false)}},
		{base, killPoint{"mid-stack l1: after the cert-manager HelmChart", nthApply(2, true)}},
		{domains, killPoint{"between stacks: l1 done, l2's first write never sent", nthApply(5, false)}},
		{base, killPoint{"mid-stack l2", nthApply(7, true)}},
		{domains, killPoint{"the last write of the run, answered", nthApply(14, true)}},
		{base, killPoint{"l4-staging's first write, answered", nthApply(9, true)}},
		{noPreview, killPoint{"prune: after a namespace's detach annotation", nthOtherWrite(testenv.VerbPatch, 1, true)}},
		{base, killPoint{"reattach: after the first reattach annotation", nthOtherWrite(testenv.VerbPatch, 1, true)}},
		{noPreview, killPoint{"prune: the first delete, never sent", nthDelete(1, false)}},
		{base, killPoint{"after l3-preview's inventory is created for its reattached objects", nthInventoryWrite(1, true)}},
		{noPreview, killPoint{"mid-prune: after the third delete", nthDelete(3, true)}},
		{base, killPoint{"mid-stack l3-preview: after its fifth object", nthApply(5, true)}},
		{noPreview, killPoint{"detached but still in the inventory: after a namespace's inventory annotation is removed", nthOtherWrite(testenv.VerbUpdate, 1, true)}},
		{base, killPoint{"between stacks: l4-preview's inventory never sent", nthInventoryWrite(3, false)}},
		{noPreview, killPoint{"between the removed stacks: after l4-preview's inventory is deleted", nthInventoryWrite(1, true)}},
		{base, killPoint{"the last object written, answered", nthApply(14, true)}},
		{noPreview, killPoint{"after the last inventory is deleted", nthInventoryWrite(2, true)}},
	}
	rig.loop(t, steps, 9)
	rig.report(t, "specs/")
}

// thousandStates are the 1,000-object tree (manyObjects) and a variant:
// 400 ConfigMaps changed, 200 removed, 100 ServiceAccounts added.
func thousandStates(t *testing.T, env string) (a, b *crashState) {
	key := sopstest.MustKey(t)
	t.Setenv("SOPS_AGE_KEY", key.Identity)
	files := manyObjects(t, env, "a", key.Recipient)
	var lines []string
	for _, l := range strings.Split(files["many.yaml"], "\n") {
		var i int
		if _, err := fmt.Sscanf(strings.TrimSpace(l), "- {apiVersion: v1, kind: ConfigMap, metadata: {name: cm-%d}", &i); err == nil {
			if i >= 400 {
				continue
			}
			l = strings.Replace(l, fmt.Sprintf("other: \"%d\"", i), fmt.Sprintf("other: \"%d-b\"", i), 1)
		}
		lines = append(lines, l)
		if strings.Contains(l, "name: sa-099}") {
			for i := 100; i < 200; i++ {
				lines = append(lines, fmt.Sprintf("    - {apiVersion: v1, kind: ServiceAccount, metadata: {name: sa-%03d}}", i))
			}
		}
	}
	other := map[string]string{"many.yaml": strings.Join(lines, "\n")}
	for k, v := range files {
		if k != "many.yaml" {
			other[k] = v
		}
	}
	a = newCrashState(t, "1,000 objects", writeTree(t, files), []string{"--env", env})
	b = newCrashState(t, "1,000 objects changed", writeTree(t, other), []string{"--env", env})
	if n := len(a.stacks["l4-"+env]); n != 1001 {
		t.Fatalf("the 1,000-object tree renders %d objects, want 1,000 and the namespace", n)
	}
	if n := len(b.stacks["l4-"+env]); n != 901 {
		t.Fatalf("its variant renders %d objects, want 900 and the namespace", n)
	}
	return a, b
}

func TestCrashLoop1000(t *testing.T) {
	env := uniqueEnv("crash")
	a, b := thousandStates(t, env)
	rig := newCrashRig(t, testenv.Shared(t).Config())
	if rig.trace(t, a, b, a) {
		return
	}
	// From a to b: the inventory merged, 100 creates and 400 updates, 200
	// deletes, the inventory replaced, then the wait for the objects
	// cli-utils did not apply. From b to a: 600 writes, 100 deletes. The
	// kill points specs/ has too (the first write, mid-stack) are left to
	// it.
	steps := []crashStep{
		{a, killPoint{"fresh: after the 500th object", nthApply(500, true)}},
		{b, killPoint{"the inventory merged, no object written yet", nthInventoryWrite(1, true)}},
		{a, killPoint{"the last object written, before pruning", nthApply(600, true)}},
		{b, killPoint{"mid-prune: after the 50th delete, the inventory still listing all 200", nthDelete(50, true)}},
		{a, killPoint{"during the health wait after cli-utils", duringWait("apps-" + env)}},
		{b, killPoint{"after the last delete, the final inventory write answered", nthInventoryWrite(2, true)}},
		// Inside a wave: the writer sends a wave's objects from 16
		// workers, so a kill lands with others in flight.
		{a, killPoint{"inside a wave: the 300th write never sent, others in flight", nthApply(300, false)}},
		{b, killPoint{"inside a wave: after the 100th write answered, others in flight", nthApply(100, true)}},
	}
	rig.loop(t, steps, 3)
	rig.report(t, "1,000 objects")
}

// manyObjects is a tree with one L4 component of 1,000 objects: 600
// ConfigMaps, 200 Services, 100 Secrets (from a sops-encrypted manifest),
// 100 ServiceAccounts; ConfigMap 0 holds value.
func manyObjects(b testing.TB, env, value, recipient string) map[string]string {
	var objs, secrets strings.Builder
	for i := range 600 {
		v := "x"
		if i == 0 {
			v = value
		}
		fmt.Fprintf(&objs, "    - {apiVersion: v1, kind: ConfigMap, metadata: {name: cm-%03d}, data: {key: %q, other: \"%d\"}}\n", i, v, i)
	}
	for i := range 200 {
		fmt.Fprintf(&objs, "    - {apiVersion: v1, kind: Service, metadata: {name: svc-%03d}, spec: {selector: {app: a%d}, ports: [{port: 80, targetPort: 8080}]}}\n", i, i)
	}
	for i := range 100 {
		fmt.Fprintf(&secrets, "---\napiVersion: v1\nkind: Secret\nmetadata: {name: secret-%03d}\nstringData: {token: \"token-value-%03d\"}\n", i, i)
	}
	for i := range 100 {
		fmt.Fprintf(&objs, "    - {apiVersion: v1, kind: ServiceAccount, metadata: {name: sa-%03d}}\n", i)
	}
	enc, err := sopstest.Encrypt([]byte(secrets.String()), sopstest.KubernetesRegex, recipient)
	if err != nil {
		b.Fatal(err)
	}
	comp := strings.Replace(component("many", "L4", env, objs.String()), "  objects:\n", "  manifests: [secrets.yaml]\n  objects:\n", 1)
	return map[string]string{"cluster.yaml": clusterYAML(env), "many.yaml": comp, "secrets.yaml": string(enc)}
}
