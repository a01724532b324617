package tray

import (
	"slices"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/events"
)

func TestNotifierOncePerEvent(t *testing.T) {
	n := newNotifier()
	steps := []struct {
		e     events.Event
		title string // "" = no notification
	}{
		{events.Event{Kind: events.RouteUp, Route: "Office", Latency: 90 * time.Millisecond}, ""}, // first probe: no news
		{events.Event{Kind: events.RouteDown, Route: "Office", Detail: "connection refused"}, "Ferry: route down"},
		{events.Event{Kind: events.RouteDown, Route: "Office", Detail: "connection refused"}, ""}, // repeated
		{events.Event{Kind: events.RouteDown, Route: "Home"}, "Ferry: route down"},                // another route
		{events.Event{Kind: events.RouteHealth, Route: "Office"}, ""},
		{events.Event{Kind: events.RouteUp, Route: "Office", Latency: 120 * time.Millisecond}, "Ferry: route back up"},
		{events.Event{Kind: events.RouteUp, Route: "Office", Latency: 120 * time.Millisecond}, ""},
		{events.Event{Kind: events.RouteDown, Route: "Office"}, "Ferry: route down"}, // down again after up
		{events.Event{Kind: events.RouteSwitched, Route: "Home", Detail: "auto"}, "Ferry: Auto switched routes"},
		{events.Event{Kind: events.RouteSwitched, Route: "Home", Detail: "auto"}, ""},
		{events.Event{Kind: events.RouteSwitched, Route: "Office", Detail: "user"}, ""}, // by hand
		{events.Event{Kind: events.RouteSwitched, Route: "Home", Detail: "auto"}, "Ferry: Auto switched routes"},
		{events.Event{Kind: events.ListenFailed, Detail: "port 7856 is already in use"}, "Ferry could not start its proxy"},
		{events.Event{Kind: events.ListenFailed, Detail: "port 7856 is already in use"}, ""},
		{events.Event{Kind: events.RequestFinished}, ""},
		{events.Event{Kind: events.StateChanged, Detail: "paused"}, ""},
		{events.Event{Kind: events.BudgetAlert, Attrs: map[string]string{"budget": "daily", "level": "80", "spent": "$16.00", "limit": "$20.00"}}, "Ferry: budget daily at 80%"},
		{events.Event{Kind: events.QuotaAlert, Attrs: map[string]string{"window": "5h", "level": "95", "resets": "2026-12-02T18:00:00Z"}}, "Ferry: the 5h quota at 95%"},
		{events.Event{Kind: events.QuotaAlert, Attrs: map[string]string{"window": "5h", "level": "reset"}}, ""},
		{events.Event{Kind: events.BrakeFired, Attrs: map[string]string{"session": "s1", "repeats": "12"}}, "Ferry stopped a runaway session"},
		{events.Event{Kind: events.FilterRedacted, Attrs: map[string]string{"rule": "github-token", "list": "secrets"}}, "Ferry redacted a secret"},
		{events.Event{Kind: events.LimitHit}, ""},
	}
	for i, s := range steps {
		title, _, ok := n.text("en", s.e)
		switch {
		case s.title == "" && ok:
			t.Errorf("step %d (%s %s): unexpected notification %q", i, s.e.Kind, s.e.Route, title)
		case s.title != "" && !ok:
			t.Errorf("step %d (%s %s): no notification, want %q", i, s.e.Kind, s.e.Route, s.title)
		case ok && title != s.title:
			t.Errorf("step %d: title %q, want %q", i, title, s.title)
		}
	}
	if _, body, ok := newNotifier().text("en", events.Event{Kind: events.ListenFailed, Detail: "port 7856 is already in use; stop it or use --listen"}); !ok || body != "port 7856 is already in use; stop it or use --listen" {
		t.Errorf("listen failure content = %q", body)
	}
	if title, _, _ := newNotifier().text("zh-CN", events.Event{Kind: events.RouteDown, Route: "Office"}); title == "Ferry: route down" {
		t.Errorf("zh-CN notification title is English: %q", title)
	}
}

// The secrets list's daily notice says which kind of secret and in which
// request, in the user's language, and never carries the secret.
func TestFilterRedactedNotification(t *testing.T) {
	e := events.Event{Kind: events.FilterRedacted, Detail: "Ferry redacted a secret (github-token) from request req_7 before it left",
		Attrs: map[string]string{"list": "secrets", "rule": "github-token", "request": "req_7", "count": "1"}}
	for _, c := range []struct {
		lang, title, body string
	}{
		{"en", "Ferry redacted a secret", "A github-token was replaced in request req_7 before it left (list secrets)."},
		{"zh-CN", "Ferry 已遮蔽一项密钥", "请求 req_7 发出前已替换一项 github-token（列表 secrets）。"},
	} {
		title, body, ok := newNotifier().text(c.lang, e)
		if !ok || title != c.title || body != c.body {
			t.Errorf("%s: %q %q %v, want %q %q", c.lang, title, body, ok, c.title, c.body)
		}
	}
	delete(e.Attrs, "request")
	if _, body, _ := newNotifier().text("zh-CN", e); body != "请求发出前已替换一项 github-token（列表 secrets）。" {
		t.Errorf("without a request id: %q", body)
	}
}

// A note offers the action that answers it: "Allow one more hour" when a
// hard cap is spent (not at 80 or 95%, not for a soft budget), "Release
// brake" when a session was stopped; none without the guard.
func TestNoteActions(t *testing.T) {
	var calls []string
	acts := Actions{
		AllowOneHour: func() { calls = append(calls, "allow") },
		ReleaseBrake: func(s string) { calls = append(calls, "release "+s) },
	}
	budget := func(level, mode string) events.Event {
		return events.Event{Kind: events.BudgetAlert, Attrs: map[string]string{"budget": "daily", "level": level, "mode": mode}}
	}
	for _, c := range []struct {
		name string
		e    events.Event
		acts Actions
		want string // the action's label; "" none
	}{
		{"hard spent", budget("100", "hard"), acts, "Allow one more hour"},
		{"hard at 95", budget("95", "hard"), acts, ""},
		{"soft spent", budget("100", "soft"), acts, ""},
		{"no guard", budget("100", "hard"), Actions{}, ""},
		{"brake", events.Event{Kind: events.BrakeFired, Attrs: map[string]string{"session": "s1", "repeats": "8"}}, acts, "Release brake for an hour"},
		{"route down", events.Event{Kind: events.RouteDown, Route: "Office"}, acts, ""},
	} {
		note, ok := newNotifier().handle("en", c.e, c.acts)
		if !ok {
			t.Fatalf("%s: no note", c.name)
		}
		got := ""
		if len(note.Actions) == 1 {
			got = note.Actions[0].Label
			note.Actions[0].Do()
		} else if len(note.Actions) > 1 {
			t.Fatalf("%s: %d actions", c.name, len(note.Actions))
		}
		if got != c.want {
			t.Errorf("%s: action %q, want %q", c.name, got, c.want)
		}
	}
	if want := []string{"allow", "release s1"}; !slices.Equal(calls, want) {
		t.Errorf("calls %q, want %q", calls, want)
	}
	note, _ := newNotifier().handle("zh-CN", budget("100", "hard"), acts)
	if len(note.Actions) != 1 || note.Actions[0].Label != "再放行一小时" {
		t.Errorf("zh-CN: %+v", note.Actions)
	}
}
