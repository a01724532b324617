package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"

	"github.com/ferry-gateway/ferry/proxy/events"
)

// notifier turns core events into desktop notifications, once per event:
// the core publishes RouteDown/RouteUp on transitions already, but a probe
// flapping while events are replayed, or the same listen failure reported
// by two retries, must not show twice. It is used from one goroutine only.
type notifier struct {
	down       map[string]bool // routes the user was told are down
	lastSwitch string          // route Auto last switched to, as notified
	listen     map[string]bool // listen failures already shown
}

func newNotifier() *notifier {
	return &notifier{down: map[string]bool{}, listen: map[string]bool{}}
}

// handle returns the notification for e, or nil when e needs none or was
// already notified.
func (n *notifier) handle(e events.Event) *fyne.Notification {
	switch e.Kind {
	case events.RouteDown:
		if n.down[e.Route] {
			return nil
		}
		n.down[e.Route] = true
		msg := lang.L("Route {{.Route}} is down.", map[string]any{"Route": e.Route})
		if e.Detail != "" {
			msg += " " + e.Detail
		}
		return fyne.NewNotification(lang.L("Ferry: route down"), msg)
	case events.RouteUp:
		// Only a route the user was told is down comes "back up"; the first
		// probe of a healthy route is no news.
		if !n.down[e.Route] {
			return nil
		}
		delete(n.down, e.Route)
		return fyne.NewNotification(lang.L("Ferry: route back up"),
			lang.L("Route {{.Route}} is back up ({{.Latency}}).", map[string]any{"Route": e.Route, "Latency": FormatMS(e.Latency)}))
	case events.RouteSwitched:
		if e.Detail != AutoChoice {
			// The user switched by hand: they know.
			n.lastSwitch = ""
			return nil
		}
		if e.Route == n.lastSwitch {
			return nil
		}
		n.lastSwitch = e.Route
		return fyne.NewNotification(lang.L("Ferry: Auto switched routes"),
			lang.L("Requests now go through {{.Route}}.", map[string]any{"Route": e.Route}))
	case events.ListenFailed:
		if n.listen[e.Detail] {
			return nil
		}
		n.listen[e.Detail] = true
		return fyne.NewNotification(lang.L("Ferry could not start its proxy"), e.Detail)
	}
	return nil
}
