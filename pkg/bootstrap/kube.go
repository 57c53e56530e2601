package bootstrap

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"kcloud.dev/kcloud/pkg/remote"
)

// kube returns a client of the cluster's API server, reached through the
// SSH connection to the first server: its admin kubeconfig names the API
// server as that machine sees it (https://127.0.0.1:6443), and the
// connection is forwarded there, so cordons, drains and removals need
// nothing but SSH, like the rest of bootstrap. It is opened once, when a
// step first needs it.
func (b *bootstrapper) kube(ctx context.Context) (kubernetes.Interface, error) {
	if b.client != nil {
		return b.client, nil
	}
	first := b.cluster.Servers()[0]
	r := b.runners[first.Name]
	path := b.paths(first.Name).Kubeconfig
	data, err := r.Run(ctx, "cat "+remote.Quote(path), nil)
	if err != nil {
		return nil, fmt.Errorf("reach the API server: read the kubeconfig from %s: %w", first.Name, err)
	}
	raw, err := clientcmd.Load(data)
	if err != nil {
		return nil, fmt.Errorf("reach the API server: node %s: %s: %w", first.Name, path, err)
	}
	host := ""
	if kctx := raw.Contexts[raw.CurrentContext]; kctx != nil && raw.Clusters[kctx.Cluster] != nil {
		if u, err := url.Parse(raw.Clusters[kctx.Cluster].Server); err == nil {
			host = u.Hostname()
		}
	}
	// The same checks as the kubeconfig kcloud writes out; the server is
	// kept as the node names it.
	cfg, err := Kubeconfig(data, b.cluster.Name, host)
	if err != nil {
		return nil, fmt.Errorf("reach the API server: node %s: %s: %w", first.Name, path, err)
	}
	rc, err := clientcmd.NewDefaultClientConfig(*cfg, nil).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("reach the API server: node %s: %s: %w", first.Name, path, err)
	}
	rc.Dial = r.DialContext
	rc.UserAgent = "kcloud-bootstrap"
	// No request may hang the run on a stalled connection.
	rc.Timeout = time.Minute
	if b.client, err = kubernetes.NewForConfig(rc); err != nil {
		return nil, fmt.Errorf("reach the API server through %s: %w", first.Name, err)
	}
	return b.client, nil
}
