package bootstrap

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"kcloud.dev/kcloud/pkg/remote"
)

// Action is what bootstrap does to a node.
type Action string

// The actions, from nothing to a fresh install.
const (
	// ActionNone leaves an up-to-date node alone.
	ActionNone Action = "up to date"
	// ActionInstall installs K3s where it is absent.
	ActionInstall Action = "install"
	// ActionUpgrade reruns the installer for another version or channel.
	ActionUpgrade Action = "upgrade"
	// ActionReconfigure reruns the installer for the same release with
	// other flags, or to take over a K3s kcloud did not install.
	ActionReconfigure Action = "reconfigure"
	// ActionRemove drains a node that left the spec, uninstalls K3s on it
	// and deletes it from the cluster (only with Options.RemoveNodes).
	ActionRemove Action = "remove"
)

// NodePlan is what bootstrap found on a node and will do to it.
type NodePlan struct {
	Node Node
	// Current is the installed K3s version; empty when K3s is absent. Run
	// updates it once the node's action is done.
	Current string
	// CurrentChannel is the channel kcloud installed K3s from, as recorded
	// on the node; empty for a pinned version or no record.
	CurrentChannel string
	// Version or Channel is the release the spec asks for.
	Version string
	Channel string
	Action  Action
	// Reason says why the node is not up to date.
	Reason string
	// Exec is the K3s command and flags the node is installed with
	// (INSTALL_K3S_EXEC).
	Exec string
	// Cordoned says kcloud cordoned the node and has yet to uncordon it: a
	// run that failed after the cordon left it so, and this run finishes
	// the job.
	Cordoned bool
	// Steps are what Run does to the node, in order (a dry run's account).
	Steps []Step
}

// StepKind names a step of a node's day.
type StepKind string

// The steps, in the order a node goes through them.
const (
	StepSnapshot    StepKind = "snapshot"
	StepCordon      StepKind = "cordon"
	StepDrain       StepKind = "drain"
	StepInstall     StepKind = "install"
	StepUpgrade     StepKind = "upgrade"
	StepReconfigure StepKind = "reconfigure"
	StepWaitReady   StepKind = "wait Ready"
	StepUncordon    StepKind = "uncordon"
	StepUninstall   StepKind = "uninstall"
	StepDelete      StepKind = "delete node"
	StepStop        StepKind = "stop K3s"
	StepStart       StepKind = "start K3s"
	StepReset       StepKind = "cluster reset"
	StepMoveAside   StepKind = "move datastore aside"
)

// Step is one thing done to a node, and how.
type Step struct {
	Kind   StepKind
	Detail string
}

// record is what kcloud keeps on a node about the K3s it installed: enough
// to tell "up to date" for a channel, and when flags changed.
type record struct {
	Version string `json:"version"`
	Channel string `json:"channel,omitempty"`
	Exec    string `json:"exec"`
	// Cordoned: kcloud cordoned the node and must uncordon it.
	Cordoned bool `json:"cordoned,omitempty"`
}

// nodeState is what the read-only probes found.
type nodeState struct {
	version string
	record  *record
}

// probe reads the installed K3s version and kcloud's record. It only reads.
func probe(ctx context.Context, r remote.Runner, p Paths) (nodeState, error) {
	var st nodeState
	k3s := remote.Quote(p.k3s())
	out, err := r.Run(ctx, fmt.Sprintf("if [ -x %s ]; then %s --version; fi", k3s, k3s), nil)
	if err != nil {
		return st, err
	}
	if st.version, err = parseVersion(string(out)); err != nil {
		return st, fmt.Errorf("ssh %s: %s --version: %w", r.Target(), p.k3s(), err)
	}
	rec := remote.Quote(p.record())
	out, err = r.Run(ctx, fmt.Sprintf("if [ -f %s ]; then cat %s; fi", rec, rec), nil)
	if err != nil {
		return st, err
	}
	if len(strings.TrimSpace(string(out))) > 0 {
		st.record = &record{}
		if err := json.Unmarshal(out, st.record); err != nil {
			// A damaged record only costs a reconfigure.
			st.record = nil
		}
	}
	return st, nil
}

// parseVersion reads "k3s version v1.33.5+k3s1 (abcdef12)"; empty output
// means K3s is absent.
func parseVersion(out string) (string, error) {
	out = strings.TrimSpace(out)
	if out == "" {
		return "", nil
	}
	first, _, _ := strings.Cut(out, "\n")
	f := strings.Fields(first)
	if len(f) < 3 || f[0] != "k3s" || f[1] != "version" || !strings.HasPrefix(f[2], "v") {
		return "", fmt.Errorf("unexpected output %q", first)
	}
	return f[2], nil
}

// decide compares what a node has with what the spec wants.
func decide(c *Cluster, st nodeState, exec string) (Action, string) {
	switch {
	case st.version == "":
		return ActionInstall, "K3s is not installed"
	case c.Version != "" && st.version != c.Version:
		return ActionUpgrade, fmt.Sprintf("version %s → %s", st.version, c.Version)
	case st.record == nil:
		return ActionReconfigure, "K3s was not installed by kcloud: its channel and flags are unknown"
	case c.Channel != "" && st.record.Channel != c.Channel:
		from := "a pinned version"
		if st.record.Channel != "" {
			from = "channel " + st.record.Channel
		}
		return ActionUpgrade, fmt.Sprintf("%s → channel %s", from, c.Channel)
	case st.record.Exec != exec:
		return ActionReconfigure, "flags " + flagChange(st.record.Exec, exec)
	}
	return ActionNone, ""
}

// flagChange says which flags were added and dropped, e.g.
// "+[--disable traefik] -[--cluster-init]".
func flagChange(from, to string) string {
	old, cur := flagItems(from), flagItems(to)
	var added, dropped []string
	for _, f := range cur {
		if !slices.Contains(old, f) {
			added = append(added, f)
		}
	}
	for _, f := range old {
		if !slices.Contains(cur, f) {
			dropped = append(dropped, f)
		}
	}
	var parts []string
	if len(added) > 0 {
		parts = append(parts, "+["+strings.Join(added, ", ")+"]")
	}
	if len(dropped) > 0 {
		parts = append(parts, "-["+strings.Join(dropped, ", ")+"]")
	}
	if len(parts) == 0 {
		return "reordered"
	}
	return strings.Join(parts, " ")
}

// flagItems splits an INSTALL_K3S_EXEC into its command and its flags,
// each flag with its value.
func flagItems(exec string) []string {
	var out []string
	for _, w := range strings.Fields(exec) {
		if len(out) > 0 && !strings.HasPrefix(w, "-") && strings.HasPrefix(out[len(out)-1], "-") && !strings.Contains(out[len(out)-1], " ") && !strings.Contains(out[len(out)-1], "=") {
			out[len(out)-1] += " " + w
			continue
		}
		out = append(out, w)
	}
	return out
}
