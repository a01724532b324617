package usage

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ferry-gateway/ferry/storage"
)

// Settings is where the price table persists (storage.DB implements it).
type Settings interface {
	GetSetting(key string, into any) (found bool, err error)
	PutSetting(key string, v any) error
}

// SettingsKey is the settings key the price table is stored under.
const SettingsKey = "prices"

// Rates are prices in USD per million tokens, one per token class.
type Rates struct {
	Input        float64 `json:"input"`
	CacheWrite5m float64 `json:"cache_write_5m"`
	CacheWrite1h float64 `json:"cache_write_1h"`
	CacheRead    float64 `json:"cache_read"`
	Output       float64 `json:"output"`
}

// Tier replaces a row's rates for a request whose whole prompt (input plus
// cache writes and reads) is longer than AbovePromptTokens: every token of
// that request, output included, is priced at the tier's rates.
type Tier struct {
	AbovePromptTokens int64 `json:"above_prompt_tokens"`
	Rates
}

// PriceRow prices one model id, or every id of a family when Model is a
// prefix of whole hyphen-separated segments, from one date on. A model may
// have several rows with different From dates: a request is priced by the
// row in effect at its time.
type PriceRow struct {
	Model string `json:"model"`
	// From is the UTC date (YYYY-MM-DD) the row takes effect; "" means it
	// has always applied.
	From string `json:"from,omitempty"`
	Rates
	Tiers []Tier `json:"tiers,omitempty"`
}

// Key names the row: its model, and its date when it has one.
func (r PriceRow) Key() string {
	if r.From == "" {
		return r.Model
	}
	return r.Model + "@" + r.From
}

// PriceTable is the whole table, as exported, imported and listed.
type PriceTable struct {
	Rows        []PriceRow   `json:"rows"`
	Multipliers []Multiplier `json:"multipliers"`
	// BatchFactor scales the price of batch requests (and of any request
	// whose service_tier is "batch").
	BatchFactor float64 `json:"batch_factor"`
	// Custom lists the keys (PriceRow.Key) of rows the user set rather than
	// Ferry's defaults. Table fills it; Import ignores it.
	Custom []string `json:"custom,omitempty"`
}

// DefaultBatchFactor: batches are half price.
const DefaultBatchFactor = 0.5

// DefaultTable returns the prices Ferry ships with, from Anthropic's
// pricing page as of late 2026 (see shared/anthropic-api.md), every row.
// The multipliers are the ones the pricing page gives figures for
// (DefaultMultipliers); users add others with Import when their contract
// says so.
func DefaultTable() PriceTable {
	r := func(model string, in, w5, w1, read, out float64) PriceRow {
		return PriceRow{Model: model, Rates: Rates{Input: in, CacheWrite5m: w5, CacheWrite1h: w1, CacheRead: read, Output: out}}
	}
	sonnet55 := r("claude-sonnet-5-5", 2, 2.50, 4, 0.10, 10)
	sonnet55.From = "2026-10-07"
	haiku55 := r("claude-haiku-5-5", 0.10, 0.125, 0.20, 0.01, 0.50)
	haiku55.Tiers = []Tier{{AbovePromptTokens: 100_000, Rates: Rates{Input: 0.50, CacheWrite5m: 0.625, CacheWrite1h: 1.00, CacheRead: 0.05, Output: 2.50}}}
	return PriceTable{
		Rows: []PriceRow{
			r("claude-opus-5-5", 4, 5, 8, 0.20, 20),
			r("claude-opus-5", 5, 6.25, 10, 0.50, 25),
			r("claude-opus-4-8", 5, 6.25, 10, 0.50, 25),
			r("claude-opus-4-7", 5, 6.25, 10, 0.50, 25),
			r("claude-opus-4-6", 5, 6.25, 10, 0.50, 25),
			r("claude-opus-4-5", 5, 6.25, 10, 0.50, 25),
			r("claude-opus-4-1", 15, 18.75, 30, 1.50, 75),
			r("claude-opus-4", 15, 18.75, 30, 1.50, 75),
			r("claude-sonnet-5-5", 2, 2.50, 4, 0.20, 10),
			sonnet55,
			r("claude-sonnet-5", 2, 2.50, 4, 0.20, 10),
			r("claude-sonnet-4-6", 3, 3.75, 6, 0.30, 15),
			r("claude-sonnet-4-5", 3, 3.75, 6, 0.30, 15),
			r("claude-sonnet-4", 3, 3.75, 6, 0.30, 15),
			haiku55,
			r("claude-haiku-4-5", 1, 1.25, 2, 0.10, 5),
			r("claude-3-5-haiku", 0.80, 1, 1.6, 0.08, 4),
			r("claude-3-haiku", 0.25, 0.30, 0.50, 0.03, 1.25),
			r("claude-fable-5-1", 10, 12.50, 20, 0.25, 50),
			// From 2026-11-09, 1M context without a long-context tier.
			r("claude-fable-5-2", 8, 10, 16, 0.20, 40),
		},
		Multipliers: DefaultMultipliers(),
		BatchFactor: DefaultBatchFactor,
	}
}

