package validate

import (
	"context"
	"fmt"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/util/json"
	"k8s.io/client-go/kubernetes"
)

// SourceCluster is the Source of CRDs read from the cluster.
const SourceCluster = "the cluster"

// crdPath is where the cluster lists its CRDs.
const crdPath = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"

// ClusterCRDs reads every CRD the cluster serves, with one LIST, for
// Options.CRDs: the schemas of what charts installed (cert-manager's). The
// list is decoded straight into its types: CRDs are large (cert-manager's
// are megabytes), and a detour through unstructured objects doubles the
// work.
func ClusterCRDs(ctx context.Context, client kubernetes.Interface) ([]CRD, error) {
	raw, err := client.Discovery().RESTClient().Get().AbsPath(crdPath).Do(ctx).Raw()
	if err != nil {
		return nil, fmt.Errorf("list CRDs: %w", err)
	}
	var list apiextensionsv1.CustomResourceDefinitionList
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("list CRDs: %w", err)
	}
	out := make([]CRD, len(list.Items))
	for i := range list.Items {
		out[i] = CRD{CustomResourceDefinition: &list.Items[i], Source: SourceCluster}
	}
	return out, nil
}
