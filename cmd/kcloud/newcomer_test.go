package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"kcloud.dev/kcloud/internal/testenv"
)

// The newcomer tests: what a new user tripped over on a fresh clone
// (issue 20), each through run with its message and exit code.

// offlineTree is a valid tree with one L4 component in env (staging,
// prod, or one more).
func offlineTree(t *testing.T, env string, more map[string]string) string {
	t.Helper()
	cluster := clusterYAML(env)
	if env == "staging" || env == "prod" {
		cluster = clusterYAML()
	}
	files := map[string]string{"cluster.yaml": cluster, "web.yaml": component("web", "L4", env, configMaps(1, "one"))}
	for k, v := range more {
		files[k] = v
	}
	return writeTree(t, files)
}

// TestNoKubeconfigSaysWhereToGetOne: with no kubeconfig anywhere, the
// commands that talk to a cluster name --kubeconfig, KUBECONFIG and
// kcloud bootstrap, not client-go's KUBERNETES_MASTER.
func TestNoKubeconfigSaysWhereToGetOne(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("KUBECONFIG", filepath.Join(home, "none"))
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	dir := offlineTree(t, "staging", nil)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"diff", dir}, exitDiffErr},
		{[]string{"apply", dir}, exitFailed},
		{[]string{"status", dir}, exitFailed},
		{[]string{"unlock"}, exitFailed},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			code, _, stderr := kcloud(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s", code, tc.code, stderr)
			}
			for _, want := range []string{"--kubeconfig", "KUBECONFIG", "'kcloud bootstrap'"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if strings.Contains(stderr, "KUBERNETES_MASTER") {
				t.Errorf("stderr speaks of KUBERNETES_MASTER:\n%s", stderr)
			}
		})
	}
}

// TestBadSelectionIsAUsageError: --layer L9 (and --env of no environment)
// exit 2 with the flag's words, no empty location and no "invalid specs".
func TestBadSelectionIsAUsageError(t *testing.T) {
	dir := offlineTree(t, "staging", nil)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"render", dir, "--layer", "L9"}, `kcloud: --layer "L9": use one of L1, L2, L3, L4` + "\n"},
		{[]string{"diff", dir, "--layer", "L9"}, `kcloud: --layer "L9": use one of L1, L2, L3, L4` + "\n"},
		{[]string{"apply", dir, "--layer", "L9"}, `kcloud: --layer "L9": use one of L1, L2, L3, L4` + "\n"},
		{[]string{"render", dir, "--env", "nowhere"}, `kcloud: --env "nowhere": use one of staging, prod` + "\n"},
		{[]string{"render", dir, "--layer", "L1", "--env", "prod"}, "kcloud: --env: L1 is shared by every environment; use --env only with a per-environment layer\n"},
	} {
		t.Run(strings.Join(tc.args[2:], " "), func(t *testing.T) {
			code, stdout, stderr := kcloud(t, tc.args...)
			if code != exitUsage || stderr != tc.want || stdout != "" {
				t.Errorf("kcloud %s: exit %d, want %d\nstdout: %q\nstderr: %q\nwant:   %q", tc.args[0], code, exitUsage, stdout, stderr, tc.want)
			}
		})
	}
}

