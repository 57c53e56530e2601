package validate_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/spec"
	"kcloud.dev/kcloud/pkg/validate"
)

const clusterYAML = `apiVersion: kcloud.dev/v1alpha1
kind: Cluster
metadata: {name: test}
spec:
  k3s: {channel: stable}
  nodes: [{name: node-1, host: 192.0.2.10}]
  domains: {internal: int.example.com, base: example.com}
  environments: [{name: staging, prefix: x-staging}, {name: prod, prefix: ""}]
`

// widgetCRD is a CRD of the plan, in a local manifest.
const widgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [size]
              properties:
                size: {type: integer}
                mode: {type: string, enum: [fast, slow]}
                tags: {type: array, items: {type: string}}
                nested:
                  type: object
                  properties:
                    depth: {type: integer}
                port: {x-kubernetes-int-or-string: true}
`

// invalid is one invalid object: where it is written, and the line marked
// "#!" is where the error must be reported, with msg.
type invalid struct {
	name  string
	where string // objects, manifest or url
	layer string // L4 (apps-<env>) or L1 (kube-system)
	doc   string
	msg   string
}

var invalids = []invalid{
	// Built-in kinds, against client-go's schemas.
	{"deployment replicas string", "objects", "L4", `apiVersion: apps/v1
kind: Deployment
metadata: {name: NAME}
spec:
  replicas: "three" #!
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}`, `Deployment NAME: spec.replicas: wrong type: want a number, got the string "three"`},
	{"deployment selectr", "objects", "L4", `apiVersion: apps/v1
kind: Deployment
metadata: {name: NAME}
spec:
  selectr: {matchLabels: {app: web}} #!
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}`, `Deployment NAME: spec.selectr: unknown field`},
	{"deployment imagee", "objects", "L4", `apiVersion: apps/v1
