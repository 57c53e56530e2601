package bootstrap

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"

	"kcloud.dev/kcloud/pkg/remote"
)

// Options tune Run. The zero value plus SSH credentials is a production run.
type Options struct {
	// SSH is how to reach the nodes: credentials and host key policy.
	SSH remote.Options
	// Installer is a K3s install script to upload to the nodes (pinned or
	// air-gapped installs); nil has each node fetch InstallerURL.
	Installer []byte
	// InstallerURL is where nodes fetch the installer; DefaultInstallerURL
	// when empty.
	InstallerURL string
	// DryRun connects and probes, and changes nothing: Run returns the plan.
	DryRun bool
	// Timeout bounds the wait for each node to be Ready; 5 minutes when
	// zero.
	Timeout time.Duration
	// PollInterval is the time between two readiness probes; 2s when zero.
	PollInterval time.Duration
	// KubeconfigOut is the file the kubeconfig is written to; none when
	// empty.
	KubeconfigOut string
	// MergeInto is a kubeconfig file the cluster's entries are merged
	// into; none when empty.
	MergeInto string
	// OnEvent, when set, is told about progress as it happens, one event
	// at a time.
	OnEvent func(Event)
	// Dial connects to a node; remote.Dial when nil. Tests inject faults
	// with it.
	Dial func(context.Context, remote.Target, remote.Options) (remote.Runner, error)
	// Paths says where a node keeps K3s's files; DefaultPaths for every
	// node when nil. Tests that run several nodes on one machine give each
	// its own root.
	Paths func(node string) Paths
	// RemoveNodes lets Run remove the nodes kcloud joined that are gone
	// from the spec; without it, such nodes stop Run before it changes
	// anything (a *DepartedError).
	RemoveNodes bool
	// ForceDrain lets a drain delete the pods no controller owns, which
	// nothing would recreate elsewhere.
	ForceDrain bool
	// DrainTimeout bounds each node's drain; 5 minutes when zero.
	DrainTimeout time.Duration
	// EvictRetry is the pause before asking again for an eviction a
	// PodDisruptionBudget refused; 5s when zero, as kubectl drain.
	EvictRetry time.Duration
}

// Result is what Run did.
type Result struct {
	// Plan is what was found on each node and done to it, in spec order,
	// then the nodes that left the spec.
	Plan []NodePlan
	// Snapshot is the datastore's snapshot taken before the change (its
	// Path set once taken); nil when no running node changes.
	Snapshot *Snapshot
	// Kubeconfig is the kubeconfig, for a run that is not a dry run.
	Kubeconfig *Kubeconfigs
}

// Kubeconfigs says where the kubeconfig went.
type Kubeconfigs struct {
	// Context is the name of its cluster, context and user.
	Context string
	// Server is the API server URL in it.
	Server string
	// Written is KubeconfigOut, and WrittenChanged whether it changed.
	Written        string
	WrittenChanged bool
	// Merged is MergeInto, and MergedChanged whether it changed.
	Merged        string
	MergedChanged bool
	// WrittenTarget and MergedTarget are set when Written or Merged is a
	// symlink: the file that was actually written.
	WrittenTarget, MergedTarget string
}

// Run brings every node of c to the spec's K3s release and flags, removes
// the nodes that left the spec (with RemoveNodes), and writes the
// kubeconfig. It connects to every node and checks the whole plan before
// it changes anything: a host key problem anywhere, a version skew, a
// node that left without RemoveNodes or a removal that would break the
// cluster stops it before it starts; then it snapshots the datastore
// before it changes a running cluster.
func Run(ctx context.Context, c *Cluster, o Options) (*Result, error) {
	if len(c.Servers()) == 0 {
		return nil, fmt.Errorf("cluster %s has no server node", c.Name)
	}
	b := newBootstrapper(c, o)
	defer b.close()
	res, err := b.prepare(ctx)
	if err != nil || b.opts.DryRun {
		return res, err
	}
	if err := b.apply(ctx, res); err != nil {
		return res, err
	}
	if err := b.writeMembers(ctx, res.Plan); err != nil {
		return res, err
	}
	res.Kubeconfig, err = b.kubeconfig(ctx, res.Plan)
	return res, err
}

// newBootstrapper fills o's defaults.
func newBootstrapper(c *Cluster, o Options) *bootstrapper {
	if o.Dial == nil {
		o.Dial = remote.Dial
	}
	if o.InstallerURL == "" {
		o.InstallerURL = DefaultInstallerURL
	}
	o.Timeout = cmp.Or(o.Timeout, 5*time.Minute)
	o.PollInterval = cmp.Or(o.PollInterval, 2*time.Second)
	o.DrainTimeout = cmp.Or(o.DrainTimeout, 5*time.Minute)
	// kubectl drain's own pause after a refused eviction.
	o.EvictRetry = cmp.Or(o.EvictRetry, 5*time.Second)
	if o.Paths == nil {
		o.Paths = func(string) Paths { return DefaultPaths() }
	}
	o.SSH.DryRun = o.SSH.DryRun || o.DryRun
	return &bootstrapper{cluster: c, opts: o, runners: map[string]remote.Runner{},
		records: map[string]*record{}, removed: map[string]bool{}}
}

