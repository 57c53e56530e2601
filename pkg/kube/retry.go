package kube

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Retry bounds how a request that failed transiently is tried again.
// client-go alone retries only answers that carry Retry-After and GETs whose
// connection was reset; kcloud runs unattended, so one 500 or one dropped
// connection must not fail a whole apply.
type Retry struct {
	// Attempts is how many times a request is sent at most, the first
	// included; 1 disables retries. Default DefaultRetryAttempts.
	Attempts int
	// Initial is the first backoff; each next one doubles, up to Max.
	// Defaults 250ms and 5s. Each wait is jittered to 50–100 % of its value,
	// and never shorter than the server's Retry-After (up to MaxRetryAfter).
	Initial, Max time.Duration
}

// DefaultRetryAttempts gives a request 9 to 18 s of waits (0.25+0.5+1+2+4+5+5
// s, jittered) to get through: an API server restart or a load balancer
// failover, not an outage.
const DefaultRetryAttempts = 8

// MaxRetryAfter caps how long a server's Retry-After is honoured.
const MaxRetryAfter = 30 * time.Second

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = DefaultRetryAttempts
	}
	if r.Initial <= 0 {
		r.Initial = 250 * time.Millisecond
	}
	if r.Max <= 0 {
		r.Max = 5 * time.Second
	}
	return r
}

// backoff is the wait before attempt n+1 (n >= 1), jittered.
func (r Retry) backoff(n int) time.Duration {
	d := r.Initial << min(n-1, 30)
	if d > r.Max || d <= 0 {
		d = r.Max
	}
	return d/2 + rand.N(d/2+1)
}

// RetryError says a request was given up on: the API server did not answer
// it through the whole budget. (When it kept answering with errors, the
// last answer is returned as it is.)
// It deliberately does not unwrap to the last network error, so that
// client-go does not retry it again on top.
type RetryError struct {
	// Server is the API server's address.
	Server   string
	Method   string
	Attempts int
	Elapsed  time.Duration
	// Last is the last attempt's outcome.
	Last string
}

func (e *RetryError) Error() string {
	return fmt.Sprintf("no answer from the API server %s: gave up on %s after %d attempt(s) over %s: %s",
		e.Server, e.Method, e.Attempts, e.Elapsed.Round(100*time.Millisecond), e.Last)
}

// WriteGate decides whether a request that changes the cluster may be sent
// (the apply lock still holds); an error refuses it unsent.
type WriteGate func(*http.Request) error

// retrier is an http.RoundTripper that retries what is safe to repeat:
//
//   - reads (GET, HEAD) and watches, server-side apply and merge patches
//     (both idempotent), and deletes, after a 5xx or a lost connection;
//   - any request the server refused without processing it (429, 503 with
//     Retry-After) or that never left (connection refused);
//   - a delete answered 404 after an attempt that may have gone through
//     counts as done: the object is gone, which is what was asked.
//
// Creates (POST), updates (PUT) and other patches are not repeated when
// their first attempt may have landed: their callers (the lock, the
// inventory) re-read and decide.
type retrier struct {
	next   http.RoundTripper
	policy Retry
	log    zerolog.Logger
	gate   *atomic.Pointer[WriteGate]
}

func (t *retrier) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	safe := repeatable(req)
	landed := false // an earlier attempt may have changed the cluster
	var last string
	for attempt := 1; ; attempt++ {
		if isWrite(req) {
			if g := t.gate.Load(); g != nil {
				if err := (*g)(req); err != nil {
					return nil, err
				}
			}
		}
		r := req
		if attempt > 1 {
			if r = rewind(req); r == nil {
				return nil, fmt.Errorf("retry %s %s: the request body cannot be sent again (%s)", req.Method, req.URL.Path, last)
			}
		}
		resp, err := t.next.RoundTrip(r)
		retry, wait, sent := t.judge(req, resp, err, safe)
		if resp != nil && req.Method == http.MethodDelete && resp.StatusCode == http.StatusNotFound && landed {
			return deleted(req, resp), nil
		}
		landed = landed || sent
		if !retry {
			if resp != nil && resp.StatusCode >= 500 {
				resp.Header.Del("Retry-After") // decided here: client-go must not repeat it
			}
			return resp, err
		}
		last = outcome(resp, err)
		wait = max(wait, t.policy.backoff(attempt))
		if err := req.Context().Err(); err != nil {
			discard(resp) // the caller gave up: that is the answer
			return nil, err
		}
		if attempt >= t.policy.Attempts {
			if resp != nil { // the server's own answer says more than we could
				resp.Header.Del("Retry-After")
				t.log.Debug().Str("method", req.Method).Str("path", req.URL.Path).Int("attempts", attempt).Msg("API request: retries spent")
				return resp, nil
			}
			return nil, &RetryError{Server: req.URL.Host, Method: req.Method + " " + req.URL.Path, Attempts: attempt, Elapsed: time.Since(start), Last: last}
		}
		discard(resp)
		t.log.Debug().Str("method", req.Method).Str("path", req.URL.Path).Int("attempt", attempt).
			Dur("wait", wait).Str("error", last).Msg("API request failed transiently; retrying")
		if err := sleep(req.Context(), wait); err != nil {
			return nil, err
		}
	}
}

