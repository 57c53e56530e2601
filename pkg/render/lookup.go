package render

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
)

// LiveLookup reads one object of the cluster (name set) or a list of them
// (name empty; every namespace when namespace is empty), read only, as
// Helm's lookup returns it: the object's content, a list's content with
// its items, nil when there is none. It is how a chart's lookup reaches a
// connected cluster for what the plan does not hold.
type LiveLookup func(ctx context.Context, apiVersion, kind, namespace, name string) (map[string]any, error)

// chartLookup answers the lookup calls of one chart render as the cluster
// will be once the plan is applied: an object the plan holds is answered
// from the plan (it is what the cluster will hold), anything else from the
// live cluster when one is connected, else with nothing, and then recorded
// in missed for vet's warning.
type chartLookup struct {
	ctx    context.Context
	stacks []Stack
	live   LiveLookup
	missed []string
}

func (l *chartLookup) lookup(apiVersion, kind, namespace, name string) (map[string]any, error) {
	var found []map[string]any
	for _, s := range l.stacks {
		for _, o := range s.Objects {
			if o.GetAPIVersion() != apiVersion || o.GetKind() != kind || (name != "" && o.GetName() != name) {
				continue
			}
			if namespace != "" && objectNamespace(o) != namespace {
				continue
			}
			found = append(found, asServed(o))
		}
	}
	switch {
	case name != "" && len(found) > 0:
		return found[0], nil
	case name == "" && len(found) > 0 && l.live == nil:
		return listContent(apiVersion, kind, found), nil
	}
	if l.live != nil {
		got, err := l.live(l.ctx, apiVersion, kind, namespace, name)
		if err != nil {
			return nil, fmt.Errorf("lookup %s %s: %w", kind, lookupName(namespace, name), err)
		}
		if name == "" {
			// The plan's objects stand for the live ones of the same name.
			items, _ := got["items"].([]any)
			for _, it := range items {
				m, _ := it.(map[string]any)
				if !slices.ContainsFunc(found, func(f map[string]any) bool { return sameName(f, m) }) {
					found = append(found, m)
				}
			}
			return listContent(apiVersion, kind, found), nil
		}
		if got == nil {
			got = map[string]any{}
		}
		return got, nil
	}
	l.missed = append(l.missed, kind+" "+lookupName(namespace, name))
	if name == "" {
		return listContent(apiVersion, kind, nil), nil
	}
	return map[string]any{}, nil
}

// objectNamespace is the namespace an object of the plan will be in: its
// own, or its component's when it names none and its kind is namespaced.
func objectNamespace(o Object) string {
	if ns := o.GetNamespace(); ns != "" || clusterScoped[o.GroupVersionKind().GroupKind()] {
		return ns
	}
	return o.defaultNamespace
}

// asServed is a copy of a plan object as the API server would serve it
// where that matters to a chart: in its namespace, and a Secret's
// stringData in its data, base64-encoded.
func asServed(o Object) map[string]any {
	out := runtime.DeepCopyJSON(o.Object)
	if md, ok := out["metadata"].(map[string]any); ok && objectNamespace(o) != "" {
		md["namespace"] = objectNamespace(o)
	}
	if out["kind"] != "Secret" || out["apiVersion"] != "v1" {
		return out
	}
	sd, _ := out["stringData"].(map[string]any)
	if len(sd) == 0 {
		return out
	}
	data, _ := out["data"].(map[string]any)
	if data == nil {
		data = map[string]any{}
	}
	for k, v := range sd {
		if s, ok := v.(string); ok {
			data[k] = base64.StdEncoding.EncodeToString([]byte(s))
		}
	}
	out["data"] = data
	delete(out, "stringData")
	return out
}

func listContent(apiVersion, kind string, items []map[string]any) map[string]any {
	list := make([]any, 0, len(items))
	for _, it := range items {
		list = append(list, it)
	}
	return map[string]any{"apiVersion": apiVersion, "kind": kind + "List", "metadata": map[string]any{}, "items": list}
}

func sameName(a, b map[string]any) bool {
	ma, _ := a["metadata"].(map[string]any)
	mb, _ := b["metadata"].(map[string]any)
	return ma["name"] == mb["name"] && ma["namespace"] == mb["namespace"]
}

func lookupName(namespace, name string) string {
	switch {
	case name == "" && namespace == "":
		return "(all, every namespace)"
	case name == "":
		return namespace + "/(all)"
	case namespace == "":
		return name
	}
	return namespace + "/" + name
}

// missedLookups says, for vet's warning, what a chart looked up that
// neither the plan nor a cluster answered.
func missedLookups(missed []string) string {
	slices.Sort(missed)
	return strings.Join(slices.Compact(missed), ", ")
}
