package main

import (
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	"kcloud.dev/kcloud/pkg/spec"
)

// otherServer is the wrong-cluster guard: it says why the kubeconfig's
// server does not look like the session's cluster (the spec tree's) — its
// host is neither the Cluster's apiEndpoint nor one of its nodes' hosts
// (${NAME}s expanded, ports ignored, no DNS lookups) — or "" when it does,
// or when the user chose the cluster on purpose (--context,
// --allow-other-server).
func (s *session) otherServer(g *globals) string {
	cluster, c := s.tree.Cluster, s.c
	if g.contextSet || g.allowOtherServer || cluster == nil {
		return ""
	}
	server := serverHost(c.Host)
	want := expectedHosts(cluster)
	if server == "" || slices.Contains(want, server) {
		return ""
	}
	context := g.context
	if raw, err := c.Factory.ToRawKubeConfigLoader().RawConfig(); err == nil && context == "" {
		context = raw.CurrentContext
	}
	return fmt.Sprintf("the kubeconfig's server %s (%s, context %q) is not the cluster of %s: its apiEndpoint and node hosts are %s",
		server, c.Host, context, cluster.File, strings.Join(want, ", "))
}

// serverHost is the lower-cased host of an API server URL, without port.
func serverHost(host string) string {
	if !strings.Contains(host, "://") {
		host = "https://" + host
	}
	u, err := url.Parse(host)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

// expectedHosts are the Cluster's apiEndpoint and node hosts, expanded.
func expectedHosts(c *spec.Cluster) []string {
	var out []string
	add := func(raw string) {
		if v, _ := spec.Expand(raw, os.LookupEnv); v != "" && !slices.Contains(out, strings.ToLower(v)) {
			out = append(out, strings.ToLower(v))
		}
	}
	add(c.APIEndpoint)
	for _, n := range c.Nodes {
		add(n.Host)
	}
	return out
}

// refuseOtherServer is the guard of the commands that write to the
// cluster (apply, identities): it refuses a server that does not look like
// the tree's cluster, naming both ways out. verb is what was refused:
// "apply to", "create identities on".
func (s *session) refuseOtherServer(g *globals, verb string) error {
	why := s.otherServer(g)
	if why == "" {
		return nil
	}
	return withCode(exitFailed, fmt.Errorf("%s; refusing to %s what may be another cluster (nothing was written). "+
		"If it is the right cluster, name its context explicitly (--context NAME) or pass --allow-other-server", why, verb))
}

// warnOtherServer is the guard of the commands that only read the cluster
// (diff, status): they change nothing, so they warn and go on. doing says
// what they go on doing: "diffing against it", "reporting on it".
func (s *session) warnOtherServer(g *globals, doing string) {
	if why := s.otherServer(g); why != "" {
		g.log.Warn().Msg(why + "; " + doing + " anyway (apply would refuse without --context or --allow-other-server)")
	}
}