// TestRenderUsageErrorsExitTwo: render's exit 2 is in its help, and is
// what a bad -o gives, at parse time, for every command with -o.
func TestRenderUsageErrorsExitTwo(t *testing.T) {
	if _, stdout, _ := kcloud(t, "render", "--help"); !strings.Contains(stdout, "2 on usage\nerrors") {
		t.Errorf("render --help does not document exit 2:\n%s", stdout)
	}
	dir := offlineTree(t, "staging", nil)
	for _, tc := range []struct{ cmd, bad, want string }{
		{"render", "yml", "use yaml or json"},
		{"vet", "yaml", "use text or json"},
		{"diff", "md", "use text, markdown or json"},
		{"status", "yaml", "use text or json"},
		{"version", "yaml", "use text or json"},
	} {
		args := []string{tc.cmd, dir, "-o", tc.bad}
		if tc.cmd == "version" {
			args = []string{tc.cmd, "-o", tc.bad}
		}
		code, stdout, stderr := kcloud(t, args...)
		want := `kcloud: invalid argument "` + tc.bad + `" for "-o, --output" flag: ` + tc.want + "\nsee 'kcloud " + tc.cmd + " --help'\n"
		if code != exitUsage || stderr != want || stdout != "" {
			t.Errorf("%s -o %s: exit %d, want %d\nstderr %q\nwant   %q", tc.cmd, tc.bad, code, exitUsage, stderr, want)
		}
	}
}

// TestDestroyReadsNoSpecs: a spec directory given to destroy out of habit
// says that destroy reads none, exit 2.
func TestDestroyReadsNoSpecs(t *testing.T) {
	code, _, stderr := kcloud(t, "destroy", "--layer", "L4", "--env", "staging", "--yes", "myspecs")
	if code != exitUsage || !strings.Contains(stderr, `destroy reads no specs (got "myspecs")`) || strings.Contains(stderr, "unknown command") {
		t.Errorf("exit %d, want %d saying destroy reads no specs:\n%s", code, exitUsage, stderr)
	}
}

// TestDiffHelpDescribesTheMergeFirst: diff merges on the client first and
// dry-runs only what may change; its help says so in that order.
func TestDiffHelpDescribesTheMergeFirst(t *testing.T) {
	_, stdout, _ := kcloud(t, "diff", "--help")
	merge, dryRun := strings.Index(stdout, "merged with its live object on the client"), strings.Index(stdout, "dry run")
	if merge < 0 || dryRun < 0 || merge > dryRun {
		t.Errorf("diff --help does not describe the client-side merge before the dry run:\n%s", stdout)
	}
}

// TestVersionJSONAlwaysHasModified: modified is in -o json, clean tree or
// not.
func TestVersionJSONAlwaysHasModified(t *testing.T) {
	code, stdout, stderr := kcloud(t, "version", "-o", "json")
	var got map[string]any
	if err := json.Unmarshal([]byte(stdout), &got); code != exitOK || err != nil {
		t.Fatalf("exit %d, %v\n%s%s", code, err, stdout, stderr)
	}
	if _, ok := got["modified"]; !ok {
		t.Errorf("version -o json has no modified:\n%s", stdout)
	}
	if _, err := json.Marshal(readBuildInfo("dev", nil, false)); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(buildInfo{Version: "v1"})
	if !strings.Contains(string(b), `"modified":false`) {
		t.Errorf("a clean build's JSON lacks modified: %s", b)
	}
}

// TestSpecTreeReading: dotfiles are not specs; a plaintext Secret no
// component lists gets the plaintext-Secret error.
func TestSpecTreeReading(t *testing.T) {
	for _, tc := range []struct {
		name   string
		file   string
		body   string
		code   int
		want   string
		reject string
	}{
		{"a .sops.yaml is skipped", ".sops.yaml", "creation_rules:\n  - age: age1y789l6c5z76fnlfedvmqf7akf7l2j7uj8r5s9t8nla772sr53uwqvutp2u\n", exitOK, "", "not a kcloud document"},
		{"a dotfile in a subdirectory too", "apps/.draft.yaml", "kind: Nonsense\n", exitOK, "", "not a kcloud document"},
		{"an unreferenced plaintext Secret", "creds.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\nstringData:\n  password: hunter2\n", exitFailed,
			`creds.yaml:5:3: Secret "creds": stringData.password is in plaintext: encrypt it with sops`, "not a kcloud document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := offlineTree(t, "staging", map[string]string{tc.file: tc.body})
			code, stdout, stderr := kcloud(t, "vet", dir)
			if code != tc.code || !strings.Contains(stdout, tc.want) || strings.Contains(stdout+stderr, tc.reject) || strings.Contains(stdout+stderr, "hunter2") {
				t.Errorf("vet: exit %d, want %d with %q and no %q\n%s%s", code, tc.code, tc.want, tc.reject, stdout, stderr)
			}
		})
	}
}

