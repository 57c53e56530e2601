package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"kcloud.dev/kcloud/pkg/remote"
)

// readyCmd asks K3s on the first server whether node is Ready.
func readyCmd(p Paths, node string) string {
	return fmt.Sprintf("%s kubectl get node %s -o jsonpath=%s",
		remote.Quote(p.k3s()), remote.Quote(node),
		remote.Quote(`{.status.conditions[?(@.type=="Ready")].status}`))
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
		switch {
		case err == nil && strings.TrimSpace(string(out)) == "True":
			b.emit(Event{Type: EventReady, Node: *np})
			return nil
		case err == nil:
			last = fmt.Sprintf("Ready is %q", strings.TrimSpace(string(out)))
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
