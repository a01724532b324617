// Package corebridge adapts Ferry's assembled core (proxy/app) to the
// small ui.Core interface the desktop app is written against, so that ui/
// itself never reaches into the core's internals and can be tested on a
// fake.
package corebridge

import (
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/ferry-gateway/ferry/proxy/app"
	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/proxy/route"
	"github.com/ferry-gateway/ferry/proxy/usage"
	"github.com/ferry-gateway/ferry/storage"
	"github.com/ferry-gateway/ferry/ui"
)

// Bridge is the real core as ui.Core.
type Bridge struct {
	srv *app.Server
}

var _ ui.Core = (*Bridge)(nil)

// New adapts srv.
func New(srv *app.Server) *Bridge { return &Bridge{srv: srv} }

func (b *Bridge) Paused() bool  { return b.srv.Proxy().Paused() }
func (b *Bridge) Pause() error  { b.srv.Proxy().Pause(); return nil }
func (b *Bridge) Resume() error { b.srv.Proxy().Resume(); return nil }

func (b *Bridge) BaseURL() string    { return b.srv.BaseURL() }
func (b *Bridge) LocalToken() string { return b.srv.Keys().LocalToken() }
func (b *Bridge) RegenerateLocalToken() (string, error) {
	return b.srv.Keys().RegenerateToken()
}
func (b *Bridge) APIKeyMasked() string { return b.srv.KeyStatus().Masked }
func (b *Bridge) SetAPIKey(key string) error {
	_, err := b.srv.Keys().SetAPIKey(key)
	return err
}
func (b *Bridge) ClearAPIKey() error { return b.srv.Keys().ClearAPIKey() }

func (b *Bridge) Routes() []ui.RouteStatus {
	sts := b.srv.Routes().Routes()
	out := make([]ui.RouteStatus, 0, len(sts))
	for _, st := range sts {
		out = append(out, ui.RouteStatus{
			Name: st.Name, URL: st.URL, Via: st.Via,
			Checked: !st.Health.Checked.IsZero(), Up: st.Health.Up, Latency: st.Health.Latency,
			Err: st.Health.Err, History: slices.Clone(st.History), Current: st.Current,
		})
	}
	return out
}

func (b *Bridge) Choice() string             { return b.srv.Routes().Choice() }
func (b *Bridge) UseRoute(name string) error { return b.srv.Routes().Use(name) }
func (b *Bridge) UseAuto() error             { return b.srv.Routes().UseAuto() }

func (b *Bridge) AddRoute(name, rawURL string) error {
	r, err := route.Parse(name, rawURL)
	if err != nil {
		return err
	}
	return b.srv.Routes().Add(r)
}

func (b *Bridge) UpdateRoute(oldName, name, rawURL string) error {
	if rawURL == "" {
		// The UI only ever sees the URL masked: keep the stored one.
		for _, st := range b.srv.Routes().Routes() {
			if st.Name == oldName {
				rawURL = st.Route.URL
			}
		}
		if rawURL == "" {
			return fmt.Errorf("%w: %q", route.ErrUnknownRoute, oldName)
		}
	}
	r, err := route.Parse(name, rawURL)
	if err != nil {
		return err
	}
	return b.srv.Routes().Update(oldName, r)
}

func (b *Bridge) RemoveRoute(name string) error { return b.srv.Routes().Remove(name) }

func (b *Bridge) TestRoute(ctx context.Context, name string) (ui.Probe, error) {
	for _, h := range b.srv.Routes().TestNow(ctx) {
		if h.Route == name {
			return ui.Probe{Route: h.Route, Up: h.Up, Connect: h.Connect, Handshake: h.Handshake,
				TLS: h.TLS, Latency: h.Latency, Err: h.Err, Checked: h.Checked}, nil
		}
	}
	return ui.Probe{}, fmt.Errorf("%w: %q", route.ErrUnknownRoute, name)
}

func (b *Bridge) TestAllRoutes(ctx context.Context) error {
	b.srv.Routes().TestNow(ctx)
	return ctx.Err()
}

