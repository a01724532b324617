package storage

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"
)

// TestMigrationsFrozen: a migration may use only what its own file
// declares, the standard library and bbolt, never the package's live code
// (codecs, rollups, bucket variables), which follows today's schema. Were
// migration 2 to call today's record decoder or rollup encoder, a change
// to them would silently change what upgrading an old file produces.
func TestMigrationsFrozen(t *testing.T) {
	// allowed are the package's names a migration may use: the error it
	// wraps and its own table's type.
	allowed := map[string]bool{"ErrCorrupt": true, "migration": true}

	fset := token.NewFileSet()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	live := map[string]string{} // top-level name → file, outside the migrations
	files := map[string]*ast.File{}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = f
		if strings.HasPrefix(name, "migrate_v") {
			continue
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && !strings.HasPrefix(d.Name.Name, "migrateV") {
					live[d.Name.Name] = name
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						live[s.Name.Name] = name
					case *ast.ValueSpec:
						for _, n := range s.Names {
							live[n.Name] = name
						}
					}
				}
			}
		}
	}

	checked := 0
	for name := range files {
		// Parse again with object resolution: an identifier declared in
		// the file resolves to its declaration, which must lie inside the
		// migration (its function, or its own migrate_vN.go file).
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		var roots []ast.Node
		if strings.HasPrefix(name, "migrate_v") {
			roots = append(roots, f)
		} else {
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && strings.HasPrefix(fd.Name.Name, "migrateV") {
					roots = append(roots, fd)
				}
			}
		}
		for _, root := range roots {
			checked++
			// Field names (in selectors, struct types and composite
			// literal keys) are not references to package names.
			fields := map[*ast.Ident]bool{}
			ast.Inspect(root, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.SelectorExpr:
					fields[n.Sel] = true
				case *ast.StructType:
					for _, f := range n.Fields.List {
						for _, id := range f.Names {
							fields[id] = true
						}
					}
				case *ast.CompositeLit:
					for _, e := range n.Elts {
						if kv, ok := e.(*ast.KeyValueExpr); ok {
							if id, ok := kv.Key.(*ast.Ident); ok {
								fields[id] = true
							}
						}
					}
				}
				return true
			})
			ast.Inspect(root, func(n ast.Node) bool {
				id, ok := n.(*ast.Ident)
				if !ok || fields[id] || allowed[id.Name] {
					return true
				}
				if id.Obj != nil && id.Obj.Pos() >= root.Pos() && id.Obj.Pos() < root.End() {
					return true // declared inside the migration (or its file)
				}
				if from, ok := live[id.Name]; ok {
					t.Errorf("%s: a migration uses %s from %s: give the migration its own frozen copy", fset.Position(id.Pos()), id.Name, from)
				}
				return true
			})
		}
	}
	if checked < len(migrations) {
		t.Fatalf("checked %d migrations, but there are %d: a migration is named other than migrateVN", checked, len(migrations))
	}
}
