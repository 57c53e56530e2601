package bootstrap

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Kubeconfig turns K3s's admin kubeconfig into one for use from outside:
// the server's host becomes endpoint (its port is kept), and the cluster,
// context and user are all called name. The CA and the credentials are
// kept as they are.
func Kubeconfig(k3sYAML []byte, name, endpoint string) (*clientcmdapi.Config, error) {
	src, err := clientcmd.Load(k3sYAML)
	if err != nil {
		return nil, fmt.Errorf("parse the K3s kubeconfig: %w", err)
	}
	ctxName := src.CurrentContext
	if ctxName == "" && len(src.Contexts) == 1 {
		for n := range src.Contexts {
			ctxName = n
		}
	}
	kctx := src.Contexts[ctxName]
	if kctx == nil {
		return nil, fmt.Errorf("the K3s kubeconfig has no context %q", ctxName)
	}
	cluster, user := src.Clusters[kctx.Cluster], src.AuthInfos[kctx.AuthInfo]
	if cluster == nil || user == nil {
		return nil, fmt.Errorf("the K3s kubeconfig's context %q names a missing cluster or user", ctxName)
	}
	u, err := url.Parse(cluster.Server)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("the K3s kubeconfig's server %q is not a URL", cluster.Server)
	}
	if port := u.Port(); port != "" {
		u.Host = net.JoinHostPort(endpoint, port)
	} else {
		u.Host = endpoint
	}
	// Only the server and its CA from the node, and only certificate or
	// token credentials: an exec or auth-provider entry planted on the node
	// would otherwise run on every machine that uses this kubeconfig, and
	// file references would read files there.
	cluster = &clientcmdapi.Cluster{Server: u.String(), CertificateAuthorityData: cluster.CertificateAuthorityData}
	user, err = credentials(user)
	if err != nil {
		return nil, fmt.Errorf("the K3s kubeconfig's user %q: %w", kctx.AuthInfo, err)
	}

	out := clientcmdapi.NewConfig()
	out.Clusters[name] = cluster
	out.AuthInfos[name] = user
	out.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	out.CurrentContext = name
	return out, nil
}

// credentials keeps a client certificate and key, or a bearer token, and
// refuses every other way to authenticate.
func credentials(src *clientcmdapi.AuthInfo) (*clientcmdapi.AuthInfo, error) {
	switch {
	case src.Exec != nil:
		return nil, fmt.Errorf("it runs the command %q to get credentials; kcloud keeps only certificates and tokens", src.Exec.Command)
	case src.AuthProvider != nil:
		return nil, fmt.Errorf("it uses the auth provider %q; kcloud keeps only certificates and tokens", src.AuthProvider.Name)
	}
	out := &clientcmdapi.AuthInfo{
		ClientCertificateData: src.ClientCertificateData,
		ClientKeyData:         src.ClientKeyData,
		Token:                 src.Token,
	}
	hasCert := len(out.ClientCertificateData) > 0 && len(out.ClientKeyData) > 0
	if !hasCert && out.Token == "" {
		return nil, errors.New("it has neither an embedded client certificate and key nor a token")
	}
	return out, nil
}

// ResolveKubeconfigPath is where a kubeconfig written to path lands: path
// itself, or the file a symlink at path points to (the link is kept, and
// the caller says so). A symlink to nothing is refused: the credentials
// would land wherever it points.
func ResolveKubeconfigPath(path string) (string, error) {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return path, nil
	}
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", fmt.Errorf("kubeconfig %s is a symlink that leads nowhere (%w); remove it or point it at an existing file", path, err)
	}
	return target, nil
}

// WriteKubeconfig writes cfg to path with mode 0600, replacing the file in
// one rename. It reports whether the file changed.
func WriteKubeconfig(path string, cfg *clientcmdapi.Config) (bool, error) {
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return false, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	return writeFileAtomic(path, data)
}

// MergeKubeconfig puts the cluster, context and user of cfg into the
// kubeconfig at path, replacing the entries of the same names and keeping
// every other one. The current context is set only when there is none.
func MergeKubeconfig(path string, cfg *clientcmdapi.Config) (bool, error) {
	dst := clientcmdapi.NewConfig()
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if dst, err = clientcmd.Load(data); err != nil {
			return false, fmt.Errorf("kubeconfig %s: %w", path, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return false, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	for n, c := range cfg.Clusters {
		dst.Clusters[n] = c
	}
	for n, u := range cfg.AuthInfos {
		dst.AuthInfos[n] = u
	}
	for n, c := range cfg.Contexts {
		dst.Contexts[n] = c
	}
	if dst.CurrentContext == "" {
		dst.CurrentContext = cfg.CurrentContext
	}
	out, err := clientcmd.Write(*dst)
	if err != nil {
		return false, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	return writeFileAtomic(path, out)
}

// writeFileAtomic writes data to path (through a symlink to its target,
// which must exist) with mode 0600: a temporary file in the same directory, created 0600, is
// renamed over it, so the credentials are never in a wider file and readers
// never see half a file. An identical 0600 file is left alone.
func writeFileAtomic(path string, data []byte) (bool, error) {
	path, err := ResolveKubeconfigPath(path)
	if err != nil {
		return false, err
	}
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm() == 0o600 {
			return false, nil
		}
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return false, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	tmp := f.Name()
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return false, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	return true, nil
}