// storedPrices is what the "prices" setting holds: only the user's
// changes, so that a newer Ferry's default prices still reach rows the
// user never touched.
type storedPrices struct {
	Version     int          `json:"version"`
	Rows        []PriceRow   `json:"rows,omitempty"`
	Multipliers []Multiplier `json:"multipliers,omitempty"` // replaces the defaults when set
	BatchFactor float64      `json:"batch_factor,omitempty"`
}

// Prices is the live price table. It is safe for concurrent use.
type Prices struct {
	settings Settings

	mu     sync.RWMutex
	stored storedPrices
	table  PriceTable
	byID   map[string][]PriceRow // model → rows, oldest From first
}

// DefaultPrices returns the default table, kept in memory only.
func DefaultPrices() *Prices {
	p := &Prices{}
	p.rebuild()
	return p
}

// LoadPrices returns the table stored in s, over the defaults. A stored
// value that does not decode is reported and the defaults are used, so a
// damaged setting never leaves Ferry without prices.
func LoadPrices(s Settings) (*Prices, error) {
	p := &Prices{settings: s}
	var st storedPrices
	var err error
	if s != nil {
		var found bool
		found, err = s.GetSetting(SettingsKey, &st)
		switch {
		case err != nil:
			err = fmt.Errorf("load prices (using defaults): %w", err)
		case found:
			if verr := validateStored(st); verr != nil {
				err = fmt.Errorf("load prices (using defaults): %w", verr)
			} else {
				p.stored = st
			}
		}
	}
	p.rebuild()
	return p, err
}

func validateStored(st storedPrices) error {
	for _, r := range st.Rows {
		if err := r.validate(); err != nil {
			return err
		}
	}
	for _, m := range st.Multipliers {
		if err := m.validate(); err != nil {
			return err
		}
	}
	if st.BatchFactor < 0 || math.IsNaN(st.BatchFactor) || math.IsInf(st.BatchFactor, 0) {
		return fmt.Errorf("batch factor %v: %w", st.BatchFactor, ErrBadPriceRow)
	}
	return nil
}

// rebuild computes the effective table from the defaults and the stored
// changes. Call with mu held (or before p is shared).
func (p *Prices) rebuild() {
	def := DefaultTable()
	rows := def.Rows
	for _, o := range p.stored.Rows {
		o.Model = normalizeModel(o.Model)
		if i := slices.IndexFunc(rows, func(r PriceRow) bool { return r.Key() == o.Key() }); i >= 0 {
			rows[i] = o
		} else {
			rows = append(rows, o)
		}
	}
	t := PriceTable{Rows: rows, Multipliers: def.Multipliers, BatchFactor: def.BatchFactor}
	if p.stored.Multipliers != nil {
		t.Multipliers = slices.Clone(p.stored.Multipliers)
	}
	if p.stored.BatchFactor > 0 {
		t.BatchFactor = p.stored.BatchFactor
	}
	by := make(map[string][]PriceRow, len(rows))
	for _, r := range rows {
		by[r.Model] = append(by[r.Model], r)
	}
	for _, rs := range by {
		slices.SortFunc(rs, func(a, b PriceRow) int { return strings.Compare(a.From, b.From) })
	}
	p.table, p.byID = t, by
}

// Table returns a copy of the effective table (the JSON Export writes).
func (p *Prices) Table() PriceTable {
	p.mu.RLock()
	defer p.mu.RUnlock()
	t := p.table
	t.Rows = make([]PriceRow, len(p.table.Rows))
	for i, r := range p.table.Rows {
		r.Tiers = slices.Clone(r.Tiers)
		t.Rows[i] = r
	}
	t.Multipliers = slices.Clone(p.table.Multipliers)
	if t.Multipliers == nil {
		t.Multipliers = []Multiplier{}
	}
	t.Custom = nil
	for _, r := range p.stored.Rows {
		r.Model = normalizeModel(r.Model)
		t.Custom = append(t.Custom, r.Key())
	}
	return t
}

// Custom reports whether the row with this key was set by the user rather
// than shipped with Ferry.
func (p *Prices) Custom(key string) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return slices.ContainsFunc(p.stored.Rows, func(r PriceRow) bool { return r.Key() == key })
}

