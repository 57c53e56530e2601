package main

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"kcloud.dev/kcloud/pkg/diff"
	"kcloud.dev/kcloud/pkg/printer"
	"kcloud.dev/kcloud/pkg/render"
)

// gitRevision is what --against accepts: branch and tag names, commit
// hashes and suffixes such as ~1, ^2 or @{upstream}; never an option.
var gitRevision = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._/~^@{}+-]{0,254}$`)

// diffAgainst diffs the render of dirs at a git revision with the render
// of the working tree, offline. Unset ${NAME}s stay as written on both
// sides (a fork's pull request has no secrets).
func diffAgainst(ctx context.Context, g *globals, dirs []string, ref string, opts render.Options, popts printer.DiffOptions, allowDataLoss bool) error {
	if !gitRevision.MatchString(ref) || strings.Contains(ref, "..") {
		return withCode(exitUsage, fmt.Errorf("--against %q: not a git revision (a branch, tag, commit or HEAD~1)", ref))
	}
	old, cleanup, err := checkoutAt(ctx, ref, dirs)
	if err != nil {
		return withCode(exitDiffErr, err)
	}
	defer cleanup()
	opts.Lenient = true
	before, err := load(ctx, g, dirs, loadOptions{render: &opts, at: &old})
	if err != nil {
		return atLeast(exitDiffErr, err)
	}
	after, err := load(ctx, g, dirs, loadOptions{render: &opts})
	if err != nil {
		return atLeast(exitDiffErr, err)
	}
	out, err := diff.Compare(before.plan, after.plan, diff.CompareOptions{AllowDataLoss: allowDataLoss, From: ref, To: "working-tree"})
	if err != nil {
		return withCode(exitDiffErr, g.red.Error(err))
	}
	if err := printer.Diff(g.red.Writer(g.stdout), out, popts); err != nil {
		return withCode(exitDiffErr, err)
	}
	if out.HasChanges() {
		return withCode(exitFailed, nil)
	}
	return nil
}

// checkout is a spec tree extracted from a git revision.
type checkout struct {
	ref  string
	root string   // the temporary directory holding the revision's tree
	dirs []string // the spec directories inside root
}

// rename turns the temporary paths in s into ref:path.
func (c checkout) rename(s string) string {
	return strings.ReplaceAll(s, c.root+string(filepath.Separator), c.ref+":")
}

// checkoutAt extracts the tree of the git revision ref of the repository
// holding the working directory into a temporary directory (git archive,
// so nothing in the repository changes) and maps dirs into it. git gets
// every value as an argument, never through a shell.
func checkoutAt(ctx context.Context, ref string, dirs []string) (checkout, func(), error) {
	noop := func() {}
	top, err := gitOutput(ctx, "", "rev-parse", "--show-toplevel")
	if err != nil {
		return checkout{}, noop, fmt.Errorf("--against needs a git checkout: %w", err)
	}
	top, err = filepath.EvalSymlinks(top)
	if err != nil {
		return checkout{}, noop, err
	}
	sha, err := gitOutput(ctx, top, "rev-parse", "--verify", "--quiet", "--end-of-options", ref+"^{commit}")
	if err != nil {
		return checkout{}, noop, fmt.Errorf("--against %s: no such commit in %s", ref, top)
	}
	root, err := os.MkdirTemp("", "kcloud-against-")
	if err != nil {
		return checkout{}, noop, err
	}
	cleanup := func() { _ = os.RemoveAll(root) }
	c := checkout{ref: ref, root: root}
	for _, d := range dirs {
		abs, err := filepath.Abs(d)
		if err == nil {
			abs, err = filepath.EvalSymlinks(abs)
		}
		rel, rerr := filepath.Rel(top, abs)
		if err != nil || rerr != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			cleanup()
			return checkout{}, noop, fmt.Errorf("--against: %s is not inside the git repository %s", d, top)
		}
		c.dirs = append(c.dirs, filepath.Join(root, rel))
	}
	cmd := exec.CommandContext(ctx, "git", "-C", top, "archive", "--format=tar", sha)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	pipe, err := cmd.StdoutPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err == nil {
		err = untar(pipe, root)
		if werr := cmd.Wait(); err == nil && werr != nil {
			err = fmt.Errorf("%w: %s", werr, strings.TrimSpace(stderr.String()))
		}
	}
	if err != nil {
		cleanup()
		return checkout{}, noop, fmt.Errorf("--against %s: git archive: %w", ref, err)
	}
	return c, cleanup, nil
}

// untar writes the directories and regular files of a tar stream under
// root; entries that would leave root, and links, are refused or skipped.
func untar(r io.Reader, root string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Clean(filepath.FromSlash(h.Name))
		if filepath.IsAbs(name) || name == ".." || strings.HasPrefix(name, ".."+string(filepath.Separator)) {
			return fmt.Errorf("archive entry %q leaves the tree", h.Name)
		}
		path := filepath.Join(root, name)
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(path, 0o755)
		case tar.TypeReg:
			err = writeFile(path, tr)
		}
		if err != nil {
			return err
		}
	}
}

func writeFile(path string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// gitOutput runs git with args (in dir, unless empty) and returns its
// trimmed output.
func gitOutput(ctx context.Context, dir string, args ...string) (string, error) {
	if dir != "" {
		args = append([]string{"-C", dir}, args...)
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return "", fmt.Errorf("%w: %s", err, msg)
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}
