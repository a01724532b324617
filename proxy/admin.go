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

// HandleAdmin mounts h on the admin mux. pattern is a net/http ServeMux
// pattern, optionally with a method ("GET /_ferry/stats"); a path that does
// not start with /_ferry/ is taken as relative to it ("GET /stats" means
// the same). The Host and Origin guards apply (and, with AllowRemote, the
// local token). A mutating handler also needs the admin token in the
// x-ferry-admin-token header, else 401. It may be called while serving.
func (p *Proxy) HandleAdmin(pattern string, h http.Handler, mutating bool) {
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
	if mutating {
		h = p.requireAdmin(h)
	}
	p.admin.Handle(path, h)
}

// requireAdmin lets a request through only with the admin token.
func (p *Proxy) requireAdmin(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var want string
		if p.opts.AdminToken != nil {
			want = p.opts.AdminToken()
		}
		if !equalSecret(r.Header.Get(HeaderAdminToken), want) {
			p.writeAdminError(w, r, unauthorized("this admin call changes Ferry and needs the admin token in the x-ferry-admin-token header (it is in runtime.json in the data dir)"))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// serveAdmin runs the guards, then the admin mux. Admin calls are logged
// at debug level and not recorded: the dashboard polls them every second.
func (p *Proxy) serveAdmin(w http.ResponseWriter, r *http.Request) {
	origin, gerr := p.guard(r)
	if gerr != nil {
		p.log.Warn("admin request refused", "method", r.Method, "path", r.URL.Path, "status", gerr.Status, "error", gerr.Message)
		p.writeAdminError(w, r, gerr)
		return
	}
	if isPreflight(r) {
		writePreflight(w, r, origin)
		return
	}
	if p.opts.AllowRemote {
		tok := p.opts.Keys.LocalToken()
		admin := ""
		if p.opts.AdminToken != nil {
			admin = p.opts.AdminToken()
		}
		got := r.Header.Get(headerFerryToken)
		if got == "" {
			got = r.Header.Get("X-Api-Key")
		}
		if got == "" {
			got = bearer(r.Header)
		}
		if !equalSecret(got, tok) && !equalSecret(r.Header.Get(HeaderAdminToken), admin) {
			p.writeAdminError(w, r, unauthorized("Ferry accepts remote requests only with its local token (x-ferry-token) or the admin token"))
			return
		}
	}
	if p.opts.InsecureSkipVerify {
		w.Header().Set(headerFerryWarning, insecureWarning)
	}
	setCORS(w.Header(), origin)
	p.log.Debug("admin request", "method", r.Method, "path", r.URL.Path)
	p.admin.ServeHTTP(w, r)
}

func (p *Proxy) writeAdminError(w http.ResponseWriter, r *http.Request, e *Error) {
	x := &exchange{p: p, w: w, r: r, id: p.newID()}
	x.writeError(e)
}

func (p *Proxy) mountBuiltins() {
	p.HandleAdmin("GET /_ferry/health", http.HandlerFunc(p.serveHealth), false)
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