// bootstrapper is one Run.
type bootstrapper struct {
	cluster *Cluster
	opts    Options
	runners map[string]remote.Runner
	emitMu  sync.Mutex
	// records are what each node's record said when probed.
	records map[string]*record
	// client reaches the API server through the first server, once opened.
	client kubernetes.Interface
	// removed are the departed nodes removed so far.
	removed map[string]bool
	// recorded is the record of the cluster's nodes on the servers, as
	// last read or written.
	recorded []member
}

func (b *bootstrapper) paths(node string) Paths { return b.opts.Paths(node) }

func (b *bootstrapper) emit(ev Event) {
	if b.opts.OnEvent == nil {
		return
	}
	b.emitMu.Lock()
	defer b.emitMu.Unlock()
	b.opts.OnEvent(ev)
}

// failed tells of err on np's node and returns it.
func (b *bootstrapper) failed(np NodePlan, err error) error {
	b.emit(Event{Type: EventFailed, Node: np, Err: err})
	return err
}

// forEach runs fn for every node at once and joins the errors in node
// order.
func forEach[T any](items []T, fn func(int, T) error) error {
	errs := make([]error, len(items))
	var wg sync.WaitGroup
	for i, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(i, it)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (b *bootstrapper) connect(ctx context.Context, nodes []Node) error {
	runners := make([]remote.Runner, len(nodes))
	for _, n := range nodes {
		b.emit(Event{Type: EventConnecting, Node: NodePlan{Node: n}})
	}
	err := forEach(nodes, func(i int, n Node) error {
		r, err := b.opts.Dial(ctx, n.Target, b.opts.SSH)
		if err != nil {
			return b.failed(NodePlan{Node: n}, fmt.Errorf("node %s: %w", n.Name, err))
		}
		runners[i] = r
		return nil
	})
	for i, n := range nodes {
		if runners[i] != nil {
			b.runners[n.Name] = runners[i]
		}
	}
	return err
}

func (b *bootstrapper) close() {
	for _, r := range b.runners {
		r.Close()
	}
}

// plan probes every node, read-only, and decides its action.
func (b *bootstrapper) plan(ctx context.Context) ([]NodePlan, error) {
	plan := make([]NodePlan, len(b.cluster.Nodes))
	recs := make([]*record, len(b.cluster.Nodes))
	err := forEach(b.cluster.Nodes, func(i int, n Node) error {
		p := b.paths(n.Name)
		b.emit(Event{Type: EventProbing, Node: NodePlan{Node: n}})
		st, err := probe(ctx, b.runners[n.Name], p)
		if err != nil {
			return b.failed(NodePlan{Node: n}, fmt.Errorf("node %s: %w", n.Name, err))
		}
		np := NodePlan{
			Node:    n,
			Current: st.version,
			Version: b.cluster.Version,
			Channel: b.cluster.Channel,
			Exec:    execString(b.cluster.execArgs(n, p)),
		}
		if st.record != nil {
			np.CurrentChannel, np.Cordoned = st.record.Channel, st.record.Cordoned
		}
		np.Action, np.Reason = decide(b.cluster, st, np.Exec)
		plan[i], recs[i] = np, st.record
		return nil
	})
	for i, n := range b.cluster.Nodes {
		b.records[n.Name] = recs[i]
	}
	return plan, err
}

// kubeconfig reads K3s's admin kubeconfig from the first server and writes
// it out for the API endpoint, telling of it on the first server's plan.
func (b *bootstrapper) kubeconfig(ctx context.Context, plan []NodePlan) (*Kubeconfigs, error) {
	first := b.cluster.Servers()[0]
	np := NodePlan{Node: first}
	if i := slices.IndexFunc(plan, func(np NodePlan) bool { return np.Node.Name == first.Name }); i >= 0 {
		np = plan[i]
	}
	b.emit(Event{Type: EventKubeconfig, Node: np})
	out, err := b.writeKubeconfig(ctx, first)
	if err != nil {
		return nil, b.failed(np, err)
	}
	b.emit(Event{Type: EventDone, Node: np})
	return out, nil
}

// writeKubeconfig reads the kubeconfig from first and writes it where the
// options say.
func (b *bootstrapper) writeKubeconfig(ctx context.Context, first Node) (*Kubeconfigs, error) {
	path := b.paths(first.Name).Kubeconfig
	data, err := b.runners[first.Name].Run(ctx, "cat "+remote.Quote(path), nil)
	if err != nil {
		return nil, fmt.Errorf("read the kubeconfig from %s: %w", first.Name, err)
	}
	cfg, err := Kubeconfig(data, b.cluster.Name, b.cluster.APIEndpoint)
	if err != nil {
		return nil, fmt.Errorf("node %s: %s: %w", first.Name, path, err)
	}
	out := &Kubeconfigs{Context: b.cluster.Name, Server: cfg.Clusters[b.cluster.Name].Server}
	if f := b.opts.KubeconfigOut; f != "" {
		if out.WrittenChanged, err = WriteKubeconfig(f, cfg); err != nil {
			return nil, err
		}
		out.Written = f
		if t, _ := ResolveKubeconfigPath(f); t != f {
			out.WrittenTarget = t
		}
	}
	if f := b.opts.MergeInto; f != "" {
		if out.MergedChanged, err = MergeKubeconfig(f, cfg); err != nil {
			return nil, err
		}
		out.Merged = f
		if t, _ := ResolveKubeconfigPath(f); t != f {
			out.MergedTarget = t
		}
	}
	return out, nil
}
