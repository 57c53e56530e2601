package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"kcloud.dev/kcloud/internal/testenv"
)

// hostileCase is a spec tree kcloud must refuse: vet names the file and
// line, and diff and apply, through the same load path, write nothing.
type hostileCase struct {
	name  string
	files map[string]string
	// setup adds what files cannot hold (symlinks) to the tree at dir.
	setup func(t *testing.T, dir string)
	env   map[string]string
	// file is the file the first error must name, with a line.
	file string
	want string
}

// shared is an L2 component in namespace platform with these inline
// objects (YAML list items, indented by 4).
func shared(name, layer, ns, objects string) string {
	return fmt.Sprintf("apiVersion: kcloud.dev/v1alpha1\nkind: Component\nmetadata:\n  name: %s\nspec:\n  layer: %s\n  namespace: %s\n  objects:\n%s", name, layer, ns, objects)
}

func withManifest(manifest string) map[string]string {
	return map[string]string{
		"web.yaml":   "apiVersion: kcloud.dev/v1alpha1\nkind: Component\nmetadata:\n  name: web\nspec:\n  layer: L2\n  namespace: platform\n  manifests: [m/bad.yaml]\n",
		"m/bad.yaml": manifest,
	}
}

func cm(name string) string {
	return fmt.Sprintf("    - apiVersion: v1\n      kind: ConfigMap\n      metadata: {name: %s}\n", name)
}

