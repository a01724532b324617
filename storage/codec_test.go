package storage

import (
	"bytes"
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func fullRecord() Record {
	return Record{
		Time:           time.Date(2026, 11, 25, 20, 30, 18, 123456789, time.UTC),
		Method:         "POST",
		Path:           "/v1/messages",
		Model:          "claude-sonnet-4-5-20250929",
		Stream:         true,
		Status:         529,
		ErrorType:      "overloaded_error",
		ErrorClass:     ClassUpstream5xx,
		Route:          "home-socks",
		Client:         "claude-cli",
		RequestID:      "req_011CVxyz",
		KeyFingerprint: "fp:1a2b3c4d",
		CacheHit:       true,
		Tokens:         Tokens{Input: 12, Output: 345, CacheWrite5m: 6789, CacheWrite1h: 1011, CacheRead: 121314},
		ServiceTier:    "priority",
		Batch:          true,
		UsageExtras:    map[string]string{"inference_geo": "us", "speed": "fast"},
		FirstByte:      812 * time.Millisecond,
		FirstToken:     1234 * time.Millisecond,
		Total:          9876 * time.Millisecond,
		TokensPerSec:   37.25,
		BytesIn:        45678,
		BytesOut:       9012,
		CostUSD:        0.0421875,
		PriceKnown:     true,
		PriceRow:       "claude-sonnet-4-5@2025-09-29",
		RequestBody:    []byte(`{"model":"claude-sonnet-4-5"}`),
		ResponseBody:   []byte("event: message_start\n\n"),
	}
}

// sameRecord compares records, times by instant (the location is not stored).
func sameRecord(t *testing.T, got, want Record) {
	t.Helper()
	if !got.Time.Equal(want.Time) {
		t.Errorf("Time = %v, want %v", got.Time, want.Time)
	}
	got.Time, want.Time = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("record differs:\n got %+v\nwant %+v", got, want)
	}
}

func TestRecordCodecRoundTrip(t *testing.T) {
	for name, r := range map[string]Record{
		"full":          fullRecord(),
		"full+optional": withOptional(fullRecord()),
		"empty":         {},
		"optional only": withOptional(Record{}),
		"minimal": {Time: time.Unix(1, 0), Method: "GET", Path: "/v1/models", Status: 200,
			FirstByte: time.Nanosecond, CostUSD: -0}, // negative zero is still zero
	} {
		t.Run(name, func(t *testing.T) {
			r.ID = 42
			got, err := decodeRecord(42, encodeRecord(nil, &r))
			if err != nil {
				t.Fatal(err)
			}
			sameRecord(t, got, r)
		})
	}
}

// TestRecordDecodeRejectsTruncated: every cut is an error, except the one
// right after the fixed fields, which is a whole record written without
// optional fields (or before they existed).
func TestRecordDecodeRejectsTruncated(t *testing.T) {
	r := withOptional(fullRecord())
	enc := encodeRecord(nil, &r)
	fixed := fullRecord()
	fixedLen := len(encodeRecord(nil, &fixed))
	for n := 0; n < len(enc); n++ {
		got, err := decodeRecord(1, enc[:n])
		if n == fixedLen {
			if err != nil {
				t.Fatalf("the fixed part alone: %v", err)
			}
			fixed.ID = 1
			sameRecord(t, got, fixed)
			continue
		}
		if err == nil {
			t.Fatalf("decoding %d of %d bytes succeeded", n, len(enc))
		}
	}
}

func FuzzDecodeRecord(f *testing.F) {
	r := fullRecord()
	f.Add(encodeRecord(nil, &r))
	r = withOptional(r)
	f.Add(encodeRecord(nil, &r))
	f.Add(withUnknownTag(t0Record(), 99, []byte("from the future")))
	f.Add([]byte{recordFormat1})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(7, b)
		if err != nil {
			return
		}
		// Whatever decodes must survive a round trip: encoding it again
		// and decoding that gives the same record (compared as bytes, so
		// that a NaN cost compares equal to itself).
		enc := encodeRecord(nil, &r)
		again, err := decodeRecord(7, enc)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !bytes.Equal(encodeRecord(nil, &again), enc) {
			t.Fatalf("round trip changed the record:\n%+v\n%+v", r, again)
		}
		if len(again.Attempts) > MaxAttempts || len(again.FilterHits) > MaxFilterHits || len(again.Session) > MaxSessionLen {
			t.Fatalf("bounds not kept: %d attempts, %d hits, session %d bytes", len(again.Attempts), len(again.FilterHits), len(again.Session))
		}
	})
}

func FuzzMergeRollup(f *testing.F) {
	var g rollup
	r := fullRecord()
	g.apply(&r)
	f.Add(g.encode(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		var g rollup
		g.mergeEncoded(b) // must not panic
	})
}

func TestRecordRoundTripThroughDB(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ferry.db")
	db := openTest(t, path)
	rec := NewRecorder(db, RecorderOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- rec.Run(ctx) }()
	want := withOptional(fullRecord())
	rec.Record(want)
	if err := rec.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = openTest(t, path)
	got, err := db.Records(0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d records, want 1", len(got))
	}
	want.ID = 1
	sameRecord(t, got[0], want)
}
