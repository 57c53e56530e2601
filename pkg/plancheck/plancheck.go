package plancheck

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/spec"
)

// Options say how strictly to check.
type Options struct {
	// Strict makes a tag without a digest an error instead of a warning.
	Strict bool
}

// Check runs every check of the package over the plan res rendered from
// t, and returns one diagnostic per problem.
func Check(res *render.Result, t *spec.Tree, opts Options) spec.Diagnostics {
	if res == nil || t == nil || t.Cluster == nil {
		return nil
	}
	p := newPlan(res, t)
	var diags spec.Diagnostics
	diags = append(diags, p.checkReferences()...)
	diags = append(diags, checkImages(Images(res), t, res.Partial, opts)...)
	diags = append(diags, p.checkExposure()...)
	return diags.Sorted()
}

// ExternalAnnotation declares, on the object that names them, references
// to objects made outside the plan: a comma-separated list of Kind/name or
// Kind/namespace/name (Secret/registry-login, ClusterIssuer/corp-ca).
const ExternalAnnotation = "kcloud.dev/external"

// origin says where an object a reference names comes from, and the keys
// it holds (nil when they are not known).
type origin struct {
	what string
	keys []string
}

// plan indexes what a reference may name: the plan's objects, what K3s
// ships, and what the plan's controllers make.
type plan struct {
	tree    *spec.Tree
	objects []render.Object
	known   map[change.Ref]origin
}

func newPlan(res *render.Result, t *spec.Tree) *plan {
	p := &plan{tree: t, objects: res.WholePlan(), known: map[change.Ref]origin{}}
	for _, o := range p.objects {
		k := objectKey(o)
		p.known[k] = origin{what: "the plan", keys: dataKeys(o)}
		if k.GroupKind == middlewareKind {
			// Traefik's annotations name it <namespace>-<name>.
			p.known[change.Ref{GroupKind: middlewareKind, Name: k.Namespace + "-" + k.Name}] = origin{what: "the plan"}
		}
	}
	p.addShipped(t.Cluster.K3s.Disable)
	for _, o := range p.objects {
		p.addMade(o)
	}
	return p
}

func objectKey(o render.Object) change.Ref {
	return change.Ref{GroupKind: o.GroupVersionKind().GroupKind(), Namespace: o.GetNamespace(), Name: o.GetName()}
}

// dataKeys returns the keys of a Secret or ConfigMap, nil for other kinds.
func dataKeys(o render.Object) []string {
	var fields []string
	switch o.GroupVersionKind().GroupKind() {
	case secretKind:
		fields = []string{"data", "stringData"}
	case configMapKind:
		fields = []string{"data", "binaryData"}
	default:
		return nil
	}
	keys := []string{}
	for _, f := range fields {
		m, _ := o.Object[f].(map[string]any)
		for k := range m {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// ref is one reference from a field of an object to another object, and
// the key it reads of it, if any.
type ref struct {
	path     []string
	target   change.Ref
	key      string
	optional bool
}

// checkReferences resolves every reference of every object.
func (p *plan) checkReferences() spec.Diagnostics {
	var diags spec.Diagnostics
	for _, o := range p.objects {
		external, bad := externals(o)
		if bad != "" {
			diags.Errorf(at(o, "metadata", "annotations", ExternalAnnotation), "%s: annotation %s: %s", kindName(o), ExternalAnnotation, bad)
		}
		for _, r := range references(o) {
			if r.optional || r.target.Name == "" || strings.Contains(r.target.Name, "${") || external[r.target] {
				continue
			}
			if msg := p.resolve(r); msg != "" {
				diags.Errorf(at(o, r.path...), "%s: %s: %s", kindName(o), pathString(r.path), msg)
			}
		}
	}
	return diags
}

// resolve returns what is wrong with r, or "".
func (p *plan) resolve(r ref) string {
	found, ok := p.known[r.target]
	if !ok {
		where := ""
		if r.target.Namespace != "" {
			where = " in namespace " + r.target.Namespace
		}
		return fmt.Sprintf("%s %q is not in the plan%s, not one K3s ships, and not made by a controller the plan runs "+
			"(declare it with the annotation %s: %s/%s if it is made elsewhere)",
			r.target.GroupKind.Kind, r.target.Name, where, ExternalAnnotation, r.target.GroupKind.Kind, r.target.Name)
	}
	if r.key == "" || found.keys == nil || slices.Contains(found.keys, r.key) {
		return ""
	}
	return fmt.Sprintf("%s has no key %q (from %s; its keys: %s)", r.target, r.key, found.what, strings.Join(found.keys, ", "))
}

// externals parses an object's ExternalAnnotation into the keys it
// declares; bad says what is wrong with it.
func externals(o render.Object) (map[change.Ref]bool, string) {
	v, ok := o.GetAnnotations()[ExternalAnnotation]
	if !ok {
		return nil, ""
	}
	out := map[change.Ref]bool{}
	for _, item := range strings.Split(v, ",") {
		parts := strings.Split(strings.TrimSpace(item), "/")
		kind, known := kindsByName[parts[0]]
		switch {
		case !known:
			return nil, fmt.Sprintf("%q: use Kind/name or Kind/namespace/name with a kind of %s", item, strings.Join(kindNames(), ", "))
		case len(parts) == 2 && parts[1] != "":
			ns := o.GetNamespace()
			if clusterScoped[kind] {
				ns = ""
			}
			out[change.NewRef(kind, ns, parts[1])] = true
		case len(parts) == 3 && parts[1] != "" && parts[2] != "":
			out[change.NewRef(kind, parts[1], parts[2])] = true
		default:
			return nil, fmt.Sprintf("%q: use Kind/name or Kind/namespace/name", item)
		}
	}
	return out, ""
}

// at returns where the field at path of o is written, or o's origin.
func at(o render.Object, path ...string) spec.Pos {
	if p, _ := o.Syntax.FieldPos(path); p.IsValid() {
		return p
	}
	return o.Origin
}

// kindName names an object in messages: Deployment platform/web.
func kindName(o render.Object) string {
	if ns := o.GetNamespace(); ns != "" {
		return o.GetKind() + " " + ns + "/" + o.GetName()
	}
	return o.GetKind() + " " + o.GetName()
}

// pathString formats a field path as spec.containers[0].image.
func pathString(path []string) string {
	var b strings.Builder
	for _, e := range path {
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

// join appends more to a copy of base.
func join(base []string, more ...string) []string {
	return append(append([]string{}, base...), more...)
}
