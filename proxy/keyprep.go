package proxy

// The request key (Options.Key) is computed over the body as the request
// filters leave it, so it waits for them; for Claude Code's 85 KB bodies
// the filters' scan and the key (canonical form and SHA-256) each cost
// about 120 µs (CPU profile of scripts/bench.sh -body-bytes 85000), one
// after the other on the request's path. The filters almost never change
// a body, so the key (Options.KeyPrep) is computed on a goroutine over the
// request as it arrived while the filters run, and Key uses it when the
// body is still that very slice and its other inputs came out the same:
// the filters build a new body when they redact and never write into the
// old.

// keyPrepMin is the smallest body prepared ahead: below it, a goroutine's
// start and hand-off cost more than the overlap saves.
const keyPrepMin = 16 << 10

// keyPrep is one key computed ahead: its goroutine owns v until done is
// closed.
type keyPrep struct {
	body []byte
	done chan struct{}
	v    any
}

// startKeyPrep begins the preparation of out's body when it is worth it.
func (p *Proxy) startKeyPrep(out *Outgoing) {
	if p.opts.KeyPrep == nil || p.opts.Key == nil || out.Streamed || len(out.Body) < keyPrepMin {
		return
	}
	work := p.opts.KeyPrep(out)
	if work == nil {
		return
	}
	kp := &keyPrep{body: out.Body, done: make(chan struct{})}
	out.prep = kp
	go func() {
		defer close(kp.done)
		kp.v = work()
	}()
}

// waitKeyPrep waits for out's preparation, if one runs: before the key
// is computed, and before the request leaves runStages whatever the
// outcome, so the goroutine never outlives its request's stages.
func (o *Outgoing) waitKeyPrep() {
	if o.prep != nil {
		<-o.prep.done
	}
}

// KeyPrep returns what Options.KeyPrep made of the body ahead of the
// request filters, or nil when there is none or the body is no longer the
// one it was made of (a filter redacted it).
func (o *Outgoing) KeyPrep() any {
	kp := o.prep
	if kp == nil {
		return nil
	}
	<-kp.done
	if len(kp.body) != len(o.Body) || len(o.Body) == 0 || &kp.body[0] != &o.Body[0] {
		return nil
	}
	return kp.v
}
