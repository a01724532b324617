//go:build linux || freebsd || openbsd || netbsd

package tray

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
)

// The freedesktop notification service on the session bus (what Fyne did
// for the windows; the core has no Fyne).
const (
	notifyName  = "org.freedesktop.Notifications"
	notifyPath  = dbus.ObjectPath("/org/freedesktop/Notifications")
	notifyIface = "org.freedesktop.Notifications"
)

// maxPending bounds the notes whose actions are still offered: older
// ones lose their buttons' effect (the tray has the same actions).
const maxPending = 32

// Notifier shows desktop notifications and runs the action the user
// chooses on one (a D-Bus action, where the notification server offers
// actions: GNOME, KDE, dunst, xfce4-notifyd do). Notify is safe from any
// goroutine; Run delivers the actions; Close, after both, ends the bus
// connection.
type Notifier struct {
	log  *slog.Logger
	conn *dbus.Conn // nil when the session bus was unreachable
	err  error      // why conn is nil
	sig  chan *dbus.Signal

	// mu guards pending and order. A Notify call with buttons holds it
	// until the buttons are kept: the server may emit a button's signal
	// (or close the note) before our goroutine has the call's reply, and
	// signal, which takes mu too, then waits for it.
	mu      sync.Mutex
	pending map[uint32][]NoteAction // by notification id
	order   []uint32                // pending's ids, oldest first
}

// NewNotifier connects to the session bus. Without one, Notify reports
// why; Run only waits.
func NewNotifier(log *slog.Logger) *Notifier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n := &Notifier{log: log, pending: map[uint32][]NoteAction{}}
	// A connection of our own, not the shared dbus.SessionBus: the
	// signals it receives are only the ones matched here. (Not
	// WithContext: that closes the connection when its context ends.)
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		n.err = fmt.Errorf("notify: session bus: %w", err)
		return n
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Only the notification server's own signals: the bus resolves the
	// name to its owner, so another client cannot press a button.
	for _, member := range []string{"ActionInvoked", "NotificationClosed"} {
		if err := conn.AddMatchSignalContext(ctx, dbus.WithMatchSender(notifyName), dbus.WithMatchObjectPath(notifyPath),
			dbus.WithMatchInterface(notifyIface), dbus.WithMatchMember(member)); err != nil {
			conn.Close()
			n.err = fmt.Errorf("notify: match %s: %w", member, err)
			return n
		}
	}
	n.sig = make(chan *dbus.Signal, 16)
	conn.Signal(n.sig)
	n.conn = conn
	return n
}

// Notify shows note; its actions become buttons when the server offers
// actions.
func (n *Notifier) Notify(note Note) error {
	if n.conn == nil {
		return n.err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	obj := n.conn.Object(notifyName, notifyPath)
	actions := []string{}
	if len(note.Actions) > 0 {
		// Asked each time: the server can change under a running
		// Ferry, and notes are rare.
		var caps []string
		if err := obj.CallWithContext(ctx, notifyIface+".GetCapabilities", 0).Store(&caps); err != nil {
			n.log.Warn("notification server capabilities", "err", err)
		}
		if slices.Contains(caps, "actions") {
			for _, a := range note.Actions {
				actions = append(actions, a.Key, a.Label)
			}
		}
	}
	if len(actions) > 0 {
		n.mu.Lock()
		defer n.mu.Unlock()
	}
	var id uint32
	err := obj.CallWithContext(ctx, notifyIface+".Notify", 0,
		"Ferry", uint32(0), "", note.Title, note.Body, actions, map[string]dbus.Variant{}, int32(-1)).Store(&id)
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	if len(actions) > 0 {
		n.rememberLocked(id, note.Actions)
	}
	return nil
}

// rememberLocked keeps note id's buttons. Call with mu held.
func (n *Notifier) rememberLocked(id uint32, acts []NoteAction) {
	if _, ok := n.pending[id]; !ok {
		n.order = append(n.order, id)
	}
	n.pending[id] = acts
	for len(n.order) > maxPending {
		delete(n.pending, n.order[0])
		n.order = n.order[1:]
	}
}

// take removes and returns the actions of note id.
func (n *Notifier) take(id uint32) []NoteAction {
	n.mu.Lock()
	defer n.mu.Unlock()
	acts, ok := n.pending[id]
	if ok {
		delete(n.pending, id)
		n.order = slices.DeleteFunc(n.order, func(x uint32) bool { return x == id })
	}
	return acts
}

// Close closes the bus connection; call it once neither Run nor Notify
// can run any more (a Notify racing a closed connection only fails).
func (n *Notifier) Close() {
	if n.conn != nil {
		n.conn.Close()
	}
}

// Run runs the actions chosen on Ferry's notifications until ctx ends.
func (n *Notifier) Run(ctx context.Context) {
	if n.conn == nil {
		<-ctx.Done()
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case s, ok := <-n.sig:
			if !ok {
				n.log.Warn("notification actions stopped", "err", errors.New("session bus connection closed"))
				return
			}
			n.signal(s)
		}
	}
}

func (n *Notifier) signal(s *dbus.Signal) {
	if len(s.Body) < 1 {
		return
	}
	id, ok := s.Body[0].(uint32)
	if !ok {
		return
	}
	// take and the lookup below lock mu, so a press or a close waits for
	// a Notify call still keeping its buttons (mu's comment).
	switch s.Name {
	case notifyIface + ".NotificationClosed":
		n.take(id)
	case notifyIface + ".ActionInvoked":
		if len(s.Body) < 2 {
			return
		}
		key, _ := s.Body[1].(string)
		n.mu.Lock()
		acts := n.pending[id]
		n.mu.Unlock()
		i := slices.IndexFunc(acts, func(a NoteAction) bool { return a.Key == key })
		if i < 0 {
			return // "default" (the body clicked), or a note no longer ours
		}
		// A button acts once: some servers leave the note up after it.
		n.take(id)
		if acts[i].Do != nil {
			acts[i].Do()
		}
	}
}
