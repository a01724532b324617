package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ferry-gateway/ferry/proxy/app"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
	"github.com/ferry-gateway/ferry/storage"
)

// `ferry config` works the same whether Ferry runs (its admin API) or not
// (handlers over the database file).
func TestConfigWithAndWithoutARunningFerry(t *testing.T) {
	fake := testsupport.NewFakeAPI(t)
	for _, running := range []bool{false, true} {
		t.Run(fmt.Sprintf("running=%v", running), func(t *testing.T) {
			dir := t.TempDir()
			if running {
				startServe(t, dir, "--api-base", fake.URL, "--via", "direct")
			}
			en := map[string]string{"LANG": "en_US.UTF-8"}
			cfg := func(vars map[string]string, args ...string) (int, string, string) {
				t.Helper()
				return run(t, "", vars, append(append([]string{"config"}, args...), "--data-dir", dir)...)
			}
			must := func(args ...string) string {
				t.Helper()
				code, out, errs := cfg(en, args...)
				if code != 0 {
					t.Fatalf("ferry config %v: exit %d\n%s%s", args, code, out, errs)
				}
				return out
			}
			out := must("list")
			for _, k := range app.Knobs() {
				if !strings.Contains(out, k.Key) || !strings.Contains(out, k.Help) {
					t.Errorf("list lacks %s or its help:\n%s", k.Key, out)
				}
			}
			if !strings.HasPrefix(out, "KEY") || !strings.Contains(out, "next start") {
				t.Errorf("list:\n%s", out)
			}
			if got := must("get", "history.retention"); got != "90d\n" {
				t.Fatalf("get %q", got)
			}
			if got := must("set", "history.retention", "720h"); got != "history.retention = 30d: applies now.\n" {
				t.Fatalf("set said %q", got)
			}
			if got := must("get", "history.retention"); got != "30d\n" {
				t.Fatalf("get after set %q", got)
			}
			if got := must("set", "server.listen", "127.0.0.1:9999"); !strings.Contains(got, "applies at Ferry's next start") {
				t.Fatalf("set listen said %q", got)
			}

			// Bad value or key: exit 2, one line naming what is allowed, nothing stored.
			for _, c := range []struct {
				args  []string
				allow string
			}{
				{[]string{"set", "history.retention", "30m"}, "at least 1h"},
				{[]string{"set", "history.store_bodies", "maybe"}, "on or off"},
				{[]string{"set", "ui.language", "fr"}, "one of system, en, zh-CN"},
				{[]string{"set", "server.listen", "0.0.0.0:80"}, "loopback"},
				{[]string{"set", "history.nope", "1"}, "history.retention, history.store_bodies"},
				{[]string{"get", "history.nope"}, "history.retention"},
				{[]string{"reset", "history.nope"}, "history.retention"},
			} {
				code, out, errs := cfg(en, c.args...)
				if code != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, c.allow) {
					t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and one line naming %q", c.args, code, out, errs, c.allow)
				}
			}
			for _, args := range [][]string{{}, {"get"}, {"set", "history.retention"}, {"frob"}, {"list", "x"}} {
				if code, _, _ := cfg(en, args...); code != 2 {
					t.Errorf("%v: exit %d, want 2 (usage)", args, code)
				}
			}
			if got := must("get", "history.retention"); got != "30d\n" {
				t.Fatalf("a refused set changed the value: %q", got)
			}

			// Help in the user's language: the session's, then the stored choice.
			_, out, _ = cfg(map[string]string{"LANG": "zh_CN.UTF-8"}, "list")
			if !strings.Contains(out, "设置项") || !strings.Contains(out, "用量历史保留多久") {
				t.Errorf("list under LANG=zh_CN:\n%s", out)
			}
			_, _, errs := cfg(map[string]string{"LANG": "zh_CN.UTF-8"}, "set", "history.retention", "30m")
			if !strings.Contains(errs, "不接受") {
				t.Errorf("Chinese error %q", errs)
			}
			must("set", "ui.language", "zh-CN")
			if out := must("get", "history.retention"); out != "30d\n" {
				t.Errorf("get prints the canonical value in any language: %q", out)
			}
			if out := must("reset", "history.retention"); !strings.Contains(out, "已恢复默认值 90d") {
				t.Errorf("reset under ui.language=zh-CN: %q", out)
			}
			must("reset", "ui.language")
			// (startServe's --listen holds for its run, and reset says so.)
			if out := must("reset", "server.listen"); !strings.HasPrefix(out, "server.listen reset to its default, 127.0.0.1:7856: applies at Ferry's next start.\n") {
				t.Errorf("reset said %q", out)
			}
		})
	}
}

