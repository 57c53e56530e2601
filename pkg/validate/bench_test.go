package validate_test

import (
	"context"
	"testing"

	"kcloud.dev/kcloud/internal/gentree"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/spec"
	"kcloud.dev/kcloud/pkg/validate"
)

// BenchmarkCheck1000 is the schema check alone on the render of 500 L3 +
// 500 L4 components in two environments (about 7,000 objects); each kind's
// schema is compiled once per run. `kcloud vet` of the same tree is
// BenchmarkVet1000 in cmd/kcloud.
func BenchmarkCheck1000(b *testing.B) {
	dir := b.TempDir()
	if err := gentree.Write(dir, 500); err != nil {
		b.Fatal(err)
	}
	tree, diags, err := spec.Load(context.Background(), []string{dir})
	if err != nil || diags.HasErrors() {
		b.Fatal(err, diags)
	}
	res, diags := render.Render(b.Context(), tree, render.Options{Lenient: true})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if d := validate.Check(res, validate.Options{}); d.HasErrors() {
			b.Fatal(d)
		}
	}
	b.ReportMetric(float64(len(res.Objects())), "objects")
}
