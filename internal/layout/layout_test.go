package layout

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/tarian-soc/tarian/"

// pkg is one package's non-test files.
type pkg struct {
	dir     string // relative to the repository root
	doc     bool
	imports map[string]bool
	prints  []string
}

func loadPackages(t *testing.T) map[string]*pkg {
	t.Helper()
	root := filepath.Join("..", "..")
	pkgs := map[string]*pkg{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules" || strings.HasPrefix(name, "tarian-")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		dir, _ := filepath.Rel(root, filepath.Dir(path))
		dir = filepath.ToSlash(dir)
		p := pkgs[dir]
		if p == nil {
			p = &pkg{dir: dir, imports: map[string]bool{}}
			pkgs[dir] = p
		}
		if f.Doc != nil && strings.HasPrefix(f.Doc.Text(), "Package "+f.Name.Name) || f.Doc != nil && f.Name.Name == "main" && strings.HasPrefix(f.Doc.Text(), "Command ") {
			p.doc = true
		}
		for _, im := range f.Imports {
			s, _ := strconv.Unquote(im.Path.Value)
			if rest, ok := strings.CutPrefix(s, module); ok {
				p.imports[rest] = true
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == "fmt" && strings.HasPrefix(sel.Sel.Name, "Print") {
				p.prints = append(p.prints, fset.Position(sel.Pos()).String())
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 10 {
		t.Fatalf("found only %d packages: walking the wrong tree?", len(pkgs))
	}
	return pkgs
}

func TestEveryPackageDocumented(t *testing.T) {
	for dir, p := range loadPackages(t) {
		if !p.doc {
			t.Errorf("%s has no package comment (\"Package x ...\" or \"Command x ...\")", dir)
		}
	}
}

func TestNoGrabBagPackages(t *testing.T) {
	banned := map[string]bool{"util": true, "utils": true, "common": true, "types": true, "models": true, "helpers": true, "base": true, "misc": true}
	for dir := range loadPackages(t) {
		if banned[filepath.Base(dir)] {
			t.Errorf("%s: name a package for what it is, not util/common/types", dir)
		}
	}
}

func TestNoPrintOutsideCmd(t *testing.T) {
	for dir, p := range loadPackages(t) {
		if strings.HasPrefix(dir, "cmd/") {
			continue
		}
		for _, at := range p.prints {
			t.Errorf("%s: fmt.Print* outside cmd/ (log with slog, or write to an injected io.Writer)", at)
		}
	}
}

// TestDependencyDirection keeps the layers of docs/ARCHITECTURE.md: the
// bottom packages import nothing of ours, and only the composition root
// (and the commands built on it) import the storage backends.
func TestDependencyDirection(t *testing.T) {
	pkgs := loadPackages(t)
	bottom := []string{"internal/tenant", "internal/event"}
	for _, b := range bottom {
		p := pkgs[b]
		if p == nil {
			t.Fatalf("package %s missing", b)
		}
		for im := range p.imports {
			t.Errorf("%s is at the bottom but imports %s", b, im)
		}
	}
	backends := []string{"internal/store/sqlstore", "internal/logstore/vlogs", "internal/logstore/vlhttp"}
	mayImportBackends := map[string]bool{
		"internal/server": true, "internal/server/servertest": true, "internal/cli": true, "internal/config": true,
	}
	for dir, p := range pkgs {
		for _, b := range backends {
			if p.imports[b] && !mayImportBackends[dir] {
				t.Errorf("%s imports backend %s: declare the interface you need and let internal/server wire it", dir, b)
			}
		}
		if p.imports["internal/server"] && dir != "internal/cli" && dir != "internal/server/servertest" {
			t.Errorf("%s imports the composition root internal/server", dir)
		}
	}
}
