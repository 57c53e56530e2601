package main

import (
	"io"
	"path/filepath"
	"testing"

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
	dir := b.TempDir()
	if err := gentree.Write(dir, 500); err != nil {
		b.Fatal(err)
	}
	benchVet(b, dir, "vet")
}

// BenchmarkRender1000 renders the same tree to YAML.
func BenchmarkRender1000(b *testing.B) {
	dir := b.TempDir()
	if err := gentree.Write(dir, 500); err != nil {
		b.Fatal(err)
	}
	benchVet(b, dir, "render")
}

func benchVet(b *testing.B, dir, verb string) {
	b.ReportAllocs()
	for b.Loop() {
		if code := run(b.Context(), []string{verb, dir}, io.Discard, io.Discard); code != 0 {
			b.Fatalf("%s %s: exit %d", verb, dir, code)
		}
	}
}