func percentiles(p storage.Percentiles) ui.Percentiles {
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	return ui.Percentiles{P50: ms(p.P50), P95: ms(p.P95), P99: ms(p.P99)}
}

func breakdowns(m map[string]storage.Breakdown) []ui.Breakdown {
	out := make([]ui.Breakdown, 0, len(m))
	for name, v := range m {
		out = append(out, ui.Breakdown{Name: name, Requests: int64(v.Requests), Errors: int64(v.Errors),
			Tokens: v.Tokens, CostUSD: v.CostUSD})
	}
	slices.SortFunc(out, func(a, b ui.Breakdown) int {
		return cmp.Or(cmp.Compare(b.CostUSD, a.CostUSD), cmp.Compare(b.Requests, a.Requests), cmp.Compare(a.Name, b.Name))
	})
	return out
}

func classMap(m map[storage.ErrorClass]uint64) map[storage.ErrorClass]int64 {
	out := make(map[storage.ErrorClass]int64, len(m))
	for k, v := range m {
		out[k] = int64(v)
	}
	return out
}

func (b *Bridge) Stats(ctx context.Context, from, to time.Time) (ui.Stats, error) {
	sum, err := b.srv.Stats().StatsBetween(from, to)
	if err != nil {
		return ui.Stats{}, err
	}
	st := ui.Stats{
		From: sum.From, To: sum.To, Requests: int64(sum.Requests), Errors: int64(sum.Errors.Total),
		ErrorsByClass: classMap(sum.Errors.ByClass), ErrorsByType: map[string]int64{},
		FirstToken: percentiles(sum.LatencyMS.FirstToken), Total: percentiles(sum.LatencyMS.Total),
		Tokens: sum.Tokens, CostUSD: sum.CostUSD, SpendToday: sum.SpendTodayUSD, SpendMonth: sum.SpendMonthUSD,
		RequestsToday: int64(sum.RequestsToday), ByModel: breakdowns(sum.ByModel), ByRoute: breakdowns(sum.ByRoute),
		Headroom: headroom(sum.Headroom),
	}
	for k, v := range sum.Errors.ByType {
		st.ErrorsByType[k] = int64(v)
	}
	return st, ctx.Err()
}

func headroom(s map[string]usage.Headroom) ui.Headroom {
	var r ui.Headroom
	for name, l := range s {
		switch name {
		case "requests":
			r.RequestsLimit, r.RequestsRemaining = l.Limit, l.Remaining
		case "tokens":
			r.TokensLimit, r.TokensRemaining = l.Limit, l.Remaining
		case "input-tokens":
			r.InputTokensLimit, r.InputTokensRemaining = l.Limit, l.Remaining
		case "output-tokens":
			r.OutputTokensLimit, r.OutputTokensRemaining = l.Limit, l.Remaining
		default:
			continue
		}
		if !l.Reset.IsZero() && (r.Reset.IsZero() || l.Reset.Before(r.Reset)) {
			r.Reset = l.Reset
		}
		if l.Seen.After(r.Seen) {
			r.Seen = l.Seen
		}
	}
	return r
}

func (b *Bridge) Series(ctx context.Context, from, to time.Time, step time.Duration) ([]ui.SeriesPoint, error) {
	pts, err := b.srv.DB().Series(from, to, step)
	if err != nil {
		return nil, err
	}
	out := make([]ui.SeriesPoint, 0, len(pts))
	for _, p := range pts {
		out = append(out, ui.SeriesPoint{
			Time: p.Start, Requests: int64(p.Requests), ErrorsByClass: classMap(p.Errors),
			Tokens: p.Tokens, CostUSD: p.CostUSD,
			FirstToken: percentiles(p.LatencyMS.FirstToken), Total: percentiles(p.LatencyMS.Total),
		})
	}
	return out, ctx.Err()
}

