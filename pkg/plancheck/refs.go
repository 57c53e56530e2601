package plancheck

import (
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/render"
)

var (
	ingressKind          = schema.GroupKind{Group: "networking.k8s.io", Kind: "Ingress"}
	certificateKind      = schema.GroupKind{Group: "cert-manager.io", Kind: "Certificate"}
	helmChartConfigKind  = schema.GroupKind{Group: "helm.cattle.io", Kind: "HelmChartConfig"}
	statefulSetKind      = schema.GroupKind{Group: "apps", Kind: "StatefulSet"}
	middlewareAnnotation = "traefik.ingress.kubernetes.io/router.middlewares"
)

// podSpecPaths is where each workload kind holds its pod spec.
var podSpecPaths = map[schema.GroupKind][]string{
	{Kind: "Pod"}:                       {"spec"},
	{Group: "apps", Kind: "Deployment"}: {"spec", "template", "spec"},
	statefulSetKind:                     {"spec", "template", "spec"},
	{Group: "apps", Kind: "DaemonSet"}:  {"spec", "template", "spec"},
	{Group: "apps", Kind: "ReplicaSet"}: {"spec", "template", "spec"},
	{Group: "batch", Kind: "Job"}:       {"spec", "template", "spec"},
	{Group: "batch", Kind: "CronJob"}:   {"spec", "jobTemplate", "spec", "template", "spec"},
}

// references returns every reference o makes.
func references(o render.Object) []ref {
	r := refs{obj: o.Object, ns: o.GetNamespace()}
	gk := o.GroupVersionKind().GroupKind()
	if path, ok := podSpecPaths[gk]; ok {
		r.podSpec(path)
	}
	switch gk {
	case statefulSetKind:
		r.each([]string{"spec", "volumeClaimTemplates"}, func(p []string) { r.name(join(p, "spec", "storageClassName"), storageClassKind) })
	case pvcKind:
		r.name([]string{"spec", "storageClassName"}, storageClassKind)
	case ingressKind:
		r.ingress()
	case certificateKind:
		r.issuerRef([]string{"spec", "issuerRef"})
	case issuerKind, clusterIssuerKind:
		r.acmeSolvers(gk == clusterIssuerKind)
	case middlewareKind:
		r.name([]string{"spec", "errors", "service", "name"}, serviceKind)
	case helmChartConfigKind:
		// K3s merges a HelmChartConfig into the HelmChart of its name:
		// https://docs.k3s.io/helm#customizing-packaged-components-with-helmchartconfig
		r.out = append(r.out, ref{path: []string{"metadata", "name"}, target: change.NewRef(helmChartKind, r.ns, o.GetName())})
	case kuberoKind:
		r.kubero()
	}
	return r.out
}

// refs collects the references of one object.
type refs struct {
	obj map[string]any
	ns  string
	out []ref
}

// name adds a reference to the object named by the string at path (a
// namespaced kind in the object's own namespace).
func (r *refs) name(path []string, kind schema.GroupKind) {
	r.keyed(path, kind, "", false)
}

func (r *refs) keyed(path []string, kind schema.GroupKind, k string, optional bool) {
	s, _ := get(r.obj, path).(string)
	if s == "" {
		return
	}
	ns := r.ns
	if clusterScoped[kind] {
		ns = ""
	}
	r.out = append(r.out, ref{path: path, target: change.NewRef(kind, ns, s), key: k, optional: optional})
}

// each calls f with the path of each entry of the list at path.
func (r *refs) each(path []string, f func([]string)) {
	l, _ := get(r.obj, path).([]any)
	for i := range l {
		f(join(path, strconv.Itoa(i)))
	}
}

func (r *refs) bool(path []string) bool {
	b, _ := get(r.obj, path).(bool)
	return b
}

func (r *refs) str(path []string) string {
	s, _ := get(r.obj, path).(string)
	return s
}

