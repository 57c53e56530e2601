package validate

import (
	"context"
	"fmt"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
)

// SourceCluster is the Source of CRDs read from the cluster.
const SourceCluster = "the cluster"

var crdResource = apiextensionsv1.SchemeGroupVersion.WithResource("customresourcedefinitions")

// ClusterCRDs reads every CRD the cluster serves, with one LIST, for
// Options.CRDs: the schemas of what charts installed (cert-manager's).
func ClusterCRDs(ctx context.Context, client dynamic.Interface) ([]CRD, error) {
	list, err := client.Resource(crdResource).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list CRDs: %w", err)
	}
	out := make([]CRD, 0, len(list.Items))
	for _, u := range list.Items {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, crd); err != nil {
			return nil, fmt.Errorf("CRD %s: %w", u.GetName(), err)
		}
		out = append(out, CRD{CustomResourceDefinition: crd, Source: SourceCluster})
	}
	return out, nil
}
