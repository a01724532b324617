package app

// The layout rules the package docs state, checked against the real import
// graph (`go list -deps -json`) for both builds users get: the default
// (desktop) build and `-tags headless`. A rule written only in a doc.go is
// broken by the first convenient import; this test is what keeps them true.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const module = "github.com/ferry-gateway/ferry"

// listedPackage is the part of `go list -json` the rules read.
type listedPackage struct {
	ImportPath   string
	Imports      []string // direct, non-test
	Deps         []string // transitive, non-test
	TestImports  []string
	XTestImports []string
	Module       *struct{ Path string }
}

func (p listedPackage) direct(external bool) []string {
	if external {
		return slices.Concat(p.Imports, p.TestImports, p.XTestImports)
	}
	return slices.Concat(p.Imports, p.TestImports)
}

// rel is the package's path inside the module ("." for the root).
func (p listedPackage) rel() string {
	if p.ImportPath == module {
		return "."
	}
	return strings.TrimPrefix(p.ImportPath, module+"/")
}

// under reports whether path is dir or inside it; both are module-relative
// ("proxy", "storage") or full import paths.
func under(path, dir string) bool { return path == dir || strings.HasPrefix(path, dir+"/") }

func goTool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH: the import graph cannot be read")
	}
	return p
}

func moduleDir(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, goTool(t), "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// listPackages runs `go list -deps -json` over the module with tags and
// returns the module's own packages. CGO_ENABLED=1 so that the default
// build's graph includes the GUI's cgo files; go list compiles nothing.
func listPackages(t *testing.T, dir, tags string) []listedPackage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := []string{"list", "-deps", "-test=false", "-json", "-e"}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	cmd := exec.CommandContext(ctx, goTool(t), append(args, "./...")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -tags %q: %v\n%s", tags, err, stderr.String())
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		if p.Module != nil && p.Module.Path == module {
			pkgs = append(pkgs, p)
		}
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list -tags %q found %d of the module's packages; the rules would check nothing", tags, len(pkgs))
	}
	return pkgs
}

// importRule is one sentence of a package doc as a check: for a package
// (module-relative path) that it applies to, what it may not import.
type importRule struct {
	doc string // where the rule is written
	// applies picks the packages the rule binds, by module-relative path.
	applies func(rel string) bool
	// transitive: the package may not depend on a forbidden path even
	// indirectly; otherwise only its own imports (test files included)
	// count.
	transitive bool
	// external: the package's external tests (package x_test) count too.
	// They are other packages, so a rule about what a package's own code
	// may depend on leaves them out.
	external bool
	// nonTest: only the package's own non-test imports count.
	nonTest   bool
	forbidden func(importPath string) bool
}

var importRules = []importRule{
	{
		doc:        "STYLE.md, proxy/doc.go: nothing under proxy/ or storage/ imports Fyne or ui/ (fyne.io/systray is allowed for the core's tray)",
		applies:    func(rel string) bool { return under(rel, "proxy") || under(rel, "storage") },
		transitive: true,
		external:   true,
		forbidden: func(p string) bool {
			return under(p, "fyne.io/fyne/v2") || under(p, module+"/ui")
		},
	},
	{
		doc:      "STYLE.md, storage/doc.go: only storage/ imports bbolt",
		applies:  func(rel string) bool { return !under(rel, "storage") },
		external: true,
		forbidden: func(p string) bool {
			return under(p, "go.etcd.io/bbolt")
		},
	},
	{
		doc:        "storage/doc.go: storage imports nothing from proxy or ui",
		applies:    func(rel string) bool { return under(rel, "storage") },
		transitive: true,
		forbidden: func(p string) bool {
			return under(p, module+"/proxy") || under(p, module+"/ui")
		},
	},
	{
		doc:        "proxy/usage/doc.go: usage never imports package proxy (its external tests drive a real proxy)",
		applies:    func(rel string) bool { return under(rel, "proxy/usage") },
		transitive: true,
		forbidden:  func(p string) bool { return p == module+"/proxy" },
	},
	{
		doc:        "proxy/usage/doc.go: proxy does not import usage (proxy/app wires a Meters into the proxy)",
		applies:    func(rel string) bool { return rel == "proxy" },
		transitive: true,
		forbidden:  func(p string) bool { return under(p, module+"/proxy/usage") },
	},
	{
		doc:        "proxy/reply/doc.go: reply imports only the standard library",
		applies:    func(rel string) bool { return rel == "proxy/reply" },
		transitive: true,
		forbidden:  func(p string) bool { return strings.Contains(strings.SplitN(p, "/", 2)[0], ".") },
	},
	{
		// Direct imports only: route publishes on proxy/events, whose
		// events carry a storage.Record.
		doc:     "proxy/route/doc.go: route knows nothing of storage or the UI",
		applies: func(rel string) bool { return under(rel, "proxy/route") },
		forbidden: func(p string) bool {
			return under(p, module+"/storage") || under(p, module+"/ui")
		},
	},
	{
		doc: "proxy/testsupport/doc.go: production code never imports testsupport (tests, its own commands and the benchmark may)",
		applies: func(rel string) bool {
			return !under(rel, "proxy/testsupport") && !under(rel, "scripts")
		},
		nonTest:   true,
		forbidden: func(p string) bool { return under(p, module+"/proxy/testsupport") },
	},
	{
		doc:     "ui/doc.go: ui reaches the core only through its Core interface; of the module it imports storage (Record), proxy/events and assets",
		applies: func(rel string) bool { return rel == "ui" },
		forbidden: func(p string) bool {
			if !under(p, module) {
				return false
			}
			rel := strings.TrimPrefix(p, module+"/")
			return !(under(rel, "ui") || rel == "storage" || rel == "proxy/events" || under(rel, "assets"))
		},
	},
}

