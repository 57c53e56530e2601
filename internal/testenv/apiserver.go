package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// ServiceCIDR is K3s's service range; envtest's default /24 fills up at
// about 250 Services.
const ServiceCIDR = "10.43.0.0/16"

// APIServer is a running kube-apiserver and etcd.
type APIServer struct {
	env *envtest.Environment
	cfg *rest.Config
}

// Option changes how StartAPIServer starts the control plane.
type Option func(*options)

type options struct {
	noCRDs     bool
	only       []string
	k3sOnly    bool
	noWebhooks bool
}

// FreshK3s serves what a tree meets on a new K3s: K3s's own CRDs and not
// cert-manager's (its chart brings them), and no webhook admission (see
// WithoutAdmissionWebhooks).
func FreshK3s() Option { return func(o *options) { o.k3sOnly, o.noWebhooks = true, true } }

// WithoutAdmissionWebhooks turns off the API server's webhook admission:
// the test control plane runs no pods, so the webhooks a chart registers
// (cert-manager's) could never answer, where a real cluster runs them.
func WithoutAdmissionWebhooks() Option { return func(o *options) { o.noWebhooks = true } }

// WithoutCRDs starts a bare API server that serves no custom resources: a
// cluster that is not K3s.
func WithoutCRDs() Option { return func(o *options) { o.noCRDs = true } }

// OnlyCRDs serves only the embedded CRDs with these names (plural.group),
// e.g. a K3s cluster before a chart has installed its CRDs.
func OnlyCRDs(names ...string) Option { return func(o *options) { o.only = names } }

// StartAPIServer starts kube-apiserver and etcd from the binaries in
// $KUBEBUILDER_ASSETS, or bin/ at the module root when it is unset, and
// waits until kube-system exists and the CRDs are served.
func StartAPIServer(opts ...Option) (*APIServer, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	assets, err := assetsDir()
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory:    assets,
		ControlPlaneStartTimeout: 60 * time.Second,
		ControlPlaneStopTimeout:  30 * time.Second,
	}
	env.ControlPlane.GetAPIServer().Configure().Set("service-cluster-ip-range", ServiceCIDR)
	if o.noWebhooks {
		env.ControlPlane.GetAPIServer().Configure().Set("disable-admission-plugins", "MutatingAdmissionWebhook,ValidatingAdmissionWebhook")
	}
	if !o.noCRDs {
		crds, err := CRDs()
		if err != nil {
			return nil, err
		}
		for _, crd := range crds {
			if o.k3sOnly && strings.HasSuffix(crd.Spec.Group, "cert-manager.io") {
				continue
			}
			if o.only == nil || slices.Contains(o.only, crd.Name) {
				env.CRDs = append(env.CRDs, crd)
			}
		}
	}
	cfg, err := env.Start()
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("start test api server (binaries in %s; run 'make testbin'): %w", assets, err)
	}
	s := &APIServer{env: env, cfg: cfg}
	if err := s.waitForKubeSystem(); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

// Config returns a copy of the admin REST config.
func (s *APIServer) Config() *rest.Config { return rest.CopyConfig(s.cfg) }

// Kubeconfig returns an admin kubeconfig for the server.
func (s *APIServer) Kubeconfig() []byte { return bytes.Clone(s.env.KubeConfig) }

// WriteKubeconfig writes an admin kubeconfig for the server to path.
func (s *APIServer) WriteKubeconfig(path string) error {
	if _, err := clientcmd.Load(s.env.KubeConfig); err != nil {
		return fmt.Errorf("kubeconfig of the test api server: %w", err)
	}
	if err := os.WriteFile(path, s.env.KubeConfig, 0o600); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return nil
}

// Stop stops the API server and etcd and removes their data.
func (s *APIServer) Stop() error {
	if s == nil || s.env == nil {
		return nil
	}
	return s.env.Stop()
}

func (s *APIServer) waitForKubeSystem() error {
	cs, err := kubernetes.NewForConfig(s.cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		_, err := cs.CoreV1().Namespaces().Get(ctx, "kube-system", metav1.GetOptions{})
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("test api server: namespace kube-system never appeared: %w", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// assetsDir finds the test control plane's binaries.
func assetsDir() (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, "bin")
	if _, err := os.Stat(filepath.Join(dir, "kube-apiserver")); err != nil {
		return "", fmt.Errorf("test control plane not built in %s: run 'make testbin'", dir)
	}
	return dir, nil
}

// ModuleRoot returns the directory of kcloud's go.mod, searched upwards from
// the working directory (go test runs in the package's directory).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(data), "module kcloud.dev/kcloud\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("kcloud's go.mod not found above the working directory")
		}
		dir = parent
	}
}

// The API server shared by the tests of one package.
var shared struct {
	once sync.Once
	srv  *APIServer
	err  error
}

// Shared returns the package's shared API server, starting it on first use
// (about 3 s). A package that uses it stops it in TestMain with Run.
func Shared(t testing.TB) *APIServer {
	t.Helper()
	shared.once.Do(func() { shared.srv, shared.err = StartAPIServer() })
	if shared.err != nil {
		t.Fatalf("test api server: %v", shared.err)
	}
	return shared.srv
}

// Run runs a package's tests and stops its shared API server afterwards:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }
func Run(m *testing.M) int {
	code := m.Run()
	if shared.srv != nil {
		if err := shared.srv.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stop test api server: %v\n", err)
		}
	}
	return code
}
