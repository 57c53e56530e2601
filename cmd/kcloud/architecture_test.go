package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestArchitecture keeps ARCHITECTURE.md and the doc.go file maps true:
// every package of the module is in the package map (and nothing else is),
// every doc.go lists exactly its package's files, every file and function
// ARCHITECTURE.md names exists, and every rule the code or testdata calls
// "rule N" is in the rule index.
func TestArchitecture(t *testing.T) {
	root := repoRoot(t)
	pkgs := modulePackages(t, root)
	if len(pkgs) < 20 {
		t.Fatalf("found only %d packages under %s", len(pkgs), root)
	}
	arch, err := os.ReadFile(filepath.Join(root, "ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("package map", func(t *testing.T) { checkPackageMap(t, string(arch), pkgs) })
	t.Run("file maps", func(t *testing.T) {
		for _, pkg := range pkgs {
			checkFileMap(t, root, pkg)
		}
	})
	t.Run("references", func(t *testing.T) { checkReferences(t, root, string(arch)) })
	t.Run("rule index", func(t *testing.T) { checkRuleIndex(t, root, string(arch)) })
}

// modulePackages returns the directories (slash-separated, relative to
// root) that hold a non-test .go file, as `go list ./...` finds them:
// testdata, dot and underscore directories and nested modules (hack/testbin)
// are left out.
func modulePackages(t *testing.T, root string) []string {
	t.Helper()
	seen := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path == root {
				return nil
			}
			if name == "testdata" || name == "bin" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
			rel, err := filepath.Rel(root, filepath.Dir(path))
			if err != nil {
				return err
			}
			seen[filepath.ToSlash(rel)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return slices.Sorted(maps.Keys(seen))
}

// section returns the text of a "## title" section of a Markdown file.
func section(md, title string) string {
	_, after, ok := strings.Cut(md, "\n## "+title+"\n")
	if !ok {
		return ""
	}
	if i := strings.Index(after, "\n## "); i >= 0 {
		after = after[:i]
	}
	return after
}

var mapRow = regexp.MustCompile("(?m)^\\| `([^`]+)` \\|")

func checkPackageMap(t *testing.T, arch string, pkgs []string) {
	sec := section(arch, "Package map")
	if sec == "" {
		t.Fatal(`ARCHITECTURE.md has no "## Package map" section`)
	}
	listed := map[string]bool{}
	for _, m := range mapRow.FindAllStringSubmatch(sec, -1) {
		listed[m[1]] = true
	}
	for _, p := range pkgs {
		if !listed[p] {
			t.Errorf("package %s is not in ARCHITECTURE.md's package map: add a row \"| `%s` | what it owns | what it must not do |\" to the table under \"## Package map\"", p, p)
		}
		delete(listed, p)
	}
	for _, p := range slices.Sorted(maps.Keys(listed)) {
		t.Errorf("ARCHITECTURE.md's package map lists %s, which is not a package of the module: remove its row (or fix its path)", p)
	}
}

var fileItem = regexp.MustCompile(`^\s*-\s+([\w.-]+\.go)(?::|\s|$)`)

// fileMap returns the files a doc.go's "# Files" list names, in order.
func fileMap(doc string) (files []string, ok bool) {
	_, list, ok := strings.Cut(doc, "\n# Files\n")
	if !ok {
		return nil, false
	}
	for _, line := range strings.Split(list, "\n") {
		if strings.HasPrefix(line, "# ") {
			break // the next heading
		}
		if m := fileItem.FindStringSubmatch(line); m != nil {
			files = append(files, m[1])
		}
	}
	return files, true
}

func checkFileMap(t *testing.T, root, pkg string) {
	t.Helper()
	dir := filepath.Join(root, filepath.FromSlash(pkg))
	docPath := pkg + "/doc.go"
	how := "see ARCHITECTURE.md, \"File maps\""
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, "doc.go"), nil, parser.ParseComments|parser.PackageClauseOnly)
	if os.IsNotExist(err) || err != nil && strings.Contains(err.Error(), "no such file") {
		t.Errorf("%s has no doc.go: add %s with the package comment and a \"# Files\" list of its files (%s)", pkg, docPath, how)
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if f.Doc == nil {
		t.Errorf("%s: no package comment: the package comment and its \"# Files\" list belong right above the package clause (%s)", docPath, how)
		return
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") && n != "doc.go" {
			files = append(files, n)
		}
	}
	listed, ok := fileMap(f.Doc.Text())
	if !ok && len(files) > 0 { // a package of tests only (doc.go alone) needs no map
		t.Errorf("%s: the package comment has no \"# Files\" heading: end it with \"// # Files\", a blank \"//\" line and one \"//   - name.go: what it holds\" line per file (%s)", docPath, how)
		return
	}
	for _, n := range files {
		if !slices.Contains(listed, n) {
			t.Errorf("%s: the file map does not name %s: add \"//   - %s: what it holds\" to the \"# Files\" list in %s", docPath, n, n, docPath)
		}
	}
	for i, n := range listed {
		switch {
		case n == "doc.go":
			t.Errorf("%s: the file map names doc.go: leave doc.go itself out", docPath)
		case !slices.Contains(files, n):
			t.Errorf("%s: the file map names %s, which is not a non-test file of %s: remove its line (or fix its name)", docPath, n, pkg)
		case slices.Index(listed, n) != i:
			t.Errorf("%s: the file map names %s twice", docPath, n)
		}
	}
}

var (
	codeSpan = regexp.MustCompile("`([^`]+)`")
	repoPath = regexp.MustCompile(`^(cmd|pkg|internal|hack|schema|docs|specs|testdata|bench|examples)/[\w./-]+\.\w+$`)
	goIdent  = regexp.MustCompile(`^[A-Za-z_]\w*$`)
)

// checkReferences checks every repository file ARCHITECTURE.md names in
// backquotes, and every identifier written right after a .go file on the
// same line (`pkg/x/y.go` `Func`, `Other`), against the code.
func checkReferences(t *testing.T, root, arch string) {
	decls := map[string]map[string]bool{}
	for i, line := range strings.Split(arch, "\n") {
		current := ""
		for _, m := range codeSpan.FindAllStringSubmatch(line, -1) {
			span := m[1]
			switch {
			case repoPath.MatchString(span):
				current = ""
				if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(span))); err != nil {
					t.Errorf("ARCHITECTURE.md:%d names %s, which does not exist: fix or remove the reference", i+1, span)
					continue
				}
				if strings.HasSuffix(span, ".go") {
					current = span
				}
			case current != "" && goIdent.MatchString(span):
				if decls[current] == nil {
					decls[current] = declared(t, filepath.Join(root, filepath.FromSlash(current)))
				}
				if !decls[current][span] {
					t.Errorf("ARCHITECTURE.md:%d names %s in %s, which declares no such function, method, type, var or const: fix the reference (it moved or was renamed?)", i+1, span, current)
				}
			}
		}
	}
}

