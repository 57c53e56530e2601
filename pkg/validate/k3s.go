package validate

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	helmcrds "github.com/k3s-io/helm-controller/pkg/crds"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// K3sCRDs returns the CRDs K3s's Helm controller serves (HelmChart and
// HelmChartConfig, helm.cattle.io/v1), sorted by name. They come from the
// helm-controller Go module, which embeds its generated CRD YAML and
// exposes it as Go values: crds.List in
// https://github.com/k3s-io/helm-controller/blob/v0.17.7/pkg/crds/crds.go
// (v0.17.7 is the version K3s's go.mod requires:
// https://github.com/k3s-io/k3s/blob/main/go.mod).
func K3sCRDs() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	crds, err := k3sCRDs()
	if err != nil {
		return nil, err
	}
	out := make([]*apiextensionsv1.CustomResourceDefinition, len(crds))
	for i, c := range crds {
		out[i] = c.DeepCopy()
	}
	return out, nil
}

var k3sCRDs = sync.OnceValues(func() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	crds, err := helmcrds.List()
	if err != nil {
		return nil, fmt.Errorf("K3s CRDs from helm-controller: %w", err)
	}
	slices.SortFunc(crds, func(a, b *apiextensionsv1.CustomResourceDefinition) int { return strings.Compare(a.Name, b.Name) })
	return crds, nil
})
