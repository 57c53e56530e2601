package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestServerWarningsReachTheUser: what the API server says in a warning
// header (here: a pod annotation non-functional since v1.27) is shown by
// apply, and by diff when its dry run reaches the server (a new pod in a
// namespace that exists: the server warns of a pod's fields on create).
func TestServerWarningsReachTheUser(t *testing.T) {
	env := uniqueEnv("warn")
	pod := func(pods int) string {
		var b strings.Builder
		for i := range pods {
			fmt.Fprintf(&b, `    - apiVersion: v1
      kind: Pod
      metadata:
        name: web-%d
        annotations: {seccomp.security.alpha.kubernetes.io/pod: runtime/default}
      spec:
        containers: [{name: web, image: "busybox:1.37.0@sha256:0000000000000000000000000000000000000000000000000000000000000000"}]
`, i)
		}
		return component("web", "L4", env, b.String())
	}
	const want = "seccomp.security.alpha.kubernetes.io/pod]: non-functional in v1.27+"
	dir := writeTree(t, map[string]string{"cluster.yaml": clusterYAML(env), "web.yaml": pod(1)})
	code, _, stderr := kcLive(t, "apply", dir, "--env", env, "--wait=false")
	if code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, want) {
		t.Errorf("apply does not show the server's warning %q:\n%s", want, tail(stderr))
	}
	dir = writeTree(t, map[string]string{"cluster.yaml": clusterYAML(env), "web.yaml": pod(2)})
	code, _, stderr = kcLive(t, "diff", dir, "--env", env)
	if code > 1 {
		t.Fatalf("diff: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, want) {
		t.Errorf("diff does not show the server's warning %q:\n%s", want, tail(stderr))
	}
}
