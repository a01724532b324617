package tray

import (
	"strconv"
	"time"

	"github.com/ferry-gateway/ferry/assets/i18n"
	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/ui/coreapi"
)

// notifier turns core events into desktop notifications, once per event:
// the core publishes RouteDown/RouteUp on transitions already, but the
// same listen failure reported twice, or a route flapping, must not show
// twice. It is used from the tray's goroutine only.
type notifier struct {
	down       map[string]bool // routes the user was told are down
	lastSwitch string          // route Auto last switched to, as notified
	listen     map[string]bool // listen failures already shown
}

func newNotifier() *notifier {
	return &notifier{down: map[string]bool{}, listen: map[string]bool{}}
}

// handle returns the notification for e in lang, ok false when e needs
// none or was already notified. acts are the tray's actions: a note
// offers the one that answers it (a hard cap spent: "Allow one more
// hour"; a stopped session: release it) when acts has it.
func (n *notifier) handle(lang string, e events.Event, acts Actions) (note Note, ok bool) {
	title, body, ok := n.text(lang, e)
	if !ok {
		return Note{}, false
	}
	note = Note{Title: title, Body: body}
	switch e.Kind {
	case events.BudgetAlert:
		if acts.AllowOneHour != nil && e.Attrs["mode"] == "hard" && atLeast100(e.Attrs["level"]) {
			note.Actions = []NoteAction{{Key: ActionAllowHour, Label: i18n.T(lang, "Allow one more hour"), Do: acts.AllowOneHour}}
		}
	case events.BrakeFired:
		if s := e.Attrs["session"]; acts.ReleaseBrake != nil && s != "" {
			note.Actions = []NoteAction{{Key: ActionReleaseBrake, Label: i18n.T(lang, "Release brake for an hour"), Do: func() { acts.ReleaseBrake(s) }}}
		}
	}
	return note, true
}

func atLeast100(level string) bool {
	n, err := strconv.Atoi(level)
	return err == nil && n >= 100
}

// text is the title and body of e's notification.
func (n *notifier) text(lang string, e events.Event) (title, body string, ok bool) {
	switch e.Kind {
	case events.RouteDown:
		if n.down[e.Route] {
			return "", "", false
		}
		n.down[e.Route] = true
		msg := i18n.Tf(lang, "Route {{.Route}} is down.", map[string]any{"Route": e.Route})
		if e.Detail != "" {
			msg += " " + e.Detail
		}
		return i18n.T(lang, "Ferry: route down"), msg, true
	case events.RouteUp:
		// Only a route the user was told is down comes "back up"; the first
		// probe of a healthy route is no news.
		if !n.down[e.Route] {
			return "", "", false
		}
		delete(n.down, e.Route)
		return i18n.T(lang, "Ferry: route back up"),
			i18n.Tf(lang, "Route {{.Route}} is back up ({{.Latency}}).", map[string]any{"Route": e.Route, "Latency": coreapi.FormatMS(e.Latency)}), true
	case events.RouteSwitched:
		if e.Detail != coreapi.AutoChoice {
			// The user switched by hand: they know.
			n.lastSwitch = ""
			return "", "", false
		}
		if e.Route == n.lastSwitch {
			return "", "", false
		}
		n.lastSwitch = e.Route
		return i18n.T(lang, "Ferry: Auto switched routes"),
			i18n.Tf(lang, "Requests now go through {{.Route}}.", map[string]any{"Route": e.Route}), true
	case events.BudgetAlert:
		// The budget guard publishes once per crossing per period.
		a := e.Attrs
		return i18n.Tf(lang, "Ferry: budget {{.Budget}} at {{.Level}}%", map[string]any{"Budget": a["budget"], "Level": a["level"]}),
			i18n.Tf(lang, "Spent {{.Spent}} of {{.Limit}}.", map[string]any{"Spent": a["spent"], "Limit": a["limit"]}), true
	case events.QuotaAlert:
		a := e.Attrs
		if a["level"] == "reset" {
			return "", "", false // good news needs no interruption
		}
		return i18n.Tf(lang, "Ferry: the {{.Window}} quota at {{.Level}}%", map[string]any{"Window": a["window"], "Level": a["level"]}),
			i18n.Tf(lang, "It resets at {{.Time}}.", map[string]any{"Time": localTime(a["resets"])}), true
	case events.BrakeFired:
		a := e.Attrs
		return i18n.T(lang, "Ferry stopped a runaway session"),
			i18n.Tf(lang, "Session {{.Session}} repeated a request {{.Repeats}} times. Release it with: ferry brake release {{.Session}}", map[string]any{"Session": a["session"], "Repeats": a["repeats"]}), true
	case events.FilterRedacted:
		// Published the first time each day. Issue 11: the notification
		// says which kind of secret and in which request (Ferry's id, as
		// in its log), never the secret.
		a := e.Attrs
		body := i18n.Tf(lang, "A {{.Rule}} was replaced in a request before it left (list {{.List}}).", map[string]any{"Rule": a["rule"], "List": a["list"]})
		if a["request"] != "" {
			body = i18n.Tf(lang, "A {{.Rule}} was replaced in request {{.Request}} before it left (list {{.List}}).", map[string]any{"Rule": a["rule"], "List": a["list"], "Request": a["request"]})
		}
		return i18n.T(lang, "Ferry redacted a secret"), body, true
	case events.ListenFailed:
		if n.listen[e.Detail] {
			return "", "", false
		}
		n.listen[e.Detail] = true
		return i18n.T(lang, "Ferry could not start its proxy"), e.Detail, true
	}
	return "", "", false
}

// localTime shows an RFC 3339 time as the local clock time ("15:04"), or
// as given when it does not parse.
func localTime(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.Local().Format("15:04")
}
