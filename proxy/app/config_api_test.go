package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/assets/i18n"
	"github.com/ferry-gateway/ferry/proxy/app"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
	"github.com/ferry-gateway/ferry/storage"
)

func noKeyring(k string) string {
	if k == "FERRY_KEYRING" {
		return "off"
	}
	return ""
}

func startFerry(t *testing.T, dir string, cfg app.Config) *app.Server {
	t.Helper()
	cfg.DataDir, cfg.Getenv, cfg.Logger = dir, noKeyring, slog.New(slog.DiscardHandler)
	if cfg.Listen == "" {
		cfg.Overrides = append(cfg.Overrides, app.Override{Key: app.KeyListen, Text: "127.0.0.1:0", From: "test"})
	}
	srv, err := app.Open(cfg)
	if err != nil {
		t.Fatalf("open ferry: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatalf("start ferry: %v", err)
	}
	return srv
}

func stopFerry(t *testing.T, srv *app.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Stop(ctx); err != nil {
		t.Errorf("stop ferry: %v", err)
	}
}

type answer struct {
	status int
	body   []byte
}

func (a answer) entry(t *testing.T) app.ConfigEntry {
	t.Helper()
	var e app.ConfigEntry
	if err := json.Unmarshal(a.body, &e); err != nil {
		t.Fatalf("answer %d %s: %v", a.status, a.body, err)
	}
	return e
}

func (a answer) errorBody(t *testing.T) (typ, msg string) {
	t.Helper()
	var e struct {
		Type  string `json:"type"`
		Error struct{ Type, Message string }
	}
	if err := json.Unmarshal(a.body, &e); err != nil || e.Type != "error" {
		t.Fatalf("not Anthropic's error shape: %d %s", a.status, a.body)
	}
	return e.Error.Type, e.Error.Message
}

func call(t *testing.T, srv *app.Server, method, path, body string, hdr map[string]string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.BaseURL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, b}
}

