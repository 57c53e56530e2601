package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/rs/zerolog"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/kubectl/pkg/drain"
)

// DrainError is a drain that did not finish: the node stays cordoned, and
// a rerun continues from there.
type DrainError struct {
	Node string
	Err  error
}

func (e *DrainError) Error() string {
	return fmt.Sprintf("node %s: drain: %v; the node stays cordoned: let what blocks the evictions go (a PodDisruptionBudget that allows no disruption, a pod no controller owns: --force-drain deletes those) and rerun bootstrap, which continues from there", e.Node, e.Err)
}

func (e *DrainError) Unwrap() error { return e.Err }

// drainer is kubectl's drain with kcloud's rules: evictions through the
// Eviction API, so PodDisruptionBudgets are honoured; DaemonSet pods stay
// (their controller would put them back); emptyDir volumes are scratch
// space and go with their pod; pods no controller owns are deleted only
// with Options.ForceDrain; the whole drain is bounded by DrainTimeout.
func (b *bootstrapper) drainer(ctx context.Context, np *NodePlan) (*drain.Helper, error) {
	cs, err := b.kube(ctx)
	if err != nil {
		return nil, err
	}
	log := zerolog.Ctx(ctx).With().Str("node", np.Node.Name).Logger()
	return &drain.Helper{
		Ctx:                  ctx,
		Client:               cs,
		Force:                b.opts.ForceDrain,
		GracePeriodSeconds:   -1,
		IgnoreAllDaemonSets:  true,
		DeleteEmptyDirData:   true,
		Timeout:              b.opts.DrainTimeout,
		EvictErrorRetryDelay: b.opts.EvictRetry,
		Out:                  logWriter{log, false},
		ErrOut:               logWriter{log, true},
	}, nil
}

// logWriter turns drain's progress lines into log lines.
type logWriter struct {
	log  zerolog.Logger
	warn bool
}

func (w logWriter) Write(p []byte) (int, error) {
	ev := w.log.Info()
	if w.warn {
		ev = w.log.Warn()
	}
	ev.Msg(string(trimNL(p)))
	return len(p), nil
}

func trimNL(p []byte) []byte {
	for len(p) > 0 && (p[len(p)-1] == '\n' || p[len(p)-1] == '\r') {
		p = p[:len(p)-1]
	}
	return p
}

var _ io.Writer = logWriter{}

// cordonDrain cordons np's node, noting first on the node that kcloud did
// (so that a rerun after a failure uncordons it), and drains it. A node the
// cluster does not know is left alone; a node someone else cordoned stays
// cordoned afterwards.
func (b *bootstrapper) cordonDrain(ctx context.Context, np *NodePlan) error {
	h, err := b.drainer(ctx, np)
	if err != nil {
		return err
	}
	node, err := h.Client.CoreV1().Nodes().Get(ctx, np.Node.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		b.emit(Event{Type: EventStep, Node: *np, Step: Step{Kind: StepDrain, Detail: "skipped: the cluster has no node " + np.Node.Name}})
		return nil
	}
	if err != nil {
		return fmt.Errorf("node %s: %w", np.Node.Name, err)
	}
	alone, err := b.alone(ctx, h, np.Node.Name)
	if err != nil {
		return err
	}
	if !node.Spec.Unschedulable {
		np.Cordoned = true
		if err := b.noteCordon(ctx, np, true); err != nil {
			return err
		}
		if err := drain.RunCordonOrUncordon(h, node, true); err != nil {
			return fmt.Errorf("node %s: cordon: %w", np.Node.Name, err)
		}
		b.emit(Event{Type: EventStep, Node: *np, Step: Step{Kind: StepCordon}})
	}
	if alone && np.Action != ActionRemove {
		// Evicting would only stop every pod until the uncordon: K3s
		// restarts without stopping them.
		b.emit(Event{Type: EventStep, Node: *np, Step: Step{Kind: StepDrain, Detail: "skipped: no other Ready, schedulable node to take its pods"}})
		return nil
	}
	b.emit(Event{Type: EventStep, Node: *np, Step: Step{Kind: StepDrain, Detail: fmt.Sprintf("evicting its pods, up to %s", b.opts.DrainTimeout)}})
	if err := drain.RunNodeDrain(h, np.Node.Name); err != nil {
		return &DrainError{Node: np.Node.Name, Err: err}
	}
	b.emit(Event{Type: EventStep, Node: *np, Step: Step{Kind: StepDrain, Detail: "done"}})
	return nil
}

// uncordon makes the node schedulable again, if kcloud cordoned it, and
// notes that on the node. The API server may have just restarted (the
// node is the first server): a lost connection is retried.
func (b *bootstrapper) uncordon(ctx context.Context, np *NodePlan) error {
	if !np.Cordoned {
		return nil
	}
	h, err := b.drainer(ctx, np)
	if err != nil {
		return err
	}
	transient := func(err error) bool {
		var ne net.Error
		return errors.As(err, &ne) || apierrors.IsServerTimeout(err) || apierrors.IsTooManyRequests(err) ||
			apierrors.IsServiceUnavailable(err) || apierrors.IsConflict(err) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
	}
	backoff := retry.DefaultBackoff
	backoff.Steps, backoff.Duration = 8, 250*time.Millisecond
	err = retry.OnError(backoff, transient, func() error {
		node, err := h.Client.CoreV1().Nodes().Get(ctx, np.Node.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return drain.RunCordonOrUncordon(h, node, false)
	})
	if err != nil {
		return fmt.Errorf("node %s: uncordon: %w", np.Node.Name, err)
	}
	np.Cordoned = false
	b.emit(Event{Type: EventStep, Node: *np, Step: Step{Kind: StepUncordon}})
	return nil
}

// noteCordon records on the node whether kcloud holds it cordoned,
// keeping what the record said of its K3s.
func (b *bootstrapper) noteCordon(ctx context.Context, np *NodePlan, cordoned bool) error {
	rec := b.records[np.Node.Name]
	if rec == nil {
		rec = &record{Version: np.Current, Channel: np.CurrentChannel}
	}
	rec.Cordoned = cordoned
	if err := b.putRecord(ctx, np.Node.Name, *rec); err != nil {
		return fmt.Errorf("node %s: note the cordon: %w", np.Node.Name, err)
	}
	return nil
}

// alone reports whether no other node of the cluster is Ready and
// schedulable: there is nowhere for an evicted pod to go.
func (b *bootstrapper) alone(ctx context.Context, h *drain.Helper, name string) (bool, error) {
	nodes, err := h.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return false, fmt.Errorf("list the cluster's nodes: %w", err)
	}
	for i := range nodes.Items {
		n := &nodes.Items[i]
		if n.Name != name && !n.Spec.Unschedulable && nodeReady(n) {
			return false, nil
		}
	}
	return true, nil
}

// nodeReady reports whether a Node is Ready.
func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
