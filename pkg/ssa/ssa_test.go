package ssa_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/ssa"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

// TestVerdictAgreesWithServer is the property test of the local merge:
// thousands of generated objects of built-in kinds and custom resources,
// applied by kcloud, edited by other field managers (their own applies
// and plain updates), then planned again with or without an edit. For
// each, the local verdict is compared with the API server's dry run of
// the same apply. A local "unchanged" the server disagrees with fails the
// test; "changed" or "doubt" where the server changes nothing is only
// counted (it costs a dry run, not correctness).
func TestVerdictAgreesWithServer(t *testing.T) {
	cases := 3000
	if testing.Short() {
		cases = 600
	}
	seed := uint64(20261126)
	if s := os.Getenv("KCLOUD_SSA_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (KCLOUD_SSA_SEED), %d cases", seed, cases)

	c := clients(t)
	ns := "ssa-" + strconv.FormatUint(seed%100000, 10)
	createNamespace(t, c, ns)
	m := ssa.NewMerger(ssa.Options{
		CRDs:      clusterCRDs(t, c),
		Admission: ssa.ReadAdmission(context.Background(), c.Typed),
	})

	var mu sync.Mutex
	tally := map[string]int{}
	kube.Parallel(context.Background(), 8, cases, func(i int) {
		r := rand.New(rand.NewPCG(seed, uint64(i)))
		gen := generators[i%len(generators)]
		got, err := runCase(c, m, ns, fmt.Sprintf("%s-%d", gen.name, i), gen, r)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			t.Errorf("case %d (%s): %v", i, gen.name, err)
			return
		}
		tally[got]++
	})
	keys := slices.Sorted(maps.Keys(tally))
	for _, k := range keys {
		t.Logf("%-40s %d", k, tally[k])
	}
	if tally["local unchanged, server changed"] > 0 {
		t.Fatalf("%d false unchanged verdicts", tally["local unchanged, server changed"])
	}
	if tally["local unchanged, server unchanged"] == 0 {
		t.Fatal("no case was proven unchanged: the merge decides nothing")
	}
}

// runCase runs one case and returns how the verdicts compared.
func runCase(c *kube.Clients, m *ssa.Merger, ns, name string, gen generator, r *rand.Rand) (string, error) {
	ctx := context.Background()
	base := gen.base(r)
	obj := &unstructured.Unstructured{Object: base}
	obj.SetName(name)
	mp, err := c.Mapping(obj.GroupVersionKind())
	if err != nil {
		return "", err
	}
	res := c.Dynamic.Resource(mp.Resource)
	if gen.namespaced {
		obj.SetNamespace(ns)
	}
	client := res.Namespace(obj.GetNamespace())
	if _, err := client.Apply(ctx, name, obj, metav1.ApplyOptions{FieldManager: kube.FieldManager, Force: true}); err != nil {
		return "", fmt.Errorf("apply base: %w", err)
	}
	// Other field managers: an apply of their own, an update, or both.
	if r.IntN(2) == 0 {
		other := &unstructured.Unstructured{Object: gen.other(r)}
		other.SetName(name)
		other.SetNamespace(obj.GetNamespace())
		if _, err := client.Apply(ctx, name, other, metav1.ApplyOptions{FieldManager: "other", Force: r.IntN(2) == 0}); err != nil && !isConflict(err) && !isInvalid(err) {
			return "", fmt.Errorf("apply as other: %w", err)
		}
	}
	if r.IntN(3) == 0 {
		live, err := client.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		gen.edit(r, live.Object)
		if _, err := client.Update(ctx, live, metav1.UpdateOptions{FieldManager: "editor"}); err != nil && !isInvalid(err) {
			return "", fmt.Errorf("update as editor: %w", err)
		}
	}

	planned := &unstructured.Unstructured{Object: base}
	planned = planned.DeepCopy()
	if r.IntN(2) == 0 {
		gen.change(r, planned.Object)
	}
	live, err := client.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	local := m.Apply(mp.Resource.GroupResource(), live, planned, kube.FieldManager)
	if quick := m.Unchanged(mp.Resource.GroupResource(), live, planned, kube.FieldManager); quick != (local.Verdict == ssa.Unchanged) {
		return "", fmt.Errorf("Unchanged says %v, Apply %v (%s)", quick, local.Verdict, local.Reason)
	}

	force := true
	data, err := planned.MarshalJSON()
	if err != nil {
		return "", err
	}
	dry, err := client.Patch(ctx, name, "application/apply-patch+yaml", data, metav1.PatchOptions{
		FieldManager: kube.FieldManager, Force: &force, DryRun: []string{metav1.DryRunAll},
	})
	if isInvalid(err) {
		// The server refuses the planned object: nothing is unchanged.
		if local.Verdict == ssa.Unchanged {
			return "local unchanged, server changed", nil
		}
		return "server rejects", nil
	}
	if err != nil {
		return "", fmt.Errorf("dry run: %w", err)
	}
	server := "changed"
	if sameContent(live, dry) && sameManagers(live, dry) {
		server = "unchanged"
	}
	if os.Getenv("KCLOUD_SSA_DEBUG") != "" && local.Verdict != ssa.Unchanged && server == "unchanged" {
		fmt.Printf("--- %s: %s\n%s\n", name, local.Reason, data)
		if local.Merged != nil {
			fmt.Printf("merged: %v\nlive: %v\n", local.Merged.Object, live.Object)
		}
	}
	return fmt.Sprintf("local %s, server %s", local.Verdict, server), nil
}

// sameContent compares two objects without managed fields and
// resourceVersion.
func sameContent(a, b *unstructured.Unstructured) bool {
	strip := func(u *unstructured.Unstructured) map[string]any {
		u = u.DeepCopy()
		unstructured.RemoveNestedField(u.Object, "metadata", "managedFields")
		unstructured.RemoveNestedField(u.Object, "metadata", "resourceVersion")
		return u.Object
	}
	return equality.Semantic.DeepEqual(strip(a), strip(b))
}

// sameManagers compares the managers' field sets, not their times.
func sameManagers(a, b *unstructured.Unstructured) bool {
	sets := func(u *unstructured.Unstructured) map[string]string {
		out := map[string]string{}
		for _, e := range u.GetManagedFields() {
			out[e.Manager+"/"+string(e.Operation)+"/"+e.APIVersion] = e.FieldsV1.GetRawString()
		}
		return out
	}
	return maps.Equal(sets(a), sets(b))
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
