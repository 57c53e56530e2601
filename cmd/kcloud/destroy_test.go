package main

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kcloud.dev/kcloud/pkg/inventory"
)

func TestDestroyKeepsDataUnlessAllowed(t *testing.T) {
	env := uniqueEnv("destroy")
	ns := "data-" + env
	dir := writeTree(t, map[string]string{
		"cluster.yaml": clusterYAML(env),
		"db.yaml": `apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata:
  name: db
spec:
  layer: L3
  envs: [` + env + `]
  storage:
    - {name: data, size: 1Gi}
  objects:
    - apiVersion: v1
      kind: ConfigMap
      metadata: {name: db-config}
      data: {value: x}
`,
	})
	cs := typed(t)
	ctx := context.Background()
	// A deleted claim keeps its pvc-protection finalizer on the test server
	// (no controllers): being deleted counts as gone.
	pvcExists := func() bool {
		pvc, err := cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "db-data", metav1.GetOptions{})
		return err == nil && pvc.DeletionTimestamp == nil
	}
	cmExists := func() bool {
		_, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "db-config", metav1.GetOptions{})
		return !apierrors.IsNotFound(err)
	}
	for _, tc := range []struct {
		name    string
		args    []string
		wantPVC bool
	}{
		{"detaches claims and namespaces", nil, true},
		{"--allow-data-loss deletes them", []string{"--allow-data-loss"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, _, stderr := kcLive(t, "apply", dir, "--env", env, "--wait=false"); code != 0 {
				t.Fatalf("apply: exit %d\n%s", code, stderr)
			}
			if !pvcExists() || !cmExists() {
				t.Fatal("apply did not create the claim and the ConfigMap")
			}
			if code, _, stderr := kcLive(t, "destroy", "--layer", "L3", "--env", env); code != exitUsage || !strings.Contains(stderr, "--yes") {
				t.Errorf("destroy without --yes: exit %d, want %d naming --yes\n%s", code, exitUsage, stderr)
			}
			if code, _, _ := kcLive(t, "destroy", "--layer", "L3"); code != exitUsage {
				t.Errorf("destroy of a per-env layer without --env: exit %d, want %d", code, exitUsage)
			}
			args := append([]string{"destroy", "--layer", "L3", "--env", env, "--yes", "--wait=false"}, tc.args...)
			code, stdout, stderr := kcLive(t, args...)
			if code != 0 {
				t.Fatalf("destroy: exit %d\n%s\n%s", code, stdout, stderr)
			}
			if cmExists() {
				t.Error("destroy left the ConfigMap")
			}
			if got := pvcExists(); got != tc.wantPVC {
				t.Errorf("claim exists = %v, want %v", got, tc.wantPVC)
			}
			if _, found, _ := inventory.Get(ctx, cs, "l3-"+env); found {
				t.Error("destroy left the inventory")
			}
		})
	}
	if code, _, stderr := kcLive(t, "destroy", "--layer", "L3", "--env", env, "--yes"); code == 0 || !strings.Contains(stderr, "no inventory") {
		t.Errorf("destroy of a stack with no inventory: exit %d\n%s", code, stderr)
	}
}
