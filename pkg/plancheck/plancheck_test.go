package plancheck

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/spec"
)

const cluster = `apiVersion: kcloud.dev/v1alpha1
kind: Cluster
metadata: {name: test}
spec:
  k3s: {channel: stable}
  nodes: [{name: a, host: 192.0.2.1}]
  domains: {internal: int.example.com, base: example.com}
  environments:
    - {name: staging, prefix: x-staging}
    - {name: prod, prefix: ""}
`

// base is a small plan every case adds one component to: a Secret with a
// key, a ConfigMap, a Service, the gate's Middleware and a ClusterIssuer.
const base = `apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata: {name: base}
spec:
  layer: L2
  namespace: platform
  objects:
    - {apiVersion: v1, kind: Service, metadata: {name: web}, spec: {ports: [{port: 80}]}}
    - {apiVersion: v1, kind: ConfigMap, metadata: {name: conf}, data: {a: "1"}}
    - apiVersion: traefik.io/v1alpha1
      kind: Middleware
      metadata: {name: gate}
      spec: {forwardAuth: {address: "http://oauth2-proxy.platform.svc/"}}
    - apiVersion: traefik.io/v1alpha1
      kind: Middleware
      metadata: {name: headers}
      spec: {headers: {frameDeny: true}}
    - apiVersion: cert-manager.io/v1
      kind: ClusterIssuer
      metadata: {name: le}
      spec: {acme: {server: "https://acme.example", privateKeySecretRef: {name: le-key}, solvers: []}}
`

// component wraps objects (YAML list entries, indented 4) into an L2
// component in the namespace platform.
func component(objects string) string {
	return `apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata: {name: c}
spec:
  layer: L2
  namespace: platform
  objects:
` + objects
}

// deployment is a Deployment whose pod spec is spec (written at indent
// 10, shifted under the template's spec).
func deployment(spec string) string {
	lines := strings.SplitAfter(spec, "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) != "" {
			lines[i] = "  " + l
		}
	}
	return `    - apiVersion: apps/v1
      kind: Deployment
      metadata: {name: d}
      spec:
        selector: {matchLabels: {app: d}}
        template:
          metadata: {labels: {app: d}}
          spec:
` + strings.Join(lines, "")
}

// ingress is an Ingress with annotations (indented 10) and rules for host.
func ingress(annotations, host string) string {
	return `    - apiVersion: networking.k8s.io/v1
      kind: Ingress
      metadata:
        name: i
        annotations:
` + annotations + `      spec:
        ingressClassName: traefik
        rules:
          - host: ` + host + ` # <-
            http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
`
}

// marked returns the line and column of the line marked "# <-" in src:
// the column of its field (after a list's "- "), or of the text after the
// marker ("# <-name") on that line.
func marked(t *testing.T, src string) (int, int) {
	t.Helper()
	for i, line := range strings.Split(src, "\n") {
		code, token, ok := strings.Cut(line, "# <-")
		if !ok {
			continue
		}
		if token != "" {
			return i + 1, strings.Index(code, token) + 1
		}
		col := len(line) - len(strings.TrimLeft(line, " ")) + 1
		if strings.HasPrefix(strings.TrimLeft(line, " "), "- ") {
			col += 2
		}
		return i + 1, col
	}
	t.Fatal("no line marked # <-")
	return 0, 0
}

