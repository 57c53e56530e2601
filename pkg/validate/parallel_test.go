package validate_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kcloud.dev/kcloud/internal/gentree"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/spec"
	"kcloud.dev/kcloud/pkg/validate"
)

// TestCheckOnManyCPUsAsOnOne: the objects of a large plan checked on many
// CPUs give the diagnostics of checking them on one, wherever in the plan
// the broken objects are.
func TestCheckOnManyCPUsAsOnOne(t *testing.T) {
	dir := t.TempDir()
	if err := gentree.Write(dir, 300); err != nil {
		t.Fatal(err)
	}
	tree, diags, err := spec.Load(context.Background(), []string{dir})
	if err != nil || diags.HasErrors() {
		t.Fatal(err, diags)
	}
	res, diags := render.Render(context.Background(), tree, render.Options{Lenient: true})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	objs := res.Objects()
	broken := 0
	for i := 0; i < len(objs); i += 97 {
		o := objs[i].Object
		switch objs[i].GetKind() {
		case "Deployment":
			o["spec"].(map[string]any)["replicas"] = "three"
		case "ConfigMap", "Service", "PersistentVolumeClaim":
			o["metadata"].(map[string]any)["name"] = "Not_A_Name"
		default:
			continue
		}
		broken++
	}
	check := func(procs int) spec.Diagnostics {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		return validate.Check(res, validate.Options{})
	}
	onOne, onMany := check(1), check(8)
	if diff := cmp.Diff(onOne, onMany); diff != "" {
		t.Errorf("diagnostics (-on one CPU +on many):\n%s", diff)
	}
	// An object of both environments has one source: one diagnostic.
	if errs := len(onMany); broken < 10 || errs < broken/2 {
		t.Errorf("%d objects broken, %d diagnostics: %v", broken, errs, onMany)
	}
}
