package quota

import (
	"net/http"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParse: the quota headers come from the upstream; whatever they
// hold, what is kept is bounded and well-formed.
func FuzzParse(f *testing.F) {
	f.Add("5h-utilization", "0.42", "5h-reset", "1764680400", "status", "allowed")
	f.Add("7d-sonnet-utilization", "1e308", "overage-utilization", "NaN", "representative-claim", "five_hour")
	f.Add("-utilization", "-1", "x-reset", "2026-12-02T10:00:00Z", "7d-status", "\xff\xfe")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3, v3 string) {
		h := http.Header{}
		for _, kv := range [][2]string{{k1, v1}, {k2, v2}, {k3, v3}} {
			h[http.CanonicalHeaderKey(prefix+kv[0])] = []string{kv[1]}
		}
		a, ok := Parse(h, "acct", time.Unix(0, 0))
		// A header named the bare prefix names no quota field; only
		// a longer one must be read (CI's fuzzer found three empty keys).
		if !ok && k1+k2+k3 != "" {
			t.Fatal("headers with the prefix not read")
		}
		if len(a.Windows) > maxWindows {
			t.Fatalf("%d windows", len(a.Windows))
		}
		for _, s := range []string{a.Status, a.RepresentativeClaim, a.OverageStatus, a.Fallback} {
			if len(s) > maxValue || !utf8.ValidString(s) {
				t.Fatalf("kept %q", s)
			}
		}
		for _, w := range a.Windows {
			if w.Utilization < 0 || w.Utilization >= 1e6 || len(w.Name) > maxValue || len(w.Status) > maxValue ||
				!utf8.ValidString(w.Name) || !utf8.ValidString(w.Status) {
				t.Fatalf("window %+v", w)
			}
		}
	})
}