// Export returns the effective table as indented JSON, the format Import
// reads.
func (p *Prices) Export() ([]byte, error) {
	b, err := json.MarshalIndent(p.Table(), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("export prices: %w", err)
	}
	return append(b, '\n'), nil
}

// Set adds a row, or replaces the row with the same model and date, and
// persists the change.
func (p *Prices) Set(row PriceRow) error {
	row.Model = normalizeModel(row.Model)
	if err := row.validate(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.stored
	st.Rows = slices.Clone(st.Rows)
	if i := slices.IndexFunc(st.Rows, func(r PriceRow) bool { return r.Key() == row.Key() }); i >= 0 {
		st.Rows[i] = row
	} else {
		st.Rows = append(st.Rows, row)
	}
	return p.save(st)
}

// Import replaces the user's changes with a table in Export's format
// (rows, multipliers, batch_factor; any may be missing). Rows identical to
// the defaults are not kept as changes, so importing an export does not
// freeze today's defaults.
func (p *Prices) Import(data []byte) error {
	var t PriceTable
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return fmt.Errorf("import prices: %w: %w", ErrBadPriceTable, err)
	}
	def := DefaultTable()
	st := storedPrices{Version: 1}
	seen := map[string]bool{}
	for _, r := range t.Rows {
		r.Model = normalizeModel(r.Model)
		if err := r.validate(); err != nil {
			return fmt.Errorf("import prices: %w", err)
		}
		if seen[r.Key()] {
			return fmt.Errorf("import prices: row %s twice: %w", r.Key(), ErrBadPriceTable)
		}
		seen[r.Key()] = true
		if slices.ContainsFunc(def.Rows, func(d PriceRow) bool { return equalRows(d, r) }) {
			continue
		}
		st.Rows = append(st.Rows, r)
	}
	for _, m := range t.Multipliers {
		if err := m.validate(); err != nil {
			return fmt.Errorf("import prices: %w", err)
		}
	}
	if t.Multipliers != nil && !slices.EqualFunc(t.Multipliers, def.Multipliers, equalMultipliers) {
		st.Multipliers = t.Multipliers
	}
	if t.BatchFactor < 0 || math.IsNaN(t.BatchFactor) || math.IsInf(t.BatchFactor, 0) {
		return fmt.Errorf("import prices: batch factor %v: %w", t.BatchFactor, ErrBadPriceTable)
	}
	if t.BatchFactor > 0 && t.BatchFactor != def.BatchFactor {
		st.BatchFactor = t.BatchFactor
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.save(st)
}

// Reset forgets the user's changes: the defaults apply again.
func (p *Prices) Reset() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.save(storedPrices{Version: 1})
}

// save persists st and makes it current. Call with mu held.
func (p *Prices) save(st storedPrices) error {
	st.Version = 1
	if p.settings != nil {
		if err := p.settings.PutSetting(SettingsKey, st); err != nil {
			return fmt.Errorf("save prices: %w", err)
		}
	}
	p.stored = st
	p.rebuild()
	return nil
}

func equalRows(a, b PriceRow) bool {
	return a.Model == b.Model && a.From == b.From && a.Rates == b.Rates && slices.Equal(a.Tiers, b.Tiers)
}

func (r PriceRow) validate() error {
	if r.Model == "" || strings.ContainsAny(r.Model, " \t\n") {
		return fmt.Errorf("model %q: %w", r.Model, ErrBadPriceRow)
	}
	if r.From != "" {
		if _, err := time.Parse(time.DateOnly, r.From); err != nil {
			return fmt.Errorf("row %s: date %q is not YYYY-MM-DD: %w", r.Model, r.From, ErrBadPriceRow)
		}
	}
	if err := r.Rates.validate(); err != nil {
		return fmt.Errorf("row %s: %w", r.Key(), err)
	}
	for _, t := range r.Tiers {
		if t.AbovePromptTokens <= 0 {
			return fmt.Errorf("row %s: tier needs above_prompt_tokens > 0: %w", r.Key(), ErrBadPriceRow)
		}
		if err := t.Rates.validate(); err != nil {
			return fmt.Errorf("row %s tier >%d: %w", r.Key(), t.AbovePromptTokens, err)
		}
	}
	return nil
}

func (r Rates) validate() error {
	for _, v := range []float64{r.Input, r.CacheWrite5m, r.CacheWrite1h, r.CacheRead, r.Output} {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("price %v: %w", v, ErrBadPriceRow)
		}
	}
	return nil
}

