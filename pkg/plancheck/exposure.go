package plancheck

import (
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/spec"
)

// AuthAnnotation says, on an Ingress (or in the Ingress annotations of a
// resource that renders one, such as Kubero's spec.ingress.annotations),
// how the users of its hosts authenticate:
//
//	gate              the platform's gate: a Traefik forwardAuth Middleware
//	                  of the plan, named in router.middlewares
//	native: <how>     the app's own login, named (native: Vault OIDC)
//	public: <why>     public on purpose, with the reason
//
// Every host on the Cluster's internal domain needs it; hosts on the base
// domain (business apps) are public unless they say otherwise.
const AuthAnnotation = "kcloud.dev/auth"

// The ways AuthAnnotation names.
const (
	authGate   = "gate"
	authNative = "native"
	authPublic = "public"
)

// exposed is an Ingress-shaped object: where its hosts and its
// annotations are.
type exposed struct {
	rules       []string // the list of rules (or hosts)
	hostKey     string   // each entry's host field
	annotations []string
}

var exposedKinds = map[string]exposed{
	ingressKind.String(): {rules: []string{"spec", "rules"}, hostKey: "host", annotations: []string{"metadata", "annotations"}},
	// https://github.com/kubero-dev/kubero-operator/blob/v0.2.1/helm-charts/kubero/templates/ingress.yaml
	kuberoKind.String(): {rules: []string{"spec", "ingress", "hosts"}, hostKey: "host", annotations: []string{"spec", "ingress", "annotations"}},
}

// checkExposure checks every Ingress-shaped object's hosts against its
// AuthAnnotation.
func (p *plan) checkExposure() spec.Diagnostics {
	var diags spec.Diagnostics
	domains := p.tree.Cluster.Domains
	for _, o := range p.objects {
		e, ok := exposedKinds[o.GroupVersionKind().GroupKind().String()]
		if !ok {
			continue
		}
		anns, _, _ := unstructured.NestedStringMap(o.Object, e.annotations...)
		value, declared := anns[AuthAnnotation]
		annPos := at(o, join(e.annotations, AuthAnnotation)...)
		if declared {
			if msg := p.checkAuth(o, value, anns); msg != "" {
				diags.Errorf(annPos, "%s: annotation %s: %s", kindName(o), AuthAnnotation, msg)
			}
			continue
		}
		rules, _, _ := unstructured.NestedSlice(o.Object, e.rules...)
		for i, r := range rules {
			m, _ := r.(map[string]any)
			host, _ := m[e.hostKey].(string)
			if !onDomain(host, domains.Internal) {
				continue
			}
			path := join(e.rules, strconv.Itoa(i), e.hostKey)
			diags.Errorf(at(o, path...), "%s: %s: host %q is on the internal domain and does not say how its users authenticate: "+
				"annotate it %s: gate (the platform's forwardAuth Middleware), \"native: <the app's login>\" or \"public: <why>\"",
				kindName(o), pathString(path), host, AuthAnnotation)
		}
	}
	return diags
}

// checkAuth returns what is wrong with an AuthAnnotation value, or "".
func (p *plan) checkAuth(o render.Object, value string, anns map[string]string) string {
	way, detail, hasDetail := strings.Cut(value, ":")
	way, detail = strings.TrimSpace(way), strings.TrimSpace(detail)
	switch way {
	case authGate:
		if hasDetail {
			return fmt.Sprintf("%q: gate takes no detail (the Middleware is named in %s)", value, middlewareAnnotation)
		}
		return p.gated(anns[middlewareAnnotation])
	case authNative, authPublic:
		if detail == "" {
			what := "the app's login (native: Vault OIDC)"
			if way == authPublic {
				what = "why it is public (public: signed webhooks only)"
			}
			return fmt.Sprintf("%q: say %s", value, what)
		}
		return ""
	}
	return fmt.Sprintf("%q: use gate, \"native: <the app's login>\" or \"public: <why>\"", value)
}

// gated returns "" when the router.middlewares annotation names a Traefik
// Middleware of the plan with forwardAuth, else what is missing.
func (p *plan) gated(annotation string) string {
	if annotation == "" {
		return fmt.Sprintf("gate: %s names no Middleware: add the gate's <namespace>-<name>@kubernetescrd", middlewareAnnotation)
	}
	for _, mw := range middlewares(annotation) {
		for _, o := range p.objects {
			if o.GroupVersionKind().GroupKind() != middlewareKind || o.GetNamespace()+"-"+o.GetName() != mw.Name {
				continue
			}
			if _, ok, _ := unstructured.NestedMap(o.Object, "spec", "forwardAuth"); ok {
				return ""
			}
		}
	}
	return fmt.Sprintf("gate: none of the Middlewares in %s (%q) is a forwardAuth Middleware of the plan", middlewareAnnotation, annotation)
}

// onDomain reports whether host is domain or one of its subdomains.
func onDomain(host, domain string) bool {
	return domain != "" && (host == domain || strings.HasSuffix(host, "."+domain))
}