// judge says whether to try again, how long the server asked to wait, and
// whether the attempt may have reached the API server's storage.
func (t *retrier) judge(req *http.Request, resp *http.Response, err error, safe bool) (retry bool, wait time.Duration, sent bool) {
	if err != nil {
		if req.Context().Err() != nil {
			return false, 0, true
		}
		if notSent(err) {
			return true, 0, false
		}
		return safe, 0, true
	}
	ra, hasRA := retryAfter(resp)
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests, code == http.StatusServiceUnavailable && hasRA:
		return true, ra, false // refused before processing: safe for every verb
	case code >= 500 && code != http.StatusNotImplemented:
		// Discovery is left to client-go: an aggregated API that is down
		// answers 503 for as long as it is down, and discovery tolerates it.
		return safe && !isDiscovery(req.URL.Path) && !invalidApply(resp), ra, true
	}
	return false, 0, true
}

// invalidApply reports whether resp is the 500 a server-side apply of an
// object that does not fit its schema gets (an unknown field under strict
// validation): the apiserver answers it as an internal error, but it is
// the object's, and the same every time. The text is structured-merge-diff's
// https://github.com/kubernetes/apimachinery/blob/v0.37.2/pkg/util/managedfields/internal/structuredmerge.go#L147
// The body is read and put back.
func invalidApply(resp *http.Response) bool {
	if resp.StatusCode != http.StatusInternalServerError || resp.Body == nil {
		return false
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	return err == nil && bytes.Contains(body, []byte("failed to create typed patch object"))
}

// repeatable reports whether sending req twice has the effect of sending it
// once.
func repeatable(req *http.Request) bool {
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return false
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodDelete:
		return true
	case http.MethodPatch:
		ct := req.Header.Get("Content-Type")
		return strings.HasPrefix(ct, "application/apply-patch") || strings.HasPrefix(ct, "application/merge-patch+json")
	}
	return false
}

// isWrite reports whether req may change the cluster (a dry run does not).
func isWrite(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return req.URL.Query().Get("dryRun") == ""
}

// isDiscovery reports whether path is a discovery document (/api, /apis,
// /apis/GROUP, /apis/GROUP/VERSION, /api/VERSION).
func isDiscovery(path string) bool {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	switch segs[0] {
	case "api":
		return len(segs) <= 2
	case "apis":
		return len(segs) <= 3
	}
	return false
}

// notSent reports whether err means the request never reached a server:
// the connection could not be made.
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func retryAfter(resp *http.Response) (time.Duration, bool) {
	h := resp.Header.Get("Retry-After")
	if h == "" {
		return 0, false
	}
	secs, err := strconv.Atoi(h)
	if err != nil || secs < 0 {
		return 0, true
	}
	return min(time.Duration(secs)*time.Second, MaxRetryAfter), true
}

// rewind is req with its body readable again, or nil when it cannot be.
func rewind(req *http.Request) *http.Request {
	r := req.Clone(req.Context())
	if req.Body == nil || req.Body == http.NoBody {
		return r
	}
	if req.GetBody == nil {
		return nil
	}
	body, err := req.GetBody()
	if err != nil {
		return nil
	}
	r.Body = body
	return r
}

// deleted answers a delete whose retry found the object gone.
func deleted(req *http.Request, resp *http.Response) *http.Response {
	discard(resp)
	body := `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success"}`
	return &http.Response{
		Status: "200 OK", StatusCode: http.StatusOK, Proto: resp.Proto, ProtoMajor: resp.ProtoMajor, ProtoMinor: resp.ProtoMinor,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

// outcome describes an attempt's result for a RetryError. client-go
// recognises lost connections by the words of their errors, and would retry
// a RetryError that repeats them on top of this transport: they are
// reworded.
func outcome(resp *http.Response, err error) string {
	if err != nil {
		return lostWords.Replace(err.Error())
	}
	return resp.Status
}

var lostWords = strings.NewReplacer(
	"connection reset by peer", "connection reset",
	"use of closed network connection", "connection closed",
	"server sent GOAWAY and closed the connection", "server closed the connection",
	"client connection lost", "connection lost")

func discard(resp *http.Response) {
	if resp == nil || resp.Body == nil {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// IsTransient reports whether err is worth trying again at a higher level
// (the whole read-modify-write of an inventory or the lock): a conflict, a
// transient server error, or a connection lost mid-request. A request the
// transport already gave up on (*RetryError) is not: the budget is spent.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	var re *RetryError
	if errors.As(err, &re) {
		return false
	}
	if apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) || apierrors.IsInternalError(err) ||
		apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) || apierrors.IsServiceUnavailable(err) ||
		apierrors.IsTooManyRequests(err) || apierrors.IsUnexpectedServerError(err) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}
