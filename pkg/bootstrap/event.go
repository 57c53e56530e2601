package bootstrap

import "time"

// EventType says what an Event reports.
type EventType string

// The events, in the order a node goes through them. Every event but
// EventPlan is about one node; a printer can keep one line per node from
// them.
const (
	// EventConnecting: the SSH connection to the node is being opened.
	// Sent for every node, in spec order, before any is dialled.
	EventConnecting EventType = "connecting"
	// EventProbing: the read-only probes of what is installed run.
	EventProbing EventType = "probing"
	// EventPlan carries the plan for every node, before anything changes.
	EventPlan EventType = "plan"
	// EventUpToDate: the node needs nothing.
	EventUpToDate EventType = "up-to-date"
	// EventStarted: the node's action begins.
	EventStarted EventType = "started"
	// EventUploading: the installer (Options.Installer) is copied to the
	// node.
	EventUploading EventType = "uploading"
	// EventDownloading: the node fetches the installer from URL.
	EventDownloading EventType = "downloading"
	// EventInstalling: the installer runs on the node.
	EventInstalling EventType = "installing"
	// EventWaiting: waiting for the node to be Ready.
	EventWaiting EventType = "waiting"
	// EventReady: the node is Ready.
	EventReady EventType = "ready"
	// EventKubeconfig: the admin kubeconfig is read from the node (the
	// first server) and written out.
	EventKubeconfig EventType = "kubeconfig"
	// EventDone: the node's action is over (installed, Ready, recorded),
	// or, for the first server, the kubeconfig is written: that server
	// can get EventDone twice, EventKubeconfig in between.
	EventDone EventType = "done"
	// EventFailed: a step on the node failed with Err; Run returns it.
	EventFailed EventType = "failed"
	// EventStep: a day-2 step (Step) is done on the node: a snapshot saved,
	// a cordon, a drain, an uncordon, an uninstall, a deletion, a part of
	// a restore.
	EventStep EventType = "step"
)

// Event is a step of Run.
type Event struct {
	Type EventType
	// Node is the node's plan, for every type but EventPlan; only its Node
	// is set before EventPlan (EventConnecting, EventProbing, and
	// EventFailed then).
	Node NodePlan
	// Plan is every node's plan, for EventPlan.
	Plan []NodePlan
	// Waiting says what is waited for and where, and Timeout how long at
	// most, for EventWaiting.
	Waiting string
	Timeout time.Duration
	// URL is where the node fetches the installer, for EventDownloading.
	URL string
	// Err is what failed, for EventFailed.
	Err error
	// Step is what was done, for EventStep.
	Step Step
}
