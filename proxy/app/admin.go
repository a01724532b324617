package app

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/route"
)

// KeyStatus is what /_ferry/key says of the held API key: never the key.
type KeyStatus struct {
	Set    bool   `json:"set"`
	Masked string `json:"masked,omitempty"`
	Source string `json:"source"`
}

// RouteView is one route as the admin API and `ferry routes` show it.
type RouteView struct {
	Name      string        `json:"name"`
	URL       string        `json:"url"` // credentials masked
	Current   bool          `json:"current"`
	Up        bool          `json:"up"`
	Latency   time.Duration `json:"latency_ns"`
	Connect   time.Duration `json:"connect_ns"`
	Handshake time.Duration `json:"handshake_ns"`
	TLS       time.Duration `json:"tls_ns"`
	Ping      time.Duration `json:"ping_ns"` // HTTP/2 PING round trip of the last probe
	Err       string        `json:"error,omitempty"`
	Checked   time.Time     `json:"checked"`
	// History is the latency of the latest probes, oldest first; 0 is a
	// failed probe (the dashboard's sparkline).
	History []time.Duration `json:"history_ns,omitempty"`
	Via     bool            `json:"temporary,omitempty"` // the --via route of this run
	// Breaker is closed, open (3 road failures in a row: skipped while
	// another route exists) or half_open.
	Breaker string `json:"breaker"`
	// Region, HTTP and KeyShare are the route's fields (ferry routes set).
	Region   string `json:"region,omitempty"`
	HTTP     string `json:"http"`
	KeyShare string `json:"tls_key_share"`
	// Learnt is what the route learnt from failures (ferry routes forget).
	Learnt route.Learnt `json:"learnt"`
	// Warm: a connection to the API host is open ahead of need.
	Warm bool `json:"warm"`
}

// RoutesView is the route list and the current choice.
type RoutesView struct {
	Choice string      `json:"choice"` // a route name or "auto"
	Routes []RouteView `json:"routes"`
}

// SettingsView is the settings the admin API reads and changes.
type SettingsView struct {
	Listen      string `json:"listen"`
	Retention   string `json:"retention"`
	StoreBodies bool   `json:"store_bodies"`
}

// mountStats mounts the usage handlers; /_ferry/metrics is open without a
// token while metrics.public is on (for a Prometheus scraper without one).
func (s *Server) mountStats(pattern string, h http.Handler, mutating bool) {
	if pattern == "GET /_ferry/metrics" {
		s.proxy.Mount(pattern, h, proxy.AccessRead, func() bool { return s.registry.Value(KeyMetricsPublic).Bool() })
		return
	}
	s.proxy.HandleAdmin(pattern, h, mutating)
}

func (s *Server) mountAdmin() {
	s.proxy.Mount("POST /_ferry/hello", http.HandlerFunc(s.hello), proxy.AccessOpen, nil)
	h := s.proxy.HandleAdmin
	h("GET /_ferry/token", http.HandlerFunc(s.getToken), true)
	h("POST /_ferry/token/regenerate", http.HandlerFunc(s.regenerateToken), true)
	h("GET /_ferry/key", http.HandlerFunc(s.getKey), false)
	h("PUT /_ferry/key", http.HandlerFunc(s.putKey), true)
	h("DELETE /_ferry/key", http.HandlerFunc(s.deleteKey), true)
	h("GET /_ferry/routes", http.HandlerFunc(s.getRoutes), false)
	h("POST /_ferry/routes", http.HandlerFunc(s.addRoute), true)
	h("DELETE /_ferry/routes", http.HandlerFunc(s.removeRoute), true)
	h("POST /_ferry/routes/use", http.HandlerFunc(s.useRoute), true)
	h("POST /_ferry/routes/test", http.HandlerFunc(s.testRoutes), true)
	h("POST /_ferry/routes/set", http.HandlerFunc(s.setRoute), true)
	h("POST /_ferry/routes/forget", http.HandlerFunc(s.forgetRoute), true)
	h("GET /_ferry/settings", http.HandlerFunc(s.getSettings), false)
	h("PUT /_ferry/settings", http.HandlerFunc(s.putSettings), true)
	h("GET /_ferry/events", s.stream, false)
	h("POST /_ferry/ui/show", http.HandlerFunc(s.showDashboard), true)
	s.mountConfig()
	s.mountDesktopAdmin()
}

