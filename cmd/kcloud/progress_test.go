package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestApplyProgressOnATerminal runs apply under script(1), which gives it
// a pseudo-terminal: a live line per stack, redrawn in place, ends each
// stack; without a terminal there are only plain log lines.
func TestApplyProgressOnATerminal(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script(1) not installed")
	}
	env := uniqueEnv("progress")
	tree := writeTree(t, map[string]string{"cluster.yaml": clusterYAML(env), "app.yaml": component("app", "L4", env, configMaps(3, "x"))})
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("script", "-qec", exe+" apply "+tree+" --env "+env+" --kubeconfig "+kubeconfig(t)+" --context "+testContext, "/dev/null")
	cmd.Env = append(os.Environ(), "KCLOUD_TEST_MAIN=1", "CI=", "TERM=xterm", "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("apply on a terminal: %v\n%q", err, out)
	}
	t.Logf("capture:\n%s", strings.ReplaceAll(string(out), "\r\x1b[K", "⏎"))
	final := regexp.MustCompile(`(?m)\r\x1b\[Kl4-` + env + ` +applied 4  healthy 4  pruned 0  waiting 0  failed 0  [0-9.]+m?s\r?\n`)
	if !final.Match(out) || strings.Count(string(out), "\r\x1b[K") < 4 {
		t.Errorf("no live line ending stack l4-%s:\n%q", env, out)
	}
	if strings.Contains(string(out), "configured") || strings.Contains(string(out), "created ConfigMap") {
		t.Errorf("per-object info lines on a terminal:\n%q", out)
	}

	code, stdout, stderr := kcLive(t, "apply", tree, "--env", env)
	if code != exitOK || strings.Contains(stdout+stderr, "\x1b[K") {
		t.Errorf("apply to a pipe: exit %d, want plain lines\n%q", code, stdout+stderr)
	}
}