// normalizeModel lower-cases an id and strips a date suffix: "-YYYYMMDD"
// (the API's dated ids) or "@YYYYMMDD" (Vertex AI's).
func normalizeModel(id string) string {
	id = strings.ToLower(strings.TrimSpace(id))
	if n := len(id); n > 9 && (id[n-9] == '-' || id[n-9] == '@') && allDigits(id[n-8:]) {
		id = id[:n-9]
	}
	return id
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// familyOf reports whether id belongs to the family named by prefix: the
// same id, or prefix followed by more hyphen-separated segments of which
// the first is not a version number. So claude-3-5-haiku prices
// claude-3-5-haiku-latest, but claude-opus-4 never prices claude-opus-4-5
// and claude-opus-5 never prices claude-opus-5-5, whether or not those have
// rows of their own: a newer minor version is a different price, and
// pricing it as its elder would be wrong by a factor of three.
func familyOf(id, prefix string) bool {
	if id == prefix {
		return true
	}
	if !strings.HasPrefix(id, prefix) || id[len(prefix)] != '-' {
		return false
	}
	next, _, _ := strings.Cut(id[len(prefix)+1:], "-")
	return next != "" && !allDigits(next)
}

// match returns the rows pricing id: an exact id, then its "-0" alias
// (claude-opus-4-0 is claude-opus-4), then the longest family.
func (p *Prices) match(model string) []PriceRow {
	id := normalizeModel(model)
	if id == "" {
		return nil
	}
	if rs, ok := p.byID[id]; ok {
		return rs
	}
	if base, ok := strings.CutSuffix(id, "-0"); ok {
		if rs, ok := p.byID[base]; ok {
			return rs
		}
	}
	best := ""
	for prefix := range p.byID {
		if len(prefix) > len(best) && familyOf(id, prefix) {
			best = prefix
		}
	}
	if best == "" {
		return nil
	}
	return p.byID[best]
}

// Lookup returns the row that prices model at time at.
func (p *Prices) Lookup(model string, at time.Time) (PriceRow, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	rs := p.match(model)
	if len(rs) == 0 {
		return PriceRow{}, false
	}
	return pickVersion(rs, at), true
}

// pickVersion returns the latest row in effect at at, or the oldest when
// at predates them all (the model's first known price is the best guess).
func pickVersion(rs []PriceRow, at time.Time) PriceRow {
	day := at.UTC().Format(time.DateOnly)
	best := rs[0]
	for _, r := range rs[1:] {
		if r.From <= day {
			best = r
		}
	}
	return best
}

// Cost prices tokens of model used at time at. row names the price row and
// every modifier applied, e.g. "claude-haiku-5-5 prompt>100000 batch×0.5".
// known is false when no row prices the model: the cost is then 0 and must
// be shown as unknown, never as free.
//
// extras are the request's usage fields that may change the price
// (service_tier, inference_geo, speed); service_tier "batch" is priced as
// a batch even when batch is false.
func (p *Prices) Cost(model string, t storage.Tokens, at time.Time, batch bool, extras map[string]string) (usd float64, row string, known bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	rs := p.match(model)
	if len(rs) == 0 {
		return 0, "", false
	}
	r := pickVersion(rs, at)
	var label strings.Builder
	label.WriteString(r.Key())
	rates := r.Rates
	prompt := t.Prompt()
	// Tiers may be listed in any order: the highest threshold passed wins.
	if top := r.tierFor(prompt); top > 0 {
		for _, tier := range r.Tiers {
			if tier.AbovePromptTokens == top {
				rates = tier.Rates
			}
		}
		fmt.Fprintf(&label, " prompt>%d", top)
	}
	usd = (float64(t.Input)*rates.Input +
		float64(t.CacheWrite5m)*rates.CacheWrite5m +
		float64(t.CacheWrite1h)*rates.CacheWrite1h +
		float64(t.CacheRead)*rates.CacheRead +
		float64(t.Output)*rates.Output) / 1e6
	f, ok := p.modifiers(normalizeModel(model), prompt, extras, &label)
	if !ok {
		// A fast-mode (or other speed) request on a model with no figure
		// for it costs some unknown multiple of standard: unknown, never
		// the standard price.
		return 0, label.String(), false
	}
	usd *= f
	if batch || extras["service_tier"] == "batch" {
		usd *= p.table.BatchFactor
		fmt.Fprintf(&label, " batch×%s", strconv.FormatFloat(p.table.BatchFactor, 'f', -1, 64))
	}
	return usd, label.String(), true
}

// tierFor returns the threshold of the tier that applies to a prompt of
// this length, or 0 for the base rates.
func (r PriceRow) tierFor(prompt int64) int64 {
	var top int64
	for _, t := range r.Tiers {
		if prompt > t.AbovePromptTokens && t.AbovePromptTokens > top {
			top = t.AbovePromptTokens
		}
	}
	return top
}
