package printer

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"kcloud.dev/kcloud/pkg/bootstrap"
)

// BootstrapProgress draws one live line per node while bootstrap works,
// for a terminal: the node, its role and SSH target, its action, the time
// since it began (frozen once it is done or failed) and the step it is at:
// connecting, probing, pending, uploading or downloading the installer,
// running it, waiting for Ready, fetching the kubeconfig, done or failed.
// The lines are redrawn in place (cursor up, erase down) on every event
// and tick; the plan table and anything written through Above land above
// them. Finish leaves them on screen for good. Not for pipes or CI logs:
// BootstrapEvent writes their plain lines.
type BootstrapProgress struct {
	w     io.Writer
	width func() int
	now   func() time.Time

	mu       sync.Mutex
	nodes    []*nodeLine
	drawn    int
	finished bool
}

// nodeLine is the line of one node. Every text in it is already escaped.
type nodeLine struct {
	name, role, target, action, step string
	start, end                       time.Time
}

// NewBootstrapProgress draws on w. width gives the terminal's columns,
// asked at every redraw (lines are cut to fit, so none wraps and breaks
// the redraw); nil or a result <= 0 cuts nothing. now is the clock
// (time.Now when nil).
func NewBootstrapProgress(w io.Writer, width func() int, now func() time.Time) *BootstrapProgress {
	if now == nil {
		now = time.Now
	}
	if width == nil {
		width = func() int { return 0 }
	}
	return &BootstrapProgress{w: w, width: width, now: now}
}

// Event updates the lines with ev and redraws them; EventPlan also writes
// the plan table above them.
func (p *BootstrapProgress) Event(ev bootstrap.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	var above bytes.Buffer
	if ev.Type == bootstrap.EventPlan {
		_ = BootstrapPlan(&above, ev.Plan)
		for _, np := range ev.Plan {
			p.update(np, bootstrap.EventPlan)
		}
	} else {
		p.update(ev.Node, ev.Type)
		if ev.Type == bootstrap.EventStep {
			p.line(ev.Node.Node).step = Clean(stepLine(ev.Step))
		}
	}
	p.redraw(above.Bytes())
}

// update moves np's line to the step ev says.
func (p *BootstrapProgress) update(np bootstrap.NodePlan, ev bootstrap.EventType) {
	l := p.line(np.Node)
	if np.Action != "" {
		l.action = string(np.Action)
		if np.Action == bootstrap.ActionNone {
			l.action = "-"
		}
	}
	final := false
	switch ev {
	case bootstrap.EventPlan:
		l.step, final = "pending", false
		if np.Action == bootstrap.ActionNone {
			l.step, final = "up to date, K3s "+Clean(currentRelease(np)), true
		}
	case bootstrap.EventUpToDate:
		l.step, final = "up to date, K3s "+Clean(currentRelease(np)), true
	case bootstrap.EventDone:
		l.step, final = "done, K3s "+Clean(np.Current), true
	case bootstrap.EventFailed:
		l.step, final = "failed", true
	default:
		l.step = stepText[ev]
	}
	switch {
	case final && l.end.IsZero():
		l.end = p.now()
	case !final:
		l.end = time.Time{}
	}
}

// stepText is what a line says while a node is at a step.
var stepText = map[bootstrap.EventType]string{
	bootstrap.EventConnecting:  "connecting",
	bootstrap.EventProbing:     "probing",
	bootstrap.EventStarted:     "starting",
	bootstrap.EventUploading:   "uploading installer",
	bootstrap.EventDownloading: "downloading installer",
	bootstrap.EventInstalling:  "running installer",
	bootstrap.EventWaiting:     "waiting for Ready",
	bootstrap.EventReady:       "Ready",
	bootstrap.EventKubeconfig:  "fetching kubeconfig",
}

// line finds n's line, or adds it: lines keep the order nodes are first
// told of (bootstrap tells of every node, in spec order, first).
func (p *BootstrapProgress) line(n bootstrap.Node) *nodeLine {
	name := Clean(n.Name)
	for _, l := range p.nodes {
		if l.name == name {
			return l
		}
	}
	l := &nodeLine{name: name, role: Clean(n.Role), target: Clean(n.Target.String()), action: "-", start: p.now()}
	p.nodes = append(p.nodes, l)
	return l
}

// Above returns a writer to out whose writes show above the lines (log
// lines on the same terminal): each write clears them, goes to out, and
// redraws them.
func (p *BootstrapProgress) Above(out io.Writer) io.Writer {
	return writerFunc(func(b []byte) (int, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.finished {
			return out.Write(b)
		}
		p.clear()
		n, err := out.Write(b)
		p.redraw(nil)
		return n, err
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// Run redraws the lines every interval (the elapsed times move while a
// node works) until ctx ends.
func (p *BootstrapProgress) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.mu.Lock()
			if !p.finished {
				p.redraw(nil)
			}
			p.mu.Unlock()
		}
	}
}

// Finish draws the lines a last time and leaves them on screen. err is
// the run's: when it is not nil, a node that had not finished says where
// it stopped.
func (p *BootstrapProgress) Finish(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	now := p.now()
	for _, l := range p.nodes {
		if !l.end.IsZero() {
			continue
		}
		l.end = now
		if err != nil {
			l.step = "stopped while " + l.step
		}
	}
	p.redraw(nil)
	p.drawn = 0
	p.finished = true
}

// redraw replaces the lines on screen, with above written first, in one
// write so the terminal never shows half a frame.
func (p *BootstrapProgress) redraw(above []byte) {
	var b bytes.Buffer
	b.WriteString(p.takeBack())
	b.Write(above)
	for _, l := range p.format() {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	p.drawn = len(p.nodes)
	_, _ = p.w.Write(b.Bytes())
}

func (p *BootstrapProgress) clear() {
	if p.drawn > 0 {
		_, _ = io.WriteString(p.w, p.takeBack())
		p.drawn = 0
	}
}

// takeBack moves the cursor up to the first line drawn (each ended with a
// newline) and erases from there down; nothing when none is drawn.
func (p *BootstrapProgress) takeBack() string {
	if p.drawn == 0 {
		return ""
	}
	return fmt.Sprintf("\r\x1b[%dA\x1b[J", p.drawn)
}

// format lays the lines out in aligned columns, each cut to the terminal's
// width.
func (p *BootstrapProgress) format() []string {
	var wName, wRole, wTarget, wAction int
	for _, l := range p.nodes {
		// fmt pads to a number of runes.
		wName, wRole = max(wName, utf8.RuneCountInString(l.name)), max(wRole, utf8.RuneCountInString(l.role))
		wTarget, wAction = max(wTarget, utf8.RuneCountInString(l.target)), max(wAction, utf8.RuneCountInString(l.action))
	}
	width, now := p.width(), p.now()
	out := make([]string, len(p.nodes))
	for i, l := range p.nodes {
		end := l.end
		if end.IsZero() {
			end = now
		}
		s := fmt.Sprintf("%-*s  %-*s  %-*s  %-*s  %7s  %s", wName, l.name, wRole, l.role, wTarget, l.target,
			wAction, l.action, end.Sub(l.start).Truncate(100*time.Millisecond), l.step)
		out[i] = cut(strings.TrimRight(s, " "), width-1)
	}
	return out
}

// cut shortens s to n runes when n > 0.
func cut(s string, n int) string {
	if r := []rune(s); n > 0 && len(r) > n {
		return string(r[:n])
	}
	return s
}
