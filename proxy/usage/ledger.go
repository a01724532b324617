package usage

import (
	"log/slog"
	"sync"
	"time"
)

// BatchLedgerKey is the settings key the BatchLedger owns: a JSON object
// of batch id → when its results were first counted. It is state, not a
// knob: nothing but the ledger writes it.
const BatchLedgerKey = "batch_results_counted"

// maxBatchIDs bounds the ledger of counted batch results.
const maxBatchIDs = 4096

// batchResultsKept is how long a counted batch stays in the ledger: longer
// than the API keeps a batch's results available for download (29 days).
const batchResultsKept = 35 * 24 * time.Hour

// BatchLedger remembers which batches' results were already counted, so
// that a second download of the same results (in this run or after a
// restart) adds nothing to spend. Batch results are the only place a
// batch's usage appears, and clients download them more than once. It is
// safe for concurrent use.
type BatchLedger struct {
	settings Settings // nil keeps the ledger for this run only
	log      *slog.Logger

	mu      sync.Mutex
	batches map[string]time.Time // batch id → when its results were counted; nil until read
}

// NewBatchLedger returns a ledger kept in settings under BatchLedgerKey
// (nil: in memory only). It reads nothing until the first batch.
func NewBatchLedger(settings Settings, log *slog.Logger) *BatchLedger {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &BatchLedger{settings: settings, log: log}
}

// First reports whether the results of batch id are being counted for the
// first time, in this run or an earlier one, and records that they now
// are. The ledger is read once and written at each new batch: a rare
// event, off the response's path. A ledger that cannot be read or saved is
// logged and the results are counted: counting twice is the lesser harm
// than never counting.
func (l *BatchLedger) First(id string, at time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.batches == nil {
		if l.settings != nil {
			if _, err := l.settings.GetSetting(BatchLedgerKey, &l.batches); err != nil {
				l.log.Warn("counted batches unreadable; results downloaded again may count twice", "err", err)
			}
		}
		if l.batches == nil {
			l.batches = make(map[string]time.Time)
		}
	}
	if _, ok := l.batches[id]; ok {
		return false
	}
	for k, t := range l.batches {
		if at.Sub(t) > batchResultsKept {
			delete(l.batches, k)
		}
	}
	if len(l.batches) >= maxBatchIDs {
		oldest := ""
		for k, t := range l.batches {
			if oldest == "" || t.Before(l.batches[oldest]) {
				oldest = k
			}
		}
		delete(l.batches, oldest)
	}
	l.batches[id] = at
	if l.settings != nil {
		if err := l.settings.PutSetting(BatchLedgerKey, l.batches); err != nil {
			l.log.Warn("counted batches not saved; after a restart these results may count twice", "batch", id, "err", err)
		}
	}
	return true
}