func TestConfigAPI(t *testing.T) {
	fake := testsupport.NewFakeAPI(t)
	srv := startFerry(t, t.TempDir(), app.Config{APIBase: fake.URL, Via: "direct"})
	defer stopFerry(t, srv)
	admin := map[string]string{"x-ferry-admin-token": srv.AdminToken()}

	// The list: every knob, with its value, default, type, owner, applies, help.
	a := call(t, srv, "GET", "/_ferry/config", "", readToken(srv))
	var list []app.ConfigEntry
	if err := json.Unmarshal(a.body, &list); err != nil || a.status != 200 {
		t.Fatalf("list: %d %s", a.status, a.body)
	}
	if len(list) != len(app.Knobs()) {
		t.Fatalf("list has %d entries, want %d", len(list), len(app.Knobs()))
	}
	for _, e := range list {
		if e.Value == "" || e.Default == "" || e.Type == "" || e.Owner == "" || e.Applies == "" || e.Help == "" || e.Allowed == "" {
			t.Errorf("incomplete entry %+v", e)
		}
	}

	e := call(t, srv, "GET", "/_ferry/config/history.retention", "", readToken(srv)).entry(t)
	if e.Value != "90d" || e.Default != "90d" || e.Stored != nil || e.Applies != "now" || e.Flag != "--retention" {
		t.Fatalf("retention %+v", e)
	}

	// PUT needs the admin token; nothing is stored without it.
	if a := call(t, srv, "PUT", "/_ferry/config/history.retention", `{"value":"30d"}`, nil); a.status != 401 {
		t.Fatalf("PUT without the admin token: %d %s", a.status, a.body)
	}
	if a := call(t, srv, "PUT", "/_ferry/config/history.retention", `{"value":"30d"}`, map[string]string{"x-ferry-admin-token": "wrong"}); a.status != 401 {
		t.Fatalf("PUT with a wrong admin token: %d", a.status)
	}
	if srv.Retention() != 90*24*time.Hour {
		t.Fatal("an unauthorised PUT changed the retention")
	}
	if a := call(t, srv, "DELETE", "/_ferry/config/history.retention", "", nil); a.status != 401 {
		t.Fatalf("DELETE without the admin token: %d", a.status)
	}

	a = call(t, srv, "PUT", "/_ferry/config/history.retention", `{"value":"720h"}`, admin)
	if e := a.entry(t); a.status != 200 || e.Value != "30d" || e.Stored == nil || *e.Stored != "30d" {
		t.Fatalf("PUT: %d %s", a.status, a.body)
	}
	if srv.Retention() != 30*24*time.Hour {
		t.Fatalf("retention in effect %v: a `now` knob applies at once", srv.Retention())
	}
	// The owner's watcher applies store_bodies to the next request.
	call(t, srv, "PUT", "/_ferry/config/history.store_bodies", `{"value":"on"}`, admin)
	if !srv.Settings().StoreBodies {
		t.Fatal("store_bodies not applied")
	}

	// Bad values: 400 invalid_request_error naming the allowed values.
	for body, allowed := range map[string]string{
		`{"value":"30m"}`:     "at least 1h",
		`{"value":"forever"}`: "at least 1h",
		`{"value":""}`:        "at least 1h",
		`{"val":"30d"}`:       `{"value"`,
		`not json`:            "JSON",
	} {
		a := call(t, srv, "PUT", "/_ferry/config/history.retention", body, admin)
		typ, msg := a.errorBody(t)
		if a.status != 400 || typ != "invalid_request_error" || !strings.Contains(msg, allowed) {
			t.Errorf("PUT %s: %d %s %q, want 400 naming %q", body, a.status, typ, msg, allowed)
		}
	}
	a = call(t, srv, "PUT", "/_ferry/config/ui.language", `{"value":"fr"}`, admin)
	if _, msg := a.errorBody(t); a.status != 400 || !strings.Contains(msg, "system, en, zh-CN") {
		t.Errorf("enum: %d %s", a.status, msg)
	}
	if srv.Retention() != 30*24*time.Hour {
		t.Fatal("a refused value changed the retention")
	}
	// An unknown key: 404 naming the keys there are.
	for _, m := range []string{"GET", "PUT", "DELETE"} {
		a := call(t, srv, m, "/_ferry/config/history.nope", `{"value":"1"}`, admin)
		typ, msg := a.errorBody(t)
		if a.status != 404 || typ != "not_found_error" || !strings.Contains(msg, "history.retention") {
			t.Errorf("%s unknown key: %d %s %q", m, a.status, typ, msg)
		}
	}

	// Help and errors in the language the client asks for.
	zh := readToken(srv)
	zh["Accept-Language"] = "zh-CN,zh;q=0.9,en;q=0.5"
	e = call(t, srv, "GET", "/_ferry/config/history.retention", "", zh).entry(t)
	if e.Help != i18n.T(i18n.Chinese, "How long usage history is kept") || e.Help == "How long usage history is kept" {
		t.Errorf("Chinese help %q", e.Help)
	}
	zh["x-ferry-admin-token"] = srv.AdminToken()
	if _, msg := call(t, srv, "PUT", "/_ferry/config/history.retention", `{"value":"x"}`, zh).errorBody(t); !strings.Contains(msg, "不接受") {
		t.Errorf("Chinese error %q", msg)
	}

	// Reset: the default again, nothing stored.
	a = call(t, srv, "DELETE", "/_ferry/config/history.retention", "", admin)
	if e := a.entry(t); a.status != 200 || e.Value != "90d" || e.Stored != nil {
		t.Fatalf("reset: %d %s", a.status, a.body)
	}
	if srv.Retention() != 90*24*time.Hour {
		t.Fatal("reset not applied")
	}

	// The older /_ferry/settings goes through the same registry.
	a = call(t, srv, "PUT", "/_ferry/settings", `{"retention":"168h"}`, admin)
	if a.status != 200 || call(t, srv, "GET", "/_ferry/config/history.retention", "", readToken(srv)).entry(t).Value != "7d" {
		t.Fatalf("/_ferry/settings: %d %s", a.status, a.body)
	}
	if a := call(t, srv, "PUT", "/_ferry/settings", `{"retention":"5m"}`, admin); a.status != 400 {
		t.Fatalf("/_ferry/settings bad retention: %d %s", a.status, a.body)
	}
}

