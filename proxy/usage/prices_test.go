package usage

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/storage"
)

func TestPriceMatching(t *testing.T) {
	p := DefaultPrices()
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct{ id, row string }{
		// every id in the pricing table
		{"claude-opus-5-5", "claude-opus-5-5"},
		{"claude-opus-5", "claude-opus-5"},
		{"claude-opus-4-8", "claude-opus-4-8"},
		{"claude-opus-4-7", "claude-opus-4-7"},
		{"claude-opus-4-6", "claude-opus-4-6"},
		{"claude-opus-4-5", "claude-opus-4-5"},
		{"claude-opus-4-1", "claude-opus-4-1"},
		{"claude-opus-4", "claude-opus-4"},
		{"claude-sonnet-5-5", "claude-sonnet-5-5@2026-10-07"},
		{"claude-sonnet-5", "claude-sonnet-5"},
		{"claude-sonnet-4-6", "claude-sonnet-4-6"},
		{"claude-sonnet-4-5", "claude-sonnet-4-5"},
		{"claude-sonnet-4", "claude-sonnet-4"},
		{"claude-haiku-5-5", "claude-haiku-5-5"},
		{"claude-haiku-4-5", "claude-haiku-4-5"},
		{"claude-3-5-haiku", "claude-3-5-haiku"},
		{"claude-3-haiku", "claude-3-haiku"},
		{"claude-fable-5-1", "claude-fable-5-1"},
		// dated ids match their family
		{"claude-opus-4-5-20251101", "claude-opus-4-5"},
		{"claude-sonnet-4-5-20250929", "claude-sonnet-4-5"},
		{"claude-haiku-4-5-20251001", "claude-haiku-4-5"},
		{"claude-opus-4-1-20250805", "claude-opus-4-1"},
		{"claude-opus-4-20250514", "claude-opus-4"},
		{"claude-sonnet-4-20250514", "claude-sonnet-4"},
		{"claude-3-5-haiku-20241022", "claude-3-5-haiku"},
		{"claude-3-haiku-20240307", "claude-3-haiku"},
		{"claude-sonnet-4-5@20250929", "claude-sonnet-4-5"}, // Vertex AI's spelling
		{"Claude-Sonnet-4-5", "claude-sonnet-4-5"},
		// aliases
		{"claude-opus-4-0", "claude-opus-4"},
		{"claude-sonnet-4-0", "claude-sonnet-4"},
		{"claude-3-5-haiku-latest", "claude-3-5-haiku"},
		// unknown: never a shorter family's price, never $0
		{"claude-opus-6", ""},
		{"claude-opus-5-7", ""},
		{"claude-opus-4-9", ""},
		{"claude-opus-4-2-20260101", ""},
		{"claude-sonnet-6", ""},
		{"claude-haiku-5", ""},
		{"claude-3-7-sonnet-20250219", ""},
		{"claude-opus", ""},
		{"claude", ""},
		{"gpt-4o", ""},
		{"", ""},
		{"claude-opus-5-", ""},
	}
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			row, ok := p.Lookup(c.id, at)
			if c.row == "" {
				if ok {
					t.Fatalf("%q priced by %s, want unknown", c.id, row.Key())
				}
				usd, name, known := p.Cost(c.id, storage.Tokens{Input: 1000, Output: 1000}, at, false, nil)
				if known || usd != 0 || name != "" {
					t.Fatalf("Cost(%q) = %v, %q, %v; want unknown", c.id, usd, name, known)
				}
				return
			}
			if !ok || row.Key() != c.row {
				t.Fatalf("%q priced by %q (ok %v), want %q", c.id, row.Key(), ok, c.row)
			}
		})
	}
}

