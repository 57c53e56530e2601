package bootstrap

import (
	"context"
	"fmt"
	"sync"

	"github.com/rs/zerolog"

	"kcloud.dev/kcloud/pkg/spec"
)

// apply snapshots the datastore when a running node changes, then acts on
// the servers one at a time, the first one first; then on the agents that
// run K3s, one at a time, and on the new agents in parallel; then removes
// the nodes that left the spec, one at a time. A node that restarts K3s is
// cordoned and drained first and uncordoned once Ready again.
func (b *bootstrapper) apply(ctx context.Context, res *Result) error {
	plan := res.Plan
	if res.Snapshot != nil {
		if err := b.snapshot(ctx, b.firstServer(plan), res.Snapshot); err != nil {
			return err
		}
	}
	var servers, agents, fresh, gone []*NodePlan
	for i := range plan {
		np := &plan[i]
		switch {
		case np.Action == ActionRemove:
			gone = append(gone, np)
		case np.Node.Role != spec.RoleAgent:
			servers = append(servers, np)
		case np.Action == ActionInstall:
			fresh = append(fresh, np)
		default:
			agents = append(agents, np)
		}
	}
	tokens := &joinTokens{b: b}
	for i, np := range servers {
		if err := b.step(ctx, np, tokens, i > 0); err != nil {
			return err
		}
	}
	for _, np := range agents {
		if err := b.step(ctx, np, tokens, true); err != nil {
			return err
		}
	}
	if len(fresh) > 0 {
		if _, err := tokens.get(ctx); err != nil {
			return err
		}
	}
	err := forEach(fresh, func(_ int, np *NodePlan) error { return b.step(ctx, np, tokens, true) })
	if err != nil {
		return err
	}
	for _, np := range gone {
		if err := b.remove(ctx, np); err != nil {
			return err
		}
		if err := b.writeMembers(ctx, plan); err != nil {
			return err
		}
	}
	return nil
}

// joinTokens reads the join token once, when a node first needs it.
type joinTokens struct {
	b     *bootstrapper
	mu    sync.Mutex
	token string
}

func (t *joinTokens) get(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token != "" {
		return t.token, nil
	}
	tok, err := t.b.joinToken(ctx)
	t.token = tok
	return tok, err
}

// step brings one node to the spec: nothing, finishing what an earlier run
// left (Ready, uncordon), or its action; joins says it joins the first
// server.
func (b *bootstrapper) step(ctx context.Context, np *NodePlan, tokens *joinTokens, joins bool) error {
	switch {
	case np.Action == ActionNone && np.Cordoned:
		b.emit(Event{Type: EventStarted, Node: *np})
		return b.settle(ctx, np)
	case np.Action == ActionNone:
		b.emit(Event{Type: EventUpToDate, Node: *np})
		return nil
	}
	var token string
	if joins {
		t, err := tokens.get(ctx)
		if err != nil {
			return err
		}
		token = t
	}
	return b.act(ctx, np, token)
}

// act installs, upgrades or reconfigures one node: a running one is
// cordoned and drained first; then it waits for the node to be Ready,
// uncordons it and records what it installed.
func (b *bootstrapper) act(ctx context.Context, np *NodePlan, token string) error {
	log := zerolog.Ctx(ctx).With().Str("node", np.Node.Name).Logger()
	log.Info().Str("action", string(np.Action)).Str("reason", np.Reason).Msg("bootstrap node")
	b.emit(Event{Type: EventStarted, Node: *np})
	if np.Current != "" {
		if err := b.cordonDrain(ctx, np); err != nil {
			return b.failed(*np, err)
		}
	}
	if err := b.install(ctx, np, token); err != nil {
		return b.failed(*np, fmt.Errorf("node %s: %s: %w", np.Node.Name, np.Action, err))
	}
	return b.settle(ctx, np)
}

// settle waits for the node to be Ready, uncordons it if kcloud cordoned
// it, and records what is installed.
func (b *bootstrapper) settle(ctx context.Context, np *NodePlan) error {
	if err := b.waitReady(ctx, np); err != nil {
		return b.failed(*np, err)
	}
	if err := b.uncordon(ctx, np); err != nil {
		return b.failed(*np, err)
	}
	if err := b.writeRecord(ctx, np); err != nil {
		return b.failed(*np, fmt.Errorf("node %s: record the installed release: %w", np.Node.Name, err))
	}
	b.emit(Event{Type: EventDone, Node: *np})
	return nil
}
