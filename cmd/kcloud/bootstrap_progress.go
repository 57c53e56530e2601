package main

import (
	"context"
	"io"
	"time"

	"golang.org/x/term"

	"kcloud.dev/kcloud/pkg/bootstrap"
	"kcloud.dev/kcloud/pkg/printer"
)

// bootstrapProgress picks how bootstrap tells of its progress. Where
// liveLines says so for stdout, and the terminal has a row for every node,
// it is one live line per node, with the context's logger writing above
// the lines; elsewhere (CI logs, pipes) it is plain lines. It returns the OnEvent for bootstrap's options, the
// context to run bootstrap in, and finish, to call with Run's error.
func bootstrapProgress(ctx context.Context, g *globals, nodes int) (onEvent func(bootstrap.Event), _ context.Context, finish func(error)) {
	plain := func(ev bootstrap.Event) { _ = printer.BootstrapEvent(g.stdout, ev) }
	_, rows, ok := terminalSize(g.stdout)
	if !ok || rows <= nodes || !g.liveLines(g.stdout) || g.logOut == nil {
		return plain, ctx, func(error) {}
	}
	p := printer.NewBootstrapProgress(g.stdout, func() int { cols, _, _ := terminalSize(g.stdout); return cols }, nil)
	ctx = g.log.Output(p.Above(g.logOut)).WithContext(ctx)
	tick, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Run(tick, 200*time.Millisecond)
	}()
	return p.Event, ctx, func(err error) {
		stop()
		<-done
		p.Finish(err)
	}
}

// terminalSize is the columns and rows of the terminal w writes to; ok is
// false when w is not a terminal.
func terminalSize(w io.Writer) (cols, rows int, ok bool) {
	f, isFile := w.(interface{ Fd() uintptr })
	if !isFile || !term.IsTerminal(int(f.Fd())) {
		return 0, 0, false
	}
	cols, rows, err := term.GetSize(int(f.Fd()))
	return cols, rows, err == nil
}
