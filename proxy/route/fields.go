package route

import (
	"fmt"
	"strings"
)

// A route's fields besides its name and URL, set with
// `ferry routes set NAME KEY=VALUE`.
const (
	FieldRegion   = "region"
	FieldHTTP     = "http"
	FieldKeyShare = "tls_key_share"
)

// Values of Route.HTTP.
const (
	HTTPAuto = "auto"
	HTTP1    = "1.1"
	HTTP2    = "2"
)

// Values of Route.KeyShare.
const (
	KeyShareAuto    = "auto"
	KeyShareClassic = "classic"
	KeySharePQ      = "pq"
)

// maxRegion bounds the exit-region label.
const maxRegion = 32

// Fields lists the keys With accepts, for help texts.
var Fields = []string{FieldRegion, FieldHTTP, FieldKeyShare}

// With returns r with the field key set to value, or an error naming what
// is accepted. An empty value resets the field to its default.
func (r Route) With(key, value string) (Route, error) {
	value = strings.TrimSpace(value)
	switch strings.ToLower(strings.TrimSpace(key)) {
	case FieldRegion:
		if len(value) > maxRegion {
			return r, fmt.Errorf("%w: region label longer than %d characters", ErrInvalidRoute, maxRegion)
		}
		for _, c := range value {
			if !(c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return r, fmt.Errorf("%w: region label %q: use letters, digits, '-', '_' or '.'", ErrInvalidRoute, value)
			}
		}
		r.Region = value
	case FieldHTTP:
		switch v := strings.ToLower(value); v {
		case "", HTTPAuto:
			r.HTTP = ""
		case HTTP1, "1", "http/1.1":
			r.HTTP = HTTP1
		case HTTP2, "2.0", "h2":
			r.HTTP = HTTP2
		default:
			return r, fmt.Errorf("%w: http=%q: want auto, 1.1 or 2", ErrInvalidRoute, value)
		}
	case FieldKeyShare:
		switch v := strings.ToLower(value); v {
		case "", KeyShareAuto:
			r.KeyShare = ""
		case KeyShareClassic, KeySharePQ:
			r.KeyShare = v
		default:
			return r, fmt.Errorf("%w: tls_key_share=%q: want auto, classic or pq", ErrInvalidRoute, value)
		}
	default:
		return r, fmt.Errorf("%w: unknown field %q (fields: %s)", ErrInvalidRoute, key, strings.Join(Fields, ", "))
	}
	return r, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// Set changes one field of the stored route name (`ferry routes set NAME
// KEY=VALUE`). A bad key or value is an error and nothing is stored.
func (m *Manager) Set(name, key, value string) error {
	m.mu.Lock()
	e := m.find(name)
	var r Route
	if e != nil {
		r = e.route
	}
	m.mu.Unlock()
	if e == nil {
		return fmt.Errorf("set %q: %w", name, ErrUnknownRoute)
	}
	r, err := r.With(key, value)
	if err != nil {
		return fmt.Errorf("set %q: %w", name, err)
	}
	return m.Update(e.route.Name, r)
}
