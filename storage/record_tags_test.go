package storage

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// withOptional sets every optional (tagged) field of r.
func withOptional(r Record) Record {
	r.Attempts = []Attempt{
		{Route: "home-socks", Class: "connect", Duration: 3 * time.Second},
		{Route: "office-http", Class: "status", Status: 529, Duration: 812 * time.Millisecond},
		{Route: "direct", Status: 200, Duration: 401 * time.Millisecond},
	}
	r.Session = "6f1c7e0a-3b8d-4c52-9a77-1f0e2d3c4b5a"
	r.Coalesced = true
	r.SavedUSD = 0.0421875
	r.SavedTokens = 48213
	r.FilterHits = []FilterHit{{List: "secrets", Entry: "aws-access-key", Action: "redact", Count: 2}, {List: "words", Entry: "codename", Action: "block", Count: 1}}
	r.QueueWait = 1500 * time.Millisecond
	r.APIEquivUSD = 1.25
	return r
}

func t0Record() Record {
	return Record{Time: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), Method: "POST", Path: "/v1/messages", Status: 200}
}

// withUnknownTag encodes r and appends a tail holding a tag this Ferry
// does not know, followed by a session it does: what a newer Ferry writes.
func withUnknownTag(r Record, tag uint64, value []byte) []byte {
	var t encoder
	t.uvarint(tag)
	t.bytes(value)
	t.uvarint(tagSession)
	t.str("sess-1")
	e := encoder{b: encodeRecord(nil, &r)}
	e.bytes(t.b)
	return e.b
}

// TestRecordWrittenBeforeTags decodes a record exactly as the Ferry before
// tagged fields wrote it (testdata, made by that encoder): every field
// reads back, the optional ones are empty. And the encoder still writes
// those bytes for a record without optional fields, so old binaries see
// nothing new in such records.
func TestRecordWrittenBeforeTags(t *testing.T) {
	old, err := os.ReadFile("testdata/record_format1_before_tags.bin")
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeRecord(5, old)
	if err != nil {
		t.Fatal(err)
	}
	want := fullRecord()
	want.ID = 5
	sameRecord(t, got, want)
	if enc := encodeRecord(nil, &want); !bytes.Equal(enc, old) {
		t.Errorf("a record without optional fields encodes differently from before:\n got %x\nwant %x", enc, old)
	}
}

// TestOldReaderReadsNewRecord: the decoder of the Ferry before tags (kept
// frozen as migration 2's) reads a record with every optional field and
// finds its fixed fields intact: it stops before the tail.
func TestOldReaderReadsNewRecord(t *testing.T) {
	r := withOptional(fullRecord())
	v, err := v2DecodeRecord(encodeRecord(nil, &r))
	if err != nil {
		t.Fatal(err)
	}
	if v.model != r.Model || v.route != r.Route || v.status != int64(r.Status) || v.cost != r.CostUSD ||
		v.tokens != [5]int64{r.Tokens.Input, r.Tokens.Output, r.Tokens.CacheWrite5m, r.Tokens.CacheWrite1h, r.Tokens.CacheRead} ||
		v.total != int64(r.Total) || v.unixSec != r.Time.Unix() {
		t.Errorf("old reader got %+v from %+v", v, r)
	}
}

func TestUnknownTagSkipped(t *testing.T) {
	got, err := decodeRecord(1, withUnknownTag(t0Record(), 99, []byte("a field from a newer Ferry")))
	if err != nil {
		t.Fatal(err)
	}
	want := t0Record()
	want.ID, want.Session = 1, "sess-1"
	sameRecord(t, got, want)

	// A known tag whose value is malformed is corruption, not skipped.
	var tail encoder
	tail.uvarint(tagQueueWait)
	tail.bytes([]byte{0x80}) // a varint cut short
	r := t0Record()
	e := encoder{b: encodeRecord(nil, &r)}
	e.bytes(tail.b)
	if _, err := decodeRecord(1, e.b); err == nil {
		t.Error("a malformed known tag decoded")
	}
}

// TestOptionalBounds: the codec keeps the documented bounds whatever an
// owner hands it.
func TestOptionalBounds(t *testing.T) {
	r := t0Record()
	r.Session = strings.Repeat("s", 1000)
	for i := range 20 {
		r.Attempts = append(r.Attempts, Attempt{Route: "r", Status: i})
	}
	for range 100 {
		r.FilterHits = append(r.FilterHits, FilterHit{List: "l", Entry: "e", Action: "redact", Count: 1})
	}
	got, err := decodeRecord(1, encodeRecord(nil, &r))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Session) != MaxSessionLen || len(got.Attempts) != MaxAttempts || len(got.FilterHits) != MaxFilterHits {
		t.Errorf("session %d bytes, %d attempts, %d hits", len(got.Session), len(got.Attempts), len(got.FilterHits))
	}
	if got.Attempts[0].Status != 0 || got.Attempts[MaxAttempts-1].Status != MaxAttempts-1 {
		t.Errorf("kept the wrong attempts: %+v", got.Attempts)
	}
}

// TestRecordJSONNames: the optional fields' JSON is snake_case and left
// out when empty, like the others.
func TestRecordJSONNames(t *testing.T) {
	b, err := json.Marshal(t0Record())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"attempts", "session", "coalesced", "saved_usd", "filter_hits", "queue_wait_ns", "api_equiv_usd"} {
		if bytes.Contains(b, []byte(`"`+k+`"`)) {
			t.Errorf("empty %s in %s", k, b)
		}
	}
	b, err = json.Marshal(withOptional(t0Record()))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"attempts", "session", "coalesced", "saved_usd", "filter_hits", "queue_wait_ns", "api_equiv_usd"} {
		if _, ok := m[k]; !ok {
			t.Errorf("%s missing from %s", k, b)
		}
	}
	a := m["attempts"].([]any)[1].(map[string]any)
	if a["route"] != "office-http" || a["class"] != "status" || a["status"] != 529.0 || a["duration_ns"] != 812e6 {
		t.Errorf("attempt JSON %v", a)
	}
	h := m["filter_hits"].([]any)[0].(map[string]any)
	if h["list"] != "secrets" || h["entry"] != "aws-access-key" || h["action"] != "redact" || h["count"] != 2.0 {
		t.Errorf("filter hit JSON %v", h)
	}
}
