package brake

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/ferry-gateway/ferry/proxy/reply"
)

// View is what GET /_ferry/brake answers.
type View struct {
	Config
	Stopped []Fired `json:"stopped"`
	// Refused counts the requests the brake refused since Ferry started,
	// by reason.
	Refused map[string]uint64 `json:"refused"`
}

func (b *Brake) view() View {
	return View{Config: b.Config(), Stopped: b.List(), Refused: b.Refusals()}
}

// ReleaseRequest is the body of POST /_ferry/brake/release.
type ReleaseRequest struct {
	Session  string `json:"session"`
	Duration string `json:"duration,omitempty"` // a Go duration; "" means one hour
	By       string `json:"by,omitempty"`       // "cli", "tray", "notification"; "api" when empty
}

// Register mounts the brake's admin endpoints:
//
//	GET  /_ferry/brake           settings and the sessions stopped
//	POST /_ferry/brake/release   {"session","duration","by"}
//
// The settings are knobs (brake.*): they change through /_ferry/config.
func (b *Brake) Register(mount func(pattern string, handler http.Handler, mutating bool)) {
	mount("GET /_ferry/brake", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		reply.JSON(w, b.view())
	}), false)
	mount("POST /_ferry/brake/release", http.HandlerFunc(b.release), true)
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		reply.Error(w, http.StatusBadRequest, reply.TypeInvalidRequest, "body: "+err.Error())
		return false
	}
	return true
}

func fail(w http.ResponseWriter, err error) {
	if errors.Is(err, ErrBadConfig) {
		reply.Error(w, http.StatusBadRequest, reply.TypeInvalidRequest, err.Error())
		return
	}
	reply.Error(w, http.StatusInternalServerError, reply.TypeAPI, err.Error())
}

func (b *Brake) release(w http.ResponseWriter, r *http.Request) {
	var rr ReleaseRequest
	if !decode(w, r, &rr) {
		return
	}
	d := ReleaseFor
	if rr.Duration != "" {
		var err error
		if d, err = time.ParseDuration(rr.Duration); err != nil {
			reply.Error(w, http.StatusBadRequest, reply.TypeInvalidRequest, "duration "+rr.Duration+": "+err.Error())
			return
		}
	}
	if rr.By == "" {
		rr.By = "api"
	}
	if len(rr.By) > 32 {
		rr.By = rr.By[:32]
	}
	if _, err := b.Release(rr.Session, d, rr.By); err != nil {
		fail(w, err)
		return
	}
	reply.JSON(w, b.view())
}
