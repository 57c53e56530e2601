package render

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// clusterScoped are the cluster-scoped kinds render knows without a
// cluster: Kubernetes' own, and those of the CRDs the platform relies on.
// Custom kinds are also learnt from CRDs in the plan; any other kind is
// taken to be namespaced.
var clusterScoped = map[schema.GroupKind]bool{
	{Group: "", Kind: "Namespace"}:                                                    true,
	{Group: "", Kind: "Node"}:                                                         true,
	{Group: "", Kind: "PersistentVolume"}:                                             true,
	{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}:                 true,
	{Group: "apiregistration.k8s.io", Kind: "APIService"}:                             true,
	{Group: "admissionregistration.k8s.io", Kind: "MutatingWebhookConfiguration"}:     true,
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingWebhookConfiguration"}:   true,
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingAdmissionPolicy"}:        true,
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingAdmissionPolicyBinding"}: true,
	{Group: "admissionregistration.k8s.io", Kind: "MutatingAdmissionPolicy"}:          true,
	{Group: "admissionregistration.k8s.io", Kind: "MutatingAdmissionPolicyBinding"}:   true,
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}:                         true,
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"}:                  true,
	{Group: "storage.k8s.io", Kind: "StorageClass"}:                                   true,
	{Group: "storage.k8s.io", Kind: "CSIDriver"}:                                      true,
	{Group: "storage.k8s.io", Kind: "CSINode"}:                                        true,
	{Group: "storage.k8s.io", Kind: "VolumeAttachment"}:                               true,
	{Group: "storage.k8s.io", Kind: "VolumeAttributesClass"}:                          true,
	{Group: "scheduling.k8s.io", Kind: "PriorityClass"}:                               true,
	{Group: "node.k8s.io", Kind: "RuntimeClass"}:                                      true,
	{Group: "networking.k8s.io", Kind: "IngressClass"}:                                true,
	{Group: "networking.k8s.io", Kind: "IPAddress"}:                                   true,
	{Group: "networking.k8s.io", Kind: "ServiceCIDR"}:                                 true,
	{Group: "certificates.k8s.io", Kind: "CertificateSigningRequest"}:                 true,
	{Group: "certificates.k8s.io", Kind: "ClusterTrustBundle"}:                        true,
	{Group: "flowcontrol.apiserver.k8s.io", Kind: "FlowSchema"}:                       true,
	{Group: "flowcontrol.apiserver.k8s.io", Kind: "PriorityLevelConfiguration"}:       true,
	{Group: "resource.k8s.io", Kind: "DeviceClass"}:                                   true,
	{Group: "resource.k8s.io", Kind: "ResourceSlice"}:                                 true,
	{Group: "cert-manager.io", Kind: "ClusterIssuer"}:                                 true,
	{Group: "snapshot.storage.k8s.io", Kind: "VolumeSnapshotClass"}:                   true,
	{Group: "snapshot.storage.k8s.io", Kind: "VolumeSnapshotContent"}:                 true,
	{Group: "gateway.networking.k8s.io", Kind: "GatewayClass"}:                        true,
	{Group: "k3s.cattle.io", Kind: "ETCDSnapshotFile"}:                                true,
	{Group: "cilium.io", Kind: "CiliumClusterwideNetworkPolicy"}:                      true,
	{Group: "kyverno.io", Kind: "ClusterPolicy"}:                                      true,
	{Group: "external-secrets.io", Kind: "ClusterSecretStore"}:                        true,
	{Group: "trust.cert-manager.io", Kind: "Bundle"}:                                  true,
}

// fillNamespaces puts each namespaced object without a namespace into its
// component's namespace. Scopes of custom kinds come from the CRDs anywhere
// in the render, so the order of components does not matter.
func fillNamespaces(stacks []Stack) {
	crds := map[schema.GroupKind]bool{}
	for _, s := range stacks {
		for _, o := range s.Objects {
			if o.GroupVersionKind().GroupKind() != crdKind {
				continue
			}
			group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
			kind, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
			scope, _, _ := unstructured.NestedString(o.Object, "spec", "scope")
			crds[schema.GroupKind{Group: group, Kind: kind}] = scope == "Cluster"
		}
	}
	for _, s := range stacks {
		for _, o := range s.Objects {
			if o.defaultNamespace == "" || o.GetNamespace() != "" {
				continue
			}
			gk := o.GroupVersionKind().GroupKind()
			if clusterScoped[gk] || crds[gk] {
				continue
			}
			o.SetNamespace(o.defaultNamespace)
		}
	}
}

var crdKind = schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}
