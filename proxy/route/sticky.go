package route

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Sticky egress (issue 9): in Auto mode an account stays on the route it
// started on while that route is healthy. Subscription users report that
// exits hopping between countries get accounts flagged, so egress changes
// only on failure; Auto's "fastest" applies to new accounts only.
//
// The account is the anthropic-organization-id once a response through
// this credential has shown it (several keys of one organisation are one
// account), else the credential, else Claude Code's session id. Only a
// hash of the credential is kept. Entries expire after StickyIdle without
// a request and the table is bounded; it lives in memory only.

const (
	// StickyIdle is how long an account keeps its route without a request.
	StickyIdle = 12 * time.Hour
	// stickyMax bounds the accounts remembered (and the credentials whose
	// organisation is known); the least recently used goes first.
	stickyMax = 4096
)

type stickyEntry struct {
	route string // route name
	used  time.Time
}

// sticky maps accounts to routes. Guarded by Manager.mu.
type sticky struct {
	routes map[string]stickyEntry // account → route
	orgs   map[string]stickyEntry // credential hash → organisation id (route field holds the org)
	now    func() time.Time
}

func newSticky() *sticky {
	return &sticky{routes: map[string]stickyEntry{}, orgs: map[string]stickyEntry{}, now: time.Now}
}

// account names the account of a request with this credential and
// session, "" when it has neither (such requests just take Auto's pick).
func (s *sticky) account(cred, session string) string {
	if cred != "" {
		h := credHash(cred)
		if o, ok := s.orgs[h]; ok {
			return "org:" + o.route
		}
		return "key:" + h
	}
	if session != "" {
		if len(session) > 128 {
			session = session[:128]
		}
		return "session:" + session
	}
	return ""
}

func credHash(cred string) string {
	sum := sha256.Sum256([]byte(cred))
	return hex.EncodeToString(sum[:12])
}

// learnOrg remembers that cred belongs to org; the account moves from the
// credential to the organisation, keeping its route.
func (s *sticky) learnOrg(cred, org string) {
	if cred == "" || org == "" || len(org) > 128 {
		return
	}
	h := credHash(cred)
	now := s.now()
	if o, ok := s.orgs[h]; ok && o.route == org {
		o.used = now
		s.orgs[h] = o
		return
	}
	if r, ok := s.routes["key:"+h]; ok {
		delete(s.routes, "key:"+h)
		if _, taken := s.routes["org:"+org]; !taken {
			s.routes["org:"+org] = r
		}
	}
	s.orgs[h] = stickyEntry{route: org, used: now}
	bound(s.orgs, now)
}

// get returns the account's route name, "" when it has none (new, or
// idle past StickyIdle).
func (s *sticky) get(acct string) string {
	if acct == "" {
		return ""
	}
	e, ok := s.routes[acct]
	if !ok {
		return ""
	}
	if s.now().Sub(e.used) > StickyIdle {
		delete(s.routes, acct)
		return ""
	}
	return e.route
}

// set puts the account on route and reports whether that moved it from
// another one.
func (s *sticky) set(acct, route string) (moved bool, from string) {
	if acct == "" {
		return false, ""
	}
	now := s.now()
	prev, had := s.routes[acct]
	if had && now.Sub(prev.used) > StickyIdle {
		had = false
	}
	s.routes[acct] = stickyEntry{route: route, used: now}
	bound(s.routes, now)
	if had && prev.route != route {
		return true, prev.route
	}
	return false, ""
}

// rename follows a route's rename; forget drops the accounts on a removed
// route.
func (s *sticky) rename(from, to string) {
	for k, e := range s.routes {
		if e.route == from {
			e.route = to
			s.routes[k] = e
		}
	}
}

// clear moves everyone: a choice by hand.
func (s *sticky) clear() { clear(s.routes) }

// bound drops expired entries, then the least recently used, until m
// fits. It runs on insert only, so its cost is paid when the table grows.
func bound(m map[string]stickyEntry, now time.Time) {
	if len(m) <= stickyMax {
		return
	}
	for k, e := range m {
		if now.Sub(e.used) > StickyIdle {
			delete(m, k)
		}
	}
	for len(m) > stickyMax {
		var oldest string
		var t time.Time
		for k, e := range m {
			if oldest == "" || e.used.Before(t) {
				oldest, t = k, e.used
			}
		}
		delete(m, oldest)
	}
}
