// Package bootstrap installs, upgrades, grows and shrinks K3s on the
// Cluster's machines over SSH, restores it from a snapshot, and writes the
// kubeconfig that reaches it.
//
// Run is a fixed order of steps over remote.Runner: connect to every node
// (host keys verified before anything runs), probe what is installed, plan
// an action per node and its steps, check the plan (Kubernetes'
// version-skew policy, nodes gone from the spec, the removal guards), all
// before anything changes. Then: a snapshot of the datastore on the first
// server when a running node changes; the servers one at a time, the first
// one first; the agents that run K3s one at a time; new agents in
// parallel; the nodes that left the spec (with Options.RemoveNodes). A
// running node is cordoned and drained (k8s.io/kubectl/pkg/drain, through
// the API server reached over the SSH connection to the first server)
// before its K3s restarts, and uncordoned once Ready again. A node is up
// to date when its K3s version (or, for a channel, the channel kcloud
// installed it from) and its K3s flags match the spec; kcloud keeps that
// record, and whether it holds the node cordoned, in a small file on the
// node, so a second run changes nothing and a run after a failure finishes
// the job. The cluster token moves between nodes on stdin into 0600 files,
// never on a command line.
//
// The package prints nothing: it returns a Result, reports progress as
// Events, and logs through the zerolog logger in the context.
//
// # Files
//
//   - apply.go: the order of the nodes: the snapshot, servers, agents, removals
//   - bootstrap.go: Options, Result, Run: connect, probe, plan, act
//   - cluster.go: the Cluster and its nodes, from the spec
//   - drain.go: cordon, drain (k8s.io/kubectl/pkg/drain), uncordon
//   - event.go: Event: progress per node
//   - install.go: the installer's command line, the join token, the record
//   - kube.go: the API client, over the SSH connection to the first server
//   - kubeconfig.go: reading K3s's kubeconfig; writing and merging it (0600, atomic)
//   - paths.go: where K3s and kcloud keep their files on a node
//   - plan.go: probing a node and deciding its action; steps
//   - prepare.go: the checks before anything changes, and every node's steps
//   - remove.go: nodes that left the spec, the last-server and quorum guards
//   - restore.go: Restore: K3s's cluster reset, or a SQLite copy put back
//   - skew.go: Kubernetes' version-skew policy
//   - snapshot.go: the snapshot before a change: etcd-snapshot save, or a SQLite copy
//   - wait.go: waiting for a node to be Ready
package bootstrap