const image = "ghcr.io/example/app:1.0.0@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestBrokenPlans(t *testing.T) {
	c := "          containers:\n            - name: app\n              image: " + image + "\n"
	for _, tc := range []struct {
		name, src, want string
	}{
		// references
		{"secret volume", deployment(c + "          volumes:\n            - name: v\n              secret: {secretName: nope} # <-secretName\n"), `Secret "nope" is not in the plan in namespace platform`},
		{"configMap volume", deployment(c + "          volumes:\n            - name: v\n              configMap: {name: nope} # <-name\n"), `ConfigMap "nope" is not in the plan`},
		{"configMap volume item key", deployment(c + "          volumes:\n            - name: v\n              configMap:\n                name: conf\n                items:\n                  - key: b # <-\n                    path: b\n"), `ConfigMap platform/conf has no key "b"`},
		{"claim", deployment(c + "          volumes:\n            - name: v\n              persistentVolumeClaim: {claimName: nope} # <-claimName\n"), `PersistentVolumeClaim "nope" is not in the plan`},
		{"projected secret", deployment(c + "          volumes:\n            - name: v\n              projected:\n                sources:\n                  - secret: {name: nope} # <-name\n"), `Secret "nope"`},
		{"envFrom secret", deployment("          containers:\n            - name: app\n              image: " + image + "\n              envFrom:\n                - secretRef: {name: nope} # <-name\n"), `Secret "nope"`},
		{"env configMapKeyRef key", deployment("          containers:\n            - name: app\n              image: " + image + "\n              env:\n                - name: A\n                  valueFrom:\n                    configMapKeyRef:\n                      name: conf # <-\n                      key: zz\n"), `ConfigMap platform/conf has no key "zz" (from the plan; its keys: a)`},
		{"env secretKeyRef", deployment("          containers:\n            - name: app\n              image: " + image + "\n              env:\n                - name: A\n                  valueFrom:\n                    secretKeyRef:\n                      name: nope # <-\n                      key: k\n"), `Secret "nope"`},
		{"imagePullSecrets", deployment(c + "          imagePullSecrets:\n            - name: nope # <-\n"), `Secret "nope"`},
		{"serviceAccountName", deployment(c + "          serviceAccountName: nope # <-\n"), `ServiceAccount "nope"`},
		{"priorityClassName", deployment(c + "          priorityClassName: nope # <-\n"), `PriorityClass "nope" is not in the plan, not one K3s ships`},
		{"claim storageClass", component("    - apiVersion: v1\n      kind: PersistentVolumeClaim\n      metadata: {name: p}\n      spec:\n        storageClassName: fast # <-\n        accessModes: [ReadWriteOnce]\n        resources: {requests: {storage: 1Gi}}\n"), `StorageClass "fast"`},
		{"ingress backend", component("    - apiVersion: networking.k8s.io/v1\n      kind: Ingress\n      metadata: {name: i, annotations: {kcloud.dev/auth: \"public: test\"}}\n      spec:\n        rules:\n          - host: a.int.example.com\n            http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: nope, port: {number: 80}}}}]} # <-name: nope\n"), `Service "nope"`},
		{"ingress class", component("    - apiVersion: networking.k8s.io/v1\n      kind: Ingress\n      metadata: {name: i}\n      spec:\n        ingressClassName: nginx # <-\n        defaultBackend: {service: {name: web, port: {number: 80}}}\n"), `IngressClass "nginx"`},
		{"ingress tls secret without issuer", component("    - apiVersion: networking.k8s.io/v1\n      kind: Ingress\n      metadata: {name: i}\n      spec:\n        defaultBackend: {service: {name: web, port: {number: 80}}}\n        tls:\n          - secretName: i-tls # <-\n"), `Secret "i-tls"`},
		{"ingress cluster issuer", component("    - apiVersion: networking.k8s.io/v1\n      kind: Ingress\n      metadata:\n        name: i\n        annotations:\n          cert-manager.io/cluster-issuer: letsencrypt # <-\n      spec:\n        defaultBackend: {service: {name: web, port: {number: 80}}}\n"), `ClusterIssuer "letsencrypt"`},
		{"ingress middleware", ingress("          kcloud.dev/auth: \"native: test\"\n          traefik.ingress.kubernetes.io/router.middlewares: platform-nope@kubernetescrd # <-\n", "a.int.example.com"), `Middleware "platform-nope"`},
		{"certificate issuer", component("    - apiVersion: cert-manager.io/v1\n      kind: Certificate\n      metadata: {name: cert}\n      spec:\n        secretName: cert-tls\n        dnsNames: [a.example.com]\n        issuerRef: {name: nope} # <-name\n"), `Issuer "nope"`},
		{"issuer token secret", component("    - apiVersion: cert-manager.io/v1\n      kind: Issuer\n      metadata: {name: iss}\n      spec:\n        acme:\n          server: https://acme.example\n          privateKeySecretRef: {name: k}\n          solvers:\n            - dns01: {cloudflare: {apiTokenSecretRef: {name: cf, key: t}}} # <-name\n"), `Secret "cf"`},
		{"helmchartconfig", "apiVersion: kcloud.dev/v1alpha1\nkind: Component\nmetadata: {name: c}\nspec:\n  layer: L1\n  namespace: kube-system\n  objects:\n    - apiVersion: helm.cattle.io/v1\n      kind: HelmChartConfig\n      metadata: {name: traefk} # <-name\n      spec: {valuesContent: \"\"}\n", `HelmChart "traefk" is not in the plan in namespace kube-system`},
		{"bad external annotation", deployment(c) + "", ""}, // replaced below
		// images
		{"image without tag", deployment("          containers:\n            - name: app\n              image: ghcr.io/example/app # <-\n"), `has no tag`},
		{"image latest", deployment("          containers:\n            - name: app\n              image: ghcr.io/example/app:latest # <-\n"), `uses the tag latest`},
		{"image digest only", deployment("          containers:\n            - name: app\n              image: ghcr.io/example/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef # <-\n"), `has a digest but no tag`},
		{"image invalid", deployment("          containers:\n            - name: app\n              image: Ghcr.io/Bad//app:1 # <-\n"), `is not a valid image reference`},
		{"init container latest", deployment("          initContainers:\n            - name: init\n              image: busybox:latest # <-\n" + c), `uses the tag latest`},
		{"stale unpinned image", "apiVersion: kcloud.dev/v1alpha1\nkind: Component\nmetadata: {name: c}\nspec:\n  layer: L2\n  namespace: platform\n  unpinnedImages:\n    - image: ghcr.io/example/gone:1 # <-ghcr\n      reason: test\n  objects:\n" + deployment(c), `"ghcr.io/example/gone:1" is not an image component c runs`},
		// exposure
		{"internal host without auth", ingress("          x: y\n", "app.int.example.com"), `host "app.int.example.com" is on the internal domain and does not say how its users authenticate`},
		{"internal apex without auth", strings.Replace(strings.Replace(component(ingress("          x: y\n", "int.example.com")), "layer: L2", "layer: L4", 1), "  namespace: platform\n", "", 1), `is on the internal domain`},
		{"gate without middleware", ingress("          kcloud.dev/auth: gate # <-\n", "a.int.example.com"), `gate: traefik.ingress.kubernetes.io/router.middlewares names no Middleware`},
		{"gate with a middleware that is no gate", ingress("          kcloud.dev/auth: gate # <-\n          traefik.ingress.kubernetes.io/router.middlewares: platform-headers@kubernetescrd\n", "a.int.example.com"), `none of the Middlewares in traefik.ingress.kubernetes.io/router.middlewares ("platform-headers@kubernetescrd") is a forwardAuth Middleware`},
		{"native without how", ingress("          kcloud.dev/auth: native # <-\n", "a.int.example.com"), `say the app's login`},
		{"public without why", ingress("          kcloud.dev/auth: \"public:\" # <-\n", "a.int.example.com"), `say why it is public`},
		{"unknown way", ingress("          kcloud.dev/auth: open # <-\n", "a.int.example.com"), `"open": use gate`},
		{"base host declaring nonsense", strings.Replace(strings.Replace(component(ingress("          kcloud.dev/auth: sso # <-\n", "shop.example.com")), "layer: L2", "layer: L4", 1), "  namespace: platform\n", "", 1), `"sso": use gate`},
		{"kubero without auth", component("    - apiVersion: application.kubero.dev/v1alpha1\n      kind: Kubero\n      metadata: {name: kubero, annotations: {kcloud.dev/external: Secret/kubero-secrets}}\n      spec:\n        image: {tag: v3.1.1}\n        ingress:\n          hosts:\n            - host: kcloud.int.example.com # <-\n"), `is on the internal domain and does not say`},
	} {
		if tc.name == "bad external annotation" {
			tc.src = "apiVersion: kcloud.dev/v1alpha1\nkind: Component\nmetadata: {name: c}\nspec:\n  layer: L2\n  namespace: platform\n  objects:\n    - apiVersion: apps/v1\n      kind: Deployment\n      metadata:\n        name: d\n        annotations:\n          kcloud.dev/external: Sekret/x # <-\n      spec:\n        selector: {matchLabels: {app: d}}\n        template:\n          metadata: {labels: {app: d}}\n          spec:\n" + c
			tc.want = `annotation kcloud.dev/external: "Sekret/x": use Kind/name`
		}
		if !strings.HasPrefix(tc.src, "apiVersion") {
			tc.src = component(tc.src)
		}
		t.Run(tc.name, func(t *testing.T) {
			line, col := marked(t, tc.src)
			diags := check(t, map[string]string{"c.yaml": tc.src}, nil, Options{})
			var got []string
			for _, d := range diags {
				if d.Severity == spec.SeverityError {
					got = append(got, fmt.Sprintf("%s:%d:%d: %s", filepath.Base(d.Pos.File), d.Pos.Line, d.Pos.Column, d.Message))
				}
			}
			at := fmt.Sprintf("c.yaml:%d:%d: ", line, col)
			if len(got) == 0 || !strings.HasPrefix(got[0], at) || !strings.Contains(got[0], tc.want) {
				t.Errorf("want an error at %s…%s…, got:\n%s", at, tc.want, strings.Join(got, "\n"))
			}
		})
	}
}

