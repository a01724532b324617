package limit

import (
	"net/http"

	"github.com/ferry-gateway/ferry/proxy/reply"
)

// View is the limits in force and the queue's occupancy.
type View struct {
	Config
	Queue QueueState `json:"queue"`
	// Refused counts the requests each limit refused since Ferry started.
	Refused map[string]uint64 `json:"refused"`
	// Waited counts the requests that waited for a slot, and WaitedMS
	// their total wait.
	Waited   uint64  `json:"waited"`
	WaitedMS float64 `json:"waited_ms"`
}

// View returns the limits and the queue now.
func (l *Limiter) View() View {
	n, d := l.QueueWaits()
	return View{Config: l.Config(), Queue: l.queue.State(), Refused: l.Refusals(), Waited: n, WaitedMS: float64(d.Microseconds()) / 1000}
}

// Register mounts GET /_ferry/limits: the limits and the queue (View).
// The limits are knobs (limit.*): they change through /_ferry/config.
func (l *Limiter) Register(mount func(pattern string, handler http.Handler, mutating bool)) {
	mount("GET /_ferry/limits", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { reply.JSON(w, l.View()) }), false)
}
