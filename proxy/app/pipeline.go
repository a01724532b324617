package app

import (
	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/filter"
	"github.com/ferry-gateway/ferry/proxy/retry"
)

// stages are the guards of the request pipeline, one line each. Their
// order on the way out is their Phase (proxy/pipeline.go writes it down
// and the README draws it); list them here in that order too, so this
// file reads as the pipeline does.
func (s *Server) stages() []proxy.Stage {
	return []proxy.Stage{
		s.filters.Stage(filter.StageOptions{Publish: s.bus.Publish}), // PhaseFilter: secrets and content filter lists
		s.brake.Stage(),       // PhaseBrake: runaway agent loops
		s.budgets.Stage(),     // PhaseBudget: hard budgets (refusal deferred past the cache)
		s.cache.Stage(),       // PhaseCache: dedup cache and coalescing
		s.quota.Stage(),       // PhaseRateLimit: reads the subscription quota off responses
		s.limits.RateStage(),  // PhaseRateLimit: requests and tokens per minute
		s.limits.QueueStage(), // PhaseQueue: at most limit.concurrency upstream
	}
}

// requestKey is the pipeline's canonical request key (proxy/reqkey): the
// cache and the runaway brake compare requests by it. It includes the
// version of the filter set that filtered the request, so changing a
// filter list never replays an answer redacted under the old lists.
func (s *Server) requestKey() proxy.KeyFunc { return s.keyer.KeyFunc(s.filters.VersionOf) }

// retryPolicy decides on retries and failover before the first byte
// (issue 9), from the retry.* knobs, replaced when one changes.
func (s *Server) retryPolicy() proxy.RetryPolicy {
	live := retry.NewLive(retryPolicyFrom(s.registry, s.road))
	s.watchRoad(live)
	return live
}

// Pipeline is the server's guards and request key, for a second proxy in
// the same process that must pass requests through the same guards, with
// the same state: scripts/bench's recording phase compares the server
// with such a proxy that has no meter and no recorder, so the difference
// is the recording alone.
func (s *Server) Pipeline() (stages []proxy.Stage, key proxy.KeyFunc, keyPrep func(*proxy.Outgoing) func() any) {
	return s.stages(), s.requestKey(), s.keyer.KeyPrep(s.filters.VersionOf)
}