func TestCost(t *testing.T) {
	p := DefaultPrices()
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d.Add(12 * time.Hour)
	}
	cases := []struct {
		name   string
		model  string
		tokens storage.Tokens
		at     time.Time
		batch  bool
		extras map[string]string
		usd    float64
		row    string
	}{
		{
			name: "sonnet-5-5 cache read before 2026-10-07", model: "claude-sonnet-5-5",
			tokens: storage.Tokens{CacheRead: 1_000_000}, at: day("2026-10-06"),
			// 1M reads × $0.20
			usd: 0.20, row: "claude-sonnet-5-5",
		},
		{
			name: "sonnet-5-5 cache read from 2026-10-07", model: "claude-sonnet-5-5",
			tokens: storage.Tokens{CacheRead: 1_000_000}, at: day("2026-10-07"),
			// 1M reads × $0.10
			usd: 0.10, row: "claude-sonnet-5-5@2026-10-07",
		},
		{
			name: "haiku-5-5 prompt at 100K stays on the base tier", model: "claude-haiku-5-5",
			tokens: storage.Tokens{Input: 40_000, CacheRead: 60_000, Output: 1000}, at: day("2026-11-01"),
			// 40000×0.10 + 60000×0.01 + 1000×0.50 = 4000 + 600 + 500 = 5100 µ$
			usd: 0.0051, row: "claude-haiku-5-5",
		},
		{
			name: "haiku-5-5 prompt over 100K: whole request at the higher row", model: "claude-haiku-5-5",
			tokens: storage.Tokens{Input: 40_000, CacheWrite5m: 1, CacheRead: 60_000, Output: 1000}, at: day("2026-11-01"),
			// prompt 100001: 40000×0.50 + 1×0.625 + 60000×0.05 + 1000×2.50 = 20000 + 0.625 + 3000 + 2500 = 25500.625 µ$
			usd: 0.025500625, row: "claude-haiku-5-5 prompt>100000",
		},
		{
			name: "batch half price", model: "claude-opus-4-1-20250805", batch: true,
			tokens: storage.Tokens{Input: 10_000, Output: 2_000}, at: day("2026-11-01"),
			// (10000×15 + 2000×75) × 0.5 = (150000 + 150000) × 0.5 = 150000 µ$
			usd: 0.15, row: "claude-opus-4-1 batch×0.5",
		},
		{
			name: "service_tier batch is a batch", model: "claude-3-haiku",
			tokens: storage.Tokens{Input: 1_000_000, Output: 1_000_000}, at: day("2026-11-01"),
			extras: map[string]string{"service_tier": "batch"},
			// (0.25 + 1.25) × 0.5 = 0.75
			usd: 0.75, row: "claude-3-haiku batch×0.5",
		},
		{
			name: "claude-3-haiku breaks the multiples habit", model: "claude-3-haiku-20240307",
			tokens: storage.Tokens{Input: 1_000_000, CacheWrite5m: 1_000_000, CacheWrite1h: 1_000_000, CacheRead: 1_000_000, Output: 1_000_000}, at: day("2026-11-01"),
			// 0.25 + 0.30 + 0.50 + 0.03 + 1.25 = 2.33
			usd: 2.33, row: "claude-3-haiku",
		},
		{
			name: "every class of fable-5-1", model: "claude-fable-5-1",
			tokens: storage.Tokens{Input: 1000, CacheWrite5m: 2000, CacheWrite1h: 3000, CacheRead: 4000, Output: 5000}, at: day("2026-11-01"),
			// 1000×10 + 2000×12.5 + 3000×20 + 4000×0.25 + 5000×50 = 10000 + 25000 + 60000 + 1000 + 250000 = 346000 µ$
			usd: 0.346, row: "claude-fable-5-1",
		},
		{
			name: "fable-5-2, new in the default table", model: "claude-fable-5-2",
			tokens: storage.Tokens{Input: 1000, CacheWrite5m: 2000, CacheWrite1h: 3000, CacheRead: 4000, Output: 5000}, at: day("2026-11-20"),
			// 1000×8 + 2000×10 + 3000×16 + 4000×0.2 + 5000×40 = 8000 + 20000 + 48000 + 800 + 200000 = 276800 µ$
			usd: 0.2768, row: "claude-fable-5-2",
		},
		{
			name: "fable-5-2 has no long-context tier", model: "claude-fable-5-2",
			tokens: storage.Tokens{Input: 900_000, Output: 1000}, at: day("2026-11-20"),
			usd: 900_000*8/1e6 + 1000*40/1e6, row: "claude-fable-5-2",
		},
		{
			name: "service tier priority has no figure: standard price", model: "claude-opus-5-5",
			tokens: storage.Tokens{Input: 1_000_000}, at: day("2026-11-01"),
			extras: map[string]string{"service_tier": "priority", "speed": "standard", "inference_geo": "global"},
			usd:    4, row: "claude-opus-5-5",
		},
		{
			name: "US-only inference is 1.1× on any model", model: "claude-opus-5-5",
			tokens: storage.Tokens{Input: 1_000_000}, at: day("2026-11-01"),
			extras: map[string]string{"inference_geo": "us"},
			usd:    4.4, row: "claude-opus-5-5 inference_geo=us×1.1",
		},
		{
			name: "fast mode on Opus 5 is 2×", model: "claude-opus-5-20261001",
			tokens: storage.Tokens{Input: 100_000, Output: 10_000}, at: day("2026-11-01"),
			extras: map[string]string{"speed": "fast"},
			// (100000×5 + 10000×25) × 2 = 1500000 µ$
			usd: 1.5, row: "claude-opus-5 speed=fast×2",
		},
		{
			name: "fast mode on Opus 4.6 up to 200K is 6×", model: "claude-opus-4-6",
			tokens: storage.Tokens{Input: 50_000, CacheRead: 150_000, Output: 1000}, at: day("2026-11-01"),
			extras: map[string]string{"speed": "fast"},
			// prompt exactly 200000: (50000×5 + 150000×0.5 + 1000×25) × 6 = (250000+75000+25000)×6 = 2100000 µ$
			usd: 2.1, row: "claude-opus-4-6 speed=fast×6",
		},
		{
			name: "fast mode on Opus 4.6 above 200K is 12×, with geo", model: "claude-opus-4-6",
			tokens: storage.Tokens{Input: 50_001, CacheRead: 150_000, Output: 1000}, at: day("2026-11-01"),
			extras: map[string]string{"speed": "fast", "inference_geo": "us"},
			usd:    (50_001*5 + 150_000*0.5 + 1000*25) / 1e6 * 12 * 1.1, row: "claude-opus-4-6 speed=fast×12 inference_geo=us×1.1",
		},
	}
	for _, c := range []struct{ name, model string }{
		{"fast mode on a model without a figure is unknown", "claude-opus-5-5"},
		{"fast mode on Opus 4.5 is unknown, not Opus 4.6's", "claude-opus-4-5"},
		{"fast mode on Sonnet is unknown", "claude-sonnet-4-6"},
	} {
		t.Run(c.name, func(t *testing.T) {
			usd, row, known := p.Cost(c.model, storage.Tokens{Input: 1000}, day("2026-11-01"), false, map[string]string{"speed": "fast"})
			if known || usd != 0 || !strings.Contains(row, "speed=fast unpriced") {
				t.Errorf("Cost = %v, %q, %v; want unknown", usd, row, known)
			}
		})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			usd, row, known := p.Cost(c.model, c.tokens, c.at, c.batch, c.extras)
			if !known || !near(usd, c.usd) || row != c.row {
				t.Errorf("Cost = %.12f, %q, %v; want %.12f, %q, true", usd, row, known, c.usd, c.row)
			}
		})
	}
}

