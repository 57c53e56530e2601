package bootstrap_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kcloud.dev/kcloud/pkg/bootstrap"
	"kcloud.dev/kcloud/pkg/remote"
	"kcloud.dev/kcloud/pkg/spec"
)

func TestFromSpec(t *testing.T) {
	pos := func(line int) spec.Pos { return spec.Pos{File: "specs/cluster.yaml", Line: line, Column: 7} }
	sc := func(endpoint string) *spec.Cluster {
		return &spec.Cluster{
			Name: "main", K3s: spec.K3s{Channel: "stable", Disable: []string{"servicelb"}},
			APIEndpoint: endpoint, StoragePath: "/data/lp", Pos: pos(4),
			Nodes: []spec.Node{
				{Name: "vps-1", Host: "${VPS_HOST}", User: "root", Port: 22, Role: spec.RoleServer, HostKey: "SHA256:abc", Pos: pos(10), HostPos: pos(11)},
				{Name: "worker-1", Host: "${WORKER_HOST}", User: "${WORKER_USER}", Port: 2222, Role: spec.RoleAgent, Pos: pos(14), HostPos: pos(15)},
			},
		}
	}
	env := func(vars map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	}
	all := map[string]string{"VPS_HOST": "203.0.113.10", "WORKER_HOST": "203.0.113.11", "WORKER_USER": "deploy", "API": "k3s.example.com"}

	tests := []struct {
		name     string
		endpoint string
		env      map[string]string
		want     *bootstrap.Cluster
		wantErr  string
	}{
		{
			name: "expanded, endpoint defaults to the first server", env: all,
			want: &bootstrap.Cluster{
				Name: "main", Channel: "stable", Disable: []string{"servicelb"}, APIEndpoint: "203.0.113.10", StoragePath: "/data/lp",
				Nodes: []bootstrap.Node{
					{Name: "vps-1", Role: spec.RoleServer, Target: remote.Target{User: "root", Host: "203.0.113.10", Port: 22, HostKey: "SHA256:abc"}},
					{Name: "worker-1", Role: spec.RoleAgent, Target: remote.Target{User: "deploy", Host: "203.0.113.11", Port: 2222}},
				},
			},
		},
		{
			name: "endpoint from the environment", endpoint: "${API}", env: all,
			want: &bootstrap.Cluster{
				Name: "main", Channel: "stable", Disable: []string{"servicelb"}, APIEndpoint: "k3s.example.com", StoragePath: "/data/lp",
				Nodes: []bootstrap.Node{
					{Name: "vps-1", Role: spec.RoleServer, Target: remote.Target{User: "root", Host: "203.0.113.10", Port: 22, HostKey: "SHA256:abc"}},
					{Name: "worker-1", Role: spec.RoleAgent, Target: remote.Target{User: "deploy", Host: "203.0.113.11", Port: 2222}},
				},
			},
		},
		{
			name: "missing variables name where", env: map[string]string{"WORKER_USER": "deploy"},
			wantErr: "specs/cluster.yaml:11:7: node vps-1 host: ${VPS_HOST} is not set in the environment\n" +
				"specs/cluster.yaml:15:7: node worker-1 host: ${WORKER_HOST} is not set in the environment",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := bootstrap.FromSpec(sc(tc.endpoint), env(tc.env))
			if tc.wantErr != "" {
				if err == nil {
					t.Fatal("FromSpec succeeded")
				}
				if diff := cmp.Diff(tc.wantErr, err.Error()); diff != "" {
					t.Errorf("error (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// Values that reach INSTALL_K3S_EXEC or SSH are checked after expansion:
// none can smuggle in another K3s flag.
func TestFromSpecRefusesFlagInjection(t *testing.T) {
	pos := spec.Pos{File: "specs/cluster.yaml", Line: 3, Column: 9}
	for _, tc := range []struct {
		name    string
		edit    func(*spec.Cluster)
		env     map[string]string
		wantErr string
	}{
		{"storage path with a flag", func(c *spec.Cluster) { c.StoragePath = "/data --kube-apiserver-arg=anonymous-auth=true" }, nil,
			`specs/cluster.yaml:3:9: spec.storage.path: "/data --kube-apiserver-arg=anonymous-auth=true" is not an absolute path`},
		{"host from the environment with a flag", func(c *spec.Cluster) { c.Nodes[0].Host = "${H}" }, map[string]string{"H": "10.0.0.1 --disable-agent"},
			`specs/cluster.yaml:3:9: node vps-1 host: "10.0.0.1 --disable-agent" is neither an IP address nor a DNS name`},
		{"endpoint from the environment with a flag", func(c *spec.Cluster) { c.APIEndpoint = "${API}" }, map[string]string{"API": "k3s.example.com --token=x"},
			`specs/cluster.yaml:3:9: spec.apiEndpoint: "k3s.example.com --token=x" is neither an IP address nor a DNS name`},
		{"user from the environment with a command", func(c *spec.Cluster) { c.Nodes[0].User = "${U}" }, map[string]string{"U": "root;reboot"},
			`specs/cluster.yaml:3:9: node vps-1 user: "root;reboot" is not a user name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &spec.Cluster{
				Name: "main", K3s: spec.K3s{Channel: "stable"}, StoragePath: "/data", Pos: pos, APIEndpointPos: pos, StoragePathPos: pos,
				Nodes: []spec.Node{{Name: "vps-1", Host: "203.0.113.10", User: "root", Port: 22, Role: spec.RoleServer, Pos: pos, HostPos: pos}},
			}
			tc.edit(c)
			_, err := bootstrap.FromSpec(c, func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("FromSpec: %v, want %q", err, tc.wantErr)
			}
		})
	}
}
