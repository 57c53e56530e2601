package spec

import (
	"context"
	"maps"
	"runtime"
	"sync"

	"cuelang.org/go/cue"
)

// minShardFiles is the fewest files per CPU worth a CUE context of its
// own: compiling the schema again costs about as much as decoding a few
// files.
const minShardFiles = 16

// decodeFiles parses and decodes the files the walk read, in file order.
// On more than one CPU, large trees are decoded in shards: each worker has
// its own compiled schema, since a cue.Context must not be used
// concurrently, and the shards are merged in file order, which makes the
// tree what decoding the files one by one makes.
func (l *loader) decodeFiles() {
	workers := min(runtime.GOMAXPROCS(0), len(l.files)/minShardFiles)
	if workers <= 1 {
		for _, f := range l.files {
			if l.ctx.Err() != nil {
				return
			}
			l.parseFile(f)
			l.decodeFile(f)
		}
		return
	}
	shards := make([]*loader, len(l.files))
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var tabsErr error
	for range workers {
		wg.Go(func() {
			tabs, err := compileTables()
			if err != nil {
				mu.Lock()
				tabsErr = err
				mu.Unlock()
			}
			for i := range next {
				if err != nil || l.ctx.Err() != nil {
					continue
				}
				s := newLoader(l.ctx, tabs)
				s.parseFile(l.files[i])
				s.decodeFile(l.files[i])
				shards[i] = s
			}
		})
	}
	for i := range l.files {
		next <- i
	}
	close(next)
	wg.Wait()
	if tabsErr != nil {
		l.diags.errorf(Pos{}, "schema: %v", tabsErr)
		return
	}
	for _, s := range shards {
		if s != nil {
			l.merge(s)
		}
	}
}

// parseFile parses the YAML documents of a file the walk read.
func (l *loader) parseFile(f *specFile) {
	if !f.read {
		return
	}
	var diags Diagnostics
	f.docs, diags = parseYAML(f.path, f.src)
	l.diags = append(l.diags, diags...)
}

// newLoader returns a loader that decodes with tabs into a tree of its
// own: a whole load's, or a shard's.
func newLoader(ctx context.Context, tabs *Tables) *loader {
	return &loader{
		tabs:    tabs,
		tree:    &Tree{Tables: tabs},
		broken:  map[string]bool{},
		srcs:    map[*Component]cue.Value{},
		compDoc: map[*Component]document{},
		clSrc:   map[*Cluster]cue.Value{},
		clDoc:   map[*Cluster]document{},
		ctx:     ctx,
	}
}

// merge adds what a shard decoded.
func (l *loader) merge(s *loader) {
	l.diags = append(l.diags, s.diags...)
	l.tree.Components = append(l.tree.Components, s.tree.Components...)
	l.clusters = append(l.clusters, s.clusters...)
	maps.Copy(l.broken, s.broken)
	maps.Copy(l.srcs, s.srcs)
	maps.Copy(l.compDoc, s.compDoc)
	maps.Copy(l.clSrc, s.clSrc)
	maps.Copy(l.clDoc, s.clDoc)
}