kind: Deployment
metadata: {name: NAME}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          imagee: nginx #!`, `Deployment NAME: spec.template.spec.containers[0].imagee: unknown field`},
	{"service port string", "manifest", "L4", `apiVersion: v1
kind: Service
metadata: {name: NAME}
spec:
  ports:
    - port: "eighty" #!`, `Service NAME: spec.ports[0].port: wrong type: want a number, got the string "eighty"`},
	{"service unknown field", "manifest", "L4", `apiVersion: v1
kind: Service
metadata: {name: NAME}
spec:
  selectors: {app: web} #!`, `Service NAME: spec.selectors: unknown field`},
	{"configmap data list", "objects", "L4", `apiVersion: v1
kind: ConfigMap
metadata: {name: NAME}
data: [a, b] #!`, `ConfigMap NAME: data: wrong type: want a mapping, got a list`},
	// A Secret in the tree with a plaintext value is a spec error (encrypt
	// it with sops): a pinned URL manifest still carries this one.
	{"secret stringData number", "url", "L4", `apiVersion: v1
kind: Secret
metadata: {name: NAME}
stringData:
  token: 12345 #!`, `Secret NAME: stringData.token: wrong type: want a string, got the number 12345`},
	{"ingress port number string", "manifest", "L4", `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: NAME}
spec:
  rules:
    - http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: web
                port:
                  number: "http" #!`, `Ingress NAME: spec.rules[0].http.paths[0].backend.service.port.number: wrong type: want a number, got the string "http"`},
	{"cronjob schedule number", "url", "L4", `apiVersion: batch/v1
kind: CronJob
metadata: {name: NAME}
spec:
  schedule: 5 #!
  jobTemplate: {spec: {template: {spec: {containers: [{name: x, image: busybox}], restartPolicy: Never}}}}`, `CronJob NAME: spec.schedule: wrong type: want a string, got the number 5`},
	{"deployment spek", "url", "L4", `apiVersion: apps/v1
kind: Deployment
metadata: {name: NAME}
spek: {} #!`, `Deployment NAME: spek: unknown field`},
	{"role verbs string", "objects", "L4", `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: NAME}
rules:
  - apiGroups: [""]
    resources: [pods]
    verbs: get #!`, `Role NAME: rules[0].verbs: wrong type: want a list, got the string "get"`},
	{"secretKeyRef nam", "manifest", "L4", `apiVersion: v1
kind: Pod
metadata: {name: NAME}
spec:
  containers:
    - name: x
      image: busybox
      env:
        - name: TOKEN
          valueFrom:
            secretKeyRef:
              nam: creds #!
              key: token`, `Pod NAME: spec.containers[0].env[0].valueFrom.secretKeyRef.nam: unknown field`},
	{"labels list", "objects", "L4", `apiVersion: v1
kind: ServiceAccount
metadata:
  name: NAME
  annotations: [a] #!`, `ServiceAccount NAME: metadata.annotations: wrong type: want a mapping, got a list`},
	{"containers mapping", "url", "L4", `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: NAME}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: {name: db} #!`, `StatefulSet NAME: spec.template.spec.containers: wrong type: want a list, got a mapping`},

	// Custom resources of a CRD the plan renders.
	{"widget size string", "objects", "L4", `apiVersion: example.com/v1
kind: Widget
metadata: {name: NAME}
spec:
  size: big #!`, `Widget NAME: spec.size: wrong type: want an integer, got the string "big"`},
	{"widget colour", "objects", "L4", `apiVersion: example.com/v1
kind: Widget
metadata: {name: NAME}
spec:
  size: 3
  colour: red #!`, `Widget NAME: spec.colour: unknown field`},
	{"widget mode enum", "manifest", "L4", `apiVersion: example.com/v1
kind: Widget
metadata: {name: NAME}
spec:
  size: 3
  mode: medium #!`, `Widget NAME: spec.mode: unsupported value "medium": use one of "fast", "slow"`},
	{"widget size missing", "manifest", "L4", `apiVersion: example.com/v1
kind: Widget
metadata: {name: NAME}
spec: #!
  mode: fast`, `Widget NAME: spec.size: missing required field`},
	{"widget tag number", "url", "L4", `apiVersion: example.com/v1
kind: Widget
metadata: {name: NAME}
spec:
  size: 3
  tags:
    - a
    - 3 #!`, `Widget NAME: spec.tags[1]: wrong type: want a string, got the number 3`},
	{"widget nested unknown", "url", "L4", `apiVersion: example.com/v1
kind: Widget
metadata: {name: NAME}
spec:
  size: 3
  nested:
    depht: 2 #!`, `Widget NAME: spec.nested.depht: unknown field`},
	{"widget int-or-string", "objects", "L4", `apiVersion: example.com/v1
kind: Widget
metadata: {name: NAME}
spec:
  size: 3
  port: [80] #!`, `Widget NAME: spec.port: wrong type: want an integer or a string, got a list`},

	// K3s's own kinds, against helm-controller's CRDs.
	{"helmchart failurePolicy enum", "objects", "L1", `apiVersion: helm.cattle.io/v1
kind: HelmChart
metadata: {name: NAME}
spec:
  chart: traefik
  failurePolicy: explode #!`, `HelmChart NAME: spec.failurePolicy: unsupported value "explode": use one of "abort", "reinstall", "retry"`},
	{"helmchart bogus", "manifest", "L1", `apiVersion: helm.cattle.io/v1
kind: HelmChart
metadata: {name: NAME}
spec:
  chart: traefik
  bogus: 1 #!`, `HelmChart NAME: spec.bogus: unknown field`},
	{"helmchart timeout number", "objects", "L1", `apiVersion: helm.cattle.io/v1
kind: HelmChart
metadata: {name: NAME}
spec:
  chart: traefik
  timeout: 300 #!`, `HelmChart NAME: spec.timeout: wrong type: want a string, got the number 300`},
	{"helmchart sysctl value missing", "manifest", "L1", `apiVersion: helm.cattle.io/v1
kind: HelmChart
metadata: {name: NAME}
spec:
  chart: traefik
  podSecurityContext:
    sysctls:
      - name: net.core.somaxconn #!`, `HelmChart NAME: spec.podSecurityContext.sysctls[0].value: missing required field`},
	{"helmchartconfig valuesContent mapping", "manifest", "L1", `apiVersion: helm.cattle.io/v1
kind: HelmChartConfig
metadata: {name: NAME}
spec:
  valuesContent: {ports: {}} #!`, `HelmChartConfig NAME: spec.valuesContent: wrong type: want a string, got a mapping`},
	{"helmchartconfig unknown", "url", "L1", `apiVersion: helm.cattle.io/v1
kind: HelmChartConfig
metadata: {name: NAME}
spec:
  valuesContnt: "a: 1" #!`, `HelmChartConfig NAME: spec.valuesContnt: unknown field`},
	{"helmchart set list", "objects", "L1", `apiVersion: helm.cattle.io/v1
kind: HelmChart
metadata: {name: NAME}
spec:
  chart: traefik
  set:
    replicas: [2] #!`, `HelmChart NAME: spec.set.replicas: wrong type: want an integer or a string, got a list`},
}

// TestInvalidObjects renders one tree holding every invalid object (inline,
// in local manifests, in pinned URL manifests from a local HTTPS server),
// and checks that validation reports each at its field, and nothing else.
func TestInvalidObjects(t *testing.T) { checkInvalids(t, invalids) }

