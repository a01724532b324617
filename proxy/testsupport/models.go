package testsupport

import (
	"strconv"
	"strings"
)

// CountTokens is the fake's deterministic answer to count_tokens for a body.
func CountTokens(body []byte) int { return 3 + len(body)/4 }

type model struct {
	ID, Name, Created string
}

// Models is the fake's model list, newest first as the API orders it.
var Models = []model{
	{"claude-opus-4-5-20251101", "Claude Opus 4.5", "2025-11-24T00:00:00Z"},
	{"claude-haiku-4-5-20251001", "Claude Haiku 4.5", "2025-10-15T00:00:00Z"},
	{"claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", "2025-09-29T00:00:00Z"},
	{"claude-opus-4-1-20250805", "Claude Opus 4.1", "2025-08-05T00:00:00Z"},
	{"claude-opus-4-20250514", "Claude Opus 4", "2025-05-22T00:00:00Z"},
	{"claude-sonnet-4-20250514", "Claude Sonnet 4", "2025-05-22T00:00:00Z"},
	{"claude-3-5-haiku-20241022", "Claude Haiku 3.5", "2024-10-22T00:00:00Z"},
}

func modelJSON(m model) string {
	return `{"type":"model","id":` + js(m.ID) + `,"display_name":` + js(m.Name) + `,"created_at":` + js(m.Created) + `}`
}

func modelsResponse(ri *reqInfo) (int, string) {
	path, q, rid := "/v1/models", map[string][]string{}, ""
	if ri != nil {
		path, q, rid = ri.path, ri.query, ri.requestID
	}
	if id, ok := strings.CutPrefix(path, "/v1/models/"); ok {
		for _, m := range Models {
			if m.ID == id {
				return 200, modelJSON(m)
			}
		}
		return 404, string(ErrorBody(404, "model: "+id, rid))
	}
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	limit := 20
	if v := get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return 400, string(ErrorBody(400, "limit: must be between 1 and 1000", rid))
		}
		limit = n
	}
	lo, hi := 0, len(Models)
	if a := get("after_id"); a != "" {
		lo = indexModel(a) + 1
	}
	if bID := get("before_id"); bID != "" {
		hi = max(indexModel(bID), 0)
		lo = max(lo, hi-limit)
	}
	hi = min(hi, lo+limit)
	lo = min(lo, hi)
	page := Models[lo:hi]
	var items []string
	for _, m := range page {
		items = append(items, modelJSON(m))
	}
	first, last := "null", "null"
	if len(page) > 0 {
		first, last = js(page[0].ID), js(page[len(page)-1].ID)
	}
	more := hi < len(Models)
	if get("before_id") != "" {
		more = lo > 0
	}
	return 200, `{"data":[` + strings.Join(items, ",") + `],"has_more":` + strconv.FormatBool(more) + `,"first_id":` + first + `,"last_id":` + last + `}`
}

func indexModel(id string) int {
	for i, m := range Models {
		if m.ID == id {
			return i
		}
	}
	return len(Models)
}
