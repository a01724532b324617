package settings_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/proxy/settings"
	"github.com/ferry-gateway/ferry/storage"
)

var (
	retention = settings.Knob{Key: "history.retention", Owner: "proxy/app", Type: settings.Duration, Default: "90d",
		Help: "How long usage history is kept", Applies: settings.Now, Flag: "retention", Legacy: "retention",
		Check: func(v settings.Value) bool { return v.Duration() == 0 || v.Duration() >= time.Hour }}
	bodies = settings.Knob{Key: "history.store_bodies", Owner: "proxy/app", Type: settings.Bool, Default: "off",
		Help: "Store prompt and answer bodies in the usage history", Applies: settings.Now, Legacy: "store_bodies"}
	language = settings.Knob{Key: "ui.language", Owner: "ui", Type: settings.Enum, Default: "system",
		Values: []string{"system", "en", "zh-CN"}, Help: "h", Applies: settings.WindowRestart, Legacy: "language"}
	listen = settings.Knob{Key: "server.listen", Owner: "proxy/app", Type: settings.String, Default: "127.0.0.1:7856",
		Help: "h", Applies: settings.NextStart, Legacy: "listen",
		CheckStored: func(v settings.Value) bool { return strings.HasPrefix(v.String(), "127.") }}
)

func openDB(t *testing.T, path string) *storage.DB {
	t.Helper()
	db, err := storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func newRegistry(t *testing.T) (*settings.Registry, *storage.DB, *events.Bus) {
	t.Helper()
	db := openDB(t, filepath.Join(t.TempDir(), "ferry.db"))
	t.Cleanup(func() { db.Close() })
	bus := &events.Bus{}
	reg := settings.New(db, bus)
	if err := reg.Register(retention, bodies, language, listen); err != nil {
		t.Fatal(err)
	}
	return reg, db, bus
}

func stored(t *testing.T, db *storage.DB, key string) (string, bool) {
	t.Helper()
	var v string
	found, err := db.GetSetting(key, &v)
	if err != nil {
		t.Fatal(err)
	}
	return v, found
}

func TestSetStoresCanonicalPublishesAndWatches(t *testing.T) {
	reg, db, bus := newRegistry(t)
	ch, cancel := bus.Subscribe(8)
	defer cancel()
	var seen []string
	stop := reg.Watch("history.retention", func(v settings.Value) { seen = append(seen, v.String()) })

	if v := reg.Value("history.retention"); v.Duration() != 90*24*time.Hour || v.String() != "90d" {
		t.Fatalf("default %v", v)
	}
	e, err := reg.Set("history.retention", "720h")
	if err != nil {
		t.Fatal(err)
	}
	if e.Value.String() != "30d" || e.Stored == nil || e.Stored.String() != "30d" {
		t.Fatalf("entry %+v", e)
	}
	if v, _ := stored(t, db, "history.retention"); v != "30d" {
		t.Fatalf("stored %q, want the canonical 30d", v)
	}
	if ev := <-ch; ev.Kind != events.SettingsChanged || ev.Detail != "history.retention" {
		t.Fatalf("event %+v", ev)
	}
	// The same value again: stored, published, but the owner has nothing to apply.
	if _, err := reg.Set("history.retention", "30d"); err != nil {
		t.Fatal(err)
	}
	<-ch
	if _, err := reg.Reset("history.retention"); err != nil {
		t.Fatal(err)
	}
	if _, found := stored(t, db, "history.retention"); found {
		t.Fatal("reset left the value stored")
	}
	stop()
	if _, err := reg.Set("history.retention", "7d"); err != nil {
		t.Fatal(err)
	}
	if strings.Join(seen, ",") != "30d,90d" {
		t.Fatalf("watcher saw %v, want 30d then 90d (and nothing after it stopped)", seen)
	}
}

func TestBadValueOrKeyStoresNothing(t *testing.T) {
	reg, db, bus := newRegistry(t)
	ch, cancel := bus.Subscribe(8)
	defer cancel()
	called := false
	reg.Watch("history.retention", func(settings.Value) { called = true })
	for _, bad := range []string{"30m", "forever", "-1d", ""} {
		_, err := reg.Set("history.retention", bad)
		var ve *settings.ValueError
		if !errors.As(err, &ve) {
			t.Fatalf("%q: err %v", bad, err)
		}
	}
	_, err := reg.Set("history.nope", "1")
	var ue *settings.UnknownKeyError
	if !errors.As(err, &ue) || !errors.Is(err, settings.ErrUnknownKey) || !strings.Contains(err.Error(), "history.retention, history.store_bodies") {
		t.Fatalf("unknown key: %v", err)
	}
	// A listen address the knob takes for a run but never keeps.
	if _, err := reg.Set("server.listen", "0.0.0.0:7856"); !errors.Is(err, settings.ErrInvalidValue) {
		t.Fatalf("non-loopback listen stored: %v", err)
	}
	if _, found := stored(t, db, "history.retention"); found {
		t.Fatal("a bad value was stored")
	}
	if _, found := stored(t, db, "server.listen"); found {
		t.Fatal("a refused listen address was stored")
	}
	if called || len(ch) != 0 {
		t.Fatalf("refused values reached the watcher (%v) or the bus (%d events)", called, len(ch))
	}
}

// A flag or variable wins for this run, is never stored, and a Set while it
// is in force is stored for later without changing the value in effect.
func TestOverrideIsForThisRunOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ferry.db")
	db := openDB(t, path)
	if err := db.PutSetting("history.retention", "90d"); err != nil {
		t.Fatal(err)
	}
	reg := settings.New(db, nil)
	if err := reg.Override("history.retention", "7d", "flag --retention"); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(retention); err != nil {
		t.Fatal(err)
	}
	e, _ := reg.Entry("history.retention")
	if e.Value.String() != "7d" || e.Override == nil || e.Override.From != "flag --retention" || e.Stored.String() != "90d" {
		t.Fatalf("entry %+v", e)
	}
	var applied []string
	reg.Watch("history.retention", func(v settings.Value) { applied = append(applied, v.String()) })
	e, err := reg.Set("history.retention", "30d")
	if err != nil {
		t.Fatal(err)
	}
	if e.Value.String() != "7d" || e.Stored.String() != "30d" || len(applied) != 0 {
		t.Fatalf("after set under an override: %+v, watcher %v", e, applied)
	}
	if err := reg.Override("history.retention", "30m", "FERRY_RETENTION"); err == nil || !strings.Contains(err.Error(), "FERRY_RETENTION") {
		t.Fatalf("bad override: %v", err)
	}
	db.Close()

	// The next start without the flag: the stored value.
	db = openDB(t, path)
	defer db.Close()
	reg = settings.New(db, nil)
	if err := reg.Register(retention); err != nil {
		t.Fatal(err)
	}
	if v := reg.Value("history.retention").String(); v != "30d" {
		t.Fatalf("next start: %s, want the stored 30d (the flag's 7d was never stored)", v)
	}
	// An override for a knob nobody registers is reported.
	if err := reg.Override("no.such", "1", "flag --x"); err != nil {
		t.Fatal(err)
	}
	if err := reg.Unregistered(); !errors.Is(err, settings.ErrUnknownKey) || !strings.Contains(err.Error(), "flag --x") {
		t.Fatalf("Unregistered: %v", err)
	}
}

