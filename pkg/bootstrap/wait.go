package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"kcloud.dev/kcloud/pkg/remote"
)

// readyCmd asks K3s on the first server whether node is Ready, and which
// kubelet version it runs (K3s's own, e.g. v1.34.1+k3s1).
func readyCmd(p Paths, node string) string {
	return fmt.Sprintf("%s kubectl get node %s -o jsonpath=%s",
		remote.Quote(p.k3s()), remote.Quote(node),
		remote.Quote(`{.status.conditions[?(@.type=="Ready")].status} {.status.nodeInfo.kubeletVersion}`))
}

// readyAt reads readyCmd's answer: Ready, and at version when one is
// given (after an upgrade, Ready alone may still be the old kubelet's).
func readyAt(out, version string) (bool, string) {
	f := strings.Fields(out)
	status, kubelet := "", ""
	if len(f) > 0 {
		status = f[0]
	}
	if len(f) > 1 {
		kubelet = f[1]
	}
	switch {
	case status != "True":
		return false, fmt.Sprintf("Ready is %q", status)
	case version != "" && kubelet != version:
		return false, fmt.Sprintf("Ready, but its kubelet is %s, not %s yet", kubelet, version)
	}
	return true, ""
}

// waitReady polls the first server until np's node is Ready, for at most
// the timeout.
func (b *bootstrapper) waitReady(ctx context.Context, np *NodePlan) error {
	first := b.cluster.Servers()[0]
	r := b.runners[first.Name]
	cmd := readyCmd(b.paths(first.Name), np.Node.Name)
	b.emit(Event{Type: EventWaiting, Node: *np, Timeout: b.opts.Timeout,
		Waiting: fmt.Sprintf("node %s to be Ready (%q on %s)", np.Node.Name, "k3s kubectl get node "+np.Node.Name, first.Name)})
	wctx, cancel := context.WithTimeout(ctx, b.opts.Timeout)
	defer cancel()
	var last string
	for {
		out, err := r.Run(wctx, cmd, nil)
		ready, why := readyAt(string(out), np.Current)
		switch {
		case err == nil && ready:
			b.emit(Event{Type: EventReady, Node: *np})
			return nil
		case err == nil:
			last = why
		default:
			var ce *remote.CommandError
			if errors.As(err, &ce) && ce.ExitStatus >= 0 {
				last = ce.Output
			} else if wctx.Err() == nil {
				return err
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		select {
		case <-wctx.Done():
			if last == "" {
				last = "nothing yet"
			}
			return fmt.Errorf("node %s: not Ready after %s (k3s kubectl get node %s on %s last said: %s)",
				np.Node.Name, b.opts.Timeout, np.Node.Name, first.Name, last)
		case <-time.After(b.opts.PollInterval):
		}
	}
}