// TestNoSharedNamespacesWithoutSharedComponents: a tree with no L1 or L2
// component renders none of their namespaces, only its environments'.
func TestNoSharedNamespacesWithoutSharedComponents(t *testing.T) {
	dir := offlineTree(t, "staging", nil)
	code, stdout, stderr := kcloud(t, "render", dir, "-o", "json")
	var list struct {
		Items []struct {
			Kind     string
			Metadata struct{ Name string }
		}
	}
	if err := json.Unmarshal([]byte(stdout), &list); code != exitOK || err != nil {
		t.Fatalf("exit %d, %v\n%s", code, err, stderr)
	}
	var namespaces []string
	for _, o := range list.Items {
		if o.Kind == "Namespace" {
			namespaces = append(namespaces, o.Metadata.Name)
		}
	}
	if got, want := strings.Join(namespaces, " "), "data-staging data-prod apps-staging apps-prod"; got != want {
		t.Errorf("namespaces %q, want %q", got, want)
	}
}

// TestConsoleLogDurationsHaveAUnit: console log lines print durations
// with their unit; JSON lines keep a number of milliseconds.
func TestConsoleLogDurationsHaveAUnit(t *testing.T) {
	env := uniqueEnv("units")
	dir := offlineTree(t, env, nil)
	code, _, stderr := kcloud(t, "apply", dir, "--env", env, "--wait=false", "--kubeconfig", kubeconfig(t), "--context", testContext, "--log-format", "console")
	if code != exitOK {
		t.Fatalf("apply: exit %d\n%s", code, stderr)
	}
	if !regexp.MustCompile(`duration=[0-9.]+(ms|s|µs)\b`).MatchString(stderr) || regexp.MustCompile(`duration=[0-9.]+(\s|$)`).MatchString(stderr) {
		t.Errorf("console lines lack a unit on durations:\n%s", stderr)
	}
	code, _, stderr = kcloud(t, "apply", dir, "--env", env, "--wait=false", "--kubeconfig", kubeconfig(t), "--context", testContext, "--log-format", "json")
	if code != exitOK || !regexp.MustCompile(`"duration":[0-9.]+[,}]`).MatchString(stderr) {
		t.Errorf("JSON lines lose the number of milliseconds: exit %d\n%s", code, stderr)
	}
}

// TestDiffOfARemovedEnvironmentNamesAllowEmpty: the deletes of a removed
// environment say that apply refuses them without --allow-empty, as apply
// then does.
func TestDiffOfARemovedEnvironmentNamesAllowEmpty(t *testing.T) {
	env := uniqueEnv("gone")
	dir := offlineTree(t, env, nil)
	if code, _, stderr := kcLive(t, "apply", dir, "--env", env, "--wait=false"); code != exitOK {
		t.Fatalf("apply: exit %d\n%s", code, stderr)
	}
	// The environment is gone from the tree: --env cannot name it, and
	// --layer L4 selects its stack with every other L4 stack.
	removed := writeTree(t, map[string]string{"cluster.yaml": clusterYAML(), "web.yaml": component("web", "L4", "staging", configMaps(1, "one"))})
	code, stdout, stderr := kcLive(t, "diff", removed, "--env", env)
	if code != exitUsage || !strings.Contains(stderr, `--env "`+env+`"`) {
		// --env of an environment the tree no longer has is a usage error.
		t.Errorf("diff --env %s: exit %d\n%s%s", env, code, stdout, stderr)
	}
	code, stdout, stderr = kcLive(t, "diff", removed, "--layer", "L4")
	if code != exitFailed || !strings.Contains(stdout, "- delete ConfigMap apps-"+env+"/cm-000 (l4-"+env+")") ||
		!strings.Contains(stdout, "apply refuses to prune it without --allow-empty") {
		t.Errorf("diff of the removed environment: exit %d, want %d naming --allow-empty\n%s%s", code, exitFailed, stdout, stderr)
	}
	if code, _, stderr := kcLive(t, "apply", removed, "--layer", "L4", "--wait=false"); code != exitFailed || !strings.Contains(stderr, "--allow-empty") {
		t.Errorf("apply of the removed environment: exit %d, want %d naming --allow-empty\n%s", code, exitFailed, stderr)
	}
}

