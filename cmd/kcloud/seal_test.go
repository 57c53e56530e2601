package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// sealRun is what one command did through the fault proxy.
type sealRun struct {
	code         int
	out          string
	full, writes []string
}

// TestSealedStacks: after an apply, a diff or an apply of the same plan
// reads only the metadata of the environment's objects (their seals hold)
// and finds nothing to change; an object written or deleted since is read
// in full and shown — it alone —, as is every object of another plan
// (which leaves the applied plan's seals as they were); the objects a
// diff finds unchanged are sealed again. The seals are files of
// the user's cache directory: without them every object is read in full,
// as before.
func TestSealedStacks(t *testing.T) {
	cacheDir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cacheDir)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	p, kc := proxyFor(t)
	env := uniqueEnv("sealed")
	ns := "apps-" + env
	const n = 12 // listed (kube.ListThreshold); the Service is read by name
	svc := "    - apiVersion: v1\n      kind: Service\n      metadata: {name: web}\n      spec: {ports: [{port: 80}]}\n"
	tree := func(value string) string {
		return writeTree(t, map[string]string{"cluster.yaml": clusterYAML(env), "web.yaml": component("web", "L4", env, svc+configMaps(n, value))})
	}
	v1, v2 := tree("v1"), tree("v2")
	run := func(args ...string) sealRun {
		t.Helper()
		var c requestCounts
		c.count(t, p)
		code, stdout, stderr := kcloud(t, append(args, "--env", env, "--kubeconfig", kc, "--context", "proxy", "--log-level", "warn")...)
		c.mu.Lock()
		defer c.mu.Unlock()
		var full []string
		for _, r := range c.full { // the environment's objects, read in full
			if strings.Contains(r, "/namespaces/"+ns) || strings.Contains(r, "/namespaces/data-"+env) {
				full = append(full, r)
			}
		}
		return sealRun{code: code, out: stdout + stderr, full: full, writes: slices.Clone(c.writes)}
	}
	sealed := func(what string, r sealRun, wantCode int) {
		t.Helper()
		if r.code != wantCode {
			t.Fatalf("%s: exit %d, want %d\n%s", what, r.code, wantCode, r.out)
		}
		if len(r.full) > 0 {
			t.Errorf("%s: objects read in full although their seals hold:\n%s", what, strings.Join(r.full, "\n"))
		}
	}
	unsealed := func(what string, r sealRun, want ...string) {
		t.Helper()
		if r.code != exitFailed {
			t.Fatalf("%s: exit %d, want %d (changes)\n%s", what, r.code, exitFailed, r.out)
		}
		if len(r.full) == 0 {
			t.Errorf("%s: no object read in full", what)
		}
		for _, w := range want {
			if !strings.Contains(r.out, w) {
				t.Errorf("%s: %q not in the diff\n%s", what, w, r.out)
			}
		}
	}
	cms := typed(t).CoreV1().ConfigMaps(ns)
	ctx := context.Background()

	if r := run("apply", v1, "--wait=false"); r.code != 0 {
		t.Fatalf("first apply: exit %d\n%s", r.code, r.out)
	}
	sealed("diff after apply", run("diff", v1), 0)
	r := run("apply", v1, "--wait=false")
	sealed("no-op apply", r, 0)
	for _, w := range r.writes {
		if !strings.Contains(w, "/leases") {
			t.Errorf("no-op apply wrote %s", w)
		}
	}

	// Drift: another manager changes a value kcloud set.
	cm, err := cms.Get(ctx, "cm-003", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["value"] = "drifted"
	if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	r = run("diff", v1)
	unsealed("diff after drift", r, "cm-003", "drifted")
	for _, f := range r.full {
		if strings.Contains(f, "/configmaps") && !strings.HasSuffix(f, "/configmaps/cm-003") {
			t.Errorf("diff after drift: %s read in full; only cm-003 changed", f)
		}
	}
	if r := run("apply", v1, "--wait=false"); r.code != 0 {
		t.Fatalf("apply repairing the drift: exit %d\n%s", r.code, r.out)
	}
	sealed("diff after the repair", run("diff", v1), 0)

	// Deleted: the stack is diffed and the object is a create.
	if err := cms.Delete(ctx, "cm-005", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	unsealed("diff after a delete", run("diff", v1), "cm-005")
	if r := run("apply", v1, "--wait=false"); r.code != 0 {
		t.Fatalf("apply recreating cm-005: exit %d\n%s", r.code, r.out)
	}

	// Another plan: every ConfigMap changes. Their seals stay: the
	// applied plan is still sealed.
	unsealed("diff of another plan", run("diff", v2), "cm-000", "cm-011", "v2")
	sealed("diff of the applied plan after another's", run("diff", v1), 0)

	// Without the seals every object is read in full; the diff, finding
	// nothing to change, seals the stacks again.
	if err := os.RemoveAll(filepath.Join(cacheDir, "kcloud", "seals")); err != nil {
		t.Fatal(err)
	}
	if r := run("diff", v1); r.code != 0 || len(r.full) == 0 {
		t.Errorf("diff without seals: exit %d, %d full reads; want 0 and the objects read\n%s", r.code, len(r.full), r.out)
	}
	sealed("diff after a diff sealed the stacks", run("diff", v1), 0)
}

// TestSealsYieldToMutatingAdmission: a seal says that applying an object
// as it was changed nothing then; once a mutating webhook matches its
// kind, applying it may change it, so the object is diffed (read in full,
// dry-run) although its seal would still hold.
func TestSealsYieldToMutatingAdmission(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	p, kc := proxyFor(t)
	env := uniqueEnv("sealhook")
	dir := writeTree(t, map[string]string{"cluster.yaml": clusterYAML(env), "web.yaml": component("web", "L4", env, configMaps(10, "v"))})
	// run returns the dry runs sent and whether the ConfigMaps were listed
	// in full.
	run := func(args ...string) (dryRuns int, listed bool) {
		t.Helper()
		var c requestCounts
		c.count(t, p)
		code, stdout, stderr := kcloud(t, append(args, dir, "--env", env, "--kubeconfig", kc, "--context", "proxy", "--log-level", "warn")...)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", args[0], code, stdout, stderr)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.dryRuns, slices.ContainsFunc(c.full, func(r string) bool { return strings.HasSuffix(r, "/namespaces/apps-"+env+"/configmaps") })
	}
	run("apply", "--wait=false")
	if _, listed := run("diff"); listed {
		t.Fatal("the ConfigMaps were listed in full although sealed")
	}
	// Nothing answers at the webhook's address: failurePolicy Ignore lets
	// every request through, as a webhook that changes nothing would.
	ignore, none := admissionv1.Ignore, admissionv1.SideEffectClassNone
	url := "https://127.0.0.1:1/mutate"
	hook := &admissionv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "kcloud-test-" + env},
		Webhooks: []admissionv1.MutatingWebhook{{
			Name: "configmaps.kcloud.test", ClientConfig: admissionv1.WebhookClientConfig{URL: &url},
			Rules: []admissionv1.RuleWithOperations{{
				Operations: []admissionv1.OperationType{admissionv1.Update},
				Rule:       admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}},
			}},
			FailurePolicy: &ignore, SideEffects: &none, AdmissionReviewVersions: []string{"v1"},
		}},
	}
	hooks := typed(t).AdmissionregistrationV1().MutatingWebhookConfigurations()
	if _, err := hooks.Create(context.Background(), hook, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hooks.Delete(context.Background(), hook.Name, metav1.DeleteOptions{}) })
	if dryRuns, listed := run("diff"); !listed || dryRuns < 10 {
		t.Errorf("with a mutating webhook on ConfigMaps: listed in full %v, %d dry runs; want the ConfigMaps read and dry-run", listed, dryRuns)
	}
}