func TestImportRules(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the whole import graph")
	}
	dir := moduleDir(t)
	for _, tags := range []string{"", "headless"} {
		pkgs := listPackages(t, dir, tags)
		checked := make([]int, len(importRules))
		for _, p := range pkgs {
			for i, r := range importRules {
				if !r.applies(p.rel()) {
					continue
				}
				checked[i]++
				imports := p.direct(r.external)
				if r.nonTest {
					imports = p.Imports
				}
				if r.transitive {
					imports = slices.Concat(p.Deps, imports)
				}
				for _, imp := range imports {
					if r.forbidden(imp) {
						t.Errorf("tags %q: %s imports %s, which %s forbids", tags, p.ImportPath, imp, r.doc)
					}
				}
			}
		}
		for i, n := range checked {
			if n == 0 {
				t.Errorf("tags %q: the rule %q applied to no package: the layout moved and the rule did not", tags, importRules[i].doc)
			}
		}
	}
}

// TestImportRulesCatch makes sure a rule fires on the imports it names, so
// that TestImportRules passing means something.
func TestImportRulesCatch(t *testing.T) {
	cases := []struct {
		rel, imp string
	}{
		{"proxy/app", "fyne.io/fyne/v2/widget"},
		{"storage", module + "/ui"},
		{"proxy/route", "go.etcd.io/bbolt"},
		{"storage", module + "/proxy/route"},
		{"proxy/usage", module + "/proxy"},
		{"ui", module + "/proxy/route"},
		{"proxy", module + "/proxy/usage"},
		{"proxy/reply", "golang.org/x/net/proxy"},
		{"proxy/route", module + "/storage"},
		{"proxy/app", module + "/proxy/testsupport"},
	}
	for _, c := range cases {
		fired := false
		for _, r := range importRules {
			if r.applies(c.rel) && r.forbidden(c.imp) {
				fired = true
			}
		}
		if !fired {
			t.Errorf("no rule forbids %s importing %s", c.rel, c.imp)
		}
	}
	for _, ok := range []struct{ rel, imp string }{
		{"proxy/app", "fyne.io/systray"},
		{"storage", "go.etcd.io/bbolt"},
		{"ui", module + "/proxy/events"},
		{"proxy/usage", module + "/proxy/reply"},
		{"proxy/reply", "encoding/json"},
		{"scripts/bench", module + "/proxy/testsupport"},
	} {
		for _, r := range importRules {
			if r.applies(ok.rel) && r.forbidden(ok.imp) {
				t.Errorf("%s importing %s is allowed, but %q forbids it", ok.rel, ok.imp, r.doc)
			}
		}
	}
}

// maxLines bounds a non-test Go file: one concern per file (STYLE.md).
const maxLines = 600

// overLimit lists files still over maxLines while their split is under
// way, with who splits them. The test fails when a listed file is back
// under the limit, so the list only shrinks.
var overLimit = map[string]string{}

func TestNoLongFiles(t *testing.T) {
	dir := moduleDir(t)
	seen := map[string]bool{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != dir && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		n, err := countLines(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		_, listed := overLimit[rel]
		seen[rel] = true
		switch {
		case n > maxLines && !listed:
			t.Errorf("%s has %d lines, over %d: split it by concern", rel, n, maxLines)
		case n <= maxLines && listed:
			t.Errorf("%s is down to %d lines: remove it from overLimit", rel, n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for rel := range overLimit {
		if !seen[rel] {
			t.Errorf("%s is gone: remove it from overLimit", rel)
		}
	}
}

func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		n++
	}
	return n, s.Err()
}
