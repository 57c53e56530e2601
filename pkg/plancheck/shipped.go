package plancheck

import (
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/render"
)

// The kinds a reference may name.
var (
	secretKind         = schema.GroupKind{Kind: "Secret"}
	configMapKind      = schema.GroupKind{Kind: "ConfigMap"}
	pvcKind            = schema.GroupKind{Kind: "PersistentVolumeClaim"}
	serviceAccountKind = schema.GroupKind{Kind: "ServiceAccount"}
	serviceKind        = schema.GroupKind{Kind: "Service"}
	storageClassKind   = schema.GroupKind{Group: "storage.k8s.io", Kind: "StorageClass"}
	ingressClassKind   = schema.GroupKind{Group: "networking.k8s.io", Kind: "IngressClass"}
	priorityClassKind  = schema.GroupKind{Group: "scheduling.k8s.io", Kind: "PriorityClass"}
	issuerKind         = schema.GroupKind{Group: "cert-manager.io", Kind: "Issuer"}
	clusterIssuerKind  = schema.GroupKind{Group: "cert-manager.io", Kind: "ClusterIssuer"}
	middlewareKind     = schema.GroupKind{Group: "traefik.io", Kind: "Middleware"}
	helmChartKind      = schema.GroupKind{Group: "helm.cattle.io", Kind: "HelmChart"}
)

var kindsByName = map[string]schema.GroupKind{}

// clusterScoped are the kinds a reference names without a namespace.
var clusterScoped = map[schema.GroupKind]bool{
	storageClassKind: true, ingressClassKind: true, priorityClassKind: true, clusterIssuerKind: true,
}

func init() {
	for _, k := range []schema.GroupKind{secretKind, configMapKind, pvcKind, serviceAccountKind, serviceKind,
		storageClassKind, ingressClassKind, priorityClassKind, issuerKind, clusterIssuerKind, middlewareKind, helmChartKind} {
		kindsByName[k.Kind] = k
	}
}

