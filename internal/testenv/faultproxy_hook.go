package testenv

import (
	"net/http"
	"slices"
	"strings"
	"sync"
)

// Hook runs a function when the Nth request it matches passes through the
// fault proxy: to kill a client at a chosen point of its run, for example.
// A hook fires once.
type Hook struct {
	// Verbs matched; empty matches every verb.
	Verbs []string
	// Path, when set, must be contained in the request's path.
	Path string
	// Match, when set, must accept the request too.
	Match func(*http.Request) bool
	// N is which matching request fires the hook (1: the first).
	N int
	// After runs Func once the API server has answered the Nth request,
	// before the answer is passed on: the request took effect, the client
	// has not learnt it. Otherwise Func runs before the request is
	// forwarded, and the request is then dropped: it never takes effect.
	After bool
	// Func is what the hook does; it runs in the request's handler, which
	// waits for it.
	Func func(*http.Request)

	seen  int
	fired bool
}

// hooks are a proxy's hooks; the zero value has none.
type hooks struct {
	mu   sync.Mutex
	list []*Hook
}

// OnRequest adds a hook and returns the function that removes it. Faults
// are decided first: a request a Rule fails never reaches the hooks.
func (p *FaultProxy) OnRequest(h Hook) (remove func()) {
	p.hooks.mu.Lock()
	defer p.hooks.mu.Unlock()
	hp := &h
	p.hooks.list = append(p.hooks.list, hp)
	return func() {
		p.hooks.mu.Lock()
		defer p.hooks.mu.Unlock()
		p.hooks.list = slices.DeleteFunc(p.hooks.list, func(x *Hook) bool { return x == hp })
	}
}

// hookFor counts r in every hook that matches it and returns the hook r
// fires, if any.
func (hs *hooks) hookFor(r *http.Request) *Hook {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	var fire *Hook
	verb := RequestVerb(r)
	for _, h := range hs.list {
		if h.fired || len(h.Verbs) > 0 && !slices.Contains(h.Verbs, verb) || !strings.Contains(r.URL.Path, h.Path) {
			continue
		}
		if h.Match != nil && !h.Match(r) {
			continue
		}
		h.seen++
		if h.seen >= max(h.N, 1) && fire == nil {
			h.fired = true
			fire = h
		}
	}
	return fire
}

// serveHooked forwards r, running the hook r fires at its point; it
// reports false when r fires none.
func (p *FaultProxy) serveHooked(w http.ResponseWriter, r *http.Request) bool {
	h := p.hooks.hookFor(r)
	if h == nil {
		return false
	}
	if !h.After {
		h.Func(r)
		drop(w)
		return true
	}
	p.rp.ServeHTTP(&hookWriter{ResponseWriter: w, before: func() { h.Func(r) }}, r)
	return true
}

// hookWriter runs before when the proxy starts passing on the API server's
// answer.
type hookWriter struct {
	http.ResponseWriter
	before func()
	once   sync.Once
}

func (w *hookWriter) WriteHeader(code int) {
	w.once.Do(w.before)
	w.ResponseWriter.WriteHeader(code)
}

func (w *hookWriter) Write(b []byte) (int, error) {
	w.once.Do(w.before)
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flushes of
// watches).
func (w *hookWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// IsDryRun reports whether a request is a dry run (dryRun=All).
func IsDryRun(r *http.Request) bool { return r.URL.Query().Has("dryRun") }

// IsApplyPatch reports whether a request is a server-side apply.
func IsApplyPatch(r *http.Request) bool {
	return r.Method == http.MethodPatch && strings.HasPrefix(r.Header.Get("Content-Type"), "application/apply-patch")
}