// A flag's value holds for its run only: it is never stored, the stored
// value is kept, and the next start without the flag uses the stored one.
func TestOverrideIsNeverStored(t *testing.T) {
	fake := testsupport.NewFakeAPI(t)
	dir := t.TempDir()
	srv := startFerry(t, dir, app.Config{APIBase: fake.URL, Via: "direct"})
	admin := map[string]string{"x-ferry-admin-token": srv.AdminToken()}
	call(t, srv, "PUT", "/_ferry/config/history.retention", `{"value":"90d"}`, admin)
	stopFerry(t, srv)

	on := true
	srv = startFerry(t, dir, app.Config{APIBase: fake.URL, Via: "direct", StoreBodies: &on,
		Overrides: []app.Override{{Key: app.KeyRetention, Text: "30d", From: "flag --retention"}}})
	e := call(t, srv, "GET", "/_ferry/config/history.retention", "", readToken(srv)).entry(t)
	if e.Value != "30d" || e.Override == nil || e.Override.From != "flag --retention" || e.Stored == nil || *e.Stored != "90d" {
		t.Fatalf("under the flag: %+v", e)
	}
	if srv.Retention() != 30*24*time.Hour || !srv.Settings().StoreBodies {
		t.Fatal("the overrides are not in effect")
	}
	// A set while the flag holds is kept for later; the run keeps the flag's value.
	admin = map[string]string{"x-ferry-admin-token": srv.AdminToken()}
	e = call(t, srv, "PUT", "/_ferry/config/history.retention", `{"value":"60d"}`, admin).entry(t)
	if e.Value != "30d" || *e.Stored != "60d" || srv.Retention() != 30*24*time.Hour {
		t.Fatalf("set under the flag: %+v", e)
	}
	stopFerry(t, srv)

	db, err := storage.Open(filepath.Join(dir, app.DBFile), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ret string
	var bodies any
	db.GetSetting(app.KeyRetention, &ret)
	foundBodies, _ := db.GetSetting(app.KeyStoreBodies, &bodies)
	db.Close()
	if ret != "60d" || foundBodies {
		t.Fatalf("stored retention %q, store_bodies stored %v: overrides must never be stored", ret, foundBodies)
	}

	srv = startFerry(t, dir, app.Config{APIBase: fake.URL, Via: "direct"})
	defer stopFerry(t, srv)
	if srv.Retention() != 60*24*time.Hour || srv.Settings().StoreBodies {
		t.Fatalf("next start without flags: retention %v, store bodies %v", srv.Retention(), srv.Settings().StoreBodies)
	}
}

// A bad override stops Open with one line naming its source and the
// allowed values.
func TestBadOverrideRefused(t *testing.T) {
	_, err := app.Open(app.Config{DataDir: t.TempDir(), Getenv: noKeyring, Logger: slog.New(slog.DiscardHandler),
		Overrides: []app.Override{{Key: app.KeyRetention, Text: "10m", From: "FERRY_RETENTION"}}})
	if err == nil || !strings.Contains(err.Error(), "FERRY_RETENTION") || !strings.Contains(err.Error(), "at least 1h") {
		t.Fatalf("err %v", err)
	}
}

// Every knob's help and allowed-values text exist in both languages.
func TestKnobsTranslated(t *testing.T) {
	for _, k := range app.Knobs() {
		for _, text := range []string{k.Help, k.Allowed} {
			if text == "" {
				continue
			}
			for _, l := range i18n.Languages() {
				if !i18n.Has(l, text) {
					t.Errorf("%s: %s lacks %q", k.Key, l, text)
				}
			}
		}
		if _, err := k.Parse(k.Default); err != nil {
			t.Errorf("%s: default %q refused: %v", k.Key, k.Default, err)
		}
	}
}

// readToken authorises a read of the admin API (issue 14: reads need a
// token too).
func readToken(srv *app.Server) map[string]string {
	return map[string]string{"X-Ferry-Admin-Token": srv.AdminToken()}
}

// storage's package doc lists every key of the settings bucket; each knob
// is there, marked [knob].
func TestKnobsListedInStorageDoc(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "storage", "doc.go"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, k := range app.Knobs() {
		if !regexp.MustCompile(`(?m)^//\t` + regexp.QuoteMeta(k.Key) + `\s+\[knob\] ` + regexp.QuoteMeta(k.Owner) + `\s`).MatchString(doc) {
			t.Errorf("storage/doc.go does not list %s as a [knob] of %s", k.Key, k.Owner)
		}
	}
}