func badRequest(w http.ResponseWriter, msg string) {
	proxy.WriteError(w, http.StatusBadRequest, "invalid_request_error", msg)
}

func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(v); err != nil {
		badRequest(w, "request body is not the JSON expected: "+err.Error())
		return false
	}
	return true
}

// hello answers the challenge a client runs before it sends a secret:
// proof that this process wrote runtime.json (see HelloMAC).
func (s *Server) hello(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Nonce string `json:"nonce"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	nonce, err := hexNonce(in.Nonce)
	if err != nil {
		badRequest(w, "hello: "+err.Error())
		return
	}
	proxy.WriteJSON(w, map[string]string{"mac": hex.EncodeToString(HelloMAC(s.adminToken, nonce, s.Listen()))})
}

func (s *Server) getToken(w http.ResponseWriter, r *http.Request) {
	proxy.WriteJSON(w, map[string]string{"token": s.keys.LocalToken()})
}

func (s *Server) regenerateToken(w http.ResponseWriter, r *http.Request) {
	tok, err := s.keys.RegenerateToken()
	if err != nil {
		proxy.WriteError(w, http.StatusInternalServerError, "api_error", err.Error())
		return
	}
	proxy.WriteJSON(w, map[string]string{"token": tok})
}

// KeyStatus describes the held key without revealing it.
func (s *Server) KeyStatus() KeyStatus {
	key := s.keys.APIKey()
	if key == "" {
		return KeyStatus{Source: KeyFromNone}
	}
	return KeyStatus{Set: true, Masked: MaskKey(key), Source: s.keys.KeySource()}
}

func (s *Server) getKey(w http.ResponseWriter, r *http.Request) { proxy.WriteJSON(w, s.KeyStatus()) }

func (s *Server) putKey(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 4096))
	if err != nil {
		badRequest(w, "could not read the key")
		return
	}
	key := strings.TrimSpace(string(b))
	if key == "" {
		badRequest(w, "empty API key")
		return
	}
	if _, err := s.keys.SetAPIKey(key); err != nil {
		proxy.WriteError(w, http.StatusInternalServerError, "api_error", err.Error())
		return
	}
	proxy.WriteJSON(w, s.KeyStatus())
}

func (s *Server) deleteKey(w http.ResponseWriter, r *http.Request) {
	// Its cached answers go with it: they were served without Anthropic
	// seeing the key.
	s.dropCachedAnswers(s.keys.APIKey())
	if err := s.keys.ClearAPIKey(); err != nil {
		proxy.WriteError(w, http.StatusInternalServerError, "api_error", err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// RoutesView lists the routes with their health.
func (s *Server) RoutesView() RoutesView {
	v := RoutesView{Choice: s.routes.Choice()}
	for _, st := range s.routes.Routes() {
		v.Routes = append(v.Routes, routeView(st))
	}
	return v
}

func (s *Server) getRoutes(w http.ResponseWriter, r *http.Request) {
	proxy.WriteJSON(w, s.RoutesView())
}

func (s *Server) addRoute(w http.ResponseWriter, r *http.Request) {
	var in struct{ Name, URL string }
	if !decodeJSON(w, r, &in) {
		return
	}
	rt, err := route.Parse(in.Name, in.URL)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	if err := s.routes.Add(rt); err != nil {
		badRequest(w, err.Error())
		return
	}
	proxy.WriteJSON(w, s.RoutesView())
}

func (s *Server) removeRoute(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	if err := s.routes.Remove(name); err != nil {
		s.routeError(w, err)
		return
	}
	proxy.WriteJSON(w, s.RoutesView())
}

func (s *Server) useRoute(w http.ResponseWriter, r *http.Request) {
	var in struct{ Choice string }
	if !decodeJSON(w, r, &in) {
		return
	}
	var err error
	if in.Choice == route.AutoChoice {
		err = s.routes.UseAuto()
	} else {
		err = s.routes.Use(in.Choice)
	}
	if err != nil {
		s.routeError(w, err)
		return
	}
	proxy.WriteJSON(w, s.RoutesView())
}

// setRoute changes one field of a route: {"name", "key", "value"}.
func (s *Server) setRoute(w http.ResponseWriter, r *http.Request) {
	var in struct{ Name, Key, Value string }
	if !decodeJSON(w, r, &in) {
		return
	}
	if err := s.routes.Set(in.Name, in.Key, in.Value); err != nil {
		s.routeError(w, err)
		return
	}
	proxy.WriteJSON(w, s.RoutesView())
}

// forgetRoute clears what a route learnt: {"name"}.
func (s *Server) forgetRoute(w http.ResponseWriter, r *http.Request) {
	var in struct{ Name string }
	if !decodeJSON(w, r, &in) {
		return
	}
	if err := s.routes.Forget(in.Name); err != nil {
		s.routeError(w, err)
		return
	}
	proxy.WriteJSON(w, s.RoutesView())
}

func (s *Server) routeError(w http.ResponseWriter, err error) {
	if errors.Is(err, route.ErrUnknownRoute) {
		proxy.WriteError(w, http.StatusNotFound, "not_found_error", err.Error())
		return
	}
	badRequest(w, err.Error())
}

func (s *Server) testRoutes(w http.ResponseWriter, r *http.Request) {
	s.routes.TestNow(r.Context())
	proxy.WriteJSON(w, s.RoutesView())
}

// Settings reads the settings the admin API exposes.
func (s *Server) Settings() SettingsView {
	return SettingsView{Listen: s.Listen(), Retention: s.settings.Retention().String(), StoreBodies: s.settings.StoreBodies()}
}

// Retention is how long usage history is kept; 0 keeps it forever.
func (s *Server) Retention() time.Duration { return s.settings.Retention() }

// StoredListen is the listen address used when no --listen is given.
func (s *Server) StoredListen() string {
	e, err := s.registry.Entry(KeyListen)
	if err != nil || e.Stored == nil {
		return s.Listen()
	}
	return e.Stored.String()
}

// SetStoredListen stores the listen address for the next start.
func (s *Server) SetStoredListen(addr string) error {
	if addr == s.StoredListen() {
		return nil
	}
	_, err := s.registry.Set(KeyListen, addr)
	return err
}

// SetRetention changes how long usage history is kept (stored).
func (s *Server) SetRetention(d time.Duration) error {
	_, err := s.registry.Set(KeyRetention, d.String())
	return err
}

// SetStoreBodies turns storing prompt and answer bodies on or off (stored).
func (s *Server) SetStoreBodies(on bool) error {
	_, err := s.registry.Set(KeyStoreBodies, strconv.FormatBool(on))
	return err
}

func (s *Server) getSettings(w http.ResponseWriter, r *http.Request) {
	proxy.WriteJSON(w, s.Settings())
}

func (s *Server) putSettings(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Retention   *string `json:"retention"`
		StoreBodies *bool   `json:"store_bodies"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	if in.Retention != nil {
		if _, err := s.registry.Set(KeyRetention, *in.Retention); err != nil {
			s.settingError(w, r, err)
			return
		}
	}
	if in.StoreBodies != nil {
		if err := s.SetStoreBodies(*in.StoreBodies); err != nil {
			s.settingError(w, r, err)
			return
		}
	}
	proxy.WriteJSON(w, s.Settings())
}

func (s *Server) showDashboard(w http.ResponseWriter, r *http.Request) {
	s.showMu.Lock()
	f := s.onShow
	s.showMu.Unlock()
	if f == nil {
		proxy.WriteError(w, http.StatusNotFound, "not_found_error", "this Ferry runs headless (ferry serve): it has no dashboard")
		return
	}
	f()
	w.WriteHeader(http.StatusNoContent)
}

func routeView(st route.Status) RouteView {
	return RouteView{
		Name: st.Name, URL: st.URL, Current: st.Current, Up: st.Health.Up, Latency: st.Health.Latency,
		Connect: st.Health.Connect, Handshake: st.Health.Handshake, TLS: st.Health.TLS,
		Ping: st.Health.Ping, Err: st.Health.Err, Checked: st.Health.Checked, Via: st.Via, History: st.History,
		Breaker: st.Breaker, Region: st.Region, HTTP: st.HTTP, KeyShare: st.KeyShare, Learnt: st.Learnt, Warm: st.Warm,
	}
}
