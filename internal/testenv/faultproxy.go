package testenv

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Verbs of Kubernetes API requests, as the proxy counts them.
const (
	VerbGet              = "get"
	VerbList             = "list"
	VerbWatch            = "watch"
	VerbCreate           = "create"
	VerbUpdate           = "update"
	VerbPatch            = "patch"
	VerbDelete           = "delete"
	VerbDeleteCollection = "deletecollection"
)

// WriteVerbs are the verbs that change the cluster.
var WriteVerbs = []string{VerbCreate, VerbUpdate, VerbPatch, VerbDelete, VerbDeleteCollection}

// Fault is what the proxy does to a request a Rule matches. Latency is
// added first; then Drop closes the connection without an answer, or
// Status answers with that code (and Retry-After when set) instead of
// forwarding the request.
type Fault struct {
	Status     int
	RetryAfter time.Duration
	Latency    time.Duration
	Drop       bool
	// Hold, when set, holds the request until it is closed (or the client
	// gives up), before the rest of the fault applies.
	Hold <-chan struct{}
	// Lost forwards the request to the API server, then drops the
	// connection instead of answering: the write landed, its answer was
	// lost.
	Lost bool
}

// Rule injects a Fault into the requests it matches.
type Rule struct {
	// Verbs matched; empty matches every verb.
	Verbs []string
	// Path, when set, must be contained in the request's path.
	Path string
	// Every matches one request in Every (1 or 0: each one); with 5,
	// the 5th, 10th, … matching requests fail: 20 %, deterministically.
	Every int
	// Times is how many faults the rule injects before it expires; 0 is
	// no limit.
	Times int
	Fault Fault
	// Faults, when set, are injected in turn instead of Fault (mixed
	// faults: the first firing gets Faults[0], the next Faults[1], …).
	Faults []Fault
	// When, when set, must also accept the request. It is called with
	// the proxy locked: it must not call the proxy.
	When func(*http.Request) bool

	seen, fired int
}

// FaultProxy is an HTTP proxy in front of an API server that injects
// faults per test and counts requests by verb. It is for fault injection
// only: everything it forwards reaches the real API server unchanged.
type FaultProxy struct {
	srv *httptest.Server
	rp  *httputil.ReverseProxy

	mu        sync.Mutex
	rules     []*Rule
	downUntil time.Time
	counts    map[string]int
	faults    int

	hooks hooks
}

// NewFaultProxy starts a proxy in front of the API server cfg points at,
// forwarding with cfg's credentials. Clients reach it over plain HTTP on
// loopback, with no credentials: see Config and WriteKubeconfig.
func NewFaultProxy(cfg *rest.Config) (*FaultProxy, error) {
	target, err := url.Parse(cfg.Host)
	if err != nil {
		return nil, fmt.Errorf("fault proxy: api server address %q: %w", cfg.Host, err)
	}
	if target.Scheme == "" {
		target.Scheme = "https"
	}
	tr, err := rest.TransportFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("fault proxy: %w", err)
	}
	p := &FaultProxy{counts: map[string]int{}}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = target.Host
		},
		Transport:     tr,
		FlushInterval: -1, // watches stream
	}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	return p, nil
}

// Close stops the proxy.
func (p *FaultProxy) Close() { p.srv.CloseClientConnections(); p.srv.Close() }

// URL is the proxy's address.
func (p *FaultProxy) URL() string { return p.srv.URL }

// Config is a REST config that reaches the API server through the proxy.
func (p *FaultProxy) Config() *rest.Config {
	return &rest.Config{Host: p.srv.URL, QPS: 1000, Burst: 1000}
}

// WriteKubeconfig writes a kubeconfig that reaches the API server through
// the proxy, for running the kcloud CLI against it.
func (p *FaultProxy) WriteKubeconfig(path string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["proxy"] = &clientcmdapi.Cluster{Server: p.srv.URL}
	cfg.AuthInfos["proxy"] = &clientcmdapi.AuthInfo{}
	cfg.Contexts["proxy"] = &clientcmdapi.Context{Cluster: "proxy", AuthInfo: "proxy"}
	cfg.CurrentContext = "proxy"
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return fmt.Errorf("fault proxy kubeconfig: %w", err)
	}
	return os.WriteFile(path, data, 0o600)
}

