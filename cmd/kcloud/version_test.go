package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadBuildInfo(t *testing.T) {
	for _, tc := range []struct {
		name    string
		stamped string
		info    *debug.BuildInfo
		ok      bool
		want    buildInfo
		text    string
	}{
		{
			name: "no build info", stamped: "dev", ok: false,
			want: buildInfo{Version: "dev"},
		},
		{
			name: "go install of a tagged module", stamped: "dev", ok: true,
			info: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}},
			want: buildInfo{Version: "v1.2.3", GoVersion: "go1.26.8"},
			text: "kcloud v1.2.3 (go1.26.8, ",
		},
		{
			name: "release build from a dirty checkout", stamped: "v1.3.0", ok: true,
			info: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
				{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
				{Key: "vcs.time", Value: "2026-11-25T10:00:00Z"},
				{Key: "vcs.modified", Value: "true"},
			}},
			want: buildInfo{Version: "v1.3.0", GoVersion: "go1.26.8", Revision: "0123456789abcdef0123456789abcdef01234567", Time: "2026-11-25T10:00:00Z", Modified: true},
			text: "kcloud v1.3.0 (0123456789ab-dirty, go1.26.8, ",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := readBuildInfo(tc.stamped, tc.info, tc.ok)
			got.Platform = ""
			if tc.want.GoVersion == "" {
				tc.want.GoVersion = got.GoVersion
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			if tc.text != "" && !strings.HasPrefix(got.String(), tc.text) {
				t.Errorf("text %q, want prefix %q", got.String(), tc.text)
			}
		})
	}
}

// TestVersionOfABuiltBinary builds kcloud in a fresh clone of this
// checkout's HEAD, with the working tree's changes copied over (the go
// command stamps vcs.* only where .git is a directory, which a git worktree
// is not; GOFLAGS may turn stamping off, hence -buildvcs=true), and checks
// that `version -o json` names the commit.
func TestVersionOfABuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	root := repoRoot(t)
	head, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	sha := strings.TrimSpace(string(head))
	clone := filepath.Join(t.TempDir(), "src")
	git(t, root, "clone", "-q", "--shared", "--no-checkout", root, clone)
	git(t, clone, "checkout", "-q", "--detach", sha)
	changed, err := exec.Command("git", "-C", root, "ls-files", "-z", "--modified", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range strings.Split(strings.TrimRight(string(changed), "\x00"), "\x00") {
		if b, err := os.ReadFile(filepath.Join(root, name)); err == nil && name != "" {
			_ = os.MkdirAll(filepath.Dir(filepath.Join(clone, name)), 0o755)
			if err := os.WriteFile(filepath.Join(clone, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	exe := filepath.Join(t.TempDir(), "kcloud")
	build := exec.Command("go", "build", "-buildvcs=true", "-ldflags", "-X main.version=v0.0.0-test", "-o", exe, "./cmd/kcloud")
	build.Dir = clone
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(exe, "version", "-o", "json").Output()
	if err != nil {
		t.Fatalf("version -o json: %v", err)
	}
	var got buildInfo
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if got.Revision != sha || got.Version != "v0.0.0-test" || !strings.HasPrefix(got.GoVersion, "go1.") || got.Time == "" {
		t.Fatalf("got %+v, want revision %s", got, sha)
	}
	if got.Modified != (len(changed) > 0) {
		t.Errorf("modified = %v with %d bytes of changed names", got.Modified, len(changed))
	}
	text, err := exec.Command(exe, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "kcloud v0.0.0-test (" + sha[:12]; !strings.HasPrefix(string(text), want) {
		t.Errorf("text %q, want prefix %q", text, want)
	}
}

// git runs git in dir, failing the test on error.
func git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