// declared returns the names a Go file declares at top level (methods by
// their own name).
func declared(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			names[d.Name.Name] = true
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					names[s.Name.Name] = true
				case *ast.ValueSpec:
					for _, n := range s.Names {
						names[n.Name] = true
					}
				}
			}
		}
	}
	return names
}

var (
	ruleMention = regexp.MustCompile(`(?i)\brules?\s+(\d+(?:\s*(?:,|and|–)\s*\d+)*)\b`)
	ruleTree    = regexp.MustCompile(`^invalid-rule(\d+)-`)
	ruleRow     = regexp.MustCompile(`(?m)^\| (\d+) \|`)
	number      = regexp.MustCompile(`\d+`)
)

// checkRuleIndex finds every rule number the Go code (comments and test
// names) and testdata's trees use and checks the rule index lists it.
func checkRuleIndex(t *testing.T, root, arch string) {
	index := map[int]bool{}
	for _, m := range ruleRow.FindAllStringSubmatch(section(arch, "Rule index"), -1) {
		n, _ := strconv.Atoi(m[1])
		index[n] = true
	}
	if len(index) < 6 {
		t.Fatalf(`ARCHITECTURE.md's "## Rule index" lists %d rules; rules 1–6 of the contract at least`, len(index))
	}
	used := map[int]string{}
	for _, pkg := range modulePackages(t, root) {
		files, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(pkg), "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ruleMention.FindAllStringSubmatch(string(b), -1) {
				for _, s := range number.FindAllString(m[1], -1) {
					n, _ := strconv.Atoi(s)
					used[n] = strings.TrimPrefix(f, root+string(filepath.Separator))
				}
			}
		}
	}
	trees, err := os.ReadDir(filepath.Join(root, "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range trees {
		if m := ruleTree.FindStringSubmatch(e.Name()); m != nil {
			n, _ := strconv.Atoi(m[1])
			used[n] = "testdata/" + e.Name()
		}
	}
	for _, n := range slices.Sorted(maps.Keys(used)) {
		if where := used[n]; !index[n] {
			t.Errorf("%s refers to rule %d, which ARCHITECTURE.md's rule index does not list: add a row \"| %d | what | where |\" under \"## Rule index\" (and the rule to docs/specs.md)", where, n, n)
		}
	}
}
