package limit

import (
	"errors"
	"fmt"
	"time"
)

// Config is the limits' settings. Zero turns a limit off.
type Config struct {
	// RPM is requests per minute per credential (limit.rpm).
	RPM int `json:"rpm"`
	// ITPM and OTPM are input and output tokens per minute per credential
	// (limit.itpm, limit.otpm). Input counts what Anthropic's input limit
	// counts: uncached input and cache writes, not cache reads.
	ITPM int64 `json:"itpm"`
	OTPM int64 `json:"otpm"`
	// Concurrency is how many requests may be upstream at once
	// (limit.concurrency).
	Concurrency int `json:"concurrency"`
	// QueueWaitSeconds is how long a request waits for a slot before a 429
	// (limit.queue_wait).
	QueueWaitSeconds int `json:"queue_wait_seconds"`
	// FollowUpstream waits for the reset when Anthropic's headroom for the
	// credential is 5 % or less (limit.follow_upstream).
	FollowUpstream bool `json:"follow_upstream"`
	// MaxWaitSeconds bounds that wait (retry.max_retry_after); longer, the
	// request goes and meets Anthropic's answer.
	MaxWaitSeconds int `json:"max_wait_seconds"`
}

// Defaults.
const (
	DefaultRPM       = 100 // the guide's figure: a safety net, not a pace
	DefaultQueueWait = 60 * time.Second
	DefaultMaxWait   = 60 * time.Second
	// QueueRetryAfter is the retry-after of a request that waited its
	// whole turn in the queue.
	QueueRetryAfter = 5
	// followThreshold is the share of an upstream limit at or under which
	// new requests wait for its reset.
	followThreshold = 0.05
)

// DefaultConfig is the limits out of the box: 100 requests a minute per
// credential, following Anthropic's headroom, no token limits, no queue.
func DefaultConfig() Config {
	return Config{RPM: DefaultRPM, QueueWaitSeconds: int(DefaultQueueWait / time.Second), FollowUpstream: true,
		MaxWaitSeconds: int(DefaultMaxWait / time.Second)}
}

// ErrBadLimit is a limit setting that cannot be used.
var ErrBadLimit = errors.New("bad limit")

// Validate checks c's ranges.
func (c Config) Validate() error {
	switch {
	case c.RPM < 0 || c.RPM > 1_000_000:
		return fmt.Errorf("rpm %d: between 0 (off) and 1000000: %w", c.RPM, ErrBadLimit)
	case c.ITPM < 0 || c.ITPM > 1e12 || c.OTPM < 0 || c.OTPM > 1e12:
		return fmt.Errorf("itpm %d, otpm %d: 0 (off) or a positive count: %w", c.ITPM, c.OTPM, ErrBadLimit)
	case c.Concurrency < 0 || c.Concurrency > 10_000:
		return fmt.Errorf("concurrency %d: between 0 (off) and 10000: %w", c.Concurrency, ErrBadLimit)
	case c.QueueWaitSeconds < 1 || c.QueueWaitSeconds > 3600:
		return fmt.Errorf("queue_wait_seconds %d: between 1 and 3600: %w", c.QueueWaitSeconds, ErrBadLimit)
	case c.MaxWaitSeconds < 0 || c.MaxWaitSeconds > 3600:
		return fmt.Errorf("max_wait_seconds %d: between 0 and 3600: %w", c.MaxWaitSeconds, ErrBadLimit)
	}
	return nil
}

func (c Config) queueWait() time.Duration { return time.Duration(c.QueueWaitSeconds) * time.Second }
func (c Config) maxWait() time.Duration   { return time.Duration(c.MaxWaitSeconds) * time.Second }
