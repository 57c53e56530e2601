package shape

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// root is the module's root, from this package's directory.
const root = "../.."

// goFile is one parsed production file.
type goFile struct {
	path   string // slash-separated, from the module root
	pkgDir string // its package's directory, from the module root
	fset   *token.FileSet
	ast    *ast.File
	lines  int
}

// productionFiles parses every non-test Go file of kcloud's own packages:
// cmd/, pkg/, internal/ and hack/.
func productionFiles(t *testing.T) []goFile {
	t.Helper()
	var out []goFile
	for _, top := range []string{"cmd", "pkg", "internal", "hack"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, src, parser.ParseComments)
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			rel = filepath.ToSlash(rel)
			out = append(out, goFile{path: rel, pkgDir: filepath.ToSlash(filepath.Dir(rel)), fset: fset, ast: f, lines: strings.Count(string(src), "\n")})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(out) < 100 {
		t.Fatalf("found %d production files under %s: is the root right?", len(out), root)
	}
	return out
}

func parseSource(fset *token.FileSet, src string) (*ast.File, error) {
	return parser.ParseFile(fset, "src.go", src, 0)
}
