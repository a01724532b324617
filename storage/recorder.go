package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// RecorderOptions configure a Recorder. Zero values take the defaults.
type RecorderOptions struct {
	// QueueSize bounds the records waiting to be written (default 8192).
	// When it is full, Record drops and counts instead of blocking a request.
	QueueSize int
	// MaxBatch is the most records written in one transaction (default 2048).
	MaxBatch int
	// FlushInterval is the longest a record waits in the queue (default 1 s).
	FlushInterval time.Duration
	// Logger receives write failures. nil means the DB's logger.
	Logger *slog.Logger
	// OnCommit, if set, is called on Run's goroutine after each batch has
	// committed, with the records as stored (IDs set). The slice is reused
	// afterwards: copy what you keep. It must return quickly.
	OnCommit func(recs []Record)
}

// RecorderStats is a snapshot of the recorder's counters, for the
// dashboard and /_ferry/stats.
type RecorderStats struct {
	Queued    int       `json:"queued"`     // waiting to be written now
	QueueSize int       `json:"queue_size"` // capacity of the queue
	Written   uint64    `json:"written"`    // committed since start
	Dropped   uint64    `json:"dropped"`    // refused: queue full, or recorder stopped
	Failed    uint64    `json:"failed"`     // lost in a write transaction that failed
	Batches   uint64    `json:"batches"`    // transactions committed
	LastFlush time.Time `json:"last_flush,omitzero"`
	LastError string    `json:"last_error,omitempty"`
}

// Recorder takes records from request goroutines without ever blocking them
// and writes them in batched transactions on the goroutine that calls Run.
type Recorder struct {
	db      *DB
	o       RecorderOptions
	log     *slog.Logger
	queue   chan Record
	flushes chan chan error
	done    chan struct{} // closed when Run returns

	running atomic.Bool
	stopped atomic.Bool
	written atomic.Uint64
	dropped atomic.Uint64
	failed  atomic.Uint64
	batches atomic.Uint64

	mu        sync.Mutex
	lastFlush time.Time
	lastErr   string
}

// NewRecorder returns a Recorder writing into db. Records queue until Run starts.
func NewRecorder(db *DB, o RecorderOptions) *Recorder {
	if o.QueueSize <= 0 {
		o.QueueSize = 8192
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 2048
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = time.Second
	}
	if o.Logger == nil {
		o.Logger = db.log
	}
	return &Recorder{
		db:      db,
		o:       o,
		log:     o.Logger,
		queue:   make(chan Record, o.QueueSize),
		flushes: make(chan chan error),
		done:    make(chan struct{}),
	}
}

// Record queues rec for writing and returns at once. rec.ID is assigned
// when it is written; a zero rec.Time becomes now. The caller must not
// modify rec's byte slices or map afterwards. If the queue is full, or Run
// has ended, the record is dropped and counted in Dropped.
func (r *Recorder) Record(rec Record) {
	if r.stopped.Load() {
		r.dropped.Add(1)
		return
	}
	if rec.Time.IsZero() {
		rec.Time = time.Now()
	}
	select {
	case r.queue <- rec:
	default:
		r.dropped.Add(1)
	}
}

// Dropped is how many records were refused because the queue was full or
// the recorder had stopped.
func (r *Recorder) Dropped() uint64 { return r.dropped.Load() }

// Stats returns the recorder's counters.
func (r *Recorder) Stats() RecorderStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return RecorderStats{
		Queued:    len(r.queue),
		QueueSize: cap(r.queue),
		Written:   r.written.Load(),
		Dropped:   r.dropped.Load(),
		Failed:    r.failed.Load(),
		Batches:   r.batches.Load(),
		LastFlush: r.lastFlush,
		LastError: r.lastErr,
	}
}

// Flush writes everything queued before the call and returns when it is
// committed, or when ctx ends. If Run has not started yet, Flush waits for
// it; once Run has ended, Flush returns ErrRecorderNotRunning.
func (r *Recorder) Flush(ctx context.Context) error {
	if r.stopped.Load() {
		return ErrRecorderNotRunning
	}
	done := make(chan error, 1)
	select {
	case r.flushes <- done:
	case <-r.done:
		return ErrRecorderNotRunning
	case <-ctx.Done():
		return fmt.Errorf("flush: %w", ctx.Err())
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("flush: %w", ctx.Err())
	}
}

// Run writes queued records until ctx ends, then writes what is still
// queued and returns. Records arriving after that are dropped. It returns
// the error of the final write, if any. Call it once, on a goroutine you own;
// close the DB only after it returns.
func (r *Recorder) Run(ctx context.Context) error {
	if !r.running.CompareAndSwap(false, true) {
		return errors.New("recorder: Run called twice")
	}
	defer close(r.done)
	ticker := time.NewTicker(r.o.FlushInterval)
	defer ticker.Stop()
	batch := make([]Record, 0, r.o.MaxBatch)
	write := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := r.write(batch)
		batch = batch[:0]
		return err
	}
	// drain moves what is queued now into batches; it stops at the queue's
	// length so a steady stream cannot keep a flush from returning.
	drain := func() error {
		var first error
		for n := len(r.queue); n > 0; n-- {
			batch = append(batch, <-r.queue)
			if len(batch) == r.o.MaxBatch {
				if err := write(); err != nil && first == nil {
					first = err
				}
			}
		}
		if err := write(); err != nil && first == nil {
			first = err
		}
		return first
	}
	for {
		select {
		case rec := <-r.queue:
			batch = append(batch, rec)
			if len(batch) == r.o.MaxBatch {
				write()
			}
		case <-ticker.C:
			write()
		case done := <-r.flushes:
			done <- drain()
		case <-ctx.Done():
			r.stopped.Store(true)
			// Unlike drain, empty the queue completely: Record refuses new
			// records now, but one that passed its check a moment ago may
			// still be landing.
			var first error
			for {
				select {
				case rec := <-r.queue:
					batch = append(batch, rec)
					if len(batch) == r.o.MaxBatch {
						if err := write(); err != nil && first == nil {
							first = err
						}
					}
					continue
				default:
				}
				break
			}
			if err := write(); err != nil && first == nil {
				first = err
			}
			return first
		}
	}
}

func (r *Recorder) write(batch []Record) error {
	err := r.db.bolt.Update(func(tx *bolt.Tx) error { return writeRecords(tx, batch) })
	if err != nil {
		r.failed.Add(uint64(len(batch)))
		err = fmt.Errorf("write %d usage records to %s: %w", len(batch), r.db.path, err)
		r.log.Error("usage records lost", "err", err)
		r.mu.Lock()
		r.lastErr = err.Error()
		r.mu.Unlock()
		return err
	}
	r.written.Add(uint64(len(batch)))
	r.batches.Add(1)
	r.mu.Lock()
	r.lastFlush = time.Now()
	r.mu.Unlock()
	if r.o.OnCommit != nil {
		r.o.OnCommit(batch)
	}
	return nil
}
