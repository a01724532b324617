package app

import (
	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/filter"
)

// stages are the guards of the request pipeline, one line each. Their
// order on the way out is their Phase (proxy/pipeline.go writes it down
// and the README draws it); list them here in that order too, so this
// file reads as the pipeline does.
func (s *Server) stages() []proxy.Stage {
	return []proxy.Stage{
		s.filters.Stage(filter.StageOptions{Publish: s.bus.Publish}),
		s.budgets.Stage(),
	}
}

// requestKey is the pipeline's canonical request key function; nil until
// one is assembled.
func (s *Server) requestKey() proxy.KeyFunc { return nil }

// retryPolicy decides on retries and failover; nil means one attempt.
func (s *Server) retryPolicy() proxy.RetryPolicy { return nil }
