package cli

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

// TestSpendCommands: ferry budget, limits, quota and brake, against the
// database alone and against a running Ferry.
func TestSpendCommands(t *testing.T) {
	fake := testsupport.NewFakeAPI(t)
	for _, running := range []bool{false, true} {
		t.Run(fmt.Sprintf("running=%v", running), func(t *testing.T) {
			dir := t.TempDir()
			if running {
				startServe(t, dir, "--api-base", fake.URL, "--via", "direct")
			}
			ferry := func(args ...string) (int, string) {
				t.Helper()
				code, out, errs := run(t, "", nil, append(args, "--data-dir", dir)...)
				return code, out + errs
			}
			must := func(args ...string) string {
				t.Helper()
				code, out := ferry(args...)
				if code != 0 {
					t.Fatalf("ferry %v: exit %d\n%s", args, code, out)
				}
				return out
			}
			if out := must("budget", "list"); !strings.Contains(out, "No budgets set") {
				t.Fatalf("budget list, empty:\n%s", out)
			}
			must("budget", "set", "daily", "20")
			must("budget", "set", "monthly", "$300", "--mode", "soft", "--basis", "api_equivalent")
			must("budget", "set", "requests_daily", "5000")
			out := must("budget", "list")
			for _, want := range []string{"daily", "$0.00", "$20.00", "hard", "billed", "monthly", "$300.00", "soft", "api_equivalent", "5000 requests"} {
				if !strings.Contains(out, want) {
					t.Errorf("budget list lacks %q:\n%s", want, out)
				}
			}
			if code, out := ferry("budget", "set", "weekly", "5"); code != 2 {
				t.Errorf("unknown budget: exit %d\n%s", code, out)
			}
			if code, out := ferry("budget", "set", "daily", "0"); code != 2 || !strings.Contains(out, "positive") {
				t.Errorf("negative budget: exit %d\n%s", code, out)
			}
			if out := must("budget", "allow", "1h"); !strings.Contains(out, "lifted until") {
				t.Errorf("budget allow: %s", out)
			}
			must("budget", "clear", "monthly")
			if out := must("budget", "list"); strings.Contains(out, "monthly") || !strings.Contains(out, "lifted until") {
				t.Errorf("after clear:\n%s", out)
			}

			if out := must("limits", "list"); !strings.Contains(out, "rpm") || !strings.Contains(out, "100") {
				t.Fatalf("limits list:\n%s", out)
			}
			must("limits", "set", "concurrency", "4")
			if out := must("limits", "list"); !regexp.MustCompile(`concurrency +4\n`).MatchString(out) {
				t.Errorf("limits list after set:\n%s", out)
			}
			if code, out := ferry("limits", "set", "rpm", "2000000"); code != 2 || !strings.Contains(out, "limit.rpm") {
				t.Errorf("bad rpm: exit %d\n%s", code, out)
			}
			if out := must("config", "get", "limit.concurrency"); !strings.Contains(out, "4") {
				t.Errorf("the limit is a knob: %s", out)
			}

			if out := must("quota"); !strings.Contains(out, "No subscription quota seen yet") {
				t.Errorf("quota: %s", out)
			}
			if out := must("quota", "--json"); !strings.Contains(out, `"accounts": []`) {
				t.Errorf("quota --json: %s", out)
			}
			if out := must("brake", "list"); !strings.Contains(out, "Runaway brake on: 8 repeats") {
				t.Errorf("brake list: %s", out)
			}
			if out := must("brake", "release", "sess-1"); !strings.Contains(out, "released") {
				t.Errorf("brake release: %s", out)
			}
		})
	}
}
