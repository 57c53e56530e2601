package render

import (
	"regexp"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"kcloud.dev/kcloud/pkg/spec"
)

// Where the rendered kinds carry their hosts.
var (
	ingressKind = schema.GroupKind{Group: "networking.k8s.io", Kind: "Ingress"}
	// kuberoKind is rendered by the Kubero operator with its kubero chart,
	// whose Ingress takes ingress.hosts[].host and ingress.tls[].hosts:
	// https://github.com/kubero-dev/kubero-operator/blob/v0.2.1/helm-charts/kubero/templates/ingress.yaml
	kuberoKind = schema.GroupKind{Group: "application.kubero.dev", Kind: "Kubero"}
)

// dnsLabel is one RFC 1123 label: the <service> of <service>.<internal>.
var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// checkPlatformDomains enforces the platform domain rule on the objects the
// platform layer's components write: every Ingress host is
// <service>.<internal>, the Kubero UI's is <kuberoUIService>.<internal>, and
// no other Ingress takes the UI's host. Helm values are opaque, as for
// rule 2; a host still holding an unset ${NAME} (vet) is not judged.
func checkPlatformDomains(t *spec.Tree, stacks []Stack) spec.Diagnostics {
	var diags spec.Diagnostics
	tabs := t.Tables
	internal := t.Cluster.Domains.Internal
	ui := tabs.KuberoUIService + "." + internal
	for _, s := range stacks {
		if s.Layer != tabs.PlatformDomainLayer {
			continue
		}
		for _, o := range s.Objects {
			if o.source != sourceObject {
				continue
			}
			switch o.GroupVersionKind().GroupKind() {
			case ingressKind:
				for _, h := range hosts(o.Object, []string{"spec", "rules"}, "host", []string{"spec", "tls"}) {
					switch {
					case strings.Contains(h.value, "${"):
					case h.value == ui:
						diags.Errorf(o.Origin, "%s: %s %q is the Kubero UI's host; give this service its own <service>.%s", kindName(o), h, h.value, internal)
					case !isPlatformHost(h.value, internal):
						diags.Errorf(o.Origin, "%s: %s %q is not a platform domain: %s hosts are %s, here <service>.%s",
							kindName(o), h, h.value, s.Layer, tabs.PlatformDomainRule, internal)
					}
				}
			case kuberoKind:
				for _, h := range hosts(o.Object, []string{"spec", "ingress", "hosts"}, "host", []string{"spec", "ingress", "tls"}) {
					if !strings.Contains(h.value, "${") && h.value != ui {
						diags.Errorf(o.Origin, "%s: %s %q: the Kubero UI is served at %s", kindName(o), h, h.value, ui)
					}
				}
			}
		}
	}
	return diags
}

// isPlatformHost reports whether host is one DNS label before internal.
func isPlatformHost(host, internal string) bool {
	service, ok := strings.CutSuffix(host, "."+internal)
	return ok && dnsLabel.MatchString(service)
}

// host is one host an object names, with the path of its field (keys and
// list indexes), which a check can report it at.
type host struct {
	path  []string
	value string
}

// String formats the field's path as spec.rules[0].host.
func (h host) String() string {
	var b strings.Builder
	for _, e := range h.path {
		if _, err := strconv.Atoi(e); err == nil {
			b.WriteString("[" + e + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(e)
	}
	return b.String()
}

// hosts returns the hosts of an Ingress-shaped object: each entry of the
// list at rules with its key hostKey, and each entry of hosts in the list
// at tls. Entries that are not strings are left to schema validation.
func hosts(obj map[string]any, rules []string, hostKey string, tls []string) []host {
	var out []host
	at := func(base []string, more ...string) []string {
		return append(append([]string{}, base...), more...)
	}
	list, _, _ := unstructured.NestedSlice(obj, rules...)
	for i, r := range list {
		m, _ := r.(map[string]any)
		if h, ok := m[hostKey].(string); ok {
			out = append(out, host{at(rules, strconv.Itoa(i), hostKey), h})
		}
	}
	list, _, _ = unstructured.NestedSlice(obj, tls...)
	for i, r := range list {
		m, _ := r.(map[string]any)
		hs, _ := m["hosts"].([]any)
		for j, x := range hs {
			if h, ok := x.(string); ok {
				out = append(out, host{at(tls, strconv.Itoa(i), "hosts", strconv.Itoa(j)), h})
			}
		}
	}
	return out
}
