package main

import (
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/spec"
)

// otherServer is the wrong-cluster guard: it says why the kubeconfig's
// server does not look like the tree's cluster — its host is neither the
// Cluster's apiEndpoint nor one of its nodes' hosts (${NAME}s expanded,
// ports ignored, no DNS lookups) — or "" when it does, or when the user
// chose the cluster on purpose (--context, --allow-other-server).
func otherServer(g *globals, c *kube.Clients) string {
	if g.contextSet || g.allowOtherServer || g.cluster == nil {
		return ""
	}
	server := serverHost(c.Host)
	want := expectedHosts(g.cluster)
	if server == "" || slices.Contains(want, server) {
		return ""
	}
	context := g.context
	if raw, err := c.Factory.ToRawKubeConfigLoader().RawConfig(); err == nil && context == "" {
		context = raw.CurrentContext
	}
	return fmt.Sprintf("the kubeconfig's server %s (%s, context %q) is not the cluster of %s: its apiEndpoint and node hosts are %s",
		server, c.Host, context, g.cluster.File, strings.Join(want, ", "))
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

// guardApply refuses an apply to a server that does not look like the
// tree's cluster, naming both ways out.
func guardApply(g *globals, c *kube.Clients) error {
	why := otherServer(g, c)
	if why == "" {
		return nil
	}
	return withCode(exitFailed, fmt.Errorf("%s; refusing to apply to what may be another cluster (nothing was written). "+
		"If it is the right cluster, name its context explicitly (--context NAME) or pass --allow-other-server", why))
}

// warnDiff warns that diff compares with a server that does not look like
// the tree's cluster; diff changes nothing, so it goes on.
func warnDiff(g *globals, c *kube.Clients) {
	if why := otherServer(g, c); why != "" {
		g.log.Warn().Msg(why + "; diffing against it anyway (apply would refuse without --context or --allow-other-server)")
	}
}
