package main

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"kcloud.dev/kcloud/internal/sopstest"
)

// canary is the secret value the canary suite hides: long, with characters
// JSON, Go and GitHub annotations escape.
var canary = canaries{long: "CANARY-5e1d&<do-not-print>%x", short: "k9Q", num: "660142871"}

// leakForms are the forms of a value an output could show it in: as is,
// base64 (every alphabet), JSON-escaped, Go-quoted, escaped for a GitHub
// annotation.
func leakForms(v string) []string {
	q := strconv.Quote(v)
	j := strings.NewReplacer("&", `\u0026`, "<", `\u003c`, ">", `\u003e`).Replace(q[1 : len(q)-1])
	return []string{v, q[1 : len(q)-1], j,
		base64.StdEncoding.EncodeToString([]byte(v)), base64.RawStdEncoding.EncodeToString([]byte(v)), base64.URLEncoding.EncodeToString([]byte(v)),
		strings.NewReplacer("%", "%25").Replace(v), strings.NewReplacer("%", "%25", ":", "%3A", ",", "%2C").Replace(v)}
}

// checkNoLeak fails t if out shows any form of the canary's values.
func checkNoLeak(t *testing.T, what, out string) {
	t.Helper()
	for _, v := range []string{canary.long, canary.num} {
		for _, form := range leakForms(v) {
			if strings.Contains(out, form) {
				t.Errorf("%s: a secret value is printed (as %q):\n%s", what, form, out)
				return
			}
		}
	}
}

// canaryTree is a tree whose component app decrypts app-creds (the canary
// as long, short and num) and uses it in objects (list items, indented by
// 4).
func canaryTree(t *testing.T, env, recipient, objects string) string {
	t.Helper()
	app := fmt.Sprintf(`apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata:
  name: app
spec:
  layer: L4
  envs: [%s]
  manifests: [secrets.yaml]
  objects:
%s`, env, objects)
	return writeTree(t, map[string]string{"cluster.yaml": clusterYAML(env), "app.yaml": app, "secrets.yaml": encryptedCreds(t, canary, recipient)})
}

// canaryPositions put a secret reference where an error can quote the
// value: every one makes the tree invalid, for vet (offline) or, where vet
// does not check the field (vetAccepts), for the API server.
var canaryPositions = []struct {
	name, objects string
	vetAccepts    bool
}{
	{"wrong type (boolean)", `    - apiVersion: v1
      kind: ConfigMap
      metadata: {name: cfg}
      immutable: "${secret:app-creds/long}"
`, false},
	{"wrong type (number)", deploymentWith(`          ports: [{containerPort: "${secret:app-creds/num}"}]`), false},
	{"object name", `    - apiVersion: v1
      kind: ConfigMap
      metadata: {name: "${secret:app-creds/long}"}
`, false},
	{"label value", `    - apiVersion: v1
      kind: ConfigMap
      metadata: {name: cfg, labels: {tier: "${secret:app-creds/long}"}}
`, true},
	{"label key", `    - apiVersion: v1
      kind: ConfigMap
      metadata: {name: cfg, labels: {"${secret:app-creds/long}": x}}
`, true},
	{"ingress host", `    - apiVersion: networking.k8s.io/v1
      kind: Ingress
      metadata: {name: web}
      spec:
        rules:
          - host: "${secret:app-creds/long}"
            http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
`, false},
	{"ingress host on the internal domain", `    - apiVersion: networking.k8s.io/v1
      kind: Ingress
      metadata: {name: web}
      spec:
        rules:
          - host: "x${secret:app-creds/num}.int.example.com"
            http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
`, false},
	{"port", `    - apiVersion: v1
      kind: Service
      metadata: {name: web}
      spec: {ports: [{name: "${secret:app-creds/long}", port: 80}], selector: {app: web}}
`, true},
	{"image", deploymentWith(`          image: "${secret:app-creds/long}"`), false},
	{"namespace", `    - apiVersion: v1
      kind: ConfigMap
      metadata: {name: cfg, namespace: "${secret:app-creds/long}"}
`, false},
	{"schema: enum", `    - apiVersion: v1
      kind: Service
      metadata: {name: web}
      spec: {type: "${secret:app-creds/long}", ports: [{port: 80}]}
`, true},
	{"schema: unknown field", `    - apiVersion: v1
      kind: ConfigMap
      metadata: {name: cfg}
      "${secret:app-creds/long}": x
`, false},
	{"schema: map expected", `    - apiVersion: v1
      kind: ConfigMap
      metadata: {name: cfg}
      data: "${secret:app-creds/long}"
`, false},
}

// deploymentWith is a Deployment whose one container has line (indented
// by 10) added.
func deploymentWith(line string) string {
	return `    - apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web}
      spec:
        selector: {matchLabels: {app: web}}
        template:
          metadata: {labels: {app: web}}
          spec:
            containers:
              - name: web
                image: nginx:1.27.3@sha256:0000000000000000000000000000000000000000000000000000000000000000
  ` + line + "\n"
}

// TestCanarySecretNeverPrinted is the canary suite (issue 18): a secret
// reference in every position that can make an error quote a value, for
// vet, render, diff, apply and status, in every output format, at debug
// log level, as console and JSON logs, with GITHUB_ACTIONS=true: no form
// of the value appears in anything printed, and every tree fails.
func TestCanarySecretNeverPrinted(t *testing.T) {
	noKeys(t)
	key := sopstest.MustKey(t)
	t.Setenv("SOPS_AGE_KEY", key.Identity)
	t.Setenv("GITHUB_ACTIONS", "true")
	for _, pos := range canaryPositions {
		t.Run(pos.name, func(t *testing.T) {
			env := uniqueEnv("canary")
			dir := canaryTree(t, env, key.Recipient, pos.objects)
			for _, args := range [][]string{
				{"vet", dir}, {"vet", dir, "-o", "json"}, {"vet", dir, "--strict"},
				{"render", dir}, {"render", dir, "-o", "json"},
				{"diff", dir, "--env", env}, {"diff", dir, "--env", env, "-o", "markdown"}, {"diff", dir, "--env", env, "-o", "json"},
				{"apply", dir, "--env", env, "--wait=false"}, {"apply", dir, "--env", env, "--dry-run"},
				{"status", dir, "--env", env}, {"status", dir, "--env", env, "-o", "json"},
			} {
				for _, logFormat := range []string{"json", "console"} {
					code, stdout, stderr := kcloud(t, append(args, "--log-level", "debug", "--log-format", logFormat, "--kubeconfig", kubeconfig(t), "--context", testContext)...)
					what := fmt.Sprintf("%s (logs %s): exit %d", strings.Join(args[:1], " "), logFormat, code)
					if code == exitOK && (args[0] == "apply" || !pos.vetAccepts) {
						t.Errorf("%s: the tree is invalid, want a failure\n%s%s", what, stdout, stderr)
					}
					checkNoLeak(t, what, stdout+stderr)
				}
			}
		})
	}
}
