package proxy

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Why the guards refused a request, as the ferry_refused_requests_total
// metric's reason label says it.
const (
	RefusedHost        = "host"          // 421: not a loopback Host (DNS rebinding)
	RefusedOrigin      = "origin"        // 403: a browser origin not allowed
	RefusedFetchSite   = "fetch_site"    // 403: Sec-Fetch-Site cross-site or same-site
	RefusedConnect     = "connect"       // 400: CONNECT, Ferry is no HTTP proxy
	RefusedTarget      = "target"        // 414: request target over MaxTarget
	RefusedConnections = "connections"   // 529: over the connection cap
	RefusedOverloaded  = "buffer_budget" // 529: the buffered-bytes budget is spent
)

// refusalLogEvery bounds the log lines of refused requests: a hostile
// page can send thousands a second, and each line would cost disk (issue
// 14: 60 refused requests with 900 KB paths grew the log by 54 MB).
const refusalLogEvery = time.Minute

// refusals counts the guards' refusals. They are not recorded in the
// history: a page could otherwise fill the database for as long as it
// stays open. 401 and 413 are recorded as before: they come from clients
// that reached Ferry on purpose.
type refusals struct {
	counts sync.Map // reason → *atomic.Uint64

	mu       sync.Mutex
	lastLog  time.Time
	sinceLog uint64
}

func (r *refusals) add(reason string) {
	v, ok := r.counts.Load(reason)
	if !ok {
		v, _ = r.counts.LoadOrStore(reason, new(atomic.Uint64))
	}
	v.(*atomic.Uint64).Add(1)
}

// snapshot returns the counts so far by reason.
func (r *refusals) snapshot() map[string]uint64 {
	out := map[string]uint64{}
	r.counts.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Uint64).Load()
		return true
	})
	return out
}

// logDue says whether a log line is due now, and how many refusals it
// covers (this one included).
func (r *refusals) logDue(now time.Time) (bool, uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sinceLog++
	if !r.lastLog.IsZero() && now.Sub(r.lastLog) < refusalLogEvery {
		return false, 0
	}
	n := r.sinceLog
	r.lastLog, r.sinceLog = now, 0
	return true, n
}

// refusalReason maps a guard's error to its metric label.
func refusalReason(r *http.Request, e *Error) string {
	switch {
	case r.Method == http.MethodConnect:
		return RefusedConnect
	case e.Status == http.StatusMisdirectedRequest:
		return RefusedHost
	case r.Header.Get("Sec-Fetch-Site") != "" && r.Header.Get("Origin") == "":
		return RefusedFetchSite
	default:
		return RefusedOrigin
	}
}

// refused counts a refusal and logs it at most once a minute, with the
// number of refusals since the last line. The path is never logged whole.
func (p *Proxy) refused(r *http.Request, e *Error) {
	p.countRefusal(refusalReason(r, e), r.Method, r.URL.Path, e.Status)
}

func (p *Proxy) countRefusal(reason, method, path string, status int) {
	rs := p.hosts.refusals
	rs.add(reason)
	if due, n := rs.logDue(time.Now()); due {
		p.log.Warn("requests refused (logged at most once a minute)", "count", n, "last_reason", reason,
			"last_status", status, "last_method", TruncatePath(method), "last_path", TruncatePath(path))
	}
}

// Refusals returns how many requests the guards refused, by reason
// (Refused…), since the proxy was built: /_ferry/metrics shows them.
func (p *Proxy) Refusals() map[string]uint64 { return p.hosts.refusals.snapshot() }
