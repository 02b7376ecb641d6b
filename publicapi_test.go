package tandem

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// Every exported identifier of the module's public packages (those outside
// internal/ that are not commands) is usable from another module: Go forbids
// importing an internal package from outside the module that holds it, so
// an exported function, method, field, variable, constant or type that
// mentions an internal type cannot be called or filled by anyone else.
func TestPublicAPIMentionsNoInternalPackage(t *testing.T) {
	pkgs := publicPackages(t)
	if !slices.Contains(pkgs, "github.com/tandemhq/tandem") || !slices.Contains(pkgs, "github.com/tandemhq/tandem/client") {
		t.Fatalf("public packages %v: want the module root and client among them", pkgs)
	}
	exports := exportData(t, pkgs)
	imp := importer.ForCompiler(token.NewFileSet(), "gc", func(path string) (io.ReadCloser, error) {
		f, ok := exports[path]
		if !ok {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(f)
	})
	for _, path := range pkgs {
		pkg, err := imp.Import(path)
		if err != nil {
			t.Fatalf("import %s: %v", path, err)
		}
		for _, leak := range internalLeaks(pkg) {
			t.Errorf("%s", leak)
		}
	}
}

// publicPackages lists the module's importable packages outside internal/.
func publicPackages(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{.Name}}", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		path, name, _ := strings.Cut(sc.Text(), " ")
		if name != "main" && !isInternalPath(path) {
			pkgs = append(pkgs, path)
		}
	}
	return pkgs
}

// exportData compiles pkgs and their dependencies and returns the export
// data file of each, by import path.
func exportData(t *testing.T, pkgs []string) map[string]string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list", "-export", "-deps", "-f", "{{.ImportPath}} {{.Export}}"}, pkgs...)...).Output()
	if err != nil {
		t.Fatalf("go list -export: %v", err)
	}
	files := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		path, file, _ := strings.Cut(sc.Text(), " ")
		files[path] = file
	}
	return files
}

func isInternalPath(path string) bool {
	return strings.HasPrefix(path, "internal/") || strings.Contains(path, "/internal/") || strings.HasSuffix(path, "/internal")
}

// internalLeaks walks every exported identifier of pkg and returns one line
// for each that mentions a type of an internal package: functions (type
// parameters, parameters and results), exported methods of exported types
// (and of unexported types that the API exposes), struct fields that are
// exported or embedded, interface methods, aliases, variables and
// constants.
func internalLeaks(pkg *types.Package) []string {
	w := &leakWalker{pkg: pkg, seen: map[types.Type]bool{}}
	scope := pkg.Scope()
	for _, name := range scope.Names() {
		obj := scope.Lookup(name)
		if !obj.Exported() {
			continue
		}
		where := pkg.Name() + "." + name
		switch obj := obj.(type) {
		case *types.TypeName:
			if obj.IsAlias() {
				w.typ(where, types.Unalias(obj.Type()), true)
				continue
			}
			w.named(where, obj.Type().(*types.Named))
		default: // *types.Func, *types.Var, *types.Const
			w.typ(where, obj.Type(), false)
		}
	}
	return w.leaks
}

type leakWalker struct {
	pkg   *types.Package
	seen  map[types.Type]bool
	leaks []string
}

// named walks a named type of pkg: its type parameters, its underlying
// type and its exported methods.
func (w *leakWalker) named(where string, n *types.Named) {
	if w.seen[n] {
		return
	}
	w.seen[n] = true
	w.typeParams(where, n.TypeParams())
	w.typ(where, n.Underlying(), false)
	for m := range n.Methods() {
		if m.Exported() {
			w.typ(where+"."+m.Name(), m.Type(), false)
		}
	}
}

func (w *leakWalker) typeParams(where string, tps *types.TypeParamList) {
	for tp := range tps.TypeParams() {
		w.typ(where+"["+tp.Obj().Name()+"]", tp.Constraint(), false)
	}
}

