package filter

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/ferry-gateway/ferry/proxy"
)

// The admin API of the filter lists, under /_ferry/filters. The CLI
// (`ferry filters …`), the settings window and scripts all use it.
//
//	GET    /_ferry/filters                      the lists (no entries)
//	GET    /_ferry/filters/{name}               one list with its entries
//	DELETE /_ferry/filters/{name}               delete a user list
//	POST   /_ferry/filters/{name}/entries       add an entry (JSON Entry)
//	DELETE /_ferry/filters/{name}/entries/{n}   remove entry n
//	PUT    /_ferry/filters/{name}/import        plain text; ?replace=1 drops the old entries
//	GET    /_ferry/filters/{name}/export        plain text
//	POST   /_ferry/filters/{name}/enable        ?entry=N for one entry
//	POST   /_ferry/filters/{name}/disable       ?entry=N for one entry
//	POST   /_ferry/filters/{name}/mode          {"request":"redact","response":"flag"}
//	POST   /_ferry/filters/test                 text in; {"text","hits","blocked"} out; ?side=response

// Summary is a list as GET /_ferry/filters shows it.
type Summary struct {
	Name         string `json:"name"`
	Enabled      bool   `json:"enabled"`
	Builtin      bool   `json:"builtin,omitempty"`
	RequestMode  Action `json:"request_mode,omitempty"`
	ResponseMode Action `json:"response_mode,omitempty"`
	Entries      int    `json:"entries"`
	Off          int    `json:"entries_off,omitempty"`
}

// TestResult is what a text becomes: POST /_ferry/filters/test.
type TestResult struct {
	Text    string `json:"text"`
	Hits    []Hit  `json:"hits"`
	Blocked string `json:"blocked,omitempty"` // the block message, if a rule blocks
	Version string `json:"version"`
}

// Mount adds the admin endpoints with handle (proxy.Proxy.HandleAdmin).
func (m *Manager) Mount(handle func(pattern string, h http.Handler, mutating bool)) {
	h := func(p string, f http.HandlerFunc, mut bool) { handle(p, f, mut) }
	h("GET /_ferry/filters", m.getLists, false)
	h("POST /_ferry/filters/test", m.postTest, true)
	h("GET /_ferry/filters/{name}", m.getList, false)
	h("DELETE /_ferry/filters/{name}", m.deleteList, true)
	h("POST /_ferry/filters/{name}/entries", m.postEntry, true)
	h("DELETE /_ferry/filters/{name}/entries/{n}", m.deleteEntry, true)
	h("PUT /_ferry/filters/{name}/import", m.putImport, true)
	h("GET /_ferry/filters/{name}/export", m.getExport, false)
	h("POST /_ferry/filters/{name}/enable", m.switchOn(true), true)
	h("POST /_ferry/filters/{name}/disable", m.switchOn(false), true)
	h("POST /_ferry/filters/{name}/mode", m.postMode, true)
}

// Summaries lists the lists without their entries.
func (m *Manager) Summaries() []Summary {
	var out []Summary
	for _, l := range m.Lists() {
		s := Summary{Name: l.Name, Enabled: l.Enabled, Builtin: l.Builtin, RequestMode: l.RequestMode, ResponseMode: l.ResponseMode, Entries: len(l.Entries)}
		for _, e := range l.Entries {
			if e.Disabled {
				s.Off++
			}
		}
		out = append(out, s)
	}
	return out
}

// Test shows what text becomes on a side, as `ferry filters test` and the
// settings page's "Try it" box show it.
func (m *Manager) Test(sd Side, text []byte) TestResult {
	s := m.Set()
	out, ms := s.Apply(sd, text)
	res := TestResult{Text: string(out), Version: s.Version()}
	counts := map[int]*Hit{}
	for _, mt := range ms {
		r := s.Rule(sd, mt)
		h := counts[mt.Rule]
		if h == nil {
			h = &Hit{List: r.List, Entry: r.Entry, Rule: r.Name, Action: r.Action}
			counts[mt.Rule] = h
		}
		h.Count++
		if r.Action == Block && res.Blocked == "" {
			b := &Blocked{Rule: r}
			res.Blocked = b.Error()
		}
	}
	res.Hits = sortedHits(counts)
	if res.Hits == nil {
		res.Hits = []Hit{}
	}
	return res
}

func fail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrNoList), errors.Is(err, ErrNoEntry):
		proxy.WriteError(w, http.StatusNotFound, "not_found_error", err.Error())
	default:
		proxy.WriteError(w, http.StatusBadRequest, "invalid_request_error", err.Error())
	}
}

func (m *Manager) getLists(w http.ResponseWriter, r *http.Request) {
	proxy.WriteJSON(w, map[string]any{"lists": m.Summaries(), "version": m.Version()})
}

func (m *Manager) getList(w http.ResponseWriter, r *http.Request) {
	l, err := m.List(r.PathValue("name"))
	if err != nil {
		fail(w, err)
		return
	}
	proxy.WriteJSON(w, l)
}

func (m *Manager) deleteList(w http.ResponseWriter, r *http.Request) {
	if err := m.Delete(r.PathValue("name")); err != nil {
		fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (m *Manager) postEntry(w http.ResponseWriter, r *http.Request) {
	var e Entry
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&e); err != nil {
		fail(w, errors.New("the entry is not the JSON expected: "+err.Error()))
		return
	}
	n, err := m.Add(r.PathValue("name"), e)
	if err != nil {
		fail(w, err)
		return
	}
	proxy.WriteJSON(w, map[string]int{"entry": n})
}

func (m *Manager) deleteEntry(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil {
		fail(w, errors.New("entry number: want 1, 2, …"))
		return
	}
	if err := m.Remove(r.PathValue("name"), n); err != nil {
		fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (m *Manager) putImport(w http.ResponseWriter, r *http.Request) {
	es, err := ParseText(r.Body)
	if err != nil {
		fail(w, err)
		return
	}
	n, err := m.Import(r.PathValue("name"), es, r.URL.Query().Get("replace") == "1")
	if err != nil {
		fail(w, err)
		return
	}
	proxy.WriteJSON(w, map[string]int{"imported": len(es), "entries": n})
}

func (m *Manager) getExport(w http.ResponseWriter, r *http.Request) {
	l, err := m.List(r.PathValue("name"))
	if err != nil {
		fail(w, err)
		return
	}
	var buf bytes.Buffer
	FormatText(&buf, l)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write(buf.Bytes())
}

func (m *Manager) switchOn(on bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		entry := 0
		if s := r.URL.Query().Get("entry"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				fail(w, errors.New("entry number: want 1, 2, …"))
				return
			}
			entry = n
		}
		if err := m.Enable(r.PathValue("name"), entry, on); err != nil {
			fail(w, err)
			return
		}
		l, _ := m.List(r.PathValue("name"))
		proxy.WriteJSON(w, l)
	}
}

func (m *Manager) postMode(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Request  Action `json:"request"`
		Response Action `json:"response"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&in); err != nil {
		fail(w, errors.New("mode: want {\"request\":…,\"response\":…}"))
		return
	}
	if err := m.SetMode(r.PathValue("name"), in.Request, in.Response); err != nil {
		fail(w, err)
		return
	}
	l, _ := m.List(r.PathValue("name"))
	l.Entries = nil
	proxy.WriteJSON(w, l)
}

func (m *Manager) postTest(w http.ResponseWriter, r *http.Request) {
	text, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		fail(w, errors.New("could not read the text"))
		return
	}
	sd := Request
	if r.URL.Query().Get("side") == "response" {
		sd = Response
	}
	proxy.WriteJSON(w, m.Test(sd, text))
}
