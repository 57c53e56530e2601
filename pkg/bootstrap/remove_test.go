package bootstrap_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/bootstrap"
	"kcloud.dev/kcloud/pkg/remote"
)

// drop removes node from the spec.
func (f *fixture) drop(name string) {
	f.cluster.Nodes = slices.DeleteFunc(f.cluster.Nodes, func(n bootstrap.Node) bool { return n.Name == name })
}

// members reads kcloud's record of the cluster's nodes on node.
func (f *fixture) members(t *testing.T, node string) []string {
	t.Helper()
	data, ok := testenv.ReadNodeFile(t, filepath.Join(f.root(node).StateDir, "nodes.json"))
	if !ok {
		t.Fatalf("%s has no record of the cluster's nodes", node)
	}
	var ms []struct{ Name string }
	if err := json.Unmarshal(data, &ms); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return out
}

func (f *fixture) nodeExists(t *testing.T, name string) bool {
	t.Helper()
	_, err := f.cs.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

func TestRemovedNode(t *testing.T) {
	t.Parallel()
	f, prefix, o := day2(t, node{"vps-1", server}, node{"worker-1", agent}, node{"worker-2", agent})
	ns, w2 := prefix+"apps", prefix+"worker-2"
	f.pod(t, ns, "web-0", w2, "ReplicaSet", nil)
	f.drop(w2)
	before := len(f.k3s.Events(t))

	// Without --remove-nodes: listed, refused, nothing changed.
	f.proxy.Reset()
	r := f.run(t, o)
	var de *bootstrap.DepartedError
	if !errors.As(r.err, &de) {
		t.Fatalf("got %v, want a *DepartedError", r.err)
	}
	if !strings.Contains(r.err.Error(), w2+" left the spec") || !strings.Contains(r.err.Error(), "--remove-nodes") {
		t.Errorf("error does not name the node and the flag: %v", r.err)
	}
	gone := r.res.Plan[len(r.res.Plan)-1]
	if gone.Node.Name != w2 || gone.Action != bootstrap.ActionRemove {
		t.Errorf("the plan's last node is %s (%s), want %s to remove", gone.Node.Name, gone.Action, w2)
	}
	diffLines(t, "what the stand-in did", nil, f.since(t, prefix, before))
	if n := f.proxy.Writes(); n != 0 {
		t.Errorf("%d write(s) reached the API server", n)
	}

	// With it: drained, K3s uninstalled, deleted; the others stay.
	o.RemoveNodes = true
	r = f.run(t, o)
	if r.err != nil {
		t.Fatal(r.err)
	}
	diffLines(t, "steps", []string{"vps-1 snapshot", "worker-2 cordon", "worker-2 drain", "worker-2 drain", "worker-2 uninstall", "worker-2 delete node"},
		withoutPrefix(prefix, steps(r.events)))
	diffLines(t, "what the stand-in did", []string{"uninstall worker-2 agent"},
		slices.DeleteFunc(f.since(t, prefix, before), func(e string) bool { return strings.HasPrefix(e, "service ") }))
	if f.nodeExists(t, w2) {
		t.Error("the node is still in the cluster")
	}
	diffLines(t, "worker-2's pods", nil, f.podsOn(t, ns, w2))
	diffLines(t, "recorded nodes", []string{prefix + "vps-1", prefix + "worker-1"}, f.members(t, prefix+"vps-1"))
	if _, ok := testenv.ReadNodeFile(t, filepath.Join(f.root(w2).BinDir, "k3s")); ok {
		t.Error("k3s is still on the removed node")
	}

	// Done: the next run has nothing to remove.
	again := f.run(t, o)
	if again.err != nil {
		t.Fatal(again.err)
	}
	diffLines(t, "next run's steps", nil, steps(again.events))
}

func TestRemovalGuards(t *testing.T) {
	t.Parallel()
	t.Run("quorum", func(t *testing.T) {
		t.Parallel()
		f, prefix, o := day2(t, node{"vps-1", server}, node{"vps-2", server}, node{"vps-3", server})
		f.etcdMembers(t)
		o.RemoveNodes = true
		spec := slices.Clone(f.cluster.Nodes)
		f.drop(prefix + "vps-2")
		f.drop(prefix + "vps-3")
		assertRemovalRefused(t, f, o, prefix, "embedded etcd has 3 member(s) and needs 2 for a quorum, but only 1 Ready one(s) would stay")

		// One at a time is fine, unless a server that stays is not Ready.
		f.cluster.Nodes = slices.Clone(spec)
		f.drop(prefix + "vps-3")
		f.notReady(t, prefix+"vps-2")
		assertRemovalRefused(t, f, o, prefix, "embedded etcd has 3 member(s) and needs 2 for a quorum, but only 1 Ready one(s) would stay")
		f.ready(t, prefix+"vps-2")
		r := f.run(t, o)
		if r.err != nil {
			t.Fatal(r.err)
		}
		if f.nodeExists(t, prefix+"vps-3") {
			t.Error("vps-3 is still in the cluster")
		}
	})
	t.Run("last server", func(t *testing.T) {
		t.Parallel()
		f, prefix, o := day2(t, node{"vps-1", server}, node{"worker-1", agent})
		o.RemoveNodes = true
		// vps-1 gives way to a new server that would start a cluster of
		// its own.
		s := testenv.StartSSHD(t, testenv.SSHDOptions{AuthorizedKeys: []ssh.PublicKey{f.key.Public}})
		f.addNode(t, prefix+"vps-9", server, s, 0)
		f.drop(prefix + "vps-1")
		assertRemovalRefused(t, f, o, prefix, "it would be the cluster's last server to go: vps-9, the spec's first server, runs no K3s")
	})
}

// assertRemovalRefused runs bootstrap and checks that it refused the
// removal with reason, before changing anything.
func assertRemovalRefused(t *testing.T, f *fixture, o bootstrap.Options, prefix, reason string) {
	t.Helper()
	before := len(f.k3s.Events(t))
	f.proxy.Reset()
	r := f.run(t, o)
	var re *bootstrap.RemovalError
	if !errors.As(r.err, &re) {
		t.Fatalf("got %v, want a *RemovalError", r.err)
	}
	if got := strings.ReplaceAll(r.err.Error(), prefix, ""); !strings.Contains(got, reason) {
		t.Errorf("error:\n%s\nlacks:\n%s", got, reason)
	}
	diffLines(t, "what the stand-in did", nil, f.since(t, prefix, before))
	if n := f.proxy.Writes(); n != 0 {
		t.Errorf("%d write(s) reached the API server", n)
	}
}

// addNode puts a node reached through s into the spec at index i, its host
// key vouched for.
func (f *fixture) addNode(t *testing.T, name, role string, s *testenv.SSHD, i int) {
	t.Helper()
	kh, err := os.ReadFile(f.knownHosts)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.knownHosts, append(kh, s.KnownHostsLine(s.HostKeys()[0])...), 0o600); err != nil {
		t.Fatal(err)
	}
	f.sshd[name] = s
	f.cluster.Nodes = slices.Insert(f.cluster.Nodes, i, bootstrap.Node{Name: name, Role: role,
		Target: remote.Target{User: s.User, Host: s.Host, Port: s.Port}})
}

// notReady and ready play a node's kubelet.
func (f *fixture) notReady(t *testing.T, name string) { f.setReady(t, name, corev1.ConditionFalse) }
func (f *fixture) ready(t *testing.T, name string)    { f.setReady(t, name, corev1.ConditionTrue) }

func (f *fixture) setReady(t *testing.T, name string, status corev1.ConditionStatus) {
	t.Helper()
	ctx := context.Background()
	n, err := f.cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: status}}
	if _, err := f.cs.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}
