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
// Files: bootstrap.go (Run, Options, connect, probe), prepare.go (plan
// checks, steps), apply.go (the order of the nodes), install.go (the
// installer, the record), wait.go (Ready), skew.go (version skew),
// snapshot.go (etcd snapshots, SQLite copies), drain.go (cordon, drain,
// uncordon), kube.go (the API client over SSH), remove.go (nodes that
// leave, their guards), restore.go (Restore), plan.go (actions, steps,
// the record), cluster.go (the spec's Cluster), kubeconfig.go, paths.go,
// event.go.
//
// The package prints nothing: it returns a Result, reports progress as
// Events, and logs through the zerolog logger in the context.
package bootstrap
