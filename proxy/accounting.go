package proxy

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/proxy/jsonscan"
	"github.com/ferry-gateway/ferry/storage"
)

// finish hands the record to the observer, the recorder and the bus, and
// logs it: exactly once per API request, whatever happened.
func (x *exchange) finish() {
	if x.noRecord {
		return
	}
	x.rec.Total = time.Since(x.start)
	// The bookkeeping runs later, in a batch (see books): neither the end
	// of the response nor the connection's next request waits for it. The
	// handler touches x no more; Shutdown waits for p.books.
	x.p.books.add(x)
	if x.abort {
		// Break the connection: the client must not take a cut body for
		// a whole one. The server recovers this panic quietly.
		panic(http.ErrAbortHandler)
	}
}

// account hands the finished record to the observer, the recorder and the
// bus, and logs it.
func (x *exchange) account() {
	rec := &x.rec
	// Issue 9: every try on the road, bounded; the record's route is the
	// last attempt's (set as each attempt starts).
	for i, a := range x.attempts {
		if i == storage.MaxAttempts {
			break
		}
		rec.Attempts = append(rec.Attempts, storage.Attempt{Route: a.Route, Class: a.Class, Status: a.Status, Duration: a.Elapsed})
	}
	if obs := x.observer(); obs != nil {
		if x.summary != nil {
			obs.(SummaryReader).Summary(x.summary)
		}
		obs.Done(rec)
	}
	rec.Attempts = attemptsOf(x.attempts)
	if x.out != nil {
		rec.Session = x.out.Session
		// The stages' own fields, after the meter's (a cache hit zeroes
		// the cost the meter found and keeps it as saved).
		for _, note := range x.out.notes {
			note(rec)
		}
	}
	if x.p.opts.Recorder != nil {
		x.p.opts.Recorder.Record(*rec)
	}
	if x.p.opts.Bus != nil {
		published := *rec
		x.p.opts.Bus.Publish(events.Event{Kind: events.RequestFinished, Record: &published})
	}
	x.logLine()
}

func (x *exchange) logLine() {
	rec := &x.rec
	level := slog.LevelInfo
	if rec.ErrorClass == storage.ClassNetwork || rec.ErrorClass == storage.ClassFerry {
		level = slog.LevelWarn
	}
	log := x.p.log
	if !log.Enabled(context.Background(), level) {
		return
	}
	attrs := make([]slog.Attr, 0, 16)
	attrs = append(attrs,
		slog.String("id", x.id),
		slog.String("method", rec.Method),
		slog.String("path", rec.Path),
		slog.String("model", rec.Model),
		slog.String("route", rec.Route),
		slog.Int("status", rec.Status),
		slog.Float64("latency_ms", float64(rec.Total.Microseconds())/1000),
	)
	if rec.FirstByte > 0 {
		attrs = append(attrs, slog.Float64("first_byte_ms", float64(rec.FirstByte.Microseconds())/1000))
	}
	if rec.RequestID != "" && rec.RequestID != x.id {
		attrs = append(attrs, slog.String("request_id", rec.RequestID))
	}
	if rec.Stream {
		attrs = append(attrs, slog.Bool("stream", true))
	}
	attrs = append(attrs, slog.Int64("bytes_in", rec.BytesIn), slog.Int64("bytes_out", rec.BytesOut))
	if t := rec.Tokens; t.Input+t.Output+t.CacheRead+t.CacheWrite5m+t.CacheWrite1h > 0 {
		attrs = append(attrs, slog.Int64("tokens_in", t.Prompt()), slog.Int64("tokens_out", t.Output))
	}
	if rec.CostUSD > 0 {
		attrs = append(attrs, slog.Float64("cost_usd", rec.CostUSD))
	}
	if rec.CacheHit {
		attrs = append(attrs, slog.Bool("cache_hit", true))
	}
	if rec.ErrorType != "" {
		attrs = append(attrs, slog.String("error_type", rec.ErrorType), slog.String("error_class", string(rec.ErrorClass)))
	}
	if x.err != nil && x.err.Status != StatusClientClosed {
		attrs = append(attrs, slog.String("error", redact(x.err.Message)))
	}
	log.LogAttrs(context.Background(), level, "request", attrs...)
}

// errorTypeOf reads error.type from the start of an error body.
func errorTypeOf(body []byte, enc string) string {
	if enc == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return ""
		}
		// A cut gzip stream still yields what it decoded before the cut.
		body, _ = io.ReadAll(io.LimitReader(zr, maxErrBody))
	}
	return jsonscan.String(jsonscan.Field(jsonscan.Field(body, "error"), "type"))
}

// attemptsOf is what the record keeps of the attempts made, in order,
// at most storage.MaxAttempts.
func attemptsOf(as []AttemptResult) []storage.Attempt {
	if len(as) == 0 {
		return nil
	}
	out := make([]storage.Attempt, 0, min(len(as), storage.MaxAttempts))
	for _, a := range as[:min(len(as), storage.MaxAttempts)] {
		out = append(out, storage.Attempt{Route: a.Route, Class: a.Class, Status: a.Status, Duration: a.Elapsed})
	}
	return out
}
