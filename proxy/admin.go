package proxy

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ferry-gateway/ferry/proxy/route"
	"github.com/ferry-gateway/ferry/storage"
)

// AdminPrefix is where the admin API lives, on the same port as the proxy.
const AdminPrefix = "/_ferry/"

func isAdminPath(path string) bool {
	return strings.HasPrefix(path, AdminPrefix) || path == "/_ferry"
}

// Access says who may call an admin endpoint. Every /_ferry/ endpoint is
// mounted through Mount, the one place that applies it, so a new endpoint
// inherits the rule (issue 8, decision 3): by default a read needs a token.
type Access int

const (
	// AccessRead needs the admin token (x-ferry-admin-token) or the local
	// token (x-api-key, Authorization: Bearer or x-ferry-token): usage,
	// spend, route hosts and user names, the masked key and the settings
	// are nobody else's business, not even another local user's.
	AccessRead Access = iota
	// AccessAdmin needs the admin token: the call changes Ferry.
	AccessAdmin
	// AccessOpen needs nothing: /_ferry/health (reduced to up/down and the
	// version without a token) and /_ferry/hello (the challenge a client
	// runs before it sends any secret).
	AccessOpen
)

// HandleAdmin mounts h on the admin mux: Mount with AccessAdmin when
// mutating, else AccessRead. pattern is a net/http ServeMux pattern,
// optionally with a method ("GET /_ferry/stats"); a path that does not
// start with /_ferry/ is taken as relative to it ("GET /stats" means the
// same). It may be called while serving.
func (p *Proxy) HandleAdmin(pattern string, h http.Handler, mutating bool) {
	a := AccessRead
	if mutating {
		a = AccessAdmin
	}
	p.Mount(pattern, h, a, nil)
}

// Mount mounts h with access a. openWhen, when not nil, makes an
// AccessRead endpoint open while it returns true (metrics.public lets a
// Prometheus scraper without a token read /_ferry/metrics). The Host,
// Origin and Fetch-Metadata guards apply to every endpoint.
func (p *Proxy) Mount(pattern string, h http.Handler, a Access, openWhen func() bool) {
	method, path, hasMethod := strings.Cut(strings.TrimSpace(pattern), " ")
	if !hasMethod {
		method, path = "", method
	}
	path = strings.TrimSpace(path)
	if !strings.HasPrefix(path, AdminPrefix) {
		path = strings.TrimSuffix(AdminPrefix, "/") + "/" + strings.TrimPrefix(path, "/")
	}
	if method != "" {
		path = method + " " + path
	}
	switch a {
	case AccessAdmin:
		h = p.requireAdmin(h)
	case AccessRead:
		h = p.requireRead(h, openWhen)
	}
	p.admin.Handle(path, h)
}

// adminToken is the current admin token, "" when there is none.
func (p *Proxy) adminToken() string {
	if p.opts.AdminToken != nil {
		return p.opts.AdminToken()
	}
	return ""
}

// hasAdminToken says whether r carries the admin token.
func (p *Proxy) hasAdminToken(r *http.Request) bool {
	return equalSecret(r.Header.Get(HeaderAdminToken), p.adminToken())
}

// hasReadToken says whether r carries the admin token or the local token.
func (p *Proxy) hasReadToken(r *http.Request) bool {
	if p.hasAdminToken(r) {
		return true
	}
	if p.opts.Keys == nil {
		return false
	}
	tok := p.opts.Keys.LocalToken()
	return equalSecret(r.Header.Get("X-Api-Key"), tok) || equalSecret(bearer(r.Header), tok) ||
		equalSecret(r.Header.Get(headerFerryToken), tok)
}

