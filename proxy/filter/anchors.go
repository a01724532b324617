package filter

import "bytes"

// A streamed block's anchor occurrences, kept as its text grows, so that
// each frame costs a pass over its own bytes instead of one over the
// whole held window (up to twice the longest match, 16 KiB with the
// built-in list). Rescanning the window on every frame made a 64 KB file
// written through a tool cost 34 ms of CPU with answers only flagged.
//
// With them the stream filter decides two things exactly as a scan of
// the window would, without the scan:
//   - nothing can match (noMatch): a scan finds matches only through an
//     anchor whose near test passes (or through plain regexes and
//     keywords, which rule this out), so with no such anchor in the
//     window it would find none;
//   - how much text is settled (settledAt), from the same occurrences
//     Set.settled would find.

// occurrence is an anchor found in a block's text (absolute offsets).
type occurrence struct {
	start, end int
	ref        int  // index into the side's anchorOf
	near       int8 // near's answer while its bytes are in the window: 0 unknown, 1 true, 2 false
}

// trackAnchors records the anchors that end in the text appended since
// oldEnd.
func (f *StreamFilter) trackAnchors(b *blockState, oldEnd int) {
	side := &f.set.sides[Response]
	if side.anchors == nil {
		return
	}
	from := max(b.base, oldEnd-(f.anchorMax-1))
	side.anchors.find(b.win[from-b.base:], func(id, start, end int) {
		if from+end > oldEnd { // the others were found with earlier text
			b.occ = append(b.occ, occurrence{start: from + start, end: from + end, ref: id})
		}
	})
}

// dropAnchors forgets the anchors that start before the window, once it
// was cut.
func (b *blockState) dropAnchors() {
	// They were found in order of their ends, so nearly of their starts:
	// the few out of order are skipped where the list is read.
	k := 0
	for k < len(b.occ) && b.occ[k].start < b.base {
		k++
	}
	b.occ = b.occ[k:]
}

// noMatch reports whether a scan of b's window would find nothing.
func (f *StreamFilter) noMatch(b *blockState) bool {
	side := &f.set.sides[Response]
	if len(side.plain) > 0 || side.keywords != nil {
		return false
	}
	for i := range b.occ {
		o := &b.occ[i]
		if o.start < b.base {
			continue
		}
		ref := &side.anchorOf[o.ref]
		if ref.near == nil {
			return false
		}
		// near reads only its reach: while all of it is in the window,
		// its answer cannot change, and code has an '=' every few
		// lines.
		in := (ref.nearBack > 0 || ref.nearFwd > 0) &&
			max(0, o.start-ref.nearBack) >= b.base && o.start+ref.nearFwd <= b.end
		if !in || o.near == 0 {
			v := int8(2)
			if ref.near(b.win, o.start-b.base) {
				v = 1
			}
			if in {
				o.near = v
			} else {
				o.near = 0
			}
			if v == 1 {
				return false
			}
			continue
		}
		if o.near == 1 {
			return false
		}
	}
	return true
}

// settledAt is b.base + Set.settled(Response, b.win), from the tracked
// anchors.
func (f *StreamFilter) settledAt(b *blockState) int {
	side := &f.set.sides[Response]
	p := len(b.win) - side.tail
	for _, o := range b.occ {
		if o.start < b.base {
			continue
		}
		ref := &side.anchorOf[o.ref]
		start, end := o.start-b.base, o.end-b.base
		open := start+ref.fwd > len(b.win)
		if ref.line {
			open = open && bytes.IndexByte(b.win[end:], '\n') < 0
		}
		if open {
			p = min(p, start-ref.back)
		}
	}
	return b.base + max(p, 0)
}
