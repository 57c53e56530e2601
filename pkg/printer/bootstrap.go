package printer

import (
	"fmt"
	"io"
	"text/tabwriter"

	"kcloud.dev/kcloud/pkg/bootstrap"
)

// BootstrapPlan writes what bootstrap found on each node and will do, one
// row per node.
func BootstrapPlan(w io.Writer, plan []bootstrap.NodePlan) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tROLE\tTARGET\tCURRENT\tDESIRED\tACTION\tWHY")
	for _, np := range plan {
		why := np.Reason
		if why == "" {
			why = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", np.Node.Name, np.Node.Role, np.Node.Target,
			currentRelease(np), desiredRelease(np), np.Action, why)
	}
	return tw.Flush()
}

// BootstrapEvent writes one line of progress, prefixed with the node.
func BootstrapEvent(w io.Writer, ev bootstrap.Event) error {
	np := ev.Node
	var err error
	switch ev.Type {
	case bootstrap.EventPlan:
		return BootstrapPlan(w, ev.Plan)
	case bootstrap.EventUpToDate:
		_, err = fmt.Fprintf(w, "%s: up to date, K3s %s\n", np.Node.Name, currentRelease(np))
	case bootstrap.EventStarted:
		switch np.Action {
		case bootstrap.ActionInstall:
			_, err = fmt.Fprintf(w, "%s: install %s\n", np.Node.Name, desiredRelease(np))
		case bootstrap.ActionUpgrade:
			_, err = fmt.Fprintf(w, "%s: upgrade %s → %s\n", np.Node.Name, currentRelease(np), desiredRelease(np))
		default:
			_, err = fmt.Fprintf(w, "%s: %s %s: %s\n", np.Node.Name, np.Action, desiredRelease(np), Clean(np.Reason))
		}
	case bootstrap.EventWaiting:
		_, err = fmt.Fprintf(w, "%s: waiting up to %s for %s\n", np.Node.Name, ev.Timeout, ev.Waiting)
	case bootstrap.EventReady:
		_, err = fmt.Fprintf(w, "%s: Ready, K3s %s\n", np.Node.Name, np.Current)
	}
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
