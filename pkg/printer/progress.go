package printer

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"kcloud.dev/kcloud/pkg/apply"
	"kcloud.dev/kcloud/pkg/change"
)

// Progress draws a live line for the stack an apply or destroy is working
// on, for a terminal: objects applied, found healthy, pruned, still waited
// for, failed, and the time since the stack started. The line is redrawn
// in place (carriage return, erase line) and kept, with a newline, when the
// stack finishes. Not for pipes or CI logs: they get the plain log lines.
type Progress struct {
	w   io.Writer
	now func() time.Time

	mu    sync.Mutex
	drawn bool
	stackProgress
}

// stackProgress is the line of one stack.
type stackProgress struct {
	stack   string
	start   time.Time
	applied int
	healthy int
	pruned  int
	failed  int
	waiting map[change.Ref]bool
}

// NewProgress draws on w; now is the clock (time.Now when nil).
func NewProgress(w io.Writer, now func() time.Time) *Progress {
	if now == nil {
		now = time.Now
	}
	return &Progress{w: w, now: now}
}

// Event updates the line with e. log, when not nil, writes e's log line:
// it runs with the live line cleared, so the two never share a line.
func (p *Progress) Event(e apply.Event, log func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	if log != nil {
		log()
	}
	switch {
	case e.Type == apply.StackStarted:
		p.stackProgress = stackProgress{stack: e.Stack, start: p.now(), waiting: map[change.Ref]bool{}}
	case e.Type == apply.StackFinished:
		if p.stack != "" {
			_, _ = fmt.Fprintln(p.w, p.line())
		}
		p.stack = ""
		return
	case e.Type != apply.ObjectEvent || p.stack == "":
	case e.Outcome == apply.Failed || e.Outcome == apply.Timeout:
		p.failed++
		delete(p.waiting, e.Object)
	case e.Op == apply.OpApply && e.Outcome == apply.Done:
		p.applied++
		p.waiting[e.Object] = true
	case e.Op == apply.OpWait && e.Outcome == apply.Current:
		p.healthy++
		delete(p.waiting, e.Object)
	case (e.Op == apply.OpPrune || e.Op == apply.OpDelete) && e.Outcome == apply.Done:
		p.pruned++
	}
	p.draw()
}

// Run redraws the line every interval (the elapsed time moves while a
// stack waits) until ctx ends, then clears it.
func (p *Progress) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			p.mu.Lock()
			p.clear()
			p.mu.Unlock()
			return
		case <-t.C:
			p.mu.Lock()
			p.clear()
			p.draw()
			p.mu.Unlock()
		}
	}
}

func (p *Progress) line() string {
	return fmt.Sprintf("%-12s  applied %d  healthy %d  pruned %d  waiting %d  failed %d  %s",
		p.stack, p.applied, p.healthy, p.pruned, len(p.waiting), p.failed, p.now().Sub(p.start).Truncate(100*time.Millisecond))
}

func (p *Progress) draw() {
	if p.stack == "" {
		return
	}
	_, _ = io.WriteString(p.w, p.line())
	p.drawn = true
}

func (p *Progress) clear() {
	if p.drawn {
		_, _ = io.WriteString(p.w, "\r\x1b[K")
		p.drawn = false
	}
}
