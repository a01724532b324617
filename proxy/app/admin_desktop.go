package app

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/route"
	"github.com/ferry-gateway/ferry/storage"
)

// The admin endpoints the window process needs beyond the CLI's: it
// reaches the core only through the admin API (issue 13).

// StatusView is GET /_ferry/status: what the windows show of the running
// core that is neither a route, a figure nor a setting (settings are
// /_ferry/config).
type StatusView struct {
	Version string `json:"version"`
	Paused  bool   `json:"paused"`
	BaseURL string `json:"base_url"`
	Listen  string `json:"listen"` // listened on now
	DataDir string `json:"data_dir"`
}

func (s *Server) mountDesktopAdmin() {
	h := s.proxy.HandleAdmin
	h("GET /_ferry/status", http.HandlerFunc(s.getStatus), false)
	h("PUT /_ferry/routes", http.HandlerFunc(s.updateRoute), true)
	h("GET /_ferry/requests.csv", http.HandlerFunc(s.exportCSV), false)
}

// Status is what GET /_ferry/status answers.
func (s *Server) Status() StatusView {
	return StatusView{Version: s.cfg.Version, Paused: s.proxy.Paused(), BaseURL: s.BaseURL(), Listen: s.Listen(), DataDir: s.cfg.DataDir}
}

func (s *Server) getStatus(w http.ResponseWriter, r *http.Request) { proxy.WriteJSON(w, s.Status()) }

// Language is the language choice in effect (the ui.language knob):
// i18n.System, English or Chinese.
func (s *Server) Language() string { return s.registry.Value(KeyLanguage).String() }

// updateRoute is PUT /_ferry/routes {"old_name", "name", "url"}: an empty
// url keeps the stored one (the windows only ever see it masked).
func (s *Server) updateRoute(w http.ResponseWriter, r *http.Request) {
	var in struct {
		OldName string `json:"old_name"`
		Name    string `json:"name"`
		URL     string `json:"url"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	raw := in.URL
	if raw == "" {
		for _, st := range s.routes.Routes() {
			if st.Name == in.OldName {
				raw = st.Route.URL
			}
		}
		if raw == "" {
			s.routeError(w, fmt.Errorf("%w: %q", route.ErrUnknownRoute, in.OldName))
			return
		}
	}
	rt, err := route.Parse(in.Name, raw)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	if err := s.routes.Update(in.OldName, rt); err != nil {
		s.routeError(w, err)
		return
	}
	proxy.WriteJSON(w, s.RoutesView())
}

// exportCSV is GET /_ferry/requests.csv?from=…&to=… (RFC 3339, both
// optional): one line per record, the columns of /_ferry/requests,
// never a body.
func (s *Server) exportCSV(w http.ResponseWriter, r *http.Request) {
	var from, to time.Time
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := r.URL.Query().Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				badRequest(w, fmt.Sprintf("%s %q: want an RFC 3339 time", p.name, v))
				return
			}
			*p.t = t
		}
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="ferry-requests.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"time", "model", "path", "stream", "status", "error_type", "error_class", "route", "client",
		"request_id", "input", "output", "cache_write_5m", "cache_write_1h", "cache_read",
		"first_byte_ms", "first_token_ms", "total_ms", "cost_usd", "price_known"})
	ms := func(d time.Duration) string {
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64)
	}
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	err := s.db.EachRecord(from, to, func(rec storage.Record) error {
		if err := r.Context().Err(); err != nil {
			return err
		}
		return cw.Write([]string{rec.Time.Local().Format(time.RFC3339), rec.Model, rec.Path, strconv.FormatBool(rec.Stream),
			strconv.Itoa(rec.Status), rec.ErrorType, string(rec.ErrorClass), rec.Route, rec.Client, rec.RequestID,
			n(rec.Tokens.Input), n(rec.Tokens.Output), n(rec.Tokens.CacheWrite5m), n(rec.Tokens.CacheWrite1h), n(rec.Tokens.CacheRead),
			ms(rec.FirstByte), ms(rec.FirstToken), ms(rec.Total), strconv.FormatFloat(rec.CostUSD, 'f', -1, 64),
			strconv.FormatBool(rec.PriceKnown)})
	})
	cw.Flush()
	if err = errors.Join(err, cw.Error()); err != nil {
		// The header is out: all a reader can be told is that the file is
		// cut, by the connection ending early.
		s.log.Warn("CSV export cut", "err", err)
		panic(http.ErrAbortHandler)
	}
}
