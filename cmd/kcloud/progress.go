package main

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"kcloud.dev/kcloud/pkg/apply"
	"kcloud.dev/kcloud/pkg/printer"
)

// withProgress gives apply and destroy a live line per stack on stderr
// when liveLines says so: the per-object info lines give way to it,
// warnings and errors still print above it. It returns the function that
// stops the line.
func withProgress(ctx context.Context, g *globals, opts *apply.Options) (stop func()) {
	if !g.liveLines(g.stderr) {
		return func() {}
	}
	p := printer.NewProgress(g.stderr, nil)
	log := g.log
	if log.GetLevel() == zerolog.InfoLevel {
		log = log.Level(zerolog.WarnLevel)
	}
	opts.Events = func(e apply.Event) { p.Event(e, func() { printer.LogEvent(log, e) }) }
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Run(ctx, 200*time.Millisecond)
	}()
	return func() {
		cancel()
		<-done
	}
}