func (b *Bridge) Recent(ctx context.Context, limit int) ([]storage.Record, error) {
	return b.srv.DB().Records(0, limit)
}

// ExportCSV writes one line per record, the same columns as
// /_ferry/requests, without bodies.
func (b *Bridge) ExportCSV(ctx context.Context, w io.Writer, from, to time.Time) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"time", "model", "path", "stream", "status", "error_type", "error_class", "route", "client",
		"request_id", "input", "output", "cache_write_5m", "cache_write_1h", "cache_read",
		"first_byte_ms", "first_token_ms", "total_ms", "cost_usd", "price_known"})
	ms := func(d time.Duration) string {
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64)
	}
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	err := b.srv.DB().EachRecord(from, to, func(r storage.Record) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return cw.Write([]string{r.Time.Local().Format(time.RFC3339), r.Model, r.Path, strconv.FormatBool(r.Stream),
			strconv.Itoa(r.Status), r.ErrorType, string(r.ErrorClass), r.Route, r.Client, r.RequestID,
			n(r.Tokens.Input), n(r.Tokens.Output), n(r.Tokens.CacheWrite5m), n(r.Tokens.CacheWrite1h), n(r.Tokens.CacheRead),
			ms(r.FirstByte), ms(r.FirstToken), ms(r.Total), strconv.FormatFloat(r.CostUSD, 'f', -1, 64),
			strconv.FormatBool(r.PriceKnown)})
	})
	cw.Flush()
	return errors.Join(err, cw.Error())
}

func (b *Bridge) Prices() ([]ui.PriceRow, error) {
	p := b.srv.Prices()
	t := p.Table()
	out := make([]ui.PriceRow, 0, len(t.Rows))
	for _, r := range t.Rows {
		out = append(out, ui.PriceRow{Model: r.Model, From: r.From, Input: r.Input, Output: r.Output,
			CacheWrite5m: r.CacheWrite5m, CacheWrite1h: r.CacheWrite1h, CacheRead: r.CacheRead, Custom: p.Custom(r.Key())})
	}
	return out, nil
}

func (b *Bridge) SetPrice(pr ui.PriceRow) error {
	row := usage.PriceRow{Model: pr.Model, From: pr.From, Rates: usage.Rates{Input: pr.Input, Output: pr.Output,
		CacheWrite5m: pr.CacheWrite5m, CacheWrite1h: pr.CacheWrite1h, CacheRead: pr.CacheRead}}
	// The settings table edits the base rates only: keep the row's tiers.
	for _, old := range b.srv.Prices().Table().Rows {
		if old.Key() == row.Key() {
			row.Tiers = old.Tiers
		}
	}
	return b.srv.Prices().Set(row)
}

func (b *Bridge) ResetPrices() error { return b.srv.Prices().Reset() }

func (b *Bridge) Settings() (ui.Settings, error) {
	sv := b.srv.Settings()
	s := ui.Settings{Listen: b.srv.StoredListen(), StoreBodies: sv.StoreBodies, Language: ui.LanguageSystem}
	if ret := b.srv.Retention(); ret > 0 {
		s.RetentionDays = int((ret + 12*time.Hour) / (24 * time.Hour))
	}
	s.Language = b.srv.Registry().Value(app.KeyLanguage).String()
	return s, nil
}

func (b *Bridge) SetSettings(s ui.Settings) error {
	if err := b.srv.SetStoredListen(s.Listen); err != nil {
		return err
	}
	if err := b.srv.SetRetention(time.Duration(s.RetentionDays) * 24 * time.Hour); err != nil {
		return err
	}
	if err := b.srv.SetStoreBodies(s.StoreBodies); err != nil {
		return err
	}
	// The registry stores it and publishes the change.
	_, err := b.srv.Registry().Set(app.KeyLanguage, s.Language)
	return err
}

func (b *Bridge) DataDir() string { return b.srv.DataDir() }

func (b *Bridge) Subscribe(buf int) (<-chan events.Event, func()) { return b.srv.Bus().Subscribe(buf) }
