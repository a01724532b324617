package budget

import (
	"context"
	"net/http"
	"slices"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/storage"
)

// Stage is the budgets' place in the pipeline (PhaseBudget). A spent hard
// budget's refusal is deferred (Outgoing.Refuse), so that a cache hit,
// which costs nothing, is still served. Every request's cost is counted
// when it is accounted.
func (g *Guard) Stage() proxy.Stage {
	return proxy.Stage{Phase: proxy.PhaseBudget, Name: "budget", Run: g.run}
}

func (g *Guard) run(_ context.Context, out *proxy.Outgoing) (*proxy.Response, error) {
	session := out.Session
	// The count is registered from a response hook, so that it runs after
	// the cache stage's note (which zeroes a hit's cost and marks a
	// coalesced follower): a request that got no response cost nothing.
	out.OnResponse(proxy.RespCacheFill, func(res *proxy.Response) error {
		free := res.CacheHit || res.Coalesced
		out.Annotate(func(rec *storage.Record) {
			if free {
				return
			}
			g.Observe(rec, session)
		})
		return nil
	})
	if r := g.Check(out.Method, out.Path, session); r != nil {
		out.Refuse(&proxy.Error{
			Status:  http.StatusBadRequest,
			Type:    proxy.TypeInvalidRequest,
			Class:   storage.ClassFerry,
			Message: r.Message,
		})
		// Counted when it is accounted: a cache hit answers the request
		// instead, and then nothing was refused.
		i := slices.Index(Names, r.Name)
		out.Annotate(func(rec *storage.Record) {
			if !rec.CacheHit && rec.Status == http.StatusBadRequest && rec.ErrorClass == storage.ClassFerry {
				g.refused[i].Add(1)
			}
		})
	}
	return nil, nil
}
