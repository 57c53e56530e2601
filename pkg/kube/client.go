package kube

import (
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/rs/zerolog"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
)

// Bulk-work client limits: none. client-go's defaults (5 QPS, burst 10)
// would make a 1,000-object diff take minutes, and any fixed rate caps a
// large apply (at 500 QPS, 10,000 objects take 18 s of PATCHes whatever
// the server could do). The worker pools bound concurrency, the server's
// priority and fairness protects it, and what it refuses with 429 is
// retried (retry.go). A negative QPS is client-go's "no rate limiter"
// (rest.RESTClientFor builds a token bucket only for a positive one).
const (
	DefaultQPS   = -1
	DefaultBurst = -1
)

// Options say which cluster to talk to.
type Options struct {
	// Kubeconfig is a kubeconfig path; empty means $KUBECONFIG, then
	// ~/.kube/config, then in-cluster.
	Kubeconfig string
	// Context is the kubeconfig context; empty means the current one.
	Context string
	// QPS and Burst default to DefaultQPS and DefaultBurst (unthrottled).
	QPS   float32
	Burst int
	// Warnings receives the API server's warnings; nil drops them.
	Warnings rest.WarningHandler
	// Retry bounds the retries of requests that failed transiently.
	Retry Retry
	// Log receives what the clients log themselves (retries, at debug
	// level); the zero value drops it.
	Log zerolog.Logger
	// Hint says why an API group may not be served (the schema's API group
	// table); nil gives a generic hint.
	Hint func(group string) string
}

// Clients are the clients of one cluster, sharing one REST config and one
// discovery cache.
type Clients struct {
	// Config has client-side throttling off.
	Config *rest.Config
	// Host is the API server's URL, for messages.
	Host    string
	Dynamic dynamic.Interface
	Typed   kubernetes.Interface
	// Metadata reads objects' metadata only (protobuf where served).
	Metadata metadata.Interface
	// Raw is a REST client configured as Dynamic, for reading a LIST's
	// body and decoding what is needed of it (Reader).
	Raw       rest.Interface
	Discovery discovery.CachedDiscoveryInterface
	// Mapper is reset when a plan creates CRDs.
	Mapper meta.ResettableRESTMapper
	// Factory is what cli-utils' inventory client and Applier take.
	Factory cmdutil.Factory

	hint func(group string) string
	gate *atomic.Pointer[WriteGate]
}

// SetWriteGate makes every request that would change the cluster ask gate
// first, retries included; nil removes it. Dry runs are not writes.
func (c *Clients) SetWriteGate(gate WriteGate) {
	if gate == nil {
		c.gate.Store(nil)
		return
	}
	c.gate.Store(&gate)
}

// ErrNoKubeconfig says no kubeconfig was found: none named, none in
// $KUBECONFIG, none at ~/.kube/config (client-go's own message speaks of
// KUBERNETES_MASTER, which kcloud does not read).
var ErrNoKubeconfig = errors.New("kubeconfig: none found (no --kubeconfig, no $KUBECONFIG, no ~/.kube/config)")

// New loads the kubeconfig like kubectl does and builds the clients.
func New(opts Options) (*Clients, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = opts.Kubeconfig
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules,
		&clientcmd.ConfigOverrides{CurrentContext: opts.Context})
	cfg, err := loader.ClientConfig()
	if clientcmd.IsEmptyConfig(err) {
		return nil, ErrNoKubeconfig
	}
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	return newClients(cfg, loader, opts)
}

// NewForConfig builds the clients for a REST config (tests, the demo).
func NewForConfig(cfg *rest.Config, opts Options) (*Clients, error) {
	return newClients(rest.CopyConfig(cfg), clientcmd.NewDefaultClientConfig(*kubeconfigFor(cfg), nil), opts)
}

func newClients(cfg *rest.Config, loader clientcmd.ClientConfig, opts Options) (*Clients, error) {
	cfg.QPS, cfg.Burst = opts.QPS, opts.Burst
	if cfg.QPS == 0 {
		cfg.QPS = DefaultQPS
	}
	if cfg.Burst == 0 {
		cfg.Burst = DefaultBurst
	}
	gate := &atomic.Pointer[WriteGate]{}
	rt := &retrier{policy: opts.Retry.withDefaults(), log: opts.Log, gate: gate}
	cfg.Wrap(func(next http.RoundTripper) http.RoundTripper {
		c := *rt
		c.next = next
		return &c
	})
	cfg.WarningHandler = opts.Warnings
	if cfg.WarningHandler == nil {
		cfg.WarningHandler = rest.NoWarnings{}
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery client for %s: %w", cfg.Host, err)
	}
	cached := memory.NewMemCacheClient(dc)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(cached)
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client for %s: %w", cfg.Host, err)
	}
	typed, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("client for %s: %w", cfg.Host, err)
	}
	md, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("metadata client for %s: %w", cfg.Host, err)
	}
	raw, err := rest.UnversionedRESTClientFor(dynamic.ConfigFor(cfg))
	if err != nil {
		return nil, fmt.Errorf("client for %s: %w", cfg.Host, err)
	}
	getter := &clientGetter{cfg: cfg, disco: cached, mapper: mapper, loader: loader}
	return &Clients{
		Config:    cfg,
		Host:      cfg.Host,
		Dynamic:   dyn,
		Typed:     typed,
		Metadata:  md,
		Raw:       raw,
		Discovery: cached,
		Mapper:    mapper,
		Factory:   cmdutil.NewFactory(getter),
		hint:      opts.Hint,
		gate:      gate,
	}, nil
}

// clientGetter hands kubectl's Factory the clients built here, so that
// cli-utils shares this discovery cache and RESTMapper instead of building
// its own from disk.
type clientGetter struct {
	cfg    *rest.Config
	disco  discovery.CachedDiscoveryInterface
	mapper meta.RESTMapper
	loader clientcmd.ClientConfig
}

var _ genericclioptions.RESTClientGetter = (*clientGetter)(nil)

func (g *clientGetter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.cfg), nil }

func (g *clientGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	return g.disco, nil
}

func (g *clientGetter) ToRESTMapper() (meta.RESTMapper, error) { return g.mapper, nil }

func (g *clientGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig { return g.loader }

// kubeconfigFor turns a REST config into a kubeconfig, for the Factory's
// loader when no file was read.
func kubeconfigFor(cfg *rest.Config) *clientcmdapi.Config {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["kcloud"] = &clientcmdapi.Cluster{
		Server:                   cfg.Host,
		CertificateAuthorityData: cfg.CAData,
		InsecureSkipTLSVerify:    cfg.Insecure,
	}
	kc.AuthInfos["kcloud"] = &clientcmdapi.AuthInfo{
		ClientCertificateData: cfg.CertData,
		ClientKeyData:         cfg.KeyData,
		Token:                 cfg.BearerToken,
	}
	kc.Contexts["kcloud"] = &clientcmdapi.Context{Cluster: "kcloud", AuthInfo: "kcloud"}
	kc.CurrentContext = "kcloud"
	return kc
}
