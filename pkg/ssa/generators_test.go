package ssa_test

import (
	"context"
	"math/rand/v2"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/validate"
)

// A generator makes objects of one kind from small value spaces, so that
// edits often collide with what kcloud set, and often restate it.
type generator struct {
	name       string
	namespaced bool
	// base is what kcloud applies first.
	base func(r *rand.Rand) map[string]any
	// other is a partial object another manager applies.
	other func(r *rand.Rand) map[string]any
	// edit changes a live object for a plain update by another manager.
	edit func(r *rand.Rand, live map[string]any)
	// change edits the planned object.
	change func(r *rand.Rand, obj map[string]any)
}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

// m builds nested maps from key, value pairs.
func m(kv ...any) map[string]any {
	out := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func typed(apiVersion, kind string, kv ...any) map[string]any {
	return m(append([]any{"apiVersion", apiVersion, "kind", kind}, kv...)...)
}

func labels(r *rand.Rand) map[string]any {
	return pick(r, m(), m("app", "a"), m("app", pick(r, "a", "b"), "tier", "web"))
}

func metadata(r *rand.Rand) map[string]any {
	md := m()
	if l := labels(r); len(l) > 0 {
		md["labels"] = l
	}
	if r.IntN(3) == 0 {
		md["annotations"] = m("note", pick(r, "x", "y"))
	}
	return md
}

func data(r *rand.Rand, enc func(string) string) map[string]any {
	d := m()
	for _, k := range []string{"a", "b", "c"} {
		if r.IntN(2) == 0 {
			d[k] = enc(pick(r, "1", "2", ""))
		}
	}
	return d
}

func id(s string) string { return s }

// changeMeta edits labels or annotations; changeData a data map.
func changeMeta(r *rand.Rand, obj map[string]any) {
	md, _ := obj["metadata"].(map[string]any)
	if md == nil {
		md = m()
		obj["metadata"] = md
	}
	switch r.IntN(4) {
	case 0:
		delete(md, "labels")
	case 1:
		md["labels"] = labels(r)
	case 2:
		md["annotations"] = m("note", pick(r, "x", "y", "z"))
	default:
		delete(md, "annotations")
	}
}

func changeMap(r *rand.Rand, obj map[string]any, field string, enc func(string) string) {
	d, _ := obj[field].(map[string]any)
	switch {
	case d == nil || r.IntN(4) == 0:
		obj[field] = data(r, enc)
	case r.IntN(2) == 0:
		for k := range d {
			delete(d, k)
			break
		}
	default:
		d[pick(r, "a", "b", "d")] = enc(pick(r, "1", "2", "3"))
	}
}

var generators = []generator{
	{
		name: "configmap", namespaced: true,
		base: func(r *rand.Rand) map[string]any {
			return typed("v1", "ConfigMap", "metadata", metadata(r), "data", data(r, id))
		},
		other: func(r *rand.Rand) map[string]any {
			return typed("v1", "ConfigMap", "data", m(pick(r, "a", "d"), pick(r, "1", "9")))
		},
		edit: func(r *rand.Rand, live map[string]any) { changeMap(r, live, "data", id) },
		change: func(r *rand.Rand, obj map[string]any) {
			if r.IntN(3) == 0 {
				changeMeta(r, obj)
				return
			}
			changeMap(r, obj, "data", id)
		},
	},
	{
		name: "secret", namespaced: true,
		base: func(r *rand.Rand) map[string]any {
			if r.IntN(2) == 0 {
				return typed("v1", "Secret", "metadata", metadata(r), "stringData", data(r, id))
			}
			return typed("v1", "Secret", "metadata", metadata(r), "type", "Opaque", "data", data(r, b64))
		},
		other: func(r *rand.Rand) map[string]any {
			return typed("v1", "Secret", "data", m(pick(r, "a", "d"), b64(pick(r, "1", "9"))))
		},
		edit: func(r *rand.Rand, live map[string]any) { changeMap(r, live, "data", b64) },
		change: func(r *rand.Rand, obj map[string]any) {
			switch r.IntN(3) {
			case 0:
				changeMap(r, obj, "stringData", id)
			case 1:
				changeMap(r, obj, "data", b64)
			default:
				// The same values, the other way round.
				if sd, ok := obj["stringData"].(map[string]any); ok {
					d := m()
					for k, v := range sd {
						d[k] = b64(v.(string))
					}
					delete(obj, "stringData")
					obj["data"] = d
				}
			}
		},
	},
	{
		name: "service", namespaced: true,
		base: func(r *rand.Rand) map[string]any {
			return typed("v1", "Service", "metadata", metadata(r), "spec", serviceSpec(r))
		},
		other: func(r *rand.Rand) map[string]any {
			return typed("v1", "Service", "spec", m("ports", []any{m("port", int64(pick(r, 80, 90)), "name", pick(r, "http", "other"), "targetPort", int64(8080))}))
		},
		edit: func(r *rand.Rand, live map[string]any) {
			spec := live["spec"].(map[string]any)
			spec["selector"] = pick[any](r, nil, m("app", "z"))
		},
		change: func(r *rand.Rand, obj map[string]any) {
			spec := obj["spec"].(map[string]any)
			ports := spec["ports"].([]any)
			p := ports[0].(map[string]any)
			switch r.IntN(5) {
			case 0: // the default, stated
				p["protocol"] = "TCP"
			case 1: // int-or-string, as a string
				p["targetPort"] = pick[any](r, "8080", "http", int64(8081))
			case 2:
				spec["ports"] = append([]any{m("name", "extra", "port", int64(70))}, ports...)
			case 3:
				delete(spec, "selector")
			default:
				spec["type"] = pick(r, "ClusterIP", "NodePort")
			}
		},
	},
	{
		name: "deployment", namespaced: true,
		base: func(r *rand.Rand) map[string]any {
			return typed("apps/v1", "Deployment", "metadata", metadata(r), "spec", deploymentSpec(r))
		},
		other: func(r *rand.Rand) map[string]any {
			return typed("apps/v1", "Deployment", "spec", m("replicas", int64(pick(r, 1, 3))))
		},
		edit: func(r *rand.Rand, live map[string]any) {
			c := container(live)
			c["image"] = pick(r, "img:1", "img:edited")
		},
		change: func(r *rand.Rand, obj map[string]any) {
			c := container(obj)
			switch r.IntN(6) {
			case 0: // quantities, written another way
				c["resources"] = m("limits", m("cpu", pick(r, "0.5", "500m", "1"), "memory", pick(r, "64Mi", "67108864")))
			case 1:
				c["image"] = pick(r, "img:1", "img:2")
			case 2: // a default, stated
				c["imagePullPolicy"] = "IfNotPresent"
			case 3:
				c["env"] = []any{m("name", "A", "value", pick(r, "x", "y"))}
			case 4:
				delete(c, "resources")
			default:
				obj["spec"].(map[string]any)["replicas"] = int64(pick(r, 1, 2))
			}
		},
	},
	{
		name: "certificate", namespaced: true,
		base: func(r *rand.Rand) map[string]any {
			return typed("cert-manager.io/v1", "Certificate", "metadata", metadata(r), "spec", m(
				"secretName", "tls", "dnsNames", []any{"a.example.org", pick[any](r, "b.example.org", "c.example.org")},
				"issuerRef", m("name", "le", "kind", "ClusterIssuer")))
		},
		other: func(r *rand.Rand) map[string]any {
			return typed("cert-manager.io/v1", "Certificate", "spec", m("duration", pick(r, "2160h0m0s", "720h0m0s")))
		},
		edit: func(r *rand.Rand, live map[string]any) {
			live["spec"].(map[string]any)["dnsNames"] = []any{"edited.example.org"}
		},
		change: func(r *rand.Rand, obj map[string]any) {
			spec := obj["spec"].(map[string]any)
			switch r.IntN(3) {
			case 0:
				spec["dnsNames"] = []any{pick[any](r, "b.example.org", "c.example.org"), "a.example.org"}
			case 1:
				spec["usages"] = []any{"server auth"}
			default:
				spec["issuerRef"] = m("name", pick(r, "le", "other"), "kind", "ClusterIssuer")
			}
		},
	},
	{
		name: "helmchart", namespaced: true,
		base: func(r *rand.Rand) map[string]any {
			return typed("helm.cattle.io/v1", "HelmChart", "metadata", metadata(r), "spec", m(
				"chart", "traefik", "version", pick(r, "1.0.0", "2.0.0"), "set", m("a", pick(r, "1", "x"))))
		},
		other: func(r *rand.Rand) map[string]any {
			return typed("helm.cattle.io/v1", "HelmChart", "spec", m("set", m("b", "2")))
		},
		edit: func(r *rand.Rand, live map[string]any) {
			live["spec"].(map[string]any)["version"] = "9.9.9"
		},
		change: func(r *rand.Rand, obj map[string]any) {
			spec := obj["spec"].(map[string]any)
			switch r.IntN(3) {
			case 0:
				spec["set"] = m("a", pick[any](r, "1", int64(1), "y"))
			case 1:
				spec["valuesContent"] = "replicas: 1\n"
			default:
				delete(spec, "set")
			}
		},
	},
}

func serviceSpec(r *rand.Rand) map[string]any {
	spec := m("ports", []any{m("name", "http", "port", int64(80), "targetPort", pick[any](r, int64(8080), "http"))})
	if r.IntN(3) > 0 {
		spec["selector"] = m("app", "a")
	}
	return spec
}

func deploymentSpec(r *rand.Rand) map[string]any {
	c := m("name", "app", "image", "img:1")
	if r.IntN(2) == 0 {
		c["resources"] = m("limits", m("cpu", pick(r, "500m", "0.5"), "memory", "64Mi"))
	}
	return m("replicas", int64(pick(r, 1, 2)),
		"selector", m("matchLabels", m("app", "a")),
		"template", m("metadata", m("labels", m("app", "a")), "spec", m("containers", []any{c})))
}

func container(obj map[string]any) map[string]any {
	spec := obj["spec"].(map[string]any)
	tmpl := spec["template"].(map[string]any)
	return tmpl["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
}

func clients(t *testing.T) *kube.Clients {
	t.Helper()
	c, err := kube.NewForConfig(testenv.Shared(t).Config(), kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func createNamespace(t *testing.T, c *kube.Clients, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := c.Typed.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

func isConflict(err error) bool { return apierrors.IsConflict(err) }
func isInvalid(err error) bool  { return apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) }

func clusterCRDs(t *testing.T, c *kube.Clients) []*apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	crds, err := validate.ClusterCRDs(context.Background(), c.Typed)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*apiextensionsv1.CustomResourceDefinition, len(crds))
	for i, crd := range crds {
		out[i] = crd.CustomResourceDefinition
	}
	return out
}
