package usage

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ferry-gateway/ferry/storage"
)

func TestPricesHandler(t *testing.T) {
	db := openFixture(t)
	prices, err := LoadPrices(db)
	if err != nil {
		t.Fatal(err)
	}
	hs := NewHandlers(HandlersOptions{DB: db, Prices: prices})
	mux := http.NewServeMux()
	hs.Register(func(pattern string, h http.Handler, mutating bool) {
		if strings.HasPrefix(pattern, "GET ") == mutating {
			t.Errorf("%s: mutating %v", pattern, mutating)
		}
		mux.Handle(pattern, h)
	})
	do := func(method, body string) (int, PriceTable) {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(method, "/_ferry/prices", strings.NewReader(body)))
		var tbl PriceTable
		json.Unmarshal(w.Body.Bytes(), &tbl)
		return w.Code, tbl
	}
	code, tbl := do(http.MethodGet, "")
	if code != 200 || len(tbl.Rows) != len(DefaultTable().Rows) || tbl.BatchFactor != 0.5 {
		t.Fatalf("GET: %d %+v", code, tbl)
	}
	if code, _ := do(http.MethodPut, `{"model":"claude-opus-6","input":6,"output":30}`); code != 200 {
		t.Fatalf("PUT: %d", code)
	}
	if code, _ := do(http.MethodPut, `{"model":"claude-opus-6","input":-6}`); code != 400 {
		t.Errorf("PUT bad row: %d", code)
	}
	if code, _ := do(http.MethodPost, `{"rows":[{"model":"claude-x-1","input":1,"output":2}],"multipliers":[{"field":"speed","value":"fast","factor":6,"models":["claude-opus-4-6"]}]}`); code != 200 {
		t.Fatalf("POST: %d", code)
	}
	// Stored in the database: a fresh load sees the import (which replaced the PUT).
	again, _ := LoadPrices(db)
	if _, ok := again.Lookup("claude-x-1", hnow); !ok {
		t.Error("import not stored")
	}
	if _, ok := again.Lookup("claude-opus-6", hnow); ok {
		t.Error("import did not replace the earlier change")
	}
	if usd, _, _ := again.Cost("claude-opus-4-6", storage.Tokens{Output: 1_000_000}, hnow, false, map[string]string{"speed": "fast"}); !near(usd, 150) {
		t.Errorf("fast opus-4-6: %v, want 25×6", usd)
	}
	if code, _ := do(http.MethodDelete, ""); code != 200 {
		t.Fatalf("DELETE: %d", code)
	}
	again, _ = LoadPrices(db)
	if _, ok := again.Lookup("claude-x-1", hnow); ok {
		t.Error("reset not stored")
	}
	var out bytes.Buffer
	if err := WritePricesTable(&out, prices.Table()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "claude-haiku-5-5") || !strings.Contains(out.String(), "prompt > 100,000") {
		t.Errorf("prices table:\n%s", out.String())
	}
}
