package app

import (
	"errors"
	"net/http"

	"github.com/ferry-gateway/ferry/assets/i18n"
	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/settings"
)

// ConfigEntry is one knob as GET /_ferry/config and `ferry config` show it.
// Help and Allowed are in the language of the request's Accept-Language.
type ConfigEntry struct {
	Key      string          `json:"key"`
	Value    string          `json:"value"` // in effect now
	Default  string          `json:"default"`
	Stored   *string         `json:"stored"`             // null when never set (or reset)
	Ignored  string          `json:"ignored,omitempty"`  // a stored value this version does not take
	Override *ConfigOverride `json:"override,omitempty"` // this run's flag or variable
	Type     string          `json:"type"`
	Values   []string        `json:"values,omitempty"` // an enum's values
	Owner    string          `json:"owner"`
	Applies  string          `json:"applies"` // "now", "next start", "window restart"
	Flag     string          `json:"flag,omitempty"`
	Help     string          `json:"help"`
	Allowed  string          `json:"allowed"`
}

// ConfigOverride is a knob's value for this run only, never stored.
type ConfigOverride struct {
	Value string `json:"value"`
	From  string `json:"from"` // "flag --retention", "FERRY_RETENTION"
}

func (s *Server) mountConfig() {
	h := s.proxy.HandleAdmin
	h("GET /_ferry/config", http.HandlerFunc(s.listConfig), false)
	h("GET /_ferry/config/{key}", http.HandlerFunc(s.getConfig), false)
	h("PUT /_ferry/config/{key}", http.HandlerFunc(s.putConfig), true)
	h("DELETE /_ferry/config/{key}", http.HandlerFunc(s.resetConfig), true)
}

func configEntry(e settings.Entry, lang string) ConfigEntry {
	k := e.Knob
	out := ConfigEntry{
		Key: k.Key, Value: e.Value.String(), Default: e.Default.String(), Ignored: e.Bad,
		Type: string(k.Type), Values: k.Values, Owner: k.Owner, Applies: string(k.Applies),
		Help: k.HelpText(lang), Allowed: k.AllowedText(lang),
	}
	if k.Flag != "" {
		out.Flag = "--" + k.Flag
	}
	if e.Stored != nil {
		v := e.Stored.String()
		out.Stored = &v
	}
	if e.Override != nil {
		out.Override = &ConfigOverride{Value: e.Value.String(), From: e.Override.From}
	}
	return out
}

func requestLang(r *http.Request) string {
	return i18n.FromAcceptLanguage(r.Header.Get("Accept-Language"))
}

func (s *Server) listConfig(w http.ResponseWriter, r *http.Request) {
	lang := requestLang(r)
	out := []ConfigEntry{}
	for _, e := range s.registry.Entries() {
		out = append(out, configEntry(e, lang))
	}
	proxy.WriteJSON(w, out)
}

func (s *Server) getConfig(w http.ResponseWriter, r *http.Request) {
	e, err := s.registry.Entry(r.PathValue("key"))
	if err != nil {
		s.settingError(w, r, err)
		return
	}
	proxy.WriteJSON(w, configEntry(e, requestLang(r)))
}

func (s *Server) putConfig(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Value *string `json:"value"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	if in.Value == nil {
		badRequest(w, `want {"value": "<text form>"}, e.g. {"value": "30d"}`)
		return
	}
	e, err := s.registry.Set(r.PathValue("key"), *in.Value)
	if err != nil {
		s.settingError(w, r, err)
		return
	}
	proxy.WriteJSON(w, configEntry(e, requestLang(r)))
}

func (s *Server) resetConfig(w http.ResponseWriter, r *http.Request) {
	e, err := s.registry.Reset(r.PathValue("key"))
	if err != nil {
		s.settingError(w, r, err)
		return
	}
	proxy.WriteJSON(w, configEntry(e, requestLang(r)))
}

// settingError answers a registry error: 400 naming the allowed values,
// 404 naming the keys there are, else 500.
func (s *Server) settingError(w http.ResponseWriter, r *http.Request, err error) {
	lang := requestLang(r)
	var ve *settings.ValueError
	var ue *settings.UnknownKeyError
	switch {
	case errors.As(err, &ve):
		badRequest(w, ve.Message(lang))
	case errors.As(err, &ue):
		proxy.WriteError(w, http.StatusNotFound, "not_found_error", ue.Message(lang))
	default:
		s.log.Error("setting", "err", err)
		proxy.WriteError(w, http.StatusInternalServerError, "api_error", err.Error())
	}
}
