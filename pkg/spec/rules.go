package spec

import (
	"fmt"
	"strings"
)

// checkRules enforces the contract's cross-document rules: 1 (layers,
// namespaces, environments), 2 for storage entries, 4 (dependsOn) and 6
// (the Cluster). Rules 2, 3 and 5 on rendered objects live in pkg/render.
func (l *loader) checkRules() {
	l.checkCluster()
	sortComponents(l.tree.Components)
	l.checkNames()
	for _, c := range l.tree.Components {
		l.checkComponent(c)
	}
	l.checkDependsOn()
}

// compPos returns a component's position at a path inside its document.
func (l *loader) compPos(c *Component, path string) Pos {
	return posAt(l.srcs[c], path, c.File)
}

func (l *loader) checkCluster() {
	for _, c := range l.clusters {
		if c.Name != "" { // a Cluster that did not decode has its errors already
			l.checkOneCluster(c)
		}
	}
	switch len(l.clusters) {
	case 0:
		l.diags.errorf(Pos{File: l.dirs[0]}, "no Cluster document found; a spec tree has exactly one kind: Cluster")
	case 1:
		if c := l.clusters[0]; c.Name != "" {
			l.tree.Cluster = c
		}
	default:
		for i, c := range l.clusters {
			others := make([]string, 0, len(l.clusters)-1)
			for j, o := range l.clusters {
				if i != j {
					others = append(others, o.Pos.String())
				}
			}
			l.diags.errorf(c.Pos, "more than one Cluster document (also at %s); a spec tree has exactly one", strings.Join(others, ", "))
		}
	}
}

