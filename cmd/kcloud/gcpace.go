package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// heapBudget is the heap kcloud lets itself grow to between collections
// while little of it is live: a run that keeps little alive (a vet or a
// diff of a thousand objects: 20–30 MB live) collects up to four times
// less often than at Go's default; one that keeps more (4,000 objects
// and up) is paced by Go's default, so its peak memory is what it was.
const heapBudget = 100 << 20

// The GC percent kcloud sets: Go's default once a third of the budget is
// live, up to five times the live heap below that.
const (
	minGCPercent = 100
	maxGCPercent = 400
)

// paceGC paces the collector after every collection. While less than a
// third of heapBudget is live, the next collection comes when the heap
// reaches the budget (a percent of 200 to 400), and the budget (plus
// the runtime's own memory) is Go's soft memory limit, so that a heap
// that grows fast between two collections does not pass it; beyond a
// third, Go's default pacing (100 %, no limit) is back. A short process
// that allocates hundreds of megabytes and keeps little spent a fifth of
// its CPU in the collector at Go's default. A GOGC or GOMEMLIMIT in the
// environment is the user's choice: paceGC then changes nothing. The
// returned function stops the pacing and puts back what it found (for
// benchmarks in this process).
func paceGC() (stop func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	p := &pacer{sample: []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
	}}
	p.percent = debug.SetGCPercent(maxGCPercent)
	p.limit = debug.SetMemoryLimit(heapBudget)
	p.set = maxGCPercent
	p.arm()
	return func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.stopped = true
		debug.SetGCPercent(p.percent)
		debug.SetMemoryLimit(p.limit)
	}
}

// pacer re-arms itself with a cleanup on a fresh object after each
// collection: the cleanup runs once that object is collected, that is
// after every cycle.
type pacer struct {
	mu      sync.Mutex
	sample  []metrics.Sample
	percent int   // the percent before paceGC, put back by stop
	limit   int64 // the memory limit before paceGC, the same
	set     int   // the percent last set
	stopped bool
}

func (p *pacer) arm() {
	// 64 bytes: an object of 16 or fewer without pointers may share a
	// block with others and outlive its cycle.
	runtime.AddCleanup(new([64]byte), func(p *pacer) { p.collected() }, p)
}

func (p *pacer) collected() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	metrics.Read(p.sample)
	v := make([]uint64, len(p.sample))
	for i, s := range p.sample {
		v[i] = s.Value.Uint64()
	}
	live := v[0]
	if pct := gcPercent(live); pct != p.set {
		p.set = pct
		debug.SetGCPercent(pct)
	}
	if live > heapBudget/3 {
		debug.SetMemoryLimit(p.limit)
	} else {
		// Go's limit counts all its memory: the budget is the heap's,
		// the rest (stacks, the runtime's own) is added to it.
		other := v[1] - v[2] - v[3] - v[4] - v[5]
		debug.SetMemoryLimit(int64(heapBudget + other))
	}
	p.arm()
}

// gcPercent is the percent for a live heap of live bytes: Go's default
// beyond a third of heapBudget, else the one that puts the next
// collection at the budget, at most maxGCPercent.
func gcPercent(live uint64) int {
	if live > heapBudget/3 {
		return minGCPercent
	}
	if live == 0 {
		return maxGCPercent
	}
	return int(min(heapBudget*100/live, maxGCPercent+100) - 100)
}