// get returns the value at path, whose elements are mapping keys and list
// indexes, or nil.
func get(v any, path []string) any {
	for _, e := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[e]
		case []any:
			i, err := strconv.Atoi(e)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// podSpec adds the references of a pod spec: its ServiceAccount,
// PriorityClass, pull secrets, volumes and its containers' environment.
func (r *refs) podSpec(spec []string) {
	r.name(join(spec, "serviceAccountName"), serviceAccountKind)
	r.name(join(spec, "priorityClassName"), priorityClassKind)
	r.each(join(spec, "imagePullSecrets"), func(p []string) { r.name(join(p, "name"), secretKind) })
	r.each(join(spec, "volumes"), func(p []string) {
		r.name(join(p, "persistentVolumeClaim", "claimName"), pvcKind)
		r.itemsOf(join(p, "secret"), "secretName", secretKind)
		r.itemsOf(join(p, "configMap"), "name", configMapKind)
		r.each(join(p, "projected", "sources"), func(s []string) {
			r.itemsOf(join(s, "secret"), "name", secretKind)
			r.itemsOf(join(s, "configMap"), "name", configMapKind)
		})
	})
	for _, list := range []string{"initContainers", "containers", "ephemeralContainers"} {
		r.each(join(spec, list), r.container)
	}
}

// itemsOf adds a volume source's reference (at src, its name in field)
// and the keys its items project.
func (r *refs) itemsOf(src []string, field string, kind schema.GroupKind) {
	optional := r.bool(join(src, "optional"))
	r.keyed(join(src, field), kind, "", optional)
	name := r.str(join(src, field))
	r.each(join(src, "items"), func(p []string) {
		if k := r.str(join(p, "key")); k != "" && name != "" {
			r.out = append(r.out, ref{path: join(p, "key"), target: change.NewRef(kind, r.ns, name), key: k, optional: optional})
		}
	})
}

// container adds the references of a container's envFrom and env.
func (r *refs) container(c []string) {
	r.each(join(c, "envFrom"), func(p []string) {
		r.keyed(join(p, "secretRef", "name"), secretKind, "", r.bool(join(p, "secretRef", "optional")))
		r.keyed(join(p, "configMapRef", "name"), configMapKind, "", r.bool(join(p, "configMapRef", "optional")))
	})
	r.each(join(c, "env"), func(p []string) {
		for field, kind := range map[string]schema.GroupKind{"secretKeyRef": secretKind, "configMapKeyRef": configMapKind} {
			sel := join(p, "valueFrom", field)
			r.keyed(join(sel, "name"), kind, r.str(join(sel, "key")), r.bool(join(sel, "optional")))
		}
	})
}

// ingress adds an Ingress's class, backends, TLS Secrets, issuer and
// Traefik middlewares.
func (r *refs) ingress() {
	r.name([]string{"spec", "ingressClassName"}, ingressClassKind)
	r.name([]string{"spec", "defaultBackend", "service", "name"}, serviceKind)
	r.each([]string{"spec", "rules"}, func(rule []string) {
		r.each(join(rule, "http", "paths"), func(p []string) { r.name(join(p, "backend", "service", "name"), serviceKind) })
	})
	r.each([]string{"spec", "tls"}, func(p []string) { r.name(join(p, "secretName"), secretKind) })
	r.annotations([]string{"metadata", "annotations"})
}

// annotations adds the references an Ingress's annotations (at path)
// make: cert-manager's issuer and Traefik's middlewares.
func (r *refs) annotations(path []string) {
	r.name(join(path, clusterIssuerAnnotation), clusterIssuerKind)
	r.name(join(path, issuerAnnotation), issuerKind)
	for _, mw := range middlewares(r.str(join(path, middlewareAnnotation))) {
		r.out = append(r.out, ref{path: join(path, middlewareAnnotation), target: mw})
	}
}

// middlewares parses Traefik's router.middlewares annotation: a
// comma-separated list of <namespace>-<name>@kubernetescrd. The split of
// namespace and name is ambiguous; the plan's index tells them apart
// (resolveMiddleware). Other providers (@file) are not the plan's.
func middlewares(v string) []change.Ref {
	var out []change.Ref
	for _, item := range strings.Split(v, ",") {
		id, ok := strings.CutSuffix(strings.TrimSpace(item), "@kubernetescrd")
		if ok && id != "" {
			out = append(out, change.Ref{GroupKind: middlewareKind, Name: id})
		}
	}
	return out
}

// issuerRef adds a cert-manager issuerRef: kind Issuer (the default) or
// ClusterIssuer.
func (r *refs) issuerRef(path []string) {
	if group := r.str(join(path, "group")); group != "" && group != "cert-manager.io" {
		return // an external issuer's kind
	}
	kind := issuerKind
	if r.str(join(path, "kind")) == "ClusterIssuer" {
		kind = clusterIssuerKind
	}
	r.name(join(path, "name"), kind)
}

// acmeSolvers adds the Secrets an ACME issuer's DNS-01 solvers read. A
// ClusterIssuer reads them in cert-manager's cluster resource namespace,
// cert-manager's own by its chart's default:
// https://github.com/cert-manager/cert-manager/blob/v1.16.2/deploy/charts/cert-manager/values.yaml
// (clusterResourceNamespace); the account key Secret cert-manager writes.
func (r *refs) acmeSolvers(cluster bool) {
	if cluster {
		saved := r.ns
		r.ns = "cert-manager"
		defer func() { r.ns = saved }()
	}
	r.each([]string{"spec", "acme", "solvers"}, func(p []string) {
		cf := join(p, "dns01", "cloudflare")
		for _, field := range []string{"apiTokenSecretRef", "apiKeySecretRef"} {
			sel := join(cf, field)
			r.keyed(join(sel, "name"), secretKind, r.str(join(sel, "key")), false)
		}
	})
}

// kubero adds what the Kubero operator's chart reads for a Kubero
// resource: its Ingress values, the database's StorageClass, the apps'
// ClusterIssuer and the Secret kubero-secrets, whose key
// KUBERO_WEBHOOK_SECRET its Deployment requires (the others are optional):
// https://github.com/kubero-dev/kubero-operator/blob/v0.2.1/helm-charts/kubero/templates/deployment.yaml
func (r *refs) kubero() {
	r.name([]string{"spec", "ingress", "className"}, ingressClassKind)
	r.each([]string{"spec", "ingress", "tls"}, func(p []string) { r.name(join(p, "secretName"), secretKind) })
	r.annotations([]string{"spec", "ingress", "annotations"})
	r.name([]string{"spec", "kubero", "database", "storageClassName"}, storageClassKind)
	r.name([]string{"spec", "kubero", "config", "clusterissuer"}, clusterIssuerKind)
	r.out = append(r.out, ref{path: []string{"metadata", "name"}, target: change.NewRef(secretKind, r.ns, "kubero-secrets"), key: "KUBERO_WEBHOOK_SECRET"})
}
