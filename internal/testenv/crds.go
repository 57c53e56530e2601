package testenv

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	helmcrds "github.com/k3s-io/helm-controller/pkg/crds"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// CertManagerModule is the cert-manager Go module whose deploy/crds the test
// control plane serves: the version of the chart specs/ installs. The
// module carries the CRDs as YAML files (Helm-templated only in comments
// and labels), not as Go values:
// https://github.com/cert-manager/cert-manager/tree/v1.16.2/deploy/crds.
// `make testbin` downloads it into the module cache; keep the two in step.
const CertManagerModule = "github.com/cert-manager/cert-manager@v1.16.2"

// CRDs returns what the test control plane serves, sorted by name: the real
// CRDs K3s serves itself (HelmChart, HelmChartConfig, from helm-controller's
// Go module, the version K3s requires; Traefik's traefik.io group, which
// K3s's bundled traefik-crd chart installs, from ../shared/upstream when it
// is there) and cert-manager's real CRDs (from CertManagerModule). There are no stand-ins: Kubero's CRDs come with the
// operator manifest specs/ installs.
func CRDs() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	k3s, err := helmcrds.List()
	if err != nil {
		return nil, fmt.Errorf("K3s CRDs from helm-controller: %w", err)
	}
	cm, err := certManagerCRDs()
	if err != nil {
		return nil, err
	}
	traefik, err := traefikCRDs()
	if err != nil {
		return nil, err
	}
	out := slices.Concat(k3s, cm, traefik)
	slices.SortFunc(out, func(a, b *apiextensionsv1.CustomResourceDefinition) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// certManagerCRDs reads deploy/crds of CertManagerModule from the module
// cache, never from the network. Their metadata is templated for Helm, so
// only the name is kept.
func certManagerCRDs() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	dir, err := ModuleDir(CertManagerModule)
	if err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(dir, "deploy", "crds", "crd-*.yaml"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("%s: no deploy/crds/crd-*.yaml (%v)", CertManagerModule, err)
	}
	var out []*apiextensionsv1.CustomResourceDefinition
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		crd, err := decodeCRD(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		crd.ObjectMeta = metav1.ObjectMeta{Name: crd.Name}
		out = append(out, crd)
	}
	return out, nil
}

// ModuleDir finds mod (path@version) in the module cache, offline.
func ModuleDir(mod string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", mod)
	cmd.Dir = os.TempDir() // outside kcloud's module: go.mod stays as it is
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	_ = json.Unmarshal(out, &info)
	if err != nil || info.Dir == "" {
		return "", fmt.Errorf("module %s is not in the module cache (run 'make testbin'): %v %s", mod, err, info.Error)
	}
	return info.Dir, nil
}

func decodeCRD(data []byte) (*apiextensionsv1.CustomResourceDefinition, error) {
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := utilyaml.Unmarshal(data, crd); err != nil {
		return nil, err
	}
	return crd, nil
}

// traefikCRDs reads Traefik's traefik.io CRDs, as Traefik's chart ships
// them (traefik-helm-chart 41.3.0 traefik/crds, ../shared/upstream/README.md),
// from ../shared/upstream beside the project (CI has it). Traefik publishes
// them in no Go module; without that folder the control plane serves no
// traefik.io kind, and a plan with a Middleware cannot be applied to it.
func traefikCRDs() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	_, self, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(self), "..", "..", "..", "shared", "upstream", "crds", "cluster")
	files, _ := filepath.Glob(filepath.Join(dir, "traefik.io_*.yaml"))
	var out []*apiextensionsv1.CustomResourceDefinition
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		crd, err := decodeCRD(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, crd)
	}
	return out, nil
}
