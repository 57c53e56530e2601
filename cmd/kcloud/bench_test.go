package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"kcloud.dev/kcloud/internal/sopstest"
	"kcloud.dev/kcloud/pkg/cache"
	"kcloud.dev/kcloud/pkg/inventory"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/secret"
	"kcloud.dev/kcloud/pkg/spec"
)

// BenchmarkLive times what a pull request and a merge cost, against the
// test API server, for kcloud and for kubectl on the same objects (both as
// processes, both server-side): diff and a no-op apply, for specs/ and for
// 1,000 objects, and an apply with one change. hack/bench.sh turns the
// results into medians and ratios.
func BenchmarkLive(b *testing.B) {
	kubectl := kubectlPath(b)
	specsDir, _ := specsCopy(b)
	env := "bench"
	key := sopstest.MustKey(b)
	b.Setenv("SOPS_AGE_KEY", key.Identity)
	big := writeTree(b, manyObjects(b, env, "a", key.Recipient))
	big2 := writeTree(b, manyObjects(b, env, "b", key.Recipient))

	for _, tc := range []struct {
		name string
		dir  string
		sel  []string
	}{
		{"specs", specsDir, nil},
		{"1000", big, []string{"--env", env}},
	} {
		// Bring the cluster to the plan, and write the same objects for
		// kubectl as kcloud applies them: same field manager, same
		// inventory annotation, so both runs are true no-ops.
		mustKcloud(b, append([]string{"apply", tc.dir, "--wait=false"}, tc.sel...)...)
		manifest := kubectlManifest(b, tc.dir, tc.sel)
		kargs := []string{"--kubeconfig", kubeconfig(b), "--server-side", "--field-manager", "kcloud", "--force-conflicts", "-f", manifest}
		if out, err := exec.Command(kubectl, append([]string{"diff"}, kargs...)...).CombinedOutput(); err != nil {
			b.Fatalf("kubectl diff is not a no-op after kcloud apply: %v\n%s", err, out)
		}

		b.Run(tc.name+"/diff/kcloud", func(b *testing.B) {
			for b.Loop() {
				mustKcloud(b, append([]string{"diff", tc.dir}, tc.sel...)...)
			}
		})
		b.Run(tc.name+"/diff/kubectl", func(b *testing.B) {
			for b.Loop() {
				mustRun(b, kubectl, append([]string{"diff"}, kargs...)...)
			}
		})
		b.Run(tc.name+"/apply-noop/kcloud", func(b *testing.B) {
			for b.Loop() {
				mustKcloud(b, append([]string{"apply", tc.dir, "--wait=false"}, tc.sel...)...)
			}
		})
		b.Run(tc.name+"/apply-noop/kubectl", func(b *testing.B) {
			for b.Loop() {
				mustRun(b, kubectl, append([]string{"apply"}, kargs...)...)
			}
		})
	}
	// One changed value in 1,000 objects: the stack goes through cli-utils.
	b.Run("1000/apply-1change/kcloud", func(b *testing.B) {
		dirs := []string{big2, big}
		i := 0
		for b.Loop() {
			mustKcloud(b, "apply", dirs[i%2], "--wait=false", "--env", env)
			i++
		}
		if i%2 == 1 {
			mustKcloud(b, "apply", big, "--wait=false", "--env", env)
		}
	})
}

// manyObjects is a tree with one L4 component of 1,000 objects: 600
// ConfigMaps, 200 Services, 100 Secrets (from a sops-encrypted manifest),
// 100 ServiceAccounts; ConfigMap 0 holds value.
func manyObjects(b testing.TB, env, value, recipient string) map[string]string {
	var objs, secrets strings.Builder
	for i := range 600 {
		v := "x"
		if i == 0 {
			v = value
		}
		fmt.Fprintf(&objs, "    - {apiVersion: v1, kind: ConfigMap, metadata: {name: cm-%03d}, data: {key: %q, other: \"%d\"}}\n", i, v, i)
	}
	for i := range 200 {
		fmt.Fprintf(&objs, "    - {apiVersion: v1, kind: Service, metadata: {name: svc-%03d}, spec: {selector: {app: a%d}, ports: [{port: 80, targetPort: 8080}]}}\n", i, i)
	}
	for i := range 100 {
		fmt.Fprintf(&secrets, "---\napiVersion: v1\nkind: Secret\nmetadata: {name: secret-%03d}\nstringData: {token: \"token-value-%03d\"}\n", i, i)
	}
	for i := range 100 {
		fmt.Fprintf(&objs, "    - {apiVersion: v1, kind: ServiceAccount, metadata: {name: sa-%03d}}\n", i)
	}
	enc, err := sopstest.Encrypt([]byte(secrets.String()), sopstest.KubernetesRegex, recipient)
	if err != nil {
		b.Fatal(err)
	}
	comp := strings.Replace(component("many", "L4", env, objs.String()), "  objects:\n", "  manifests: [secrets.yaml]\n  objects:\n", 1)
	return map[string]string{"cluster.yaml": clusterYAML(env), "many.yaml": comp, "secrets.yaml": string(enc)}
}

// kubectlManifest renders dir as kcloud does and writes the objects with
// the annotation cli-utils adds.
func kubectlManifest(b *testing.B, dir string, sel []string) string {
	b.Helper()
	tree, diags, err := spec.Load(context.Background(), []string{dir})
	if err != nil || diags.HasErrors() {
		b.Fatalf("load %s: %v %v", dir, err, diags)
	}
	opts := render.Options{Getenv: os.LookupEnv, Fetcher: &cache.Fetcher{Dir: cache.Dir{Path: os.Getenv(cache.EnvDir)}}, Decrypt: secret.Decrypt}
	if len(sel) == 2 {
		opts.Env = sel[1]
	}
	res, diags := render.Render(context.Background(), tree, opts)
	if diags.HasErrors() {
		b.Fatalf("render %s: %v", dir, diags)
	}
	var out bytes.Buffer
	for _, s := range res.Stacks {
		for _, o := range s.Objects {
			u := o.DeepCopy()
			ann := u.GetAnnotations()
			if ann == nil {
				ann = map[string]string{}
			}
			ann[inventory.OwningAnnotation] = inventory.ID(s.Name)
			u.SetAnnotations(ann)
			data, err := yaml.Marshal(u.Object)
			if err != nil {
				b.Fatal(err)
			}
			out.WriteString("---\n")
			out.Write(data)
		}
	}
	path := filepath.Join(b.TempDir(), "objects.yaml")
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

func kubectlPath(b *testing.B) string {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		dir = filepath.Join(moduleRoot, "bin")
	}
	path := filepath.Join(dir, "kubectl")
	if _, err := os.Stat(path); err != nil {
		b.Fatalf("kubectl not built: run 'make testbin' (%v)", err)
	}
	return path
}

// mustKcloud runs this test binary as kcloud, a process like kubectl.
func mustKcloud(b testing.TB, args ...string) {
	b.Helper()
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := execCommand(exe, append(args, "--kubeconfig", kubeconfig(b), "--log-level", "warn")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("kcloud %s: %v\n%s", strings.Join(args, " "), err, tail(string(out)))
	}
}

func mustRun(b testing.TB, name string, args ...string) {
	b.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		b.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, tail(string(out)))
	}
}
