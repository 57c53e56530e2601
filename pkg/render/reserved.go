package render

import (
	"strings"

	"kcloud.dev/kcloud/pkg/spec"
)

// Names kcloud keeps for itself. pkg/inventory writes them (render cannot
// import it: render knows nothing of clusters); a test there checks that
// both agree.
const (
	// SystemNamespace is where the lock and the inventories live.
	SystemNamespace = "kube-system"
	// LockLeaseName is the apply lock's Lease.
	LockLeaseName = "kcloud-lock"
	// InventoryPrefix starts the name of every stack's inventory ConfigMap.
	InventoryPrefix = "kcloud-inventory-"
)

// checkReserved reports an object a component renders that belongs to
// K3s or to kcloud's own bookkeeping, or a Namespace outside the layer
// table: applying it would take over, or let pruning delete, what the
// platform relies on.
func checkReserved(t *spec.Tree, o Object, diags *spec.Diagnostics) {
	gk := o.GroupVersionKind().GroupKind()
	name, ns := o.GetName(), o.GetNamespace()
	switch {
	case gk.Group == "storage.k8s.io" && gk.Kind == "StorageClass":
		// kcloud's own are generated, and a second copy is a duplicate.
		if sc, ok := t.Tables.StorageClass(name); ok && sc.Owner != "kcloud" {
			diags.Errorf(o.Origin, "StorageClass %s belongs to %s (see the StorageClass table); components cannot render it", name, sc.Owner)
		}
	case gk.Group == "coordination.k8s.io" && gk.Kind == "Lease" && ns == SystemNamespace && name == LockLeaseName:
		diags.Errorf(o.Origin, "Lease %s/%s is kcloud's apply lock; components cannot render it", ns, name)
	case gk.Group == "" && gk.Kind == "ConfigMap" && ns == SystemNamespace && strings.HasPrefix(name, InventoryPrefix):
		diags.Errorf(o.Origin, "ConfigMap %s/%s: names starting with %s in %s are kcloud's inventories; rename it", ns, name, InventoryPrefix, SystemNamespace)
	case gk.Group == "" && gk.Kind == "Namespace":
		if _, owned := t.Tables.NamespaceOwners[name]; owned {
			return // reported as owned by K3s
		}
		if allowed := tableNamespaces(t); !contains(allowed, name) {
			diags.Errorf(o.Origin, "namespace %s is not in the layer table; kcloud creates only %s", name, strings.Join(allowed, ", "))
		}
	}
}

// tableNamespaces are the namespaces the layer table gives the tree.
func tableNamespaces(t *spec.Tree) []string {
	var out []string
	for _, l := range t.Tables.Layers {
		if !l.PerEnv() {
			out = append(out, l.Namespaces...)
			continue
		}
		for _, env := range t.Cluster.EnvNames() {
			out = append(out, l.EnvNamespace(env))
		}
	}
	return out
}