// typ reports the internal types that t mentions. An alias of pkg is
// followed whether its target is exported or not (top says t is the
// target of an exported alias itself, so an internal target is a leak
// even though it is named).
func (w *leakWalker) typ(where string, t types.Type, top bool) {
	switch t := t.(type) {
	case *types.Alias:
		w.typ(where, types.Unalias(t), top)
	case *types.Named:
		obj := t.Obj()
		if obj.Pkg() != nil && isInternalPath(obj.Pkg().Path()) {
			w.leaks = append(w.leaks, fmt.Sprintf("%s mentions %s.%s", where, obj.Pkg().Path(), obj.Name()))
		}
		for a := range t.TypeArgs().Types() {
			w.typ(where, a, false)
		}
		// An unexported type of pkg reached from its API exposes its own
		// exported fields and methods.
		if obj.Pkg() == w.pkg && !obj.Exported() {
			w.named(where, t.Origin())
		}
	case *types.Pointer:
		w.typ(where, t.Elem(), false)
	case *types.Slice:
		w.typ(where, t.Elem(), false)
	case *types.Array:
		w.typ(where, t.Elem(), false)
	case *types.Chan:
		w.typ(where, t.Elem(), false)
	case *types.Map:
		w.typ(where, t.Key(), false)
		w.typ(where, t.Elem(), false)
	case *types.Signature:
		w.typeParams(where, t.TypeParams())
		for i := range t.Params().Len() {
			v := t.Params().At(i)
			w.typ(fmt.Sprintf("%s parameter %s", where, varName(v, i)), v.Type(), false)
		}
		for i := range t.Results().Len() {
			v := t.Results().At(i)
			w.typ(fmt.Sprintf("%s result %s", where, varName(v, i)), v.Type(), false)
		}
	case *types.Struct:
		for f := range t.Fields() {
			if f.Exported() || f.Embedded() {
				w.typ(where+"."+f.Name(), f.Type(), false)
			}
		}
	case *types.Interface:
		for m := range t.ExplicitMethods() {
			if m.Exported() {
				w.typ(where+"."+m.Name(), m.Type(), false)
			}
		}
		for e := range t.EmbeddedTypes() {
			w.typ(where, e, false)
		}
	case *types.Union:
		for term := range t.Terms() {
			w.typ(where, term.Type(), false)
		}
	case *types.TypeParam:
		// Its constraint is walked where it is declared.
	}
}

// The walker finds an internal type in each place an exported identifier
// can mention one, and nothing in unexported identifiers or fields.
func TestInternalLeaksFindsEachKind(t *testing.T) {
	const secret = `package secret
type T struct{ X int }
type C interface{ ~int }
type Level int
const High Level = 2
`
	const pub = `package pub

import "example.com/m/internal/secret"

func F(x secret.T) {}
func G() (out *secret.T) { return nil }
func H[P interface{ secret.C }]() {}
type S struct {
	Field []secret.T
	secret.T
	hidden secret.T
}
type M struct{}
func (M) Method() map[string]secret.T { return nil }
func (M) quiet() secret.T { return secret.T{} }
type I interface{ Do(chan secret.T) }
type A = secret.T
type G2[P any] struct{ V P }
type Inst = G2[secret.T]
var V func() secret.T
var W secret.T
var Ok int
const K = 1
const Top = secret.High
func Exposed() shown { return shown{} }
type shown struct{ Leak secret.T }
func private() secret.T { return secret.T{} }
type Clean struct{ N int; s secret.T }
`
	fset := token.NewFileSet()
	check := func(path, src string, imp types.Importer) *types.Package {
		f, err := parser.ParseFile(fset, path+".go", src, 0)
		if err != nil {
			t.Fatal(err)
		}
		pkg, err := (&types.Config{Importer: imp}).Check(path, fset, []*ast.File{f}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return pkg
	}
	sec := check("example.com/m/internal/secret", secret, nil)
	p := check("example.com/m/pub", pub, importerFunc(func(path string) (*types.Package, error) {
		if path == sec.Path() {
			return sec, nil
		}
		return nil, fmt.Errorf("unknown import %s", path)
	}))
	got := internalLeaks(p)
	want := []string{
		"pub.A mentions example.com/m/internal/secret.T",
		"pub.F parameter x mentions example.com/m/internal/secret.T",
		"pub.G result out mentions example.com/m/internal/secret.T",
		"pub.H[P] mentions example.com/m/internal/secret.C",
		"pub.I.Do parameter #1 mentions example.com/m/internal/secret.T",
		"pub.Inst mentions example.com/m/internal/secret.T",
		"pub.M.Method result #1 mentions example.com/m/internal/secret.T",
		"pub.S.Field mentions example.com/m/internal/secret.T",
		"pub.S.T mentions example.com/m/internal/secret.T",
		"pub.V result #1 mentions example.com/m/internal/secret.T",
		"pub.W mentions example.com/m/internal/secret.T",
		"pub.Top mentions example.com/m/internal/secret.Level",
		"pub.Exposed result #1.Leak mentions example.com/m/internal/secret.T",
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("leaks:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// varName is a parameter's name, or its position when it has none.
func varName(v *types.Var, i int) string {
	if v.Name() == "" || v.Name() == "_" {
		return fmt.Sprintf("#%d", i+1)
	}
	return v.Name()
}

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }
