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

	"github.com/rhysd/actionlint"
	yaml "go.yaml.in/yaml/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kcloud.dev/kcloud/internal/testenv"
)

const workflowPath = "examples/github-actions/kcloud.yaml"

func TestExampleWorkflowPassesActionlint(t *testing.T) {
	var out bytes.Buffer
	l, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := l.LintFile(filepath.Join(repoRoot(t), workflowPath), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) > 0 {
		t.Errorf("actionlint: %d error(s):\n%s", len(errs), out.String())
	}
}

type workflow struct {
	Env  map[string]string
	Jobs map[string]struct {
		Env   map[string]string
		Steps []struct {
			ID  string
			Run string
			Env map[string]string
		}
	}
}

// stepRunner runs a workflow's run: steps the way a GitHub runner does
// (bash -e -o pipefail), with the ${{ }} values of their env: given by the
// test.
type stepRunner struct {
	t    *testing.T
	wf   workflow
	dir  string            // the checkout
	temp string            // RUNNER_TEMP
	path string            // PATH with kcloud first
	vals map[string]string // env: values that are ${{ }} expressions
}

func (r *stepRunner) run(job, id string) (outputs map[string]string, log string, err error) {
	r.t.Helper()
	j, ok := r.wf.Jobs[job]
	if !ok {
		r.t.Fatalf("no job %s", job)
	}
	for _, s := range j.Steps {
		if s.ID != id {
			continue
		}
		outFile := filepath.Join(r.temp, "output-"+job+"-"+id)
		env := []string{"PATH=" + r.path, "HOME=" + r.temp, "RUNNER_TEMP=" + r.temp, "GITHUB_OUTPUT=" + outFile, "GITHUB_ACTIONS=true"}
		for _, m := range []map[string]string{r.wf.Env, j.Env, s.Env} {
			for k, v := range m {
				if strings.Contains(v, "${{") {
					given, ok := r.vals[k]
					if !ok {
						r.t.Fatalf("step %s/%s: the test gives no value for %s: %s", job, id, k, v)
					}
					v = given
				}
				env = append(env, k+"="+v)
			}
		}
		cmd := exec.Command("bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", s.Run)
		cmd.Dir, cmd.Env = r.dir, env
		b, err := cmd.CombinedOutput()
		outputs = map[string]string{}
		if data, rerr := os.ReadFile(outFile); rerr == nil {
			for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
				if k, v, ok := strings.Cut(line, "="); ok {
					outputs[k] = v
				}
			}
		}
		return outputs, string(b), err
	}
	r.t.Fatalf("no step %s in job %s", id, job)
	return nil, "", nil
}

