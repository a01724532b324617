package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFiltersCommands drives `ferry filters` end to end over the admin API
// opened in-process on a real database: a list is built, imported,
// exported, switched and tried, and it survives the next command (a new
// process, the same file).
func TestFiltersCommands(t *testing.T) {
	dir := t.TempDir()
	must := func(stdin string, args ...string) (string, string) {
		t.Helper()
		code, out, errs := run(t, stdin, nil, append(args, "--data-dir", dir)...)
		if code != 0 {
			t.Fatalf("ferry %v: exit %d\n%s%s", args, code, out, errs)
		}
		return out, errs
	}
	if out, _ := must("", "filters", "list"); !strings.Contains(out, "secrets") || !strings.Contains(out, "redact") || !strings.Contains(out, "flag") {
		t.Fatalf("list: %s", out)
	}
	must("", "filters", "add", "words", "机密项目", "--action", "block")
	must("", "filters", "add", "words", `\bACME-[0-9]{6}\b`, "--regex", "--scope", "both", "--max-len", "32")
	if code, _, errs := run(t, "", nil, "filters", "add", "words", "(open", "--regex", "--data-dir", dir); code == 0 || !strings.Contains(errs, "missing closing )") {
		t.Fatalf("bad regex: exit %d %s", code, errs)
	}
	file := filepath.Join(dir, "more.txt")
	os.WriteFile(file, []byte("# more\nflag response 内部\nProject Falcon\n"), 0o600)
	if out, _ := must("", "filters", "import", "words", file); !strings.Contains(out, "Imported 2 entries") {
		t.Fatalf("import: %s", out)
	}
	out, _ := must("", "filters", "export", "words")
	for _, want := range []string{"block request 机密项目", `redact both re:\bACME-[0-9]{6}\b`, "flag response 内部", "Project Falcon"} {
		if !strings.Contains(out, want) {
			t.Fatalf("export lacks %q:\n%s", want, out)
		}
	}
	out, errs := must("key ACME-123456 and ghp_JDCTbyvHNsG9eh6Yo4gfqrc5XlrWi0B26R08\n", "filters", "test")
	if strings.Contains(out, "ACME-123456") || strings.Contains(out, "ghp_") || !strings.Contains(out, "[FILTERED:github-token:") ||
		!strings.Contains(errs, "secrets entry 4 (github-token): redact") {
		t.Fatalf("test: %s / %s", out, errs)
	}
	must("", "filters", "disable", "secrets", "4")
	if out, _ := must("ghp_JDCTbyvHNsG9eh6Yo4gfqrc5XlrWi0B26R08", "filters", "test"); !strings.Contains(out, "ghp_") {
		t.Fatalf("entry 4 off, still redacted: %s", out)
	}
	if out, _ := must("", "filters", "mode", "secrets", "--response", "redact"); !strings.Contains(out, "answers redact") {
		t.Fatalf("mode: %s", out)
	}
	if out, _ := must("", "filters", "show", "secrets"); !strings.Contains(out, "github-token") || !strings.Contains(out, "off") {
		t.Fatalf("show: %s", out)
	}
	must("", "filters", "remove", "words", "1")
	if out, _ := must("", "filters", "show", "words"); strings.Contains(out, "机密项目") {
		t.Fatalf("removed entry still there: %s", out)
	}
	must("", "filters", "delete", "words")
	if code, _, _ := run(t, "", nil, "filters", "show", "words", "--data-dir", dir); code == 0 {
		t.Fatal("deleted list still shown")
	}
}
