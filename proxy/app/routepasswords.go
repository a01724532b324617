package app

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/ferry-gateway/ferry/proxy/route"
	"github.com/ferry-gateway/ferry/proxy/secrets"
	"github.com/ferry-gateway/ferry/storage"
)

// routeSettings is the settings store the route manager uses, with the
// routes' proxy passwords kept apart: in the OS keychain when there is
// one (service "Ferry", account "route-password:NAME"), else in the
// secrets file, like the API key. The settings bucket holds each route's
// URL without its password; the manager sees whole URLs and knows nothing
// of this (issue 14: stored URLs with passwords lingered in ferry.db).
//
// A database from before keeps URLs with passwords: they are moved out the
// first time the routes are read. A rename (the manager saves the list
// under the new name) moves the password with the route: names no longer
// listed lose their stored password.
type routeSettings struct {
	db         *storage.DB
	file       *secrets.Store
	useKeyring bool
	log        *slog.Logger
}

func (s routeSettings) GetSetting(key string, into any) (bool, error) {
	if key != route.SettingRoutes {
		return s.db.GetSetting(key, into)
	}
	var stored []route.Route
	found, err := s.db.GetSetting(key, &stored)
	if err != nil || !found {
		return found, err
	}
	migrated := false
	for i, r := range stored {
		bare, user, pw, ok := splitPassword(r.URL)
		if !ok {
			continue
		}
		if pw != "" {
			// Before this version: the password was in the stored URL.
			if err := s.putPassword(r.Name, pw); err != nil {
				return false, fmt.Errorf("move route %q's password out of the database: %w", r.Name, err)
			}
			stored[i].URL = bare
			migrated = true
		}
		if user == "" {
			continue
		}
		if p, ok := s.password(r.Name); ok {
			stored[i].URL = withPassword(stored[i].URL, p)
		}
	}
	if migrated {
		if err := s.db.PutSetting(key, stripPasswords(stored)); err != nil {
			return false, fmt.Errorf("save routes without their passwords: %w", err)
		}
		s.log.Warn("route passwords moved out of ferry.db (to the OS keychain or secrets.json); old copies may remain in ferry.db's free pages until `ferry db compact`")
	}
	out, ok := into.(*[]route.Route)
	if !ok {
		return false, fmt.Errorf("routes setting: want *[]route.Route, got %T", into)
	}
	*out = stored
	return true, nil
}

func (s routeSettings) PutSetting(key string, v any) error {
	if key != route.SettingRoutes {
		return s.db.PutSetting(key, v)
	}
	routes, ok := v.([]route.Route)
	if !ok {
		return fmt.Errorf("routes setting: want []route.Route, got %T", v)
	}
	var before []route.Route
	if _, err := s.db.GetSetting(key, &before); err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, r := range routes {
		keep[r.Name] = true
		if _, _, pw, ok := splitPassword(r.URL); ok && pw != "" {
			if err := s.putPassword(r.Name, pw); err != nil {
				return fmt.Errorf("save route %q's password: %w", r.Name, err)
			}
		}
	}
	if err := s.db.PutSetting(key, stripPasswords(routes)); err != nil {
		return err
	}
	for _, r := range before {
		if !keep[r.Name] {
			s.deletePassword(r.Name) // removed or renamed: its password goes with it
		}
	}
	return nil
}

func stripPasswords(routes []route.Route) []route.Route {
	out := make([]route.Route, len(routes))
	for i, r := range routes {
		if bare, _, _, ok := splitPassword(r.URL); ok {
			r.URL = bare
		}
		out[i] = r
	}
	return out
}

// splitPassword returns a proxy URL without its password, the user and
// the password; ok is false for a value that is not a URL (direct).
func splitPassword(raw string) (bare, user, pw string, ok bool) {
	if !strings.Contains(raw, "://") {
		return raw, "", "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw, "", "", err == nil
	}
	user = u.User.Username()
	pw, has := u.User.Password()
	if !has {
		return raw, user, "", true
	}
	u.User = url.User(user)
	return u.String(), user, pw, true
}

func withPassword(raw, pw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = url.UserPassword(u.User.Username(), pw)
	return u.String()
}

func keyringAccount(name string) string { return "route-password:" + name }

// fileName names a route's password in the secrets file: route names are
// free text, secret names are not.
func fileName(name string) string {
	h := sha256.Sum256([]byte(name))
	return "route_password/" + hex.EncodeToString(h[:16])
}

func (s routeSettings) putPassword(name, pw string) error {
	if s.useKeyring && keyringSetAccount(keyringAccount(name), pw) == nil {
		return s.file.Delete(fileName(name)) // no second copy
	}
	return s.file.Put(fileName(name), pw)
}

func (s routeSettings) password(name string) (string, bool) {
	if s.useKeyring {
		if v, err := keyringGetAccount(keyringAccount(name)); err == nil && v != "" {
			return v, true
		}
	}
	return s.file.Get(fileName(name))
}

func (s routeSettings) deletePassword(name string) {
	if s.useKeyring {
		_ = keyringDeleteAccount(keyringAccount(name)) // absent is fine
	}
	if err := s.file.Delete(fileName(name)); err != nil {
		s.log.Warn("could not remove a route's password from secrets.json", "route", name, "err", err)
	}
}