func kindNames() []string {
	var out []string
	for n := range kindsByName {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// k3sShipped is what every K3s cluster has before kcloud applies anything,
// and the K3s component (spec.k3s.disable) without which it is missing.
// K3s's packaged manifests:
// https://github.com/k3s-io/k3s/tree/v1.33.5%2Bk3s1/manifests
// (local-storage.yaml: StorageClass local-path; traefik.yaml: the
// HelmCharts traefik and traefik-crd, whose chart makes the IngressClass
// traefik; coredns.yaml: Service kube-dns; metrics-server/); the two
// PriorityClasses are Kubernetes' own:
// https://kubernetes.io/docs/concepts/scheduling-eviction/pod-priority-preemption/
var k3sShipped = []struct {
	ref       change.Ref
	component string
}{
	{change.NewRef(storageClassKind, "", "local-path"), "local-storage"},
	{change.NewRef(ingressClassKind, "", "traefik"), "traefik"},
	{change.NewRef(helmChartKind, "kube-system", "traefik"), "traefik"},
	{change.NewRef(helmChartKind, "kube-system", "traefik-crd"), "traefik"},
	{change.NewRef(serviceKind, "kube-system", "traefik"), "traefik"},
	{change.NewRef(serviceKind, "kube-system", "kube-dns"), "coredns"},
	{change.NewRef(serviceKind, "kube-system", "metrics-server"), "metrics-server"},
	{change.NewRef(priorityClassKind, "", "system-cluster-critical"), ""},
	{change.NewRef(priorityClassKind, "", "system-node-critical"), ""},
}

// addShipped adds what K3s ships, less its disabled components.
func (p *plan) addShipped(disabled []string) {
	for _, s := range k3sShipped {
		if s.component != "" && slices.Contains(disabled, s.component) {
			continue
		}
		if _, ok := p.known[s.ref]; !ok {
			p.known[s.ref] = origin{what: "K3s"}
		}
	}
}

// Keys of what controllers make: a TLS Secret as cert-manager writes it
// (https://cert-manager.io/docs/usage/certificate/#target-secret), the
// ConfigMap every namespace gets from the root CA publisher.
var (
	tlsKeys    = []string{"ca.crt", "tls.crt", "tls.key"}
	rootCAKeys = []string{"ca.crt"}
)

// kuberoKind is the Kubero UI, which the Kubero operator renders with its
// chart helm-charts/kubero. With the release named after the resource, the
// chart's fullname is the resource's name when it contains "kubero"
// (templates/_helpers.tpl), and it makes the Service <fullname>
// (service.yaml), the ServiceAccount <fullname> (serviceaccount.yaml), the
// claim <fullname>-data (pvc.yaml) and the ConfigMap kubero-config
// (config.yaml):
// https://github.com/kubero-dev/kubero-operator/tree/v0.2.1/helm-charts/kubero/templates
var kuberoKind = schema.GroupKind{Group: "application.kubero.dev", Kind: "Kubero"}

// addMade adds what the controllers of the plan make from o: every
// namespace's ServiceAccount default and ConfigMap kube-root-ca.crt
// (Kubernetes' controllers), cert-manager's TLS Secrets, the Kubero
// operator's objects.
func (p *plan) addMade(o render.Object) {
	made := func(k change.Ref, what string, keys []string) {
		if _, ok := p.known[k]; !ok {
			p.known[k] = origin{what: what, keys: keys}
		}
	}
	ns, name := o.GetNamespace(), o.GetName()
	switch o.GroupVersionKind().GroupKind() {
	case schema.GroupKind{Kind: "Namespace"}:
		made(change.NewRef(serviceAccountKind, name, "default"), "Kubernetes' ServiceAccount controller", nil)
		made(change.NewRef(configMapKind, name, "kube-root-ca.crt"), "Kubernetes' root CA publisher", rootCAKeys)
	case schema.GroupKind{Group: "cert-manager.io", Kind: "Certificate"}:
		if s, _, _ := unstructured.NestedString(o.Object, "spec", "secretName"); s != "" {
			made(change.NewRef(secretKind, ns, s), "cert-manager (Certificate "+name+")", tlsKeys)
		}
	case ingressKind:
		if issued(o.GetAnnotations()) {
			for _, s := range tlsSecrets(o.Object, "spec", "tls") {
				made(change.NewRef(secretKind, ns, s), "cert-manager (Ingress "+name+")", tlsKeys)
			}
		}
	case kuberoKind:
		anns, _, _ := unstructured.NestedStringMap(o.Object, "spec", "ingress", "annotations")
		if issued(anns) {
			for _, s := range tlsSecrets(o.Object, "spec", "ingress", "tls") {
				made(change.NewRef(secretKind, ns, s), "cert-manager (the Kubero Ingress)", tlsKeys)
			}
		}
		what := "the Kubero operator (Kubero " + name + ")"
		made(change.NewRef(serviceKind, ns, name), what, nil)
		made(change.NewRef(serviceAccountKind, ns, name), what, nil)
		made(change.NewRef(pvcKind, ns, name+"-data"), what, nil)
		made(change.NewRef(configMapKind, ns, "kubero-config"), what, nil)
	}
}

// cert-manager's ingress-shim issues the TLS Secrets of an Ingress that
// names an issuer: https://cert-manager.io/docs/usage/ingress/
const (
	clusterIssuerAnnotation = "cert-manager.io/cluster-issuer"
	issuerAnnotation        = "cert-manager.io/issuer"
)

func issued(anns map[string]string) bool {
	return anns[clusterIssuerAnnotation] != "" || anns[issuerAnnotation] != ""
}

// tlsSecrets returns the secretName of each entry of the tls list at path.
func tlsSecrets(obj map[string]any, path ...string) []string {
	var out []string
	list, _, _ := unstructured.NestedSlice(obj, path...)
	for _, t := range list {
		m, _ := t.(map[string]any)
		if s, ok := m["secretName"].(string); ok && s != "" {
			out = append(out, s)
		}
	}
	return out
}