// requireAdmin lets a request through only with the admin token.
func (p *Proxy) requireAdmin(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !p.hasAdminToken(r) {
			p.writeAdminError(w, r, unauthorized("this admin call changes Ferry and needs the admin token in the x-ferry-admin-token header (it is in runtime.json in the data dir)"))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// requireRead lets a request through with the admin or the local token,
// or without one while openWhen says so.
func (p *Proxy) requireRead(h http.Handler, openWhen func() bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (openWhen == nil || !openWhen()) && !p.hasReadToken(r) {
			p.writeAdminError(w, r, unauthorized("reading Ferry's admin API needs a token: the local token (`ferry token`) as x-api-key or Authorization: Bearer, or the admin token as x-ferry-admin-token"))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// serveAdmin runs the guards, then the admin mux, whose handlers check
// their own access (Mount). Admin calls are logged at debug level and not
// recorded: the dashboard polls them every second.
func (p *Proxy) serveAdmin(w http.ResponseWriter, r *http.Request) {
	origin, gerr := p.guard(r)
	if gerr != nil {
		p.refused(r, gerr)
		p.writeAdminError(w, r, gerr)
		return
	}
	if isPreflight(r) {
		writePreflight(w, r, origin)
		return
	}
	if p.opts.InsecureSkipVerify {
		w.Header().Set(headerFerryWarning, insecureWarning)
	}
	setCORS(w.Header(), origin)
	p.log.Debug("admin request", "method", r.Method, "path", TruncatePath(r.URL.Path))
	p.admin.ServeHTTP(w, r)
}

func (p *Proxy) writeAdminError(w http.ResponseWriter, r *http.Request, e *Error) {
	x := &exchange{p: p, w: w, r: r, id: p.requestID(r)}
	x.writeError(e)
}

func (p *Proxy) mountBuiltins() {
	p.Mount("GET /_ferry/health", http.HandlerFunc(p.serveHealth), AccessOpen, nil)
	p.HandleAdmin("POST /_ferry/pause", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.Pause()
		WriteJSON(w, map[string]bool{"paused": true})
	}), true)
	p.HandleAdmin("POST /_ferry/resume", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.Resume()
		WriteJSON(w, map[string]bool{"paused": false})
	}), true)
	p.admin.Handle(AdminPrefix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.writeAdminError(w, r, &Error{Status: http.StatusNotFound, Type: TypeNotFound, Class: storage.ClassClient4xx,
			Message: fmt.Sprintf("no admin endpoint %s %s", r.Method, r.URL.Path)})
	}))
}

// Health is the body of GET /_ferry/health.
type Health struct {
	Version   string      `json:"version"`
	UptimeS   int64       `json:"uptime_s"`
	Route     HealthRoute `json:"route"`
	Reachable bool        `json:"reachable"`
	Paused    bool        `json:"paused"`
	// LatencyMS is the probe's total time; Error why it failed.
	LatencyMS float64   `json:"latency_ms,omitempty"`
	Error     string    `json:"error,omitempty"`
	Checked   time.Time `json:"checked"`
}

// HealthRoute names the current route, its URL's credentials masked.
type HealthRoute struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

const (
	healthProbeTimeout = 5 * time.Second
	healthCacheFor     = 5 * time.Second
)

// healthCache keeps the last probe a few seconds, so a dashboard polling
// health does not open a connection through the proxy every second.
type healthCache struct {
	mu      sync.Mutex
	up      *route.Upstream
	checked time.Time
	result  route.Health
}

func (p *Proxy) serveHealth(w http.ResponseWriter, r *http.Request) {
	h := Health{
		Version: p.opts.Version,
		UptimeS: int64(time.Since(p.started).Seconds()),
		Paused:  p.Paused(),
	}
	cands, err := p.routes.Candidates(route.Request{})
	if err == nil && len(cands) == 0 {
		err = route.ErrNoRoute
	}
	if !p.hasReadToken(r) {
		// Open to anyone: up/down and the version, nothing about the
		// route (its host and user name are the user's business).
		if err == nil {
			h.Reachable = p.probe(r.Context(), cands[0]).Up
		}
		h.UptimeS = 0
		h.Checked = time.Now()
		WriteJSON(w, h)
		return
	}
	if err != nil {
		h.Error = redact(err.Error())
		h.Checked = time.Now()
		WriteJSON(w, h)
		return
	}
	up := cands[0]
	h.Route = HealthRoute{Name: up.Route.Name, URL: up.Route.Masked()}
	res := p.probe(r.Context(), up)
	h.Reachable = res.Up
	h.LatencyMS = float64(res.Latency.Microseconds()) / 1000
	h.Error = redact(res.Err)
	h.Checked = res.Checked
	WriteJSON(w, h)
}

// probe checks the route to the API base, at most once per healthCacheFor.
func (p *Proxy) probe(ctx context.Context, up *route.Upstream) route.Health {
	c := &p.health
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.up == up && time.Since(c.checked) < healthCacheFor {
		return c.result
	}
	ctx, cancel := context.WithTimeout(ctx, healthProbeTimeout)
	defer cancel()
	res := up.Probe(ctx, p.base)
	if res.Checked.IsZero() {
		res.Checked = time.Now()
	}
	c.up, c.checked, c.result = up, time.Now(), res
	return res
}
