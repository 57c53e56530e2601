package main

import (
	"io"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"kcloud.dev/kcloud/internal/gentree"
)

// BenchmarkVetSpecs is `kcloud vet specs/` in-process: load, schema, rules
// and the offline render.
func BenchmarkVetSpecs(b *testing.B) {
	benchVet(b, filepath.Join(moduleRoot, "specs"), "vet")
}

// BenchmarkVet1000 vets a generated tree of 500 L3 + 500 L4 components in
// two environments.
func BenchmarkVet1000(b *testing.B) {
	testdataChartCache(b)
	dir := b.TempDir()
	if err := gentree.Write(dir, 500); err != nil {
		b.Fatal(err)
	}
	benchVet(b, dir, "vet")
}

// BenchmarkRender1000 renders the same tree to YAML.
func BenchmarkRender1000(b *testing.B) {
	testdataChartCache(b)
	dir := b.TempDir()
	if err := gentree.Write(dir, 500); err != nil {
		b.Fatal(err)
	}
	benchVet(b, dir, "render")
}

// benchVet runs verb as the binary does, its collector paced by paceGC
// (main's first step).
func benchVet(b *testing.B, dir, verb string) {
	defer paceGC()()
	b.ReportAllocs()
	before := cpuTime(b)
	for b.Loop() {
		if code := run(b.Context(), []string{verb, dir}, io.Discard, io.Discard); code != 0 {
			b.Fatalf("%s %s: exit %d", verb, dir, code)
		}
	}
	// CPU seconds (the garbage collector's on other cores included): on a
	// machine others load, wall time says more about them than about vet.
	b.ReportMetric((cpuTime(b)-before).Seconds()/float64(b.N), "cpu-s/op")
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
