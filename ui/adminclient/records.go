package adminclient

import (
	"time"

	"github.com/ferry-gateway/ferry/storage"
)

// recordRoadJSON are the road's and the queue's fields of a record of
// /_ferry/requests (proxy/usage.RequestJSON): its attempts and its wait
// for a concurrency slot.
type recordRoadJSON struct {
	Attempts []struct {
		Route      string  `json:"route"`
		Class      string  `json:"class"`
		Status     int     `json:"status"`
		DurationMS float64 `json:"duration_ms"`
	} `json:"attempts"`
	QueueWaitMS float64 `json:"queue_wait_ms"`
}

func msDuration(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// road fills r's attempts and queue wait.
func (j recordRoadJSON) road(r *storage.Record) {
	for _, a := range j.Attempts {
		r.Attempts = append(r.Attempts, storage.Attempt{Route: a.Route, Class: a.Class, Status: a.Status, Duration: msDuration(a.DurationMS)})
	}
	r.QueueWait = msDuration(j.QueueWaitMS)
}
