package bootstrap_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/bootstrap"
	"kcloud.dev/kcloud/pkg/remote"
)

// withAPI puts a fault proxy in front of the package's API server and has
// the stand-in servers' kubeconfigs name it: bootstrap reaches it through
// the SSH connection to the first server, as it reaches K3s's.
func (f *fixture) withAPI(t *testing.T) {
	t.Helper()
	srv := testenv.Shared(t)
	p, err := testenv.NewFaultProxy(srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	f.proxy = p
	f.cs, err = kubernetes.NewForConfig(srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	f.k3s.UseAPIServer(t, p.URL())
}

var uniqueID atomic.Int64

// unique prefixes names with one of their own: Nodes are cluster-wide, and
// the package's tests share the API server.
func unique(nodes ...node) (string, []node) {
	prefix := fmt.Sprintf("u%d-", uniqueID.Add(1))
	out := make([]node, len(nodes))
	for i, n := range nodes {
		out[i] = node{prefix + n.name, n.role}
	}
	return prefix, out
}

// registerNodes plays the kubelets: a Ready Node per node of the cluster,
// deleted when the test ends.
func (f *fixture) registerNodes(t *testing.T, names ...string) {
	t.Helper()
	ctx := context.Background()
	for _, n := range f.cluster.Nodes {
		if len(names) > 0 && !contains(names, n.Name) {
			continue
		}
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.Name}}
		created, err := f.cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		created.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
		if _, err := f.cs.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = f.cs.CoreV1().Nodes().Delete(context.Background(), n.Name, metav1.DeleteOptions{}) })
	}
}

// etcdMembers labels the servers' Nodes as K3s labels the members of
// embedded etcd. Only one test at a time may: every Node so labelled in the
// shared API server counts toward the quorum.
func (f *fixture) etcdMembers(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for _, n := range f.cluster.Servers() {
		node, err := f.cs.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		node.Labels = map[string]string{"node-role.kubernetes.io/etcd": "true"}
		if _, err := f.cs.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// namespace creates a namespace for the test's pods and plays the kubelet
// in it: a pod whose deletion has begun (an eviction) is deleted at once.
func (f *fixture) namespace(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := f.cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	w, err := f.cs.CoreV1().Pods(name).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			pod, ok := ev.Object.(*corev1.Pod)
			if !ok || ev.Type == watch.Deleted || pod.DeletionTimestamp == nil {
				continue
			}
			zero := int64(0)
			_ = f.cs.CoreV1().Pods(name).Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
		}
	}()
	t.Cleanup(func() {
		w.Stop()
		<-done
		cancel()
		_ = f.cs.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}

// pod runs a pod on node: owned by a ReplicaSet (its controller would
// recreate it elsewhere), by the DaemonSet ds, or by nothing ("").
func (f *fixture) pod(t *testing.T, ns, name, node, owner string, labels map[string]string) {
	t.Helper()
	ctx := context.Background()
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}}},
	}
	yes := true
	switch owner {
	case "ReplicaSet":
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: name + "-rs", UID: "1", Controller: &yes}}
	case "DaemonSet":
		ds := &appsv1.DaemonSet{
			ObjectMeta: metav1.ObjectMeta{Name: name + "-ds", Namespace: ns},
			Spec: appsv1.DaemonSetSpec{
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"ds": name}},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"ds": name}}, Spec: p.Spec},
			},
		}
		ds.Spec.Template.Spec.NodeName = ""
		created, err := f.cs.AppsV1().DaemonSets(ns).Create(ctx, ds, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: created.Name, UID: created.UID, Controller: &yes}}
	}
	created, err := f.cs.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Running and Ready, as the kubelet reports it: the Eviction API lets
	// a pending or unready pod go whatever its budget says.
	created.Status = corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
	if _, err := f.cs.CoreV1().Pods(ns).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// pdb guards the pods labelled app=name, and plays the disruption
// controller: allowed disruptions.
func (f *fixture) pdb(t *testing.T, ns, name string, allowed int32) {
	t.Helper()
	ctx := context.Background()
	one := intstr.FromInt32(1)
	created, err := f.cs.PolicyV1().PodDisruptionBudgets(ns).Create(ctx, &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: &one, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.allow(t, created, allowed)
}

// allow sets how many disruptions the PDB allows, as the disruption
// controller would.
func (f *fixture) allow(t testing.TB, pdb *policyv1.PodDisruptionBudget, allowed int32) {
	t.Helper()
	ctx := context.Background()
	cur, err := f.cs.PolicyV1().PodDisruptionBudgets(pdb.Namespace).Get(ctx, pdb.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur.Status = policyv1.PodDisruptionBudgetStatus{ObservedGeneration: cur.Generation, DisruptionsAllowed: allowed,
		CurrentHealthy: 1 + allowed, DesiredHealthy: 1, ExpectedPods: 1 + allowed}
	if _, err := f.cs.PolicyV1().PodDisruptionBudgets(pdb.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// podsOn lists the pods still bound to node in ns.
func (f *fixture) podsOn(t *testing.T, ns, node string) []string {
	t.Helper()
	pods, err := f.cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range pods.Items {
		if p.Spec.NodeName == node {
			out = append(out, p.Name)
		}
	}
	return out
}

// unschedulable lists the cluster's nodes that are cordoned, of names.
func (f *fixture) unschedulable(t *testing.T, names ...string) []string {
	t.Helper()
	var out []string
	for _, n := range names {
		node, err := f.cs.CoreV1().Nodes().Get(context.Background(), n, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if node.Spec.Unschedulable {
			out = append(out, n)
		}
	}
	return out
}

// names lists the fixture's node names.
func (f *fixture) names() []string {
	var out []string
	for _, n := range f.cluster.Nodes {
		out = append(out, n.Name)
	}
	return out
}

// steps summarises the day-2 step events as "node kind", in order.
func steps(events []bootstrap.Event) []string {
	var out []string
	for _, ev := range events {
		switch ev.Type {
		case bootstrap.EventStep:
			out = append(out, ev.Node.Node.Name+" "+string(ev.Step.Kind))
		case bootstrap.EventInstalling:
			out = append(out, ev.Node.Node.Name+" "+string(ev.Node.Action))
		}
	}
	return out
}

// withoutPrefix drops prefix from each line's words.
func withoutPrefix(prefix string, lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.ReplaceAll(l, prefix, "")
	}
	return out
}

func diffLines(t *testing.T, what string, want, got []string) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

// remoteDial connects to s as bootstrap does.
func remoteDial(f *fixture, s *testenv.SSHD) (remote.Runner, error) {
	return remote.Dial(context.Background(), remote.Target{User: s.User, Host: s.Host, Port: s.Port}, remote.Options{Auth: f.auth, KnownHosts: f.knownHosts})
}