// checkInvalids writes the cases into one tree, renders it and checks that
// Check reports each case's message at its marked line, and nothing else.
// It makes no API calls: no client exists.
func checkInvalids(t *testing.T, cases []invalid) {
	dir := t.TempDir()
	t.Chdir(dir)
	srv := httptest.NewTLSServer(nil)
	t.Cleanup(srv.Close)
	served := map[string][]byte{}
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := served[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(body)
	})

	write(t, "cluster.yaml", clusterYAML)
	write(t, "crds.yaml", component("crds", "L1", "  manifests: [widget-crd.yaml]\n"))
	write(t, "widget-crd.yaml", widgetCRD)
	var want []string
	for i, c := range cases {
		name := fmt.Sprintf("c%02d", i)
		c.doc, c.msg = placeholder.ReplaceAllString(c.doc, name), placeholder.ReplaceAllString(c.msg, name)
		var body, file string
		switch c.where {
		case "objects":
			body = "  objects:\n    - " + strings.ReplaceAll(c.doc, "\n", "\n      ") + "\n"
			file = name + ".yaml"
		case "manifest":
			file = filepath.Join("m", name+".yaml")
			write(t, file, c.doc+"\n")
			body = "  manifests: [" + filepath.ToSlash(file) + "]\n"
		case "url":
			data := []byte(c.doc + "\n")
			served["/"+name+".yaml"] = data
			sum := sha256.Sum256(data)
			file = srv.URL + "/" + name + ".yaml"
			body = fmt.Sprintf("  manifests:\n    - {url: %q, sha256: %s}\n", file, hex.EncodeToString(sum[:]))
		}
		write(t, name+".yaml", component(name, c.layer, body))
		src := c.doc
		if c.where == "objects" {
			src = component(name, c.layer, body)
		}
		want = append(want, fmt.Sprintf("%s: %s", marked(t, file, src), c.msg))
	}

	tree, diags := mustLoad(t, dir)
	if tree == nil || len(diags) > 0 {
		t.Fatalf("load: %v", diags)
	}
	res, more := render.Render(t.Context(), tree, render.Options{Fetcher: &render.HTTPFetcher{Client: srv.Client()}, Lenient: true})
	if len(diags)+len(more) > 0 || res == nil {
		t.Fatalf("load and render: %v %v", diags, more)
	}
	var got []string
	for _, d := range validate.Check(res, validate.Options{}) {
		got = append(got, fmt.Sprintf("%s: %s", d.Pos, d.Message))
	}
	if diff := cmp.Diff(sorted(want), got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}

// placeholder is the word NAME in a case, replaced by the case's name.
var placeholder = regexp.MustCompile(`\bNAME\b`)

func component(name, layer, body string) string {
	ns := ""
	if layer == "L1" {
		ns = "  namespace: kube-system\n"
	}
	return fmt.Sprintf("apiVersion: kcloud.dev/v1alpha1\nkind: Component\nmetadata: {name: %s}\nspec:\n  layer: %s\n%s%s", name, layer, ns, body)
}

// marked returns file:line:col of the key on the line of src marked "#!".
func marked(t *testing.T, file, src string) string {
	t.Helper()
	for i, line := range strings.Split(src, "\n") {
		if !strings.HasSuffix(line, " #!") {
			continue
		}
		trimmed := strings.TrimLeft(line, " ")
		col := len(line) - len(trimmed) + 1
		if strings.HasPrefix(trimmed, "- ") {
			col += 2
		}
		return fmt.Sprintf("%s:%d:%d", file, i+1, col)
	}
	t.Fatalf("%s: no line marked #!", file)
	return ""
}

func write(t *testing.T, name, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustLoad(t *testing.T, _ string) (*spec.Tree, spec.Diagnostics) {
	t.Helper()
	tree, diags, err := spec.Load(context.Background(), []string{"."})
	if err != nil {
		t.Fatal(err)
	}
	return tree, diags
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	slices.Sort(out)
	return out
}

func TestLocate(t *testing.T) {
	t.Chdir(t.TempDir())
	write(t, "cluster.yaml", clusterYAML)
	write(t, "web.yaml", component("web", "L4", `  objects:
    - apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web}
      spec:
        template:
          spec:
            containers:
              - name: web
                imagee: nginx
`))
	tree, diags := mustLoad(t, ".")
	if tree == nil || len(diags) > 0 {
		t.Fatalf("load: %v", diags)
	}
	res, _ := render.Render(t.Context(), tree, render.Options{Lenient: true})
	var web render.Object
	for _, o := range res.Objects() {
		if o.GetKind() == "Deployment" {
			web = o
		}
	}
	for path, want := range map[string]string{
		"spec.template.spec.containers[0].imagee": "web.yaml:15:17",
		".spec.template": "web.yaml:11:9",
		"spec.replicas":  "web.yaml:10:7", // absent: its parent
		"":               "web.yaml:7:7",
	} {
		if got := validate.Locate(web, path).String(); got != want {
			t.Errorf("Locate(%q) = %s, want %s", path, got, want)
		}
	}
}
