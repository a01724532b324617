package filter

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/proxy/sse"
	"github.com/ferry-gateway/ferry/storage"
)

// maxAnswer bounds a non-streamed answer read whole to be scanned; a
// larger one (none is, in practice) passes unscanned rather than be held
// in memory.
const maxAnswer = 32 << 20

// StageOptions connect the filter stage to the rest of Ferry.
type StageOptions struct {
	// Publish receives a FilterRedacted event the first time each day the
	// secrets list redacts something. Nil means none.
	Publish func(events.Event)
	// Now is the clock for "each day"; nil means time.Now.
	Now func() time.Time
}

// Stage is the request filter of the pipeline (PhaseFilter): it redacts
// or blocks the request's text before anything else sees it (so the cache
// key is taken of what actually goes upstream), and registers the
// response filter for the answer.
func (m *Manager) Stage(o StageOptions) proxy.Stage {
	if o.Now == nil {
		o.Now = time.Now
	}
	st := &stage{m: m, o: o}
	return proxy.Stage{Phase: proxy.PhaseFilter, Name: "filter", Run: st.run}
}

// versionKey holds the version of the set that filtered a request.
var versionKey = proxy.NewStateKey("filter set version")

// VersionOf is the version of the filter set in force for out: the one
// the stage filtered it with, or the current one when the stage has not
// run (a path it does not scan). The request key includes it, so an
// answer produced under one set of redactions is never replayed under
// another (issue 10).
func (m *Manager) VersionOf(out *proxy.Outgoing) string {
	if v, ok := out.Value(versionKey).(string); ok {
		return v
	}
	return m.Version()
}

type stage struct {
	m *Manager
	o StageOptions

	mu       sync.Mutex
	notified string // the day (YYYY-MM-DD, local) the secrets notice last went out
}

func (st *stage) run(_ context.Context, out *proxy.Outgoing) (*proxy.Response, error) {
	set := st.m.Set()
	// The set read here is the one that filters this request and its
	// answer; a list changed a moment later must not lend its version to
	// the request key (VersionOf).
	out.Set(versionKey, set.Version())
	if !ScansPath(out.Path) || out.Streamed {
		return nil, nil
	}
	hits := &hitLog{}
	if set.Active(Request) && out.Body != nil {
		res := set.FilterRequest(out.Path, out.Body, strings.HasPrefix(out.Credential(), "sk-ant-oat"))
		hits.add(res.Hits)
		if len(res.Hits) > 0 {
			hits.register(out)
		}
		if res.Blocked != nil {
			return nil, &proxy.Error{Status: http.StatusBadRequest, Type: proxy.TypeInvalidRequest, Class: storage.ClassFerry, Message: res.Blocked.Error()}
		}
		out.Body = res.Body
		st.notice(res.Hits, out.ID)
	}
	answers := out.Path != "/v1/messages/count_tokens"
	if set.Active(Response) && answers {
		// The answer must be read as text: no gzip for this request.
		out.Header.Set("Accept-Encoding", "identity")
		out.OnResponse(proxy.RespFilter, func(res *proxy.Response) error {
			return st.response(set, out, res, hits)
		})
	}
	return nil, nil
}

// response wraps or scans a successful answer.
func (st *stage) response(set *Set, out *proxy.Outgoing, res *proxy.Response, hits *hitLog) error {
	if res.Body == nil || res.Status != 0 && res.Status != http.StatusOK {
		return nil
	}
	if enc := strings.ToLower(res.Header.Get("Content-Encoding")); enc != "" && enc != "identity" {
		return nil // compressed after all (a relay ignoring Accept-Encoding): cannot read it
	}
	hits.register(out)
	if sse.IsEventStream(res.Header.Get("Content-Type")) {
		res.Body = set.NewStreamFilter(res.Body, func(h Hit) { hits.add([]Hit{h}) })
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer+1))
	if err != nil {
		res.Body.Close()
		return fmt.Errorf("read the answer to filter it: %w", err)
	}
	if len(body) > maxAnswer {
		res.Body = readCloser{io.MultiReader(bytes.NewReader(body), res.Body), res.Body}
		return nil
	}
	res.Body.Close()
	r := set.FilterAnswer(body)
	hits.add(r.Hits)
	if r.Blocked != nil {
		return &proxy.Error{Status: http.StatusBadRequest, Type: proxy.TypeInvalidRequest, Class: storage.ClassFerry, Message: r.Blocked.Answer()}
	}
	res.Body = io.NopCloser(bytes.NewReader(r.Body))
	if len(r.Body) != len(body) {
		res.Header.Set("Content-Length", strconv.Itoa(len(r.Body)))
	}
	return nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// notice publishes the day's first redaction by the secrets list.
func (st *stage) notice(hits []Hit, id string) {
	if st.o.Publish == nil {
		return
	}
	for _, h := range hits {
		if h.List != SecretsList || h.Action != Redact {
			continue
		}
		day := st.o.Now().Format(time.DateOnly)
		st.mu.Lock()
		fresh := st.notified != day
		st.notified = day
		st.mu.Unlock()
		if fresh {
			st.o.Publish(events.Event{Kind: events.FilterRedacted,
				Detail: fmt.Sprintf("Ferry redacted a secret (%s) from request %s before it left", h.Rule, id),
				Attrs:  map[string]string{"list": h.List, "rule": h.Rule, "request": id, "count": strconv.Itoa(h.Count)}})
		}
		return
	}
}

// hitLog gathers a request's hits, its request's and its answer's, for
// the record.
type hitLog struct {
	mu         sync.Mutex
	hits       []Hit
	registered bool
}

// register adds the record annotation once.
func (l *hitLog) register(out *proxy.Outgoing) {
	if !l.registered {
		l.registered = true
		out.Annotate(l.annotate)
	}
}

func (l *hitLog) add(hs []Hit) {
	l.mu.Lock()
	l.hits = append(l.hits, hs...)
	l.mu.Unlock()
}

// annotate writes the hits into the record: list, entry, action, count,
// never the text. An answer's hits have their action prefixed "answer:".
func (l *hitLog) annotate(rec *storage.Record) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rec.FilterHits = rec.FilterHits[:0]
	for _, h := range l.hits {
		if len(rec.FilterHits) >= storage.MaxFilterHits {
			break
		}
		act := string(h.Action)
		if h.Side == Response.String() {
			act = "answer:" + act
		}
		rec.FilterHits = append(rec.FilterHits, storage.FilterHit{
			List: h.List, Entry: strconv.Itoa(h.Entry) + " " + h.Rule, Action: act, Count: h.Count,
		})
	}
}
