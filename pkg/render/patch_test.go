package render

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// mapFetcher serves manifests from memory (tests never reach the network).
type mapFetcher map[string][]byte

var _ Fetcher = mapFetcher(nil)

func (f mapFetcher) Fetch(_ context.Context, url, _ string) ([]byte, error) {
	if b, ok := f[url]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("%s: not served", url)
}

// kuberoManifest is the pinned Kubero operator manifest of specs/, from
// ../shared/upstream (README there: the file behind the URL, unchanged).
const kuberoURL = "https://raw.githubusercontent.com/kubero-dev/kubero-operator/v0.2.1/deploy/operator.yaml"

func kuberoManifest(t *testing.T) ([]byte, string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "upstream", "manifests", "kubero-operator-v0.2.1.yaml"))
	if err != nil {
		t.Skipf("the pinned Kubero operator manifest is not here (../shared/upstream, as in CI): %v", err)
	}
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:])
}

const kuberoComponent = `apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata: {name: kubero-operator}
spec:
  layer: L2
  namespace: kubero-operator-system
  manifests:
    - url: %s
      sha256: %s
      patches:
%s`

// containers returns the image of each container of the operator's
// Deployment, by name.
func operatorImages(t *testing.T, res *Result) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, o := range res.Objects() {
		if o.GetKind() != "Deployment" || o.GetName() != "kubero-operator-controller-manager" {
			continue
		}
		cs, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		for _, c := range cs {
			m := c.(map[string]any)
			out[m["name"].(string)] = m["image"].(string)
		}
	}
	return out
}

func TestPatchRealKuberoManifest(t *testing.T) {
	body, sum := kuberoManifest(t)
	const image = "registry.k8s.io/kubebuilder/kube-rbac-proxy:v0.11.0@sha256:0df4ae70e3bd0feffcec8f5cdb428f4abe666b667af991269ec5cb0bbda65869"
	want := map[string]string{"kube-rbac-proxy": image, "manager": "ghcr.io/kubero-dev/kubero-operator/kuberoapp:v0.2.1"}
	for _, tc := range []struct{ name, patches string }{
		{"json6902", `        - target: {group: apps, kind: Deployment, name: kubero-operator-controller-manager}
          patch:
            - {op: test, path: /spec/template/spec/containers/0/name, value: kube-rbac-proxy}
            - {op: replace, path: /spec/template/spec/containers/0/image, value: "` + image + `"}
`},
		{"strategic merge", `        - patch:
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: kubero-operator-controller-manager}
            spec:
              template:
                spec:
                  containers:
                    - {name: kube-rbac-proxy, image: "` + image + `"}
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree := load(t, map[string]string{"op.yaml": fmt.Sprintf(kuberoComponent, kuberoURL, sum, tc.patches)})
			res, diags := Render(context.Background(), tree, Options{Fetcher: mapFetcher{kuberoURL: body}})
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if diff := cmp.Diff(want, operatorImages(t, res)); diff != "" {
				t.Errorf("operator images (-want +got):\n%s", diff)
			}
			// Everything else is as published: the same objects, and the
			// patched Deployment keeps its other fields (the sidecar's args).
			plain := load(t, map[string]string{"op.yaml": fmt.Sprintf(kuberoComponent, kuberoURL, sum, "        []\n")})
			unpatched, _ := Render(context.Background(), plain, Options{Fetcher: mapFetcher{kuberoURL: body}})
			if diff := cmp.Diff(ids(unpatched), ids(res)); diff != "" {
				t.Errorf("objects (-unpatched +patched):\n%s", diff)
			}
			// The patched Deployment is the published one with that one
			// value changed: nothing added (no kustomize annotations),
			// nothing dropped, numbers still numbers.
			d := find(res, "Deployment", "kubero-operator-controller-manager")
			was := find(unpatched, "Deployment", "kubero-operator-controller-manager").DeepCopy()
			cs, _, _ := unstructured.NestedSlice(was.Object, "spec", "template", "spec", "containers")
			cs[0].(map[string]any)["image"] = image
			_ = unstructured.SetNestedSlice(was.Object, cs, "spec", "template", "spec", "containers")
			if diff := cmp.Diff(was.Object, d.Object); diff != "" {
				t.Errorf("patched Deployment (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPatchErrors(t *testing.T) {
	body, sum := kuberoManifest(t)
	for _, tc := range []struct{ name, patches, want string }{
		{"strategic merge matching nothing", `        - patch: {apiVersion: apps/v1, kind: Deployment, metadata: {name: kubero-operator}}
`, `matches no object of the manifest (target group=apps version=v1 kind=Deployment name=kubero-operator)`},
		{"target matching nothing", `        - target: {kind: StatefulSet}
          patch: [{op: remove, path: /spec/replicas}]
`, "matches no object of the manifest (target kind=StatefulSet)"},
		{"json6902 without target", `        - patch: [{op: remove, path: /spec/replicas}]
`, "a JSON 6902 patch (a list of operations) needs a target"},
		{"json6902 failing", `        - target: {kind: Deployment}
          patch: [{op: test, path: /spec/template/spec/containers/0/name, value: manager}]
`, "testing value /spec/template/spec/containers/0/name failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree := load(t, map[string]string{"op.yaml": fmt.Sprintf(kuberoComponent, kuberoURL, sum, tc.patches)})
			res, diags := Render(context.Background(), tree, Options{Fetcher: mapFetcher{kuberoURL: body}})
			if res != nil || len(diags) == 0 {
				t.Fatalf("rendered with %v", diags)
			}
			d := diags[0]
			if !strings.Contains(d.Message, tc.want) || d.Pos.Line != 11 || d.Pos.Column != 11 {
				t.Errorf("got %s: %s, want op.yaml:11:11: …%s…", d.Pos, d.Message, tc.want)
			}
			if !strings.HasSuffix(d.Pos.File, "op.yaml") {
				t.Errorf("diagnostic in %s", d.Pos.File)
			}
		})
	}
}
