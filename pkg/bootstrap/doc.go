// Package bootstrap installs, upgrades and grows K3s on the Cluster's
// machines over SSH, and writes the kubeconfig that reaches it.
//
// Run is a fixed order of steps over remote.Runner: connect to every node
// (host keys verified before anything runs), probe what is installed, plan
// an action per node, then act on the servers one at a time, the first one
// first, and on the agents in parallel, waiting for each node to be Ready.
// A node is up to date when its K3s version (or, for a channel, the channel
// kcloud installed it from) and its K3s flags match the spec; kcloud keeps
// that record in a small file on the node, so a second run changes nothing.
// The cluster token moves between nodes on stdin into 0600 files, never on
// a command line.
//
// The package prints nothing: it returns a Result, reports progress as
// Events, and logs through the zerolog logger in the context.
//
// # Files
//
//   - bootstrap.go: Options, Result, Run: connect, probe, plan, act
//   - cluster.go: the Cluster and its nodes, from the spec
//   - event.go: Event: progress per node
//   - install.go: the installer's command line, the join token, the record
//   - kubeconfig.go: reading K3s's kubeconfig; writing and merging it (0600, atomic)
//   - paths.go: where K3s and kcloud keep their files on a node
//   - plan.go: probing a node and deciding its action
//   - wait.go: waiting for a node to be Ready
package bootstrap