func hostileCases() []hostileCase {
	base := clusterYAML()
	cluster := func(old, new string) map[string]string {
		return map[string]string{"cluster.yaml": strings.Replace(base, old, new, 1)}
	}
	bad := func(content string) map[string]string { return map[string]string{"bad.yaml": content} }
	comp := func(spec string) map[string]string {
		return bad("apiVersion: kcloud.dev/v1alpha1\nkind: Component\nmetadata:\n  name: bad\nspec:\n" + spec)
	}
	big := strings.Repeat("x", 1<<20)
	return []hostileCase{
		// K3s flag injection (defect 3).
		{name: "storage path smuggles a flag", files: cluster("storage: {path: /data}", `storage: {path: "/data --kube-apiserver-arg=anonymous-auth=true"}`), file: "cluster.yaml", want: "path"},
		{name: "host smuggles a flag", files: cluster("host: 10.0.0.1", `host: "10.0.0.1 --disable-agent"`), file: "cluster.yaml", want: "host"},
		{name: "host from the environment smuggles a flag", files: cluster("host: 10.0.0.1", `host: "${KCLOUD_HOSTILE_HOST}"`), env: map[string]string{"KCLOUD_HOSTILE_HOST": "10.0.0.1 --token=x"}, file: "cluster.yaml", want: "neither an IP address nor a DNS name"},
		{name: "apiEndpoint from the environment smuggles a flag", files: cluster("  storage:", "  apiEndpoint: ${KCLOUD_HOSTILE_API}\n  storage:"), env: map[string]string{"KCLOUD_HOSTILE_API": "api.example.com --token=x"}, file: "cluster.yaml", want: "spec.apiEndpoint"},
		{name: "user runs a command", files: cluster("role: server}", `role: server, user: "root;reboot"}`), file: "cluster.yaml", want: "user"},
		// Workflow commands (defect 4): refused, and never printed raw.
		{name: "workflow command in a name", files: comp("  layer: L2\n  namespace: platform\n  objects:\n" + cm(`"::add-mask::x"`)), file: "bad.yaml", want: "metadata.name"},
		{name: "workflow command after a newline", files: comp("  layer: \"L9\\n::error title=pwned::owned\"\n  namespace: platform\n  objects:\n" + cm("a")), file: "bad.yaml", want: "layer"},
		// Resource exhaustion (defects 5, 6).
		{name: "aliases of a large scalar", files: bad("a: &a \"" + big + "\"\nb: [" + strings.Repeat("*a,", 2999) + "*a]\n"), file: "bad.yaml", want: "16 MiB"},
		{name: "alias bomb", files: bad("a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"), file: "bad.yaml", want: "50000 YAML nodes"},
		{name: "200,000-item flow list", files: bad("a: [" + strings.Repeat("1,", 200_000) + "1]\n"), file: "bad.yaml", want: "lines and commas"},
		{name: "list over the element cap", files: bad("a: [" + strings.Repeat("1,", 1000) + "1]\n"), file: "bad.yaml", want: "1001 items"},
		{name: "deep nesting", files: bad("a: " + strings.Repeat("[", 200) + strings.Repeat("]", 200) + "\n"), file: "bad.yaml", want: "nests deeper"},
		{name: "oversized file", files: bad("a: \"" + strings.Repeat("x", 3<<20) + "\"\n"), file: "bad.yaml", want: "larger than 3 MiB"},
		// Manifest object names (defect 7).
		{name: "manifest name in upper case", files: withManifest("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: UPPER_case.bad}\n"), file: "bad.yaml", want: "metadata.name"},
		{name: "manifest name of 300 characters", files: withManifest("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + strings.Repeat("a", 300) + "}\n"), file: "bad.yaml", want: "metadata.name"},
		{name: "manifest name is a list", files: withManifest("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [a, b]}\n"), file: "bad.yaml", want: "must be a string"},
		{name: "manifest namespace invalid", files: withManifest("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: Bad_NS}\n"), file: "bad.yaml", want: "metadata.namespace"},
		{name: "manifest without apiVersion", files: withManifest("kind: ConfigMap\nmetadata: {name: a}\n"), file: "bad.yaml", want: "apiVersion"},
		{name: "kcloud document inside a manifest", files: withManifest("apiVersion: kcloud.dev/v1alpha1\nkind: Component\nmetadata: {name: x}\n"), file: "bad.yaml", want: "plain Kubernetes objects"},
		// Reserved names (defect 8).
		{name: "the local-path StorageClass", files: bad(shared("bad", "L1", "cert-manager", "    - apiVersion: storage.k8s.io/v1\n      kind: StorageClass\n      metadata: {name: local-path}\n      provisioner: x\n")), file: "bad.yaml", want: "belongs to k3s"},
		{name: "the lock Lease", files: bad(shared("bad", "L1", "kube-system", "    - apiVersion: coordination.k8s.io/v1\n      kind: Lease\n      metadata: {name: kcloud-lock}\n")), file: "bad.yaml", want: "apply lock"},
		{name: "an inventory ConfigMap", files: bad(shared("bad", "L1", "kube-system", cm("kcloud-inventory-l1"))), file: "bad.yaml", want: "inventories"},
		{name: "a namespace outside the layer table", files: bad(shared("bad", "L1", "cert-manager", "    - apiVersion: v1\n      kind: Namespace\n      metadata: {name: rogue}\n")), file: "bad.yaml", want: "not in the layer table"},
		{name: "the kube-system namespace", files: bad(shared("bad", "L1", "cert-manager", "    - apiVersion: v1\n      kind: Namespace\n      metadata: {name: kube-system}\n")), file: "bad.yaml", want: "belongs to k3s"},
		// Non-determinism (defect 10).
		{name: "substituted key collides", files: bad(shared("bad", "L2", "platform", cm("a")+"      data: {\"${KCLOUD_HOSTILE_KEY}\": x, b: y}\n")), env: map[string]string{"KCLOUD_HOSTILE_KEY": "b"}, file: "bad.yaml", want: "both become"},
		// Malformed YAML.
		{name: "unclosed flow mapping", files: bad("a: {b: [1, 2\n"), file: "bad.yaml", want: "invalid YAML"},
		{name: "tab indentation", files: bad("a:\n\tb: 1\n"), file: "bad.yaml", want: "invalid YAML"},
		{name: "duplicate key", files: comp("  layer: L2\n  layer: L1\n  namespace: platform\n  objects:\n" + cm("a")), file: "bad.yaml", want: "duplicate key"},
		{name: "invalid UTF-8", files: bad("apiVersion: kcloud.dev/v1alpha1\nkind: Component\nmetadata: {name: \"a\xff\xfe\"}\n"), file: "bad.yaml", want: ""},
		{name: "NUL byte", files: bad("apiVersion: kcloud.dev/v1alpha1\nkind: Comp\x00onent\n"), file: "bad.yaml", want: ""},
		{name: "a document that is a list", files: bad("- a\n- b\n"), file: "bad.yaml", want: "must be a mapping"},
		// YAML 1.1 coercions where the schema wants a string.
		{name: "layer: yes", files: comp("  layer: yes\n  namespace: platform\n  objects:\n" + cm("a")), file: "bad.yaml", want: "layer"},
		{name: "chart version 1e3", files: comp("  layer: L2\n  namespace: platform\n  helm: {chart: x, version: 1e3}\n"), file: "bad.yaml", want: "version"},
		{name: "namespace 0777", files: comp("  layer: L2\n  namespace: 0777\n  objects:\n" + cm("a")), file: "bad.yaml", want: "namespace"},
		{name: "channel: on", files: cluster("channel: stable", "channel: on"), file: "cluster.yaml", want: "channel"},
		{name: "stateful: \"yes\"", files: comp("  layer: L2\n  namespace: platform\n  stateful: \"yes\"\n  objects:\n" + cm("a")), file: "bad.yaml", want: "stateful"},
		{name: "port: \"22\"", files: cluster("role: server}", `role: server, port: "22"}`), file: "cluster.yaml", want: "port"},
		// Traversal and symlinks.
		{name: "manifest path traversal", files: map[string]string{"bad.yaml": "apiVersion: kcloud.dev/v1alpha1\nkind: Component\nmetadata:\n  name: web\nspec:\n  layer: L2\n  namespace: platform\n  manifests: [../../../../etc/passwd]\n"}, file: "bad.yaml", want: "outside the spec tree"},
		{name: "absolute manifest path", files: map[string]string{"bad.yaml": "apiVersion: kcloud.dev/v1alpha1\nkind: Component\nmetadata:\n  name: web\nspec:\n  layer: L2\n  namespace: platform\n  manifests: [/etc/passwd]\n"}, file: "bad.yaml", want: "relative"},
		{name: "manifest symlinked outside the tree", files: map[string]string{"bad.yaml": "apiVersion: kcloud.dev/v1alpha1\nkind: Component\nmetadata:\n  name: web\nspec:\n  layer: L2\n  namespace: platform\n  manifests: [m.yaml]\n"},
			setup: func(t *testing.T, dir string) { symlink(t, "/etc/hostname", filepath.Join(dir, "m.yaml")) }, file: "bad.yaml", want: "resolves outside the spec tree"},
		{name: "spec file symlinked outside the tree", setup: func(t *testing.T, dir string) {
			outside := filepath.Join(t.TempDir(), "x.yaml")
			if err := os.WriteFile(outside, []byte("a: 1\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			symlink(t, outside, filepath.Join(dir, "bad.yaml"))
		}, file: "bad.yaml", want: "outside the spec tree"},
		{name: "missing manifest", files: map[string]string{"bad.yaml": "apiVersion: kcloud.dev/v1alpha1\nkind: Component\nmetadata:\n  name: web\nspec:\n  layer: L2\n  namespace: platform\n  manifests: [gone.yaml]\n"}, file: "bad.yaml", want: "does not exist"},
		// Schema and rules.
		{name: "unknown field", files: comp("  layer: L2\n  namespace: platform\n  bogus: 1\n  objects:\n" + cm("a")), file: "bad.yaml", want: "bogus"},
		{name: "unknown kind", files: bad("apiVersion: kcloud.dev/v1alpha1\nkind: Stack\nmetadata: {name: a}\n"), file: "bad.yaml", want: "unknown kind"},
		{name: "unknown apiVersion", files: bad("apiVersion: kcloud.dev/v9\nkind: Component\nmetadata: {name: a}\n"), file: "bad.yaml", want: "unknown apiVersion"},
		{name: "stray Kubernetes document", files: bad("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"), file: "bad.yaml", want: "not a kcloud document"},
		{name: "unknown substitution", files: bad(shared("bad", "L2", "platform", cm("a")+"      data: {a: \"${nope}\"}\n")), file: "bad.yaml", want: "unknown substitution"},
		{name: "object in another namespace", files: bad(shared("bad", "L2", "platform", "    - apiVersion: v1\n      kind: ConfigMap\n      metadata: {name: a, namespace: kubero}\n")), file: "bad.yaml", want: "renders only into its own namespace"},
		{name: "stateful data on local-path", files: comp("  layer: L2\n  namespace: platform\n  stateful: true\n  storage: [{name: data, size: 1Gi, storageClass: local-path}]\n  objects:\n" + cm("a")), file: "bad.yaml", want: "must keep its data"},
		{name: "dependsOn cycle", files: map[string]string{"bad.yaml": shared("a", "L2", "platform", cm("a")) + "  dependsOn: [b]\n---\n" + shared("b", "L2", "platform", cm("b")) + "  dependsOn: [a]\n"}, file: "bad.yaml", want: "cycle"},
		{name: "second Cluster", files: map[string]string{"bad.yaml": base}, file: "bad.yaml", want: "more than one Cluster"},
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

var filePos = regexp.MustCompile(`([^\s:]+):(\d+):(\d+): `)

// TestHostileInputRejected runs every hostile case through vet, diff and
// apply (apply against the API server through the fault proxy, which
// counts the writes: there must be none).
func TestHostileInputRejected(t *testing.T) {
	proxy, err := testenv.NewFaultProxy(testenv.Shared(t).Config())
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := proxy.WriteKubeconfig(kc); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GITHUB_ACTIONS", "")
	cases := hostileCases()
	rejected := 0
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			files := map[string]string{"cluster.yaml": clusterYAML()}
			for name, content := range tc.files {
				files[name] = content
			}
			dir := writeTree(t, files)
			if tc.setup != nil {
				tc.setup(t, dir)
			}
			code, stdout, stderr := kcloud(t, "vet", dir)
			if code != 1 {
				t.Fatalf("vet: exit %d, want 1\n%s%s", code, stdout, stderr)
			}
			m := filePos.FindStringSubmatch(stdout)
			if m == nil || filepath.Base(m[1]) != tc.file || m[2] == "0" {
				t.Errorf("vet's first error does not name %s:line:col:\n%s", tc.file, stdout)
			}
			if !strings.Contains(stdout, tc.want) {
				t.Errorf("vet output lacks %q:\n%s", tc.want, stdout)
			}
			for _, l := range strings.Split(stdout+stderr, "\n") {
				if strings.HasPrefix(strings.TrimLeft(l, " \t"), "::") {
					t.Errorf("printed a workflow command: %q", l)
				}
			}
			before := proxy.Writes()
			for _, args := range [][]string{{"diff", dir}, {"apply", dir, "--wait=false"}} {
				code, stdout, stderr := kcloud(t, append(args, "--kubeconfig", kc, "--context", "proxy", "--log-format", "json")...)
				if code == 0 || code == 1 && args[0] == "diff" && !strings.Contains(stderr, "invalid specs") {
					t.Errorf("%s: exit %d, want a refusal\n%s%s", args[0], code, stdout, stderr)
				}
			}
			if w := proxy.Writes() - before; w != 0 {
				t.Errorf("%d API writes during a rejected run", w)
			}
			if !t.Failed() {
				rejected++
			}
		})
	}
	if proxy.Writes() != 0 {
		t.Errorf("API writes during rejected runs: %d, want 0", proxy.Writes())
	}
	t.Logf("hostile inputs rejected: %d of %d; API writes during rejected runs: %d", rejected, len(cases), proxy.Writes())
	if len(cases) < 40 {
		t.Errorf("only %d hostile cases; the suite promises at least 40", len(cases))
	}
}
