package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
)

func TestGCPercent(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, maxGCPercent},
		{1 << 20, maxGCPercent},  // a tiny heap: five times live, at most
		{20 << 20, maxGCPercent}, // exactly the budget at five times
		{25 << 20, 300},          // the next collection at 100 MiB
		{33 << 20, 203},          // the same, just under a third
		{34 << 20, minGCPercent}, // beyond a third: Go's default
		{126 << 20, minGCPercent},
		{4 << 30, minGCPercent},
	} {
		if got := gcPercent(c.live); got != c.want {
			t.Errorf("gcPercent(%d MiB) = %d, want %d", c.live>>20, got, c.want)
		}
	}
}

// TestPaceGC runs the pacer through real collections: a small live heap
// gets a high percent under the budget as memory limit, a large one Go's
// default percent and no limit, and stop puts back what it found.
func TestPaceGC(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	before := debug.SetGCPercent(77)
	defer debug.SetGCPercent(before)
	found := debug.SetMemoryLimit(-1)

	stop := paceGC()
	defer stop()
	runtime.GC()
	if live := liveHeap(); live > heapBudget/4 {
		t.Fatalf("the test's own live heap is %d MiB: too large to see the pacer raise the percent", live>>20)
	}
	// Cleanups run on their own goroutine after a cycle: collect until
	// the pacer has run (bounded by cycles, not by time).
	settle := func(pct int) int {
		got := 0
		for range 50 {
			runtime.GC()
			if got = gogc(); got == pct {
				break
			}
			runtime.Gosched()
		}
		return got
	}
	if got := settle(gcPercent(liveHeap())); got <= minGCPercent {
		t.Errorf("with a small live heap the percent is %d, want above %d", got, minGCPercent)
	}
	if got := debug.SetMemoryLimit(-1); got < heapBudget || got > 2*heapBudget {
		t.Errorf("with a small live heap the memory limit is %d MiB, want the budget (%d MiB) and the runtime's own memory", got>>20, heapBudget>>20)
	}

	keep := make([]byte, 60<<20) // more than half the budget: beyond a third
	if got := settle(minGCPercent); got != minGCPercent {
		t.Errorf("with 60 MiB live the percent is %d, want %d", got, minGCPercent)
	}
	if got := debug.SetMemoryLimit(-1); got != found {
		t.Errorf("with 60 MiB live the memory limit is %d, want it lifted to %d", got, found)
	}
	runtime.KeepAlive(keep)

	stop()
	if got := gogc(); got != 77 {
		t.Errorf("after stop the percent is %d, want the 77 it found", got)
	}
	if got := debug.SetMemoryLimit(-1); got != found {
		t.Errorf("after stop the memory limit is %d, want the %d it found", got, found)
	}

	t.Setenv("GOGC", "50")
	debug.SetGCPercent(50)
	paceGC()()
	if got := gogc(); got != 50 {
		t.Errorf("with GOGC=50 set the percent is %d, want it left at 50", got)
	}
}

// liveHeap is the live heap after the last collection.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// gogc reads the collector's percent without setting it.
func gogc() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}