// TestLeftOutIsRecorded: what a test leaves out (the Kubero parts of
// specs/, when the operator manifest cannot be had offline) is recorded
// where make test prints it after the tests, since go test hides a passing
// test's log without -v.
func TestLeftOutIsRecorded(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KCLOUD_TEST_NOTES", dir)
	testenv.Note(t, "specs/ without the Kubero components: the manifest\ncannot be had")
	testenv.Note(t, "again")
	b, err := os.ReadFile(filepath.Join(dir, "notes.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := "TestLeftOutIsRecorded: specs/ without the Kubero components: the manifest cannot be had\nTestLeftOutIsRecorded: again\n"
	if string(b) != want {
		t.Errorf("notes %q, want %q", b, want)
	}
}

// TestDemoNoteWithoutUpstream: when the demo (hack/lib.sh specs_copy)
// cannot have the Kubero operator manifest offline, it says where it looked
// and what the user does, drops the Kubero components, and downloads
// nothing: kubero-operator is not a Go module, so the go command (the
// module proxy) is not asked for it.
func TestDemoNoteWithoutUpstream(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	// lib.sh away from ../shared/upstream, and no user cache: the manifest
	// can be had nowhere.
	lib, err := os.ReadFile(filepath.Join(moduleRoot, "hack", "lib.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(tmp, "hack"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "hack", "lib.sh"), lib, 0o644); err != nil {
		t.Fatal(err)
	}
	wrapper := filepath.Join(tmp, "kcloud")
	if err := os.WriteFile(wrapper, []byte(fmt.Sprintf("#!/bin/sh\nKCLOUD_TEST_MAIN=1 exec %q \"$@\"\n", exe)), 0o755); err != nil {
		t.Fatal(err)
	}
	// A stand-in go command records that it was called.
	script := `set -euo pipefail
source "$TMP/hack/lib.sh"
go() { echo "go $*" >>"$TMP/go-called"; }
kcloud=$TMP/kcloud
specs_copy "$SPECS" "$TMP/specs"`
	cmd := exec.Command("bash", "-c", script)
	cmd.Env = append(os.Environ(), "TMP="+tmp, "SPECS="+filepath.Join(moduleRoot, "specs"), "HOME="+tmp, "XDG_CACHE_HOME="+tmp, "KCLOUD_MANIFEST_CACHE=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("specs_copy: %v\n%s", err, out)
	}
	if called, err := os.ReadFile(filepath.Join(tmp, "go-called")); err == nil {
		t.Errorf("specs_copy ran the go command: %s", called)
	}
	want := "note: the pinned Kubero operator manifest is not in the manifest cache (" + filepath.Join(tmp, "kcloud", "manifests") + ") nor in "
	if !strings.Contains(string(out), "\n"+want) && !strings.HasPrefix(string(out), want) || !strings.Contains(string(out), "'kcloud manifests fetch specs' (online)") {
		t.Errorf("the note:\n%s\nwant a line starting with:\n%s", out, want)
	}
	for _, f := range kuberoFiles {
		if _, err := os.Stat(filepath.Join(tmp, "specs", f)); err == nil {
			t.Errorf("%s kept without the operator manifest", f)
		}
	}
}
