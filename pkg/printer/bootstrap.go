package printer

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"kcloud.dev/kcloud/pkg/bootstrap"
	"kcloud.dev/kcloud/pkg/spec"
)

// BootstrapPlan writes what bootstrap found on each node and will do, one
// row per node. Names and hosts come from specs and the environment: they
// are printed escaped (Clean).
func BootstrapPlan(w io.Writer, plan []bootstrap.NodePlan) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tROLE\tTARGET\tCURRENT\tDESIRED\tACTION\tWHY")
	for _, np := range plan {
		why := np.Reason
		if why == "" {
			why = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", Clean(np.Node.Name), Clean(np.Node.Role), Clean(np.Node.Target.String()),
			Clean(currentRelease(np)), Clean(desiredRelease(np)), np.Action, Clean(why))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return bootstrapSteps(w, plan)
}

// bootstrapSteps writes every node's steps in the order bootstrap takes
// them: the snapshot, the servers, the agents that run K3s, the new agents
// (those together), the nodes that leave.
func bootstrapSteps(w io.Writer, plan []bootstrap.NodePlan) error {
	rank := func(np bootstrap.NodePlan) int {
		switch {
		case len(np.Steps) > 0 && np.Steps[0].Kind == bootstrap.StepSnapshot:
			return 0
		case np.Action == bootstrap.ActionRemove:
			return 4
		case np.Node.Role != spec.RoleAgent:
			return 1
		case np.Action == bootstrap.ActionInstall:
			return 3
		}
		return 2
	}
	ordered := slices.Clone(plan)
	slices.SortStableFunc(ordered, func(a, b bootstrap.NodePlan) int { return rank(a) - rank(b) })
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	n := 0
	for _, np := range ordered {
		for _, s := range np.Steps {
			if n == 0 {
				fmt.Fprintln(tw, "\nSTEP\tNODE\tWHAT\tHOW")
			}
			n++
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", n, Clean(np.Node.Name), s.Kind, Clean(orDash(s.Detail)))
		}
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// stepLine says what a day-2 step did.
func stepLine(s bootstrap.Step) string {
	switch s.Kind {
	case bootstrap.StepSnapshot:
		return "snapshot saved: " + s.Detail
	case bootstrap.StepCordon:
		return "cordoned"
	case bootstrap.StepUncordon:
		return "uncordoned"
	case bootstrap.StepUninstall:
		return "K3s uninstalled (" + s.Detail + ")"
	case bootstrap.StepDelete:
		return "deleted from the cluster"
	}
	if s.Detail != "" {
		return string(s.Kind) + ": " + s.Detail
	}
	return string(s.Kind)
}

// BootstrapEvent writes one plain line of progress, prefixed with the
// node: for logs and pipes (BootstrapProgress draws live lines on a
// terminal). The probes and a node's end (EventDone) get no line of their
// own: the plan and the Ready line say it.
func BootstrapEvent(w io.Writer, ev bootstrap.Event) error {
	np := ev.Node
	var line string
	switch ev.Type {
	case bootstrap.EventPlan:
		return BootstrapPlan(w, ev.Plan)
	case bootstrap.EventConnecting:
		line = "connecting to " + np.Node.Target.String()
	case bootstrap.EventUpToDate:
		line = "up to date, K3s " + currentRelease(np)
	case bootstrap.EventStep:
		line = stepLine(ev.Step)
	case bootstrap.EventStarted:
		switch np.Action {
		case bootstrap.ActionNone:
			line = "finishing what an earlier run began: wait for Ready, uncordon"
		case bootstrap.ActionRemove:
			line = "remove: " + np.Reason
		case bootstrap.ActionInstall:
			line = "install " + desiredRelease(np)
		case bootstrap.ActionUpgrade:
			line = fmt.Sprintf("upgrade %s → %s", currentRelease(np), desiredRelease(np))
		default:
			line = fmt.Sprintf("%s %s: %s", np.Action, desiredRelease(np), np.Reason)
		}
	case bootstrap.EventUploading:
		line = "uploading the installer"
	case bootstrap.EventDownloading:
		line = "downloading the installer from " + ev.URL
	case bootstrap.EventInstalling:
		line = "running the installer"
	case bootstrap.EventWaiting:
		line = fmt.Sprintf("waiting up to %s for %s", ev.Timeout, ev.Waiting)
	case bootstrap.EventReady:
		line = "Ready, K3s " + np.Current
	case bootstrap.EventDone:
		if np.Action != bootstrap.ActionRemove {
			return nil
		}
		line = "removed"
	case bootstrap.EventKubeconfig:
		line = "fetching the kubeconfig"
	case bootstrap.EventFailed:
		line = "failed"
	default:
		return nil
	}
	_, err := fmt.Fprintf(w, "%s: %s\n", Clean(np.Node.Name), Clean(line))
	return err
}

// BootstrapResult writes where the kubeconfig went, or what a dry run would
// have changed.
func BootstrapResult(w io.Writer, res *bootstrap.Result) error {
	if s := res.Snapshot; s != nil && s.Path != "" {
		if _, err := fmt.Fprintf(w, "snapshot: %s on %s (undo with: kcloud bootstrap restore --snapshot %s --yes)\n", Clean(s.Path), Clean(s.Node), Clean(s.Name)); err != nil {
			return err
		}
	}
	if res.Kubeconfig == nil {
		changes := 0
		for _, np := range res.Plan {
			if np.Action != bootstrap.ActionNone {
				changes++
			}
		}
		_, err := fmt.Fprintf(w, "dry run: %d of %d node(s) would change; nothing was changed\n", changes, len(res.Plan))
		return err
	}
	k := res.Kubeconfig
	what := fmt.Sprintf("context %s, server %s", k.Context, k.Server)
	if k.Written != "" {
		verb := "wrote"
		if !k.WrittenChanged {
			verb = "unchanged"
		}
		if _, err := fmt.Fprintf(w, "kubeconfig: %s %s%s (%s)\n", verb, k.Written, via(k.WrittenTarget), what); err != nil {
			return err
		}
	}
	if k.Merged != "" {
		verb := "merged into"
		if !k.MergedChanged {
			verb = "unchanged in"
		}
		if _, err := fmt.Fprintf(w, "kubeconfig: %s %s%s (%s)\n", verb, k.Merged, via(k.MergedTarget), what); err != nil {
			return err
		}
	}
	return nil
}

// via says where a symlinked kubeconfig path led.
func via(target string) string {
	if target == "" {
		return ""
	}
	return " → " + target + " (a symlink; the link is kept)"
}

func currentRelease(np bootstrap.NodePlan) string {
	switch {
	case np.Current == "":
		return "-"
	case np.CurrentChannel != "":
		return np.Current + " (" + np.CurrentChannel + ")"
	}
	return np.Current
}

func desiredRelease(np bootstrap.NodePlan) string {
	if np.Version != "" {
		return np.Version
	}
	return "channel " + np.Channel
}

// BootstrapRestore writes what a restore did, or would do.
func BootstrapRestore(w io.Writer, res *bootstrap.RestoreResult, dryRun bool) error {
	s := res.Snapshot
	if dryRun {
		_, err := fmt.Fprintf(w, "dry run: would restore %s (%s) on %s with the steps above; nothing was changed\n", Clean(s.Name), s.Datastore, Clean(s.Node))
		return err
	}
	_, err := fmt.Fprintf(w, "restored %s (%s) on %s; %d server(s) Ready\n", Clean(s.Path), s.Datastore, Clean(s.Node), len(res.Plan))
	return err
}