// memSettings is an in-memory Settings that stores JSON, like storage.DB.
type memSettings struct {
	m    map[string][]byte
	fail error
}

func (s *memSettings) GetSetting(key string, into any) (bool, error) {
	b, ok := s.m[key]
	if !ok {
		return false, nil
	}
	return true, json.Unmarshal(b, into)
}

func (s *memSettings) PutSetting(key string, v any) error {
	if s.fail != nil {
		return s.fail
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.m[key] = b
	return nil
}

func TestPricesPersist(t *testing.T) {
	s := &memSettings{}
	p, err := LoadPrices(s)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	tok := storage.Tokens{Input: 1_000_000}

	// A new model, a changed row and a multiplier.
	if err := p.Set(PriceRow{Model: "claude-opus-6", Rates: Rates{Input: 3, Output: 15}}); err != nil {
		t.Fatal(err)
	}
	if err := p.Set(PriceRow{Model: "claude-opus-4-5", Rates: Rates{Input: 4.5, Output: 22}}); err != nil {
		t.Fatal(err)
	}
	tbl := p.Table()
	tbl.Multipliers = []Multiplier{{Field: "inference_geo", Value: "us", Factor: 1.1, Models: []string{"claude-opus-6"}}}
	exported, _ := json.Marshal(tbl)
	if err := p.Import(exported); err != nil {
		t.Fatal(err)
	}

	// A fresh load sees all of it.
	p2, err := LoadPrices(s)
	if err != nil {
		t.Fatal(err)
	}
	if usd, row, ok := p2.Cost("claude-opus-6-20270101", tok, at, false, map[string]string{"inference_geo": "us"}); !ok || !near(usd, 3.3) || row != "claude-opus-6 inference_geo=us×1.1" {
		t.Errorf("opus-6 in the US: %v %q %v, want 3.3 (3 × 1.1)", usd, row, ok)
	}
	if usd, _, _ := p2.Cost("claude-opus-5-5", tok, at, false, map[string]string{"inference_geo": "us"}); !near(usd, 4) {
		t.Errorf("the multiplier leaked to opus-5-5: %v", usd)
	}
	if usd, _, _ := p2.Cost("claude-opus-4-5", tok, at, false, nil); !near(usd, 4.5) {
		t.Errorf("changed opus-4-5: %v, want 4.5", usd)
	}
	if !p2.Custom("claude-opus-4-5") || p2.Custom("claude-opus-4-1") {
		t.Error("Custom() wrong")
	}
	var out strings.Builder
	if err := WritePricesTable(&out, p2.Table()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"claude-opus-4-5 *", "claude-opus-6 *", "inference_geo=us ×1.1 (claude-opus-6)", "Batches: ×0.5"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("prices table lacks %q:\n%s", want, out.String())
		}
	}
	// Only changes are stored: an untouched row still follows the defaults.
	var st storedPrices
	s.GetSetting(SettingsKey, &st)
	if len(st.Rows) != 2 {
		t.Errorf("stored %d rows, want the 2 changed ones: %+v", len(st.Rows), st.Rows)
	}

	// Reset brings the defaults back, and persists.
	if err := p2.Reset(); err != nil {
		t.Fatal(err)
	}
	p3, _ := LoadPrices(s)
	if _, ok := p3.Lookup("claude-opus-6", at); ok {
		t.Error("opus-6 survived Reset")
	}
	if usd, _, _ := p3.Cost("claude-opus-4-5", tok, at, false, nil); !near(usd, 5) {
		t.Errorf("opus-4-5 after Reset: %v, want 5", usd)
	}

	// A round trip of the default export stores nothing.
	def, err := p3.Export()
	if err != nil {
		t.Fatal(err)
	}
	if err := p3.Import(def); err != nil {
		t.Fatal(err)
	}
	st = storedPrices{}
	s.GetSetting(SettingsKey, &st)
	if len(st.Rows) != 0 || st.Multipliers != nil {
		t.Errorf("importing the defaults stored changes: %+v", st)
	}
}

