package limit

import (
	"encoding/json"
	"errors"
	"io"
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

// Register mounts the limits' admin endpoints:
//
//	GET /_ferry/limits   the limits and the queue (View)
//	PUT /_ferry/limits   replace them (a Config; fields left out keep their value)
func (l *Limiter) Register(mount func(pattern string, handler http.Handler, mutating bool)) {
	mount("GET /_ferry/limits", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { reply.JSON(w, l.View()) }), false)
	mount("PUT /_ferry/limits", http.HandlerFunc(l.put), true)
}

func (l *Limiter) put(w http.ResponseWriter, r *http.Request) {
	c := l.Config()
	dec := json.NewDecoder(io.LimitReader(r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		reply.Error(w, http.StatusBadRequest, reply.TypeInvalidRequest, "body: "+err.Error())
		return
	}
	if err := l.Set(c); err != nil {
		status, t := http.StatusBadRequest, reply.TypeInvalidRequest
		if !errors.Is(err, ErrBadLimit) {
			status, t = http.StatusInternalServerError, reply.TypeAPI
		}
		reply.Error(w, status, t, err.Error())
		return
	}
	reply.JSON(w, l.View())
}
