package budget

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/ferry-gateway/ferry/proxy/reply"
)

// Register mounts the budgets' admin endpoints:
//
//	GET    /_ferry/budgets[?session=ID]  every budget with what is spent (View)
//	PUT    /_ferry/budgets               set one: {"name","limit","mode","basis"}
//	DELETE /_ferry/budgets?name=NAME     clear one
//	POST   /_ferry/budgets/allow         {"duration":"1h","by":"tray"}: lift hard caps
//
// mount is proxy.Proxy.HandleAdmin (mutating endpoints need the admin
// token).
func (g *Guard) Register(mount func(pattern string, handler http.Handler, mutating bool)) {
	mount("GET /_ferry/budgets", http.HandlerFunc(g.getBudgets), false)
	mount("PUT /_ferry/budgets", http.HandlerFunc(g.putBudget), true)
	mount("DELETE /_ferry/budgets", http.HandlerFunc(g.deleteBudget), true)
	mount("POST /_ferry/budgets/allow", http.HandlerFunc(g.postAllow), true)
}

// maxAdminBody bounds an admin request body.
const maxAdminBody = 4 << 10

func (g *Guard) getBudgets(w http.ResponseWriter, r *http.Request) {
	session := r.URL.Query().Get("session")
	if len(session) > maxSessionID {
		session = session[:maxSessionID]
	}
	reply.JSON(w, g.View(session))
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxAdminBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		reply.Error(w, http.StatusBadRequest, reply.TypeInvalidRequest, "body: "+err.Error())
		return false
	}
	return true
}

func badBudget(w http.ResponseWriter, err error) {
	status := http.StatusBadRequest
	if errors.Is(err, ErrUnknownBudget) {
		status = http.StatusNotFound
	}
	if !errors.Is(err, ErrUnknownBudget) && !errors.Is(err, ErrBadBudget) {
		status = http.StatusInternalServerError
	}
	t := reply.TypeInvalidRequest
	switch status {
	case http.StatusNotFound:
		t = reply.TypeNotFound
	case http.StatusInternalServerError:
		t = reply.TypeAPI
	}
	reply.Error(w, status, t, err.Error())
}

func (g *Guard) putBudget(w http.ResponseWriter, r *http.Request) {
	var b Budget
	if !decode(w, r, &b) {
		return
	}
	if err := g.Set(b); err != nil {
		badBudget(w, err)
		return
	}
	reply.JSON(w, g.View(""))
}

func (g *Guard) deleteBudget(w http.ResponseWriter, r *http.Request) {
	n, err := ParseName(r.URL.Query().Get("name"))
	if err == nil {
		err = g.Clear(n)
	}
	if err != nil {
		badBudget(w, err)
		return
	}
	reply.JSON(w, g.View(""))
}

// AllowRequest is the body of POST /_ferry/budgets/allow.
type AllowRequest struct {
	Duration string `json:"duration"` // a Go duration, e.g. "1h"
	By       string `json:"by"`       // "cli", "tray", "notification"; "api" when empty
}

func (g *Guard) postAllow(w http.ResponseWriter, r *http.Request) {
	var a AllowRequest
	if !decode(w, r, &a) {
		return
	}
	d, err := time.ParseDuration(a.Duration)
	if err != nil {
		reply.Error(w, http.StatusBadRequest, reply.TypeInvalidRequest, "duration "+a.Duration+": "+err.Error())
		return
	}
	if a.By == "" {
		a.By = "api"
	}
	if _, err := g.Allow(d, a.By); err != nil {
		badBudget(w, err)
		return
	}
	reply.JSON(w, g.View(""))
}