// check loads files beside the Cluster and base, renders them (url
// manifests from fetched) and checks the plan.
func check(t *testing.T, files map[string]string, fetched map[string][]byte, opts Options) spec.Diagnostics {
	t.Helper()
	dir := t.TempDir()
	files["cluster.yaml"], files["base.yaml"] = cluster, base
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tree, diags, err := spec.Load(context.Background(), []string{dir})
	if err != nil || diags.HasErrors() {
		t.Fatalf("load: %v %v", err, diags)
	}
	res, diags := render.Render(context.Background(), tree, render.Options{Fetcher: fetcher(fetched)})
	if res == nil {
		return diags
	}
	return append(diags, Check(res, tree, opts)...)
}

// fetcher serves manifests from memory: tests never reach the network.
type fetcher map[string][]byte

func (f fetcher) Fetch(_ context.Context, url, _ string) ([]byte, error) {
	if b, ok := f[url]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("%s: not served", url)
}

func TestBrokenPatches(t *testing.T) {
	body := []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: op, namespace: platform}\nspec:\n  template:\n    spec:\n      containers: [{name: op, image: \"" + image + "\"}]\n")
	sum := sha256.Sum256(body)
	const url = "https://example.com/op.yaml"
	for _, tc := range []struct{ name, patch, want string }{
		{"strategic merge names no object", "        - patch: {apiVersion: apps/v1, kind: Deployment, metadata: {name: other}} # <-\n", "matches no object of the manifest"},
		{"target selects nothing", "        - target: {kind: StatefulSet} # <-\n          patch: [{op: remove, path: /spec}]\n", "matches no object of the manifest (target kind=StatefulSet)"},
		{"strategic merge naming nothing", "        - patch: {spec: {replicas: 2}} # <-\n", "names its object"},
		{"json patch without target", "        - patch: [{op: remove, path: /spec}] # <-\n", "needs a target"},
		{"json patch failing", "        - target: {kind: Deployment} # <-\n          patch: [{op: replace, path: /spec/replicas/x, value: 1}]\n", "patch:"},
		{"patched image latest", "        - target: {kind: Deployment} # <-\n          patch: [{op: replace, path: /spec/template/spec/containers/0/image, value: \"busybox:latest\"}]\n", "uses the tag latest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := fmt.Sprintf("apiVersion: kcloud.dev/v1alpha1\nkind: Component\nmetadata: {name: c}\nspec:\n  layer: L2\n  namespace: platform\n  manifests:\n    - url: %s\n      sha256: %s\n      patches:\n%s", url, hex.EncodeToString(sum[:]), tc.patch)
			line, _ := marked(t, src)
			diags := check(t, map[string]string{"c.yaml": src}, map[string][]byte{url: body}, Options{})
			var errs []spec.Diagnostic
			for _, d := range diags {
				if d.Severity == spec.SeverityError {
					errs = append(errs, d)
				}
			}
			// A patch's errors are at its entry; a patched value's at the
			// manifest entry (the fetched file has no place in the tree).
			if len(errs) == 0 || !strings.Contains(errs[0].Message, tc.want) {
				t.Fatalf("want an error …%s…, got %v", tc.want, errs)
			}
			if tc.name == "patched image latest" {
				// A patched value is placed where the field is in the
				// fetched manifest.
				if errs[0].Pos.File != url || errs[0].Pos.Line != 7 {
					t.Errorf("error at %s, want %s:7", errs[0].Pos, url)
				}
				return
			}
			if errs[0].Pos.Line != line {
				t.Errorf("error at %s, want line %d", errs[0].Pos, line)
			}
		})
	}
}

