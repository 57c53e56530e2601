package main

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

// TestSpecsPassPlanChecks: the real platform (specs/, Kubero included,
// its pinned manifests served from the offline cache, ${VPS_HOST} set,
// decrypted with the demo key) passes vet, and its references, images,
// exposure and schemas raise no warning (its files encrypted to the public
// demo key are accepted by cluster.yaml's demo field): vet prints nothing
// at all. Bitnami's charts look up their own Secret, which specs/ holds:
// the plan answers.
func TestSpecsPassPlanChecks(t *testing.T) {
	dir, kubero := specsCopy(t)
	if kubero != "" {
		t.Skipf("the Kubero operator manifest cannot be had offline: %s", kubero)
	}
	t.Setenv("SOPS_AGE_KEY_FILE", filepath.Join(moduleRoot, "hack", "demo.agekey"))
	code, stdout, stderr := kcloud(t, "vet", dir, "-o", "json")
	if code != exitOK {
		t.Fatalf("vet specs/: exit %d\n%s%s", code, stdout, stderr)
	}
	var out struct {
		Diagnostics []struct{ File, Message, Severity string }
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatal(err)
	}
	for _, d := range out.Diagnostics {
		t.Errorf("%s: %s: %s", d.File, d.Severity, d.Message)
	}

	// kcloud images lists every image with a tag, the patched sidecar
	// among them, and a digest wherever upstream publishes one.
	code, stdout, stderr = kcloud(t, "images", dir, "-o", "json")
	if code != exitOK {
		t.Fatalf("images specs/: exit %d\n%s%s", code, stdout, stderr)
	}
	var images struct {
		Images []struct{ Image, Tag, Digest, Component string }
	}
	if err := json.Unmarshal([]byte(stdout), &images); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, im := range images.Images {
		if im.Tag == "" || im.Tag == "latest" {
			t.Errorf("image %s of %s: tag %q", im.Image, im.Component, im.Tag)
		}
		got[im.Image] = im.Component
	}
	for image, component := range map[string]string{
		"registry.k8s.io/kubebuilder/kube-rbac-proxy:v0.11.0@sha256:0df4ae70e3bd0feffcec8f5cdb428f4abe666b667af991269ec5cb0bbda65869": "kubero-operator",
		"ghcr.io/kubero-dev/kubero-operator/kuberoapp:v0.2.1":                                                                         "kubero-operator",
		"ghcr.io/kubero-dev/kubero/kubero:v3.1.1":                                                                                     "kubero",
	} {
		if got[image] != component {
			t.Errorf("images: %s from %q, want from %s (all: %v)", image, got[image], component, got)
		}
	}
	if _, ok := got["gcr.io/kubebuilder/kube-rbac-proxy:v0.11.0"]; ok {
		t.Error("the removed gcr.io sidecar is still in the plan")
	}
}
