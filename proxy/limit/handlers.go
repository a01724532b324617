package limit

import (
	"net/http"

	"github.com/ferry-gateway/ferry/proxy/reply"
)

// View is the limits in force and the queue's occupancy.
type View struct {
	Config
	Queue QueueState `json:"queue"`
}

// View returns the limits and the queue now.
func (l *Limiter) View() View { return View{Config: l.Config(), Queue: l.queue.State()} }

// Register mounts GET /_ferry/limits: the limits and the queue (View).
// The limits are knobs (limit.*): they change through /_ferry/config.
func (l *Limiter) Register(mount func(pattern string, handler http.Handler, mutating bool)) {
	mount("GET /_ferry/limits", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { reply.JSON(w, l.View()) }), false)
}