func TestPricesRejectBadInput(t *testing.T) {
	p := DefaultPrices()
	bad := []PriceRow{
		{Model: ""},
		{Model: "claude x"},
		{Model: "claude-x", From: "2026-13-01"},
		{Model: "claude-x", Rates: Rates{Input: -1}},
		{Model: "claude-x", Tiers: []Tier{{AbovePromptTokens: 0}}},
	}
	for _, r := range bad {
		if err := p.Set(r); !errors.Is(err, ErrBadPriceRow) {
			t.Errorf("Set(%+v) = %v, want ErrBadPriceRow", r, err)
		}
	}
	for _, in := range []string{`{"rows":[{"model":"a","input":"x"}]}`, `not json`, `{"rowz":[]}`,
		`{"rows":[{"model":"a"},{"model":"a"}]}`, `{"multipliers":[{"field":"speed","value":"fast","factor":0}]}`} {
		if err := p.Import([]byte(in)); err == nil {
			t.Errorf("Import(%s) accepted", in)
		}
	}
	// A failing store leaves the table unchanged.
	s := &memSettings{fail: errors.New("disk full")}
	p2, _ := LoadPrices(s)
	if err := p2.Set(PriceRow{Model: "claude-opus-6", Rates: Rates{Input: 1}}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Set with a failing store: %v", err)
	}
	if _, ok := p2.Lookup("claude-opus-6", time.Now()); ok {
		t.Error("a row that failed to save is in use")
	}
	// A damaged stored value falls back to the defaults, with an error.
	s3 := &memSettings{m: map[string][]byte{SettingsKey: []byte(`{"rows":[{"model":"x","input":-5}]}`)}}
	p3, err := LoadPrices(s3)
	if err == nil {
		t.Error("damaged prices loaded without an error")
	}
	if _, ok := p3.Lookup("claude-opus-4-5", time.Now()); !ok {
		t.Error("no defaults after a damaged load")
	}
}

func TestTierOrder(t *testing.T) {
	p := DefaultPrices()
	row := PriceRow{Model: "claude-test", Rates: Rates{Input: 1}, Tiers: []Tier{
		{AbovePromptTokens: 200_000, Rates: Rates{Input: 3}},
		{AbovePromptTokens: 100_000, Rates: Rates{Input: 2}},
	}}
	if err := p.Set(row); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in   int64
		rate float64
	}{{100_000, 1}, {150_000, 2}, {250_000, 3}} {
		usd, _, _ := p.Cost("claude-test", storage.Tokens{Input: c.in}, time.Now(), false, nil)
		if !near(usd, float64(c.in)*c.rate/1e6) {
			t.Errorf("%d tokens: %v, want rate %v", c.in, usd, c.rate)
		}
	}
}