func TestValidPlanHasNoDiagnostics(t *testing.T) {
	src := component(deployment(`          serviceAccountName: default
          priorityClassName: system-cluster-critical
          containers:
            - name: app
              image: `+image+`
              envFrom: [{configMapRef: {name: conf}}, {secretRef: {name: optional, optional: true}}]
              env:
                - {name: A, valueFrom: {configMapKeyRef: {name: conf, key: a}}}
                - {name: B, valueFrom: {secretKeyRef: {name: ext, key: b}}}
          volumes:
            - {name: ca, configMap: {name: kube-root-ca.crt}}
            - {name: tls, secret: {secretName: cert-tls, items: [{key: tls.crt, path: c}]}}
`) + `      # the Deployment declares the Secret made elsewhere
` + ingress(`          kcloud.dev/auth: gate
          traefik.ingress.kubernetes.io/router.middlewares: platform-gate@kubernetescrd
          cert-manager.io/cluster-issuer: le
`, "app.int.example.com") + `        tls: [{secretName: i-tls, hosts: [app.int.example.com]}]
    - apiVersion: cert-manager.io/v1
      kind: Certificate
      metadata: {name: cert}
      spec: {secretName: cert-tls, dnsNames: [a.example.com], issuerRef: {name: le, kind: ClusterIssuer}}
`)
	src = strings.Replace(src, "metadata: {name: d}", "metadata: {name: d, annotations: {kcloud.dev/external: Secret/ext}}", 1)
	// A business app's host is public unless it says otherwise.
	shop := `apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata: {name: shop}
spec:
  layer: L4
  objects:
    - {apiVersion: v1, kind: Service, metadata: {name: shop}, spec: {ports: [{port: 80}]}}
    - apiVersion: networking.k8s.io/v1
      kind: Ingress
      metadata: {name: shop}
      spec:
        rules: [{host: "${domains.app}", http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: shop, port: {number: 80}}}}]}}]
`
	diags := check(t, map[string]string{"c.yaml": src, "shop.yaml": shop}, nil, Options{Strict: true})
	if len(diags) != 0 {
		t.Errorf("diagnostics on a valid plan:\n%v", diags)
	}
}

func TestImagesAndUnpinned(t *testing.T) {
	src := "apiVersion: kcloud.dev/v1alpha1\nkind: Component\nmetadata: {name: c}\nspec:\n  layer: L2\n  namespace: platform\n  unpinnedImages: [{image: \"nginx:1.27\", reason: test}]\n  objects:\n" +
		deployment("          containers:\n            - {name: a, image: \"nginx:1.27\"}\n            - {name: b, image: \"ghcr.io/x/y:2\"}\n")
	diags := check(t, map[string]string{"c.yaml": src}, nil, Options{})
	var got []string
	for _, d := range diags {
		got = append(got, fmt.Sprintf("%d:%d %s", d.Pos.Line, d.Pos.Column, d.Severity))
	}
	if diff := cmp.Diff([]string{"19:27 warning"}, got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s\n%v", diff, diags)
	}
	strict := check(t, map[string]string{"c.yaml": src}, nil, Options{Strict: true})
	if errs, _ := strict.Count(); errs != 1 {
		t.Errorf("strict: %v", strict)
	}
}