// TestExampleWorkflowSteps runs the example workflow's own scripts against
// a test control plane of its own: vet, apply on main with the apply
// identity, the pull-request diff with the read-only identity (computed
// client side, no dry run) and the fork's offline one, then apply again.
func TestExampleWorkflowSteps(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(repoRoot(t), workflowPath))
	if err != nil {
		t.Fatal(err)
	}
	var wf workflow
	if err := yaml.Unmarshal(src, &wf); err != nil {
		t.Fatal(err)
	}
	srv, err := testenv.StartAPIServer(testenv.WithoutCRDs())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	temp := t.TempDir()
	admin := filepath.Join(temp, "admin.kubeconfig")
	if err := srv.WriteKubeconfig(admin); err != nil {
		t.Fatal(err)
	}

	// The repository: main, and a pull request's commit on top.
	repo := filepath.Join(temp, "repo")
	app := func(value string) string {
		return component("app", "L4", "staging", `    - apiVersion: v1
      kind: ConfigMap
      metadata: {name: settings}
      data: {value: `+value+`}
`)
	}
	// The tree's node is the test API server's host, as a real tree's
	// apiEndpoint is its cluster's: the workflow's apply passes the
	// wrong-cluster guard without --context, as a user's does.
	cluster := strings.Replace(clusterYAML(), "host: 10.0.0.1", "host: 127.0.0.1", 1)
	commitTree(t, repo, "main", map[string]*string{"specs/cluster.yaml": ptr(cluster), "specs/app.yaml": ptr(app("one"))})
	base := strings.TrimSpace(git(t, repo, "rev-parse", "HEAD"))
	commitTree(t, repo, "change", map[string]*string{"specs/app.yaml": ptr(app("two"))})
	head := strings.TrimSpace(git(t, repo, "rev-parse", "HEAD"))

	ci := filepath.Join(temp, "ci")
	if code, stdout, stderr := kcloud(t, "identities", filepath.Join(repo, "specs"), "--out-dir", ci, "--kubeconfig", admin, "--log-format", "json"); code != exitOK {
		t.Fatalf("identities: exit %d\n%s%s", code, stdout, stderr)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(ci, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	// kcloud on PATH is this test binary, which runs kcloud's main.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(temp, "bin")
	wrapper := fmt.Sprintf("#!/bin/sh\nKCLOUD_TEST_MAIN=1 exec %q \"$@\"\n", exe)
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "kcloud"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	runnerTemp := filepath.Join(temp, "runner")
	if err := os.MkdirAll(runnerTemp, 0o755); err != nil {
		t.Fatal(err)
	}
	r := &stepRunner{t: t, wf: wf, dir: repo, temp: runnerTemp, path: bin + ":" + os.Getenv("PATH"), vals: map[string]string{
		"SAME_REPO":    "true",
		"BASE_SHA":     base,
		"SOPS_AGE_KEY": demoIdentity(t), // the CI secret that decrypts specs/
	}}
	kubeconfigFile := filepath.Join(runnerTemp, "kcloud.kubeconfig")

	if _, log, err := r.run("vet", "vet"); err != nil {
		t.Fatalf("vet: %v\n%s", err, log)
	}

	// main is applied first: the pull request's diff is against it.
	git(t, repo, "checkout", "-q", base)
	r.vals["KUBECONFIG_DATA"] = read("apply.kubeconfig")
	if _, log, err := r.run("apply", "kubeconfig"); err != nil {
		t.Fatalf("apply kubeconfig: %v\n%s", err, log)
	}
	if _, log, err := r.run("apply", "apply"); err != nil {
		t.Fatalf("apply of main: %v\n%s", err, log)
	}
	git(t, repo, "checkout", "-q", head)

	r.vals["KUBECONFIG_DATA"] = read("diff.kubeconfig")
	if _, log, err := r.run("diff", "kubeconfig"); err != nil {
		t.Fatalf("diff kubeconfig: %v\n%s", err, log)
	}
	if fi, err := os.Stat(kubeconfigFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("kubeconfig: %v, mode %v, want 0600", err, fi.Mode().Perm())
	}
	for _, sameRepo := range []string{"true", "false"} {
		r.vals["SAME_REPO"] = sameRepo
		out, log, err := r.run("diff", "diff")
		if err != nil {
			t.Fatalf("diff: %v\n%s", err, log)
		}
		want := map[bool]string{true: "live", false: "against"}[sameRepo == "true"]
		if out["mode"] != want || out["code"] != "1" || strings.Contains(log, "::warning::") {
			t.Errorf("same repository %s: outputs %v, want mode=%s code=1 and no warning\n%s", sameRepo, out, want, log)
		}
		r.vals["MODE"], r.vals["DETAILS_URL"] = out["mode"], "https://example.com/artifact/1"
		if _, log, err := r.run("diff", "comment"); err != nil {
			t.Fatalf("comment: %v\n%s", err, log)
		}
		md, err := os.ReadFile(filepath.Join(runnerTemp, "kcloud-diff", "diff.md"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(md), "### kcloud diff") || !strings.Contains(string(md), "-  value: one") || !strings.Contains(string(md), "+  value: two") ||
			strings.Contains(string(md), "Computed client side") != (want == "live") {
			t.Errorf("comment (%s):\n%s", want, md)
		}
	}

	r.vals["KUBECONFIG_DATA"] = read("apply.kubeconfig")
	if _, log, err := r.run("apply", "kubeconfig"); err != nil {
		t.Fatalf("apply kubeconfig: %v\n%s", err, log)
	}
	if _, log, err := r.run("apply", "apply"); err != nil {
		t.Fatalf("apply: %v\n%s", err, log)
	}
	// After the apply, the read-only identity's live diff shows nothing.
	r.vals["SAME_REPO"] = "true"
	if out, log, err := r.run("diff", "diff"); err != nil || out["code"] != "0" || out["mode"] != "live" {
		t.Errorf("diff after apply: %v, outputs %v\n%s", err, out, log)
	}
	cm, err := clientFor(t, admin).CoreV1().ConfigMaps("apps-staging").Get(context.Background(), "settings", metav1.GetOptions{})
	if err != nil || cm.Data["value"] != "two" {
		t.Errorf("the workflow's apply: %v, %v, want value two", err, cm.Data)
	}
}
