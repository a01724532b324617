package tray

// Note is one desktop notification.
type Note struct {
	Title, Body string
	// Actions are offered as buttons where the notification service
	// has them (issue 12: "Allow one more hour" from the notification
	// itself). Where it has none, the body and the tray say the same.
	Actions []NoteAction
}

// NoteAction is one button of a notification.
type NoteAction struct {
	// Key names the action on the bus: unique within its note.
	Key, Label string
	// Do runs on the notifier's goroutine when the user chooses it.
	Do func()
}

// The keys of the notes' actions.
const (
	ActionAllowHour    = "allow-hour"
	ActionReleaseBrake = "release-brake"
)
