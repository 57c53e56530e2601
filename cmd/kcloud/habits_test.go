package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"
)

// TestEveryCommandHasExamples: every command's --help ends with its
// examples, cobra's own (help, completion and its shells) included.
func TestEveryCommandHasExamples(t *testing.T) {
	root := newRootCmd(&globals{})
	var walk func(*cobra.Command)
	var n int
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.Hidden {
			return
		}
		n++
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%s: no Example in its help", c.CommandPath())
			return
		}
		args := append(strings.Fields(c.CommandPath())[1:], "--help")
		code, stdout, stderr := kcloud(t, args...)
		if code != exitOK || !strings.HasSuffix(stdout, "\nExamples:\n"+c.Example+"\n") {
			t.Errorf("kcloud %s: exit %d; the help does not end with its examples:\n%s%s", strings.Join(args, " "), code, stdout, stderr)
		}
	}
	walk(root)
	if n < 19 {
		t.Errorf("saw %d commands", n)
	}
}

// TestCompletion asks for completions the way the shell scripts of
// `kcloud completion` do (the hidden __complete command).
func TestCompletion(t *testing.T) {
	t.Chdir(filepath.Join(repoRoot(t), "testdata"))
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"layers", []string{"diff", "--layer", ""}, []string{"L1\tbootstrap", "L2\tplatform", "L3\tdata", "L4\tapps", ":4"}},
		{"environments of the tree", []string{"apply", "valid-minimal", "--env", ""}, []string{"staging", "prod", ":4"}},
		{"diff's formats", []string{"diff", "-o", ""}, []string{"text", "markdown", "json", ":4"}},
		{"render's formats", []string{"render", "--output", ""}, []string{"yaml", "json", ":4"}},
		{"spec directories", []string{"vet", ""}, []string{":16"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := kcloud(t, append([]string{"__complete"}, tc.args...)...)
			if code != exitOK {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			if d := cmp.Diff(tc.want, strings.Split(strings.TrimSpace(stdout), "\n")); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestNoColor runs diff --against on a terminal (script(1) gives it a
// pseudo-terminal): coloured, unless NO_COLOR is set.
func TestNoColor(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script(1) not installed")
	}
	repo := filepath.Join(t.TempDir(), "repo")
	app := func(v string) string { return component("app", "L4", "staging", configMaps(1, v)) }
	commitTree(t, repo, "one", map[string]*string{"specs/cluster.yaml": ptr(clusterYAML()), "specs/app.yaml": ptr(app("a"))})
	commitTree(t, repo, "two", map[string]*string{"specs/app.yaml": ptr(app("b"))})
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		noColor string
		color   bool
	}{{"terminal", "", true}, {"NO_COLOR", "1", false}} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command("script", "-qec", exe+" diff specs --against HEAD~1", "/dev/null")
			cmd.Dir = repo
			cmd.Env = append(os.Environ(), "KCLOUD_TEST_MAIN=1", "NO_COLOR="+tc.noColor, "TERM=xterm")
			out, _ := cmd.CombinedOutput()
			if !strings.Contains(string(out), "value: b") {
				t.Fatalf("no diff in:\n%q", out)
			}
			if got := strings.Contains(string(out), "\x1b["); got != tc.color {
				t.Errorf("colour %v, want %v:\n%q", got, tc.color, out)
			}
		})
	}
}

// TestKubeconfigWithSeveralPaths: KUBECONFIG lists several files, merged
// the way kubectl merges them (the first file to set a value wins).
func TestKubeconfigWithSeveralPaths(t *testing.T) {
	admin, err := clientcmd.LoadFromFile(kubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	cur := admin.Contexts[admin.CurrentContext]
	dir := t.TempDir()
	// The first file only picks a context of its own, whose cluster and
	// user the second file defines; the second file's current-context
	// names a context that does not exist and must lose.
	sel := `apiVersion: v1
kind: Config
current-context: picked
contexts:
- name: picked
  context: {cluster: ` + cur.Cluster + `, user: ` + cur.AuthInfo + `}
`
	admin.CurrentContext = "does-not-exist"
	if err := os.WriteFile(filepath.Join(dir, "select"), []byte(sel), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := clientcmd.WriteToFile(*admin, filepath.Join(dir, "admin")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", filepath.Join(dir, "select")+string(os.PathListSeparator)+filepath.Join(dir, "missing")+string(os.PathListSeparator)+filepath.Join(dir, "admin"))
	env := uniqueEnv("kcpaths")
	tree := writeTree(t, map[string]string{"cluster.yaml": clusterYAML(env), "app.yaml": component("app", "L4", env, configMaps(1, "x"))})
	code, stdout, stderr := kcloud(t, "diff", tree, "--env", env, "--log-format", "json")
	if code != exitFailed || !strings.Contains(stdout, "create ConfigMap apps-"+env+"/cm-000") {
		t.Errorf("diff with KUBECONFIG of three paths: exit %d, want 1 with a create\n%s%s", code, stdout, stderr)
	}
}
