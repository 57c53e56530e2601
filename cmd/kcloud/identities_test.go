package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"kcloud.dev/kcloud/pkg/identity"
)

func clientFor(t *testing.T, kubeconfig string) kubernetes.Interface {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	return kubernetes.NewForConfigOrDie(cfg)
}

// TestIdentities creates the CI identities from a plan on the real API
// server: apply works with the apply identity; the diff identity can write
// nothing, and diff with it names the permission it lacks.
func TestIdentities(t *testing.T) {
	env := uniqueEnv("ident")
	ns := "apps-" + env
	app := func(value string) string {
		return component("app", "L4", env, configMaps(2, value)+`    - apiVersion: v1
      kind: Service
      metadata: {name: web}
      spec: {ports: [{port: 80}]}
`)
	}
	dir := writeTree(t, map[string]string{"cluster.yaml": clusterYAML(env), "app.yaml": app("one")})
	changed := writeTree(t, map[string]string{"cluster.yaml": clusterYAML(env), "app.yaml": app("two")})
	out := filepath.Join(t.TempDir(), "ci")
	code, stdout, stderr := kcLive(t, "identities", dir, "--out-dir", out, "--token-ttl", "1h")
	if code != exitOK {
		t.Fatalf("identities: exit %d\n%s%s", code, stdout, stderr)
	}
	applyKC, diffKC := filepath.Join(out, "apply.kubeconfig"), filepath.Join(out, "diff.kubeconfig")
	for _, p := range []string{applyKC, diffKC} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", p, fi.Mode().Perm())
		}
	}
	// The shared server holds other tests' inventories: their kinds are in
	// the rules too (pruning deletes them).
	core := regexp.MustCompile(`(?m)^  core (\S+): get,list,watch,create,update,patch,delete$`).FindStringSubmatch(stdout)
	if core == nil || !strings.Contains(core[1], "configmaps") || !strings.Contains(core[1], "services") || !strings.Contains(core[1], "namespaces") {
		t.Errorf("apply rules not as expected:\n%s", stdout)
	}

	ctx := context.Background()
	reader := clientFor(t, diffKC)
	t.Run("the diff identity writes nothing", func(t *testing.T) {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "intruder"}}
		for _, ns := range []string{"default", "kube-system"} {
			if _, err := reader.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); !apierrors.IsForbidden(err) {
				t.Errorf("create ConfigMap in %s: %v, want forbidden", ns, err)
			}
		}
		lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "kcloud-lock"}}
		if _, err := reader.CoordinationV1().Leases("kube-system").Create(ctx, lease, metav1.CreateOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("create the lock Lease: %v, want forbidden", err)
		}
		if _, err := reader.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "intruder"}}, metav1.CreateOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("create Namespace: %v, want forbidden", err)
		}
		if code, _, stderr := kcloud(t, "apply", dir, "--env", env, "--kubeconfig", diffKC, "--context", identity.DiffName, "--log-format", "json"); code == exitOK {
			t.Errorf("apply with the diff identity succeeded\n%s", stderr)
		}
		if _, err := typed(t).CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("namespace %s after apply with the diff identity: %v, want not found", ns, err)
		}
	})

	t.Run("apply with the apply identity", func(t *testing.T) {
		code, stdout, stderr := kcloud(t, "apply", dir, "--env", env, "--kubeconfig", applyKC, "--context", identity.ApplyName, "--log-format", "json")
		if code != exitOK {
			t.Fatalf("apply: exit %d\n%s%s", code, stdout, stderr)
		}
		if v := configMapValue(t, ns, "cm-000"); v != "one" {
			t.Errorf("cm-000 = %q", v)
		}
		writer := clientFor(t, applyKC)
		// No plan renders Nodes or ClusterRoleBindings.
		if _, err := writer.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("apply identity lists Nodes: %v, want forbidden", err)
		}
		crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "intruder"}, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "kcloud-apply", Namespace: "kube-system"}}}
		if _, err := writer.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("apply identity binds cluster-admin: %v, want forbidden", err)
		}
		if code, stdout, stderr := kcloud(t, "apply", changed, "--env", env, "--kubeconfig", applyKC, "--context", identity.ApplyName, "--log-format", "json"); code != exitOK {
			t.Fatalf("second apply: exit %d\n%s%s", code, stdout, stderr)
		}
	})

	t.Run("diff with the diff identity is computed client side, as the server would", func(t *testing.T) {
		_, server, stderr := kcloud(t, "diff", dir, "--env", env, "--kubeconfig", applyKC, "--log-format", "json")
		if !strings.Contains(server, "~ update ConfigMap") {
			t.Fatalf("server-side diff shows no update:\n%s%s", server, stderr)
		}
		// On its own after the first forbidden dry run, or asked to.
		for _, extra := range [][]string{nil, {"--read-only"}} {
			code, local, stderr := kcloud(t, append([]string{"diff", dir, "--env", env, "--kubeconfig", diffKC, "--log-format", "json"}, extra...)...)
			if code != exitFailed || !strings.Contains(local, "Computed client side") {
				t.Errorf("diff %v: exit %d, want 1, labelled client side\n%s%s", extra, code, local, stderr)
			}
			if d := cmp.Diff(server, strings.Replace(local, clientSideLabel+"\n", "", 1)); d != "" {
				t.Errorf("diff %v: client side differs from the server's (-server +client):\n%s", extra, d)
			}
		}
	})
}

// clientSideLabel is the line a diff computed client side ends with.
const clientSideLabel = "Computed client side (read-only: no dry run): the server's defaults and mutating admission are not in it."