// `ferry serve --retention 7d` holds for that run: config list shows the
// flag and the stored value, and the database never gets the flag's value.
func TestServeFlagOverridesWithoutStoring(t *testing.T) {
	fake := testsupport.NewFakeAPI(t)
	dir := t.TempDir()
	p := startServe(t, dir, "--api-base", fake.URL, "--via", "direct", "--retention", "7d", "--store-bodies")
	en := map[string]string{"LANG": "en_US.UTF-8"}
	code, out, errs := run(t, "", en, "config", "list", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "7d (flag --retention)") || !strings.Contains(out, "on (flag --store-bodies)") {
		t.Fatalf("list under flags: %d\n%s%s", code, out, errs)
	}
	code, out, _ = run(t, "", en, "config", "set", "history.retention", "90d", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "This run keeps 7d from flag --retention.") {
		t.Fatalf("set under a flag: %d %q", code, out)
	}
	_, out, _ = run(t, "", en, "config", "list", "--data-dir", dir)
	if !strings.Contains(out, "7d (flag --retention; stored 90d)") {
		t.Fatalf("list after set:\n%s", out)
	}
	if _, out, _ = run(t, "", en, "config", "get", "history.retention", "--data-dir", dir); out != "7d\n" {
		t.Fatalf("get prints the value in effect: %q", out)
	}
	_ = p.cmd.Process.Kill()
	p.exited <- <-p.exited // wait for the exit; leave it for startServe's cleanup

	db, err := storage.Open(filepath.Join(dir, app.DBFile), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ret string
	var bodies any
	if _, err := db.GetSetting(app.KeyRetention, &ret); err != nil || ret != "90d" {
		t.Fatalf("stored retention %q (%v): want the set 90d, never the flag's 7d", ret, err)
	}
	if found, _ := db.GetSetting(app.KeyStoreBodies, &bodies); found {
		t.Fatalf("--store-bodies was stored: %v", bodies)
	}
}

// A knob flag with a value the knob does not take is a usage error.
func TestServeBadKnobFlag(t *testing.T) {
	code, _, errs := run(t, "", nil, "serve", "--retention", "10m", "--data-dir", t.TempDir())
	if code != 2 || !strings.Contains(errs, "at least 1h") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

// The README lists each flag with the setting it overrides, in the
// `ferry serve` table and in the Settings table.
func TestReadmeFlagKeyTables(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, k := range app.Knobs() {
		flag := "—"
		if k.Flag != "" {
			flag = "`--" + k.Flag + "`"
			serveRow := regexp.MustCompile("(?m)^\\| `--" + regexp.QuoteMeta(k.Flag) + "[^`]*` \\| `" + regexp.QuoteMeta(k.Key) + "` \\|")
			if !serveRow.MatchString(readme) {
				t.Errorf("README's ferry serve table lacks --%s → %s", k.Flag, k.Key)
			}
		}
		def, _ := k.Parse(k.Default)
		settingsRow := "| `" + k.Key + "` | " + flag + " | `" + def.String() + "` |"
		if !strings.Contains(readme, settingsRow) {
			t.Errorf("README's Settings table lacks %q", settingsRow)
		}
	}
}
