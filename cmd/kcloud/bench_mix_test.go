package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"kcloud.dev/kcloud/internal/sopstest"
	"kcloud.dev/kcloud/pkg/cache"
	"kcloud.dev/kcloud/pkg/inventory"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/secret"
	"kcloud.dev/kcloud/pkg/spec"
)

// mixGroup is how many objects one component of the mix holds (a
// component's objects list holds at most spec.MaxElements).
const mixGroup = 100

// mixNamespaces is how many Namespaces kcloud renders for the mix's
// environment: data-<env> and apps-<env>.
const mixNamespaces = 2

// mixKind is the kind of the mix's object i: of each 100, 15 Deployments,
// 15 Services, 40 ConfigMaps, 15 Secrets (from sops files), 14
// cert-manager Certificates and 1 Issuer (cert-manager's real CRDs, which
// the test control plane serves; nothing reconciles them).
func mixKind(i int) string {
	switch k := i % mixGroup; {
	case k < 15:
		return "Deployment"
	case k < 30:
		return "Service"
	case k < 70:
		return "ConfigMap"
	case k < 85:
		return "Secret"
	case k < 99:
		return "Certificate"
	default:
		return "Issuer"
	}
}

// mixVariant is the value each object of the mix carries: variant 'a'
// everywhere; 'b' on every tenth object (the 10 %-changed apply); 'c'
// everywhere (the all-changed diff).
type mixVariant byte

func (v mixVariant) value(i int) string {
	if v == 'b' && i%10 != 0 {
		return "a"
	}
	return string(v)
}

// mixObject is object i of the mix as a YAML flow mapping, its value in a
// field of its kind.
func mixObject(i int, v string) string {
	switch mixKind(i) {
	case "Deployment":
		return fmt.Sprintf(`{apiVersion: apps/v1, kind: Deployment, metadata: {name: app-%04d}, spec: {replicas: 1, selector: {matchLabels: {app: app-%04d}}, template: {metadata: {labels: {app: app-%04d}}, spec: {containers: [{name: app, image: "registry.example.com/app:1.%d", env: [{name: REVISION, value: %q}], ports: [{containerPort: 8080}]}]}}}}`, i, i, i, i, v)
	case "Service":
		return fmt.Sprintf(`{apiVersion: v1, kind: Service, metadata: {name: svc-%04d}, spec: {selector: {app: app-%04d, revision: %q}, ports: [{port: 80, targetPort: 8080}]}}`, i, i, v)
	case "ConfigMap":
		return fmt.Sprintf(`{apiVersion: v1, kind: ConfigMap, metadata: {name: cm-%04d}, data: {revision: %q, index: "%d", url: "https://${domains.app}/%d"}}`, i, v, i, i)
	case "Secret":
		return fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: secret-%04d}\nstringData: {token: \"token-%04d-%s\"}\n", i, i, v)
	case "Certificate":
		return fmt.Sprintf(`{apiVersion: cert-manager.io/v1, kind: Certificate, metadata: {name: cert-%04d}, spec: {secretName: cert-%04d-tls, issuerRef: {kind: Issuer, name: issuer-%04d}, dnsNames: ["app-%04d-%s.${domains.app}"]}}`, i, i, i/mixGroup*mixGroup+mixGroup-1, i, v)
	default:
		return mixIssuer(i, v)
	}
}

// mixIssuer is the Issuer of the mix's group whose last object is i.
func mixIssuer(i int, v string) string {
	return fmt.Sprintf(`{apiVersion: cert-manager.io/v1, kind: Issuer, metadata: {name: issuer-%04d, annotations: {revision: %q}}, spec: {selfSigned: {}}}`, i, v)
}