// The settings stored before the registry move to their knobs' keys in
// the knobs' text forms, once.
func TestLegacySettingsMigrate(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "ferry.db"))
	defer db.Close()
	old := map[string]any{"retention": "720h0m0s", "store_bodies": true, "language": "zh-CN", "listen": "0.0.0.0:80"}
	for k, v := range old {
		if err := db.PutSetting(k, v); err != nil {
			t.Fatal(err)
		}
	}
	reg := settings.New(db, nil)
	if err := reg.Register(retention, bodies, language, listen); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"history.retention": "30d", "history.store_bodies": "on", "ui.language": "zh-CN"}
	for k, v := range want {
		if got := reg.Value(k).String(); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
		if s, _ := stored(t, db, k); s != v {
			t.Errorf("%s stored as %q, want %q", k, s, v)
		}
	}
	// A stored address the knob no longer keeps is dropped: the default.
	if got := reg.Value("server.listen").String(); got != "127.0.0.1:7856" {
		t.Errorf("listen %q", got)
	}
	for k := range old {
		var raw any
		if found, _ := db.GetSetting(k, &raw); found {
			t.Errorf("old key %s still stored", k)
		}
	}
}

func TestStoredValueNoLongerAllowedIsShownNotUsed(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "ferry.db"))
	defer db.Close()
	if err := db.PutSetting("history.retention", "5m"); err != nil {
		t.Fatal(err)
	}
	reg := settings.New(db, nil)
	if err := reg.Register(retention); err != nil {
		t.Fatal(err)
	}
	e, _ := reg.Entry("history.retention")
	if e.Value.String() != "90d" || e.Bad != "5m" || e.Stored != nil {
		t.Fatalf("entry %+v", e)
	}
	if err := reg.Register(retention); err == nil {
		t.Fatal("registered twice")
	}
}

func TestEntriesSortedByKey(t *testing.T) {
	reg, _, _ := newRegistry(t)
	var keys []string
	for _, e := range reg.Entries() {
		keys = append(keys, e.Knob.Key)
	}
	if strings.Join(keys, " ") != "history.retention history.store_bodies server.listen ui.language" {
		t.Fatalf("keys %v", keys)
	}
}

// Sets from several goroutines while others read: every watcher call sees
// the changes in the order they were stored, and the last one stored is
// the value in effect (run with -race).
func TestConcurrentSetsAndReads(t *testing.T) {
	reg, db, _ := newRegistry(t)
	var last string
	var calls int
	reg.Watch("history.store_bodies", func(v settings.Value) { last = v.String(); calls++ })
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 200; i++ {
			_ = reg.Value("history.store_bodies").Bool()
			_ = reg.Entries()
		}
	}()
	finished := make(chan struct{}, 4)
	for g := 0; g < 4; g++ {
		go func() {
			for i := 0; i < 25; i++ {
				if _, err := reg.Set("history.store_bodies", []string{"on", "off"}[i%2]); err != nil {
					t.Error(err)
				}
			}
			finished <- struct{}{}
		}()
	}
	for g := 0; g < 4; g++ {
		<-finished
	}
	<-done
	s, _ := stored(t, db, "history.store_bodies")
	if got := reg.Value("history.store_bodies").String(); got != s || (calls > 0 && last != s) {
		t.Fatalf("in effect %q, stored %q, last watched %q", got, s, last)
	}
}
