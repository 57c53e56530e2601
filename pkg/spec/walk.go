package spec

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// walk collects the YAML files under dir in lexical order, read but not
// yet parsed (decodeFiles).
func (l *loader) walk(dir string) error {
	info, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return fmt.Errorf("%s: not a directory", dir)
	}
	root, err := realPath(dir)
	if err != nil {
		return err
	}
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := l.ctx.Err(); err != nil {
			return fmt.Errorf("load specs: %w", err)
		}
		if d.IsDir() {
			if path != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !isYAML(path) || strings.HasPrefix(d.Name(), ".") {
			return nil // dotfiles (.sops.yaml, an editor's) are not specs
		}
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := realPath(path)
			if err != nil {
				l.diags.errorf(Pos{File: path, Line: 1, Column: 1}, "broken symlink: %v", err)
				return nil
			}
			if !within(root, target) {
				l.diags.errorf(Pos{File: path, Line: 1, Column: 1}, "symlink points outside the spec tree %s", dir)
				return nil
			}
			if st, err := os.Stat(target); err != nil || !st.Mode().IsRegular() {
				return nil
			}
		} else if !d.Type().IsRegular() {
			return nil
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return err
		}
		if _, dup := l.byAbs[abs]; dup {
			return nil
		}
		f := &specFile{path: path, abs: abs, root: root}
		src, ok := l.read(path)
		f.src, f.read = src, ok
		l.files = append(l.files, f)
		l.byAbs[abs] = f
		return nil
	})
}

// read returns a file's bytes, refusing files over MaxFileSize before
// parsing them.
func (l *loader) read(path string) ([]byte, bool) {
	fh, err := os.Open(path)
	if err != nil {
		l.diags.errorf(Pos{File: path}, "%v", err)
		return nil, false
	}
	defer fh.Close()
	src, err := io.ReadAll(io.LimitReader(fh, MaxFileSize+1))
	if err != nil {
		l.diags.errorf(Pos{File: path}, "%v", err)
		return nil, false
	}
	if len(src) > MaxFileSize {
		l.diags.errorf(Pos{File: path, Line: 1, Column: 1}, "file is larger than %d MiB; refusing to parse it", MaxFileSize>>20)
		return nil, false
	}
	return src, true
}

func isYAML(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".yaml" || ext == ".yml"
}

func realPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(abs)
}

func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