// checkOneCluster enforces rule 6 inside a Cluster: one of channel or
// version, unique node names, a server, unique environments including the
// required ones.
func (l *loader) checkOneCluster(c *Cluster) {
	data := l.clSrc[c]
	pos := func(path string) Pos { return posAt(data, path, c.Pos.File) }
	if (c.K3s.Channel == "") == (c.K3s.Version == "") {
		l.diags.errorf(pos("spec.k3s"), "spec.k3s: set exactly one of channel (e.g. stable) or version (e.g. v1.33.5+k3s1)")
	}
	seenDisable := map[string]bool{}
	for i, d := range c.K3s.Disable {
		if seenDisable[d] {
			l.diags.errorf(pos(fmt.Sprintf("spec.k3s.disable[%d]", i)), "spec.k3s.disable: %q is listed twice", d)
		}
		seenDisable[d] = true
	}

	// Nodes: unique names, at least one server.
	servers := 0
	first := map[string]Pos{} // where each node name is first written
	for i, n := range c.Nodes {
		if n.Role == RoleServer {
			servers++
		}
		np := pos(fmt.Sprintf("spec.nodes[%d].name", i))
		if pp, dup := first[n.Name]; dup {
			l.diags.errorf(np, "duplicate node name %q (first at %s)", n.Name, pp)
			l.diags.errorf(pp, "duplicate node name %q (again at %s)", n.Name, np)
			continue
		}
		first[n.Name] = np
	}
	if servers == 0 {
		l.diags.errorf(pos("spec.nodes"), "spec.nodes: at least one node must have role server")
	}

	// Environments: unique names and prefixes, the required ones present.
	byName := map[string]Environment{}
	byPrefix := map[string]Environment{}
	for i, e := range c.Environments {
		ep := pos(fmt.Sprintf("spec.environments[%d].name", i))
		if prev, dup := byName[e.Name]; dup {
			l.diags.errorf(ep, "duplicate environment %q (first at %s)", e.Name, prev.Pos)
			l.diags.errorf(prev.Pos, "duplicate environment %q (again at %s)", e.Name, ep)
			continue
		}
		byName[e.Name] = e
		if prev, dup := byPrefix[e.Prefix]; dup {
			l.diags.errorf(pos(fmt.Sprintf("spec.environments[%d].prefix", i)),
				"environment %q has the same prefix %q as %q (%s): both would serve %s", e.Name, e.Prefix, prev.Name, prev.Pos, e.App)
		}
		byPrefix[e.Prefix] = e
	}
	var missing []string
	for _, r := range l.tabs.RequiredEnvs {
		if _, ok := byName[r]; !ok {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		l.diags.errorf(pos("spec.environments"), "spec.environments: must include %s; missing %s",
			strings.Join(l.tabs.RequiredEnvs, " and "), strings.Join(missing, ", "))
	}
}

// checkNames reports components sharing a metadata.name, at both places.
func (l *loader) checkNames() {
	first := map[string]*Component{}
	kept := l.tree.Components[:0]
	for _, c := range l.tree.Components {
		if prev, dup := first[c.Name]; dup {
			l.diags.errorf(c.Pos, "duplicate component name %q (first at %s)", c.Name, prev.Pos)
			l.diags.errorf(prev.Pos, "duplicate component name %q (again at %s)", c.Name, c.Pos)
			continue
		}
		first[c.Name] = c
		kept = append(kept, c)
	}
	l.tree.Components = kept
}

// checkComponent enforces rule 1 (namespace ↔ layer, envs) and rule 2 for
// the component's own storage entries.
func (l *loader) checkComponent(c *Component) {
	layer, _ := l.tabs.Layer(c.Layer)
	cl := l.tree.Cluster

	if layer.PerEnv() {
		if c.Namespace != "" {
			l.diags.errorf(l.compPos(c, "spec.namespace"),
				"namespace is derived for %s components (%s<env>); remove it", c.Layer, layer.NamespacePrefix)
		}
		if cl != nil {
			if c.Envs == nil {
				c.Envs = cl.EnvNames()
			} else {
				l.checkEnvs(c)
			}
		}
	} else {
		switch {
		case c.Namespace == "":
			l.diags.errorf(l.compPos(c, "spec"), "an %s component needs spec.namespace; use one of %s",
				c.Layer, strings.Join(layer.Namespaces, ", "))
		case !contains(layer.Namespaces, c.Namespace):
			l.diags.errorf(l.compPos(c, "spec.namespace"), "namespace %q is not an %s namespace; use one of %s",
				c.Namespace, c.Layer, strings.Join(layer.Namespaces, ", "))
		}
		if c.Envs != nil {
			l.diags.errorf(l.compPos(c, "spec.envs"),
				"envs is only for per-environment layers (L3, L4); %s components are shared by every environment", c.Layer)
			c.Envs = nil
		}
	}

	if c.Helm == nil && len(c.Manifests) == 0 && len(c.Objects) == 0 {
		l.diags.errorf(c.Pos, "component %q has no source; give it helm, manifests or objects", c.Name)
	}

	seen := map[string]bool{}
	for i, v := range c.Storage {
		if seen[v.Name] {
			l.diags.errorf(v.Pos, "storage %q is listed twice", v.Name)
		}
		seen[v.Name] = true
		classPos := l.compPos(c, fmt.Sprintf("spec.storage[%d].storageClass", i))
		sc, known := l.tabs.StorageClass(v.StorageClass)
		switch {
		case !known:
			l.diags.errorf(classPos, "unknown StorageClass %q; use one of %s", v.StorageClass, strings.Join(l.tabs.StorageClassNames(), ", "))
		case c.Stateful && v.StorageClass != l.tabs.Retention.Stateful:
			l.diags.errorf(classPos, "stateful component %q must keep its data: StorageClass %s has reclaimPolicy %s; use %s",
				c.Name, v.StorageClass, sc.ReclaimPolicy, l.tabs.Retention.Stateful)
		}
	}
}

func (l *loader) checkEnvs(c *Component) {
	cl := l.tree.Cluster
	seen := map[string]bool{}
	var envs []string
	for i, e := range c.Envs {
		p := l.compPos(c, fmt.Sprintf("spec.envs[%d]", i))
		if _, ok := cl.Env(e); !ok {
			l.diags.errorf(p, "unknown environment %q; use one of %s", e, strings.Join(cl.EnvNames(), ", "))
			continue
		}
		if seen[e] {
			l.diags.errorf(p, "environment %q is listed twice", e)
			continue
		}
		seen[e] = true
	}
	// Keep the Cluster's order, so renders do not depend on how envs is
	// written.
	for _, e := range cl.EnvNames() {
		if seen[e] {
			envs = append(envs, e)
		}
	}
	c.Envs = envs
}

// checkDependsOn enforces rule 4: targets exist, are in the same or a lower
// layer, exist in every environment of the dependent, and form no cycle.
func (l *loader) checkDependsOn() {
	byName := map[string]*Component{}
	for _, c := range l.tree.Components {
		byName[c.Name] = c
	}
	for _, c := range l.tree.Components {
		for i, dep := range c.DependsOn {
			p := c.DependsOnPos[i]
			d, ok := byName[dep]
			switch {
			case dep == c.Name:
				l.diags.errorf(p, "component %q depends on itself", c.Name)
				continue
			case !ok && l.broken[dep]:
				continue // its own errors are reported
			case !ok:
				l.diags.errorf(p, "dependsOn %q: no such component", dep)
				continue
			}
			cl, _ := l.tabs.Layer(c.Layer)
			dl, _ := l.tabs.Layer(d.Layer)
			if dl.Order > cl.Order {
				l.diags.errorf(p, "%s component %q cannot depend on %q in the higher layer %s; depend on the same or a lower layer",
					c.Layer, c.Name, dep, d.Layer)
				continue
			}
			if dl.PerEnv() {
				for _, e := range c.Envs {
					if !contains(d.Envs, e) {
						l.diags.errorf(p, "component %q in environment %q depends on %q, which is not in %q (its envs: %s)",
							c.Name, e, dep, e, strings.Join(d.Envs, ", "))
					}
				}
			}
		}
	}
	l.checkCycles(byName)
}

func (l *loader) checkCycles(byName map[string]*Component) {
	const (
		unvisited = iota
		active
		done
	)
	state := map[string]int{}
	var stack []string
	reported := map[string]bool{}
	var visit func(c *Component)
	visit = func(c *Component) {
		state[c.Name] = active
		stack = append(stack, c.Name)
		for i, dep := range c.DependsOn {
			d, ok := byName[dep]
			if !ok || dep == c.Name {
				continue
			}
			switch state[dep] {
			case unvisited:
				visit(d)
			case active:
				start := indexOf(stack, dep)
				cycle := append(append([]string{}, stack[start:]...), dep)
				key := canonicalCycle(cycle)
				if !reported[key] {
					reported[key] = true
					l.diags.errorf(c.DependsOnPos[i], "dependsOn cycle: %s", strings.Join(cycle, " → "))
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[c.Name] = done
	}
	for _, c := range l.tree.Components {
		if state[c.Name] == unvisited {
			visit(c)
		}
	}
}

// canonicalCycle names a cycle independently of where it was entered.
func canonicalCycle(cycle []string) string {
	ring := cycle[:len(cycle)-1]
	min := 0
	for i := range ring {
		if ring[i] < ring[min] {
			min = i
		}
	}
	return strings.Join(append(append([]string{}, ring[min:]...), ring[:min]...), ",")
}

func contains(list []string, s string) bool { return indexOf(list, s) >= 0 }

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
