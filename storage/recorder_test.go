package storage

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"
)

// startRecorder runs rec until the test ends; stop cancels and waits.
func startRecorder(t *testing.T, rec *Recorder) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rec.Run(ctx) }()
	var stopped bool
	var err error
	stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			err = <-done
		}
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

func TestRecorderAssignsIncreasingIDs(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "ferry.db"))
	rec := NewRecorder(db, RecorderOptions{MaxBatch: 100})
	startRecorder(t, rec)
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 1234
	now := time.Now()
	for i := range n {
		rec.Record(randomRecord(rng, now, i))
	}
	if err := rec.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := rec.Stats()
	if st.Written != n || st.Dropped != 0 || st.Failed != 0 || st.Batches < n/100 {
		t.Fatalf("stats %+v", st)
	}
	got, err := db.Records(0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d records, want %d", len(got), n)
	}
	for i, r := range got { // newest first
		if want := uint64(n - i); r.ID != want {
			t.Fatalf("record %d has ID %d, want %d", i, r.ID, want)
		}
		if want := "req_" + pad8(int(r.ID)-1); r.RequestID != want {
			t.Fatalf("record %d holds %s, want %s (order lost)", r.ID, r.RequestID, want)
		}
	}
}

func pad8(i int) string {
	s := "00000000" + itoa(i)
	return s[len(s)-8:]
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func TestRecordsPaging(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "ferry.db"))
	rng := rand.New(rand.NewPCG(3, 4))
	recs := make([]Record, 25)
	for i := range recs {
		recs[i] = randomRecord(rng, time.Now(), i)
	}
	writeDirect(t, db, recs)
	tests := []struct {
		before  uint64
		limit   int
		wantIDs []uint64
	}{
		{0, 3, []uint64{25, 24, 23}},
		{23, 2, []uint64{22, 21}},
		{2, 10, []uint64{1}},
		{1, 10, nil},
		{1000, 1, []uint64{25}},
	}
	for _, tt := range tests {
		got, err := db.Records(tt.before, tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		var ids []uint64
		for _, r := range got {
			ids = append(ids, r.ID)
		}
		if len(ids) != len(tt.wantIDs) {
			t.Errorf("Records(%d, %d) = %v, want %v", tt.before, tt.limit, ids, tt.wantIDs)
			continue
		}
		for i := range ids {
			if ids[i] != tt.wantIDs[i] {
				t.Errorf("Records(%d, %d) = %v, want %v", tt.before, tt.limit, ids, tt.wantIDs)
				break
			}
		}
	}
	if got, _ := db.Records(0, 0); len(got) != 25 {
		t.Errorf("default limit returned %d", len(got))
	}
}

func TestRecorderDropsWhenFullNeverBlocks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ferry.db")
	db := openTest(t, path)
	rec := NewRecorder(db, RecorderOptions{QueueSize: 4})
	// Run not started: the queue fills and the rest is dropped, not blocked on.
	for i := range 10 {
		rec.Record(Record{Path: "/v1/messages", RequestID: itoa(i)})
	}
	if got := rec.Dropped(); got != 6 {
		t.Fatalf("Dropped = %d, want 6", got)
	}
	if st := rec.Stats(); st.Queued != 4 || st.QueueSize != 4 || st.Dropped != 6 {
		t.Fatalf("stats %+v", st)
	}
	stop := startRecorder(t, rec)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// Shutdown flushed the queue; later records are dropped.
	if n, _ := db.Count(); n != 4 {
		t.Fatalf("%d records after shutdown, want 4", n)
	}
	rec.Record(Record{Path: "/late"})
	if rec.Dropped() != 7 {
		t.Fatalf("a record after Run ended was not counted as dropped")
	}
	if err := rec.Flush(context.Background()); !errors.Is(err, ErrRecorderNotRunning) {
		t.Fatalf("Flush after stop: %v", err)
	}
}

func TestRecorderFlushesOnItsOwn(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "ferry.db"))
	committed := make(chan []uint64, 10)
	rec := NewRecorder(db, RecorderOptions{
		FlushInterval: 10 * time.Millisecond,
		OnCommit: func(recs []Record) {
			var ids []uint64
			for _, r := range recs {
				ids = append(ids, r.ID)
			}
			committed <- ids
		},
	})
	startRecorder(t, rec)
	rec.Record(Record{Path: "/v1/messages"})
	// No Flush call: the interval alone must write it.
	ids := <-committed
	if len(ids) != 1 || ids[0] != 1 {
		t.Fatalf("committed %v", ids)
	}
	got, err := db.Records(0, 1)
	if err != nil || len(got) != 1 || got[0].Time.IsZero() {
		t.Fatalf("Records = %+v, %v (a zero Time must become now)", got, err)
	}
}

func TestRecorderRunTwice(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "ferry.db"))
	rec := NewRecorder(db, RecorderOptions{})
	stop := startRecorder(t, rec)
	stop()
	if err := rec.Run(context.Background()); err == nil {
		t.Fatal("second Run did not fail")
	}
}

func TestRecorderCountsFailedWrites(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "ferry.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := NewRecorder(db, RecorderOptions{})
	db.Close() // every write now fails
	rec.Record(Record{Path: "/v1/messages"})
	stop := startRecorder(t, rec)
	if err := stop(); err == nil {
		t.Fatal("final flush into a closed database reported no error")
	}
	if st := rec.Stats(); st.Failed != 1 || st.LastError == "" {
		t.Fatalf("stats %+v", st)
	}
}
