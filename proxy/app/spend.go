package app

import (
	"fmt"
	"slices"

	"github.com/ferry-gateway/ferry/proxy/brake"
	"github.com/ferry-gateway/ferry/proxy/budget"
	"github.com/ferry-gateway/ferry/proxy/limit"
	"github.com/ferry-gateway/ferry/proxy/quota"
	"github.com/ferry-gateway/ferry/proxy/settings"
)

// buildSpendGuard assembles the spend guard (issue 12): the budgets,
// seeded with what the history holds of this month; the local limits and
// the queue; the subscription quota; the runaway brake. Their knobs apply
// at once through the registry's watchers.
func (s *Server) buildSpendGuard() error {
	val := s.registry.Value
	loc, err := budget.Zone(val(budget.KeyTimezone).String())
	if err != nil {
		return fmt.Errorf("%s: %w", budget.KeyTimezone, err)
	}
	if s.budgets, err = budget.Open(budget.Options{
		Settings: s.db, Records: s.db, Location: loc, Publish: s.bus.Publish, Logger: s.log,
	}); err != nil {
		// Open still returns working budgets, with defaults for what it
		// could not read.
		s.log.Warn("budgets: part of their state was unreadable", "err", err)
	}
	s.budgets.SetDisplay(budget.DisplayFrom(val))
	for _, k := range []string{budget.KeyCurrency, budget.KeyUSDRate} {
		s.registry.Watch(k, func(settings.Value) { s.budgets.SetDisplay(budget.DisplayFrom(val)) })
	}
	if s.limits, err = limit.New(limit.Options{Config: limit.ConfigFrom(val, KeyRetryMaxRetryAfter), Publish: s.bus.Publish, Logger: s.log}); err != nil {
		return fmt.Errorf("limits: %w", err)
	}
	for _, k := range append(slices.Clone(limit.Keys), KeyRetryMaxRetryAfter) {
		s.registry.Watch(k, func(settings.Value) {
			if err := s.limits.Apply(limit.ConfigFrom(val, KeyRetryMaxRetryAfter)); err != nil {
				s.log.Warn("limits not applied", "key", k, "err", err)
			}
		})
	}
	if s.brake, err = brake.New(brake.Options{Config: brake.ConfigFrom(val), Publish: s.bus.Publish, Logger: s.log}); err != nil {
		return fmt.Errorf("brake: %w", err)
	}
	for _, k := range []string{brake.KeyEnabled, brake.KeyRepeats, brake.KeyWindow} {
		s.registry.Watch(k, func(settings.Value) {
			if err := s.brake.Apply(brake.ConfigFrom(val)); err != nil {
				s.log.Warn("brake settings not applied", "key", k, "err", err)
			}
		})
	}
	s.quota = quota.NewTracker(quota.Options{Settings: s.db, Publish: s.bus.Publish, Logger: s.log})
	return nil
}