// Inject adds a rule; the first matching rule of those added applies.
func (p *FaultProxy) Inject(r Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, &r)
}

// Down makes the API server unreachable for d: every request is answered
// by a dropped connection until then.
func (p *FaultProxy) Down(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.downUntil = time.Now().Add(d)
}

// Reset removes every rule and the down time, and zeroes the counts.
func (p *FaultProxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules, p.downUntil, p.counts, p.faults = nil, time.Time{}, map[string]int{}, 0
}

// Count is how many requests of these verbs reached the proxy (all
// verbs when none are given), faulted or not.
func (p *FaultProxy) Count(verbs ...string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for v, c := range p.counts {
		if len(verbs) == 0 || slices.Contains(verbs, v) {
			n += c
		}
	}
	return n
}

// Writes is how many requests that change the cluster reached the proxy.
func (p *FaultProxy) Writes() int { return p.Count(WriteVerbs...) }

// Faults is how many faults the proxy injected.
func (p *FaultProxy) Faults() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults
}

func (p *FaultProxy) serve(w http.ResponseWriter, r *http.Request) {
	f, down := p.decide(r)
	if f.Hold != nil {
		select {
		case <-f.Hold:
		case <-r.Context().Done():
			return
		}
	}
	if f.Latency > 0 {
		select {
		case <-time.After(f.Latency):
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case down || f.Drop:
		drop(w)
	case f.Lost:
		p.rp.ServeHTTP(httptest.NewRecorder(), r)
		drop(w)
	case f.Status != 0:
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(f.RetryAfter.Round(time.Second)/time.Second)))
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.Status)
		fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"injected fault: %d","code":%d}`, f.Status, f.Status)
	case p.serveHooked(w, r):
	default:
		p.rp.ServeHTTP(w, r)
	}
}

// decide counts r and picks its fault.
func (p *FaultProxy) decide(r *http.Request) (Fault, bool) {
	verb := RequestVerb(r)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts[verb]++
	if time.Now().Before(p.downUntil) {
		p.faults++
		return Fault{}, true
	}
	for _, rule := range p.rules {
		if rule.Times > 0 && rule.fired >= rule.Times {
			continue
		}
		if len(rule.Verbs) > 0 && !slices.Contains(rule.Verbs, verb) || !strings.Contains(r.URL.Path, rule.Path) {
			continue
		}
		if rule.When != nil && !rule.When(r) {
			continue
		}
		rule.seen++
		if rule.Every > 1 && rule.seen%rule.Every != 0 {
			continue
		}
		rule.fired++
		p.faults++
		if len(rule.Faults) > 0 {
			return rule.Faults[(rule.fired-1)%len(rule.Faults)], false
		}
		return rule.Fault, false
	}
	return Fault{}, false
}

// drop closes the client's connection without an answer.
func drop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // a reset, not an orderly close
	}
	conn.Close()
}

// RequestVerb names the Kubernetes verb of an API request from its method
// and path, as the API server's authorizer would.
func RequestVerb(r *http.Request) string {
	switch r.Method {
	case http.MethodPost:
		return VerbCreate
	case http.MethodPut:
		return VerbUpdate
	case http.MethodPatch:
		return VerbPatch
	case http.MethodDelete:
		if isCollection(r.URL.Path) {
			return VerbDeleteCollection
		}
		return VerbDelete
	}
	if q := r.URL.Query().Get("watch"); q == "true" || q == "1" {
		return VerbWatch
	}
	if isCollection(r.URL.Path) {
		return VerbList
	}
	return VerbGet
}

// isCollection reports whether an API path names a collection of
// resources rather than one object (or discovery).
func isCollection(path string) bool {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(segs) >= 2 && segs[0] == "api":
		segs = segs[2:]
	case len(segs) >= 3 && segs[0] == "apis":
		segs = segs[3:]
	default:
		return false
	}
	if len(segs) >= 3 && segs[0] == "namespaces" {
		segs = segs[2:]
	}
	return len(segs) == 1
}