// mixTree is a spec tree of n objects in environment env: the two
// Namespaces kcloud renders for it and n-2 objects of the mix, in
// components of 100 objects (every fourth one in L3, the others in L4),
// each with its Secrets in a sops file of its own; a last group cut short
// among its Certificates ends with their Issuer.
func mixTree(b testing.TB, env string, n int, v mixVariant, recipient string) string {
	b.Helper()
	files := map[string]string{"cluster.yaml": clusterYAML(env)}
	m := n - mixNamespaces
	for g := 0; g*mixGroup < m; g++ {
		var objs, secrets strings.Builder
		for i := g * mixGroup; i < min(m, (g+1)*mixGroup); i++ {
			o := mixObject(i, v.value(i))
			if i == m-1 && mixKind(i) == "Certificate" {
				// A group cut short ends with its Certificates' Issuer.
				o = mixIssuer(g*mixGroup+mixGroup-1, v.value(i))
			}
			if mixKind(i) == "Secret" {
				secrets.WriteString("---\n" + o)
			} else {
				objs.WriteString("    - " + o + "\n")
			}
		}
		layer := "L4"
		if g%4 == 3 {
			layer = "L3"
		}
		name := fmt.Sprintf("group-%03d", g)
		comp := component(name, layer, env, objs.String())
		if secrets.Len() > 0 {
			enc, err := sopstest.Encrypt([]byte(secrets.String()), sopstest.KubernetesRegex, recipient)
			if err != nil {
				b.Fatal(err)
			}
			files[name+".secrets.yaml"] = string(enc)
			comp = strings.Replace(comp, "  objects:\n", "  manifests: ["+name+".secrets.yaml]\n  objects:\n", 1)
		}
		files[name+".yaml"] = comp
	}
	return writeTree(b, files)
}

// kubectlManifest renders dir as kcloud does and writes the objects with
// the annotation cli-utils adds, for kubectl and the floor, and returns
// the file and how many objects it holds.
func kubectlManifest(b testing.TB, dir string, sel []string) (string, int) {
	b.Helper()
	tree, diags, err := spec.Load(context.Background(), []string{dir})
	if err != nil || diags.HasErrors() {
		b.Fatalf("load %s: %v %v", dir, err, diags)
	}
	lock, err := cache.ReadLock(filepath.Join(dir, cache.LockFile))
	if err != nil {
		b.Fatal(err)
	}
	dirCache := cache.Dir{Path: os.Getenv(cache.EnvDir)}
	opts := render.Options{Getenv: os.LookupEnv, Fetcher: &cache.Fetcher{Dir: dirCache}, Decrypt: secret.Decrypt,
		Charts: &cache.Charts{Dir: dirCache, Lock: lock}}
	if len(sel) == 2 {
		opts.Env = sel[1]
	}
	res, diags := render.Render(context.Background(), tree, opts)
	if diags.HasErrors() {
		b.Fatalf("render %s: %v", dir, diags)
	}
	// Chart hooks are kcloud's to run and delete, not part of what stays
	// (kubectl would create them on every diff and apply).
	res = res.WithoutHooks()
	var out bytes.Buffer
	n := 0
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
			n++
		}
	}
	path := filepath.Join(b.TempDir(), "objects.yaml")
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	return path, n
}

// TestMixTree checks the benchmark's mix against its description: n
// objects, the kinds in their shares, and variants b and c changing every
// tenth object and every object but the Namespaces.
func TestMixTree(t *testing.T) {
	key := sopstest.MustKey(t)
	t.Setenv("SOPS_AGE_KEY", key.Identity)
	const n = 250
	docs := map[mixVariant][]string{}
	for _, v := range []mixVariant{'a', 'b', 'c'} {
		path, got := kubectlManifest(t, mixTree(t, "mix", n, v, key.Recipient), []string{"--env", "mix"})
		if got != n {
			t.Fatalf("variant %c: %d objects, want %d", v, got, n)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		docs[v] = strings.Split(string(data), "---\n")[1:]
	}
	kinds := map[string]int{}
	for _, d := range docs['a'] {
		var o struct{ Kind string }
		if err := yaml.Unmarshal([]byte(d), &o); err != nil {
			t.Fatal(err)
		}
		kinds[o.Kind]++
	}
	want := map[string]int{"Namespace": 2, "Deployment": 45, "Service": 45, "ConfigMap": 98, "Secret": 30, "Certificate": 28, "Issuer": 2}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("kinds (-want +got):\n%s", diff)
	}
	for v, want := range map[mixVariant]int{'b': 25, 'c': n - mixNamespaces} {
		changed := 0
		for i := range docs['a'] {
			if docs['a'][i] != docs[v][i] {
				changed++
			}
		}
		if changed != want {
			t.Errorf("variant %c changes %d objects, want %d", v, changed, want)
		}
	}
}
