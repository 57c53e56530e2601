package printer

import (
	"fmt"
	"io"
	"text/tabwriter"

	"kcloud.dev/kcloud/pkg/bootstrap"
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
	return tw.Flush()
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
	case bootstrap.EventStarted:
		switch np.Action {
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
