package storage

import (
	"fmt"
	"time"
)

// The optional fields of a Record are a tail after the fixed fields:
//
//	tail  = uvarint(length of entries) entries
//	entry = uvarint(tag) uvarint(length of value) value
//
// Only fields that are set are written, and nothing at all when none is,
// so a record without optional fields is exactly the fixed part. A reader
// skips a tag it does not know (a field added by a newer Ferry), so adding
// an optional field needs a new tag here, never a migration: old records
// simply lack the tag, and old binaries skip it. Tags are part of the
// on-disk format: never reuse or renumber one.
//
// The fixed part's decoder before tags existed stops after ResponseBody
// and ignores what follows, so those binaries read new records too.
const (
	tagAttempts    = 1 // uvarint n, then n × (str route, str class, varint status, varint duration ns)
	tagSession     = 2 // the bytes
	tagCoalesced   = 3 // present means true; empty value
	tagSavedUSD    = 4 // float64
	tagFilterHits  = 5 // uvarint n, then n × (str list, str entry, str action, varint count)
	tagQueueWait   = 6 // varint ns
	tagAPIEquivUSD = 7 // float64
	tagSavedTokens = 8 // varint
)

// encodeOptional appends the tail, if any optional field is set.
func encodeOptional(e *encoder, r *Record) {
	var t encoder
	field := func(tag uint64, value func(v *encoder)) {
		var v encoder
		value(&v)
		t.uvarint(tag)
		t.bytes(v.b)
	}
	if len(r.Attempts) > 0 {
		field(tagAttempts, func(v *encoder) {
			as := r.Attempts[:min(len(r.Attempts), MaxAttempts)]
			v.uvarint(uint64(len(as)))
			for _, a := range as {
				v.str(a.Route)
				v.str(a.Class)
				v.varint(int64(a.Status))
				v.varint(int64(a.Duration))
			}
		})
	}
	if r.Session != "" {
		field(tagSession, func(v *encoder) { v.b = append(v.b, r.Session[:min(len(r.Session), MaxSessionLen)]...) })
	}
	if r.Coalesced {
		field(tagCoalesced, func(*encoder) {})
	}
	if r.SavedUSD != 0 {
		field(tagSavedUSD, func(v *encoder) { v.float(r.SavedUSD) })
	}
	if r.SavedTokens != 0 {
		field(tagSavedTokens, func(v *encoder) { v.varint(r.SavedTokens) })
	}
	if len(r.FilterHits) > 0 {
		field(tagFilterHits, func(v *encoder) {
			hs := r.FilterHits[:min(len(r.FilterHits), MaxFilterHits)]
			v.uvarint(uint64(len(hs)))
			for _, h := range hs {
				v.str(h.List)
				v.str(h.Entry)
				v.str(h.Action)
				v.varint(int64(h.Count))
			}
		})
	}
	if r.QueueWait != 0 {
		field(tagQueueWait, func(v *encoder) { v.varint(int64(r.QueueWait)) })
	}
	if r.APIEquivUSD != 0 {
		field(tagAPIEquivUSD, func(v *encoder) { v.float(r.APIEquivUSD) })
	}
	if len(t.b) > 0 {
		e.bytes(t.b)
	}
}

// decodeOptional reads the tail, if there is one. A known tag whose value
// does not decode whole is corruption; an unknown tag is skipped.
func decodeOptional(d *decoder, r *Record) {
	if d.err != nil || len(d.b) == 0 {
		return // a record written before tags, or without optional fields
	}
	t := decoder{b: d.raw()}
	if d.err != nil {
		return
	}
	for len(t.b) > 0 && t.err == nil {
		tag := t.uvarint()
		v := decoder{b: t.raw()}
		if t.err != nil {
			break
		}
		switch tag {
		case tagAttempts:
			n := v.uvarint()
			if n > uint64(len(v.b)) { // each attempt takes at least four bytes
				v.fail("attempts")
				break
			}
			r.Attempts = make([]Attempt, 0, n)
			for range n {
				r.Attempts = append(r.Attempts, Attempt{Route: v.str(), Class: v.str(),
					Status: int(v.varint()), Duration: time.Duration(v.varint())})
			}
		case tagSession:
			r.Session = string(v.b)
			v.b = nil
		case tagCoalesced:
			r.Coalesced = true
		case tagSavedUSD:
			r.SavedUSD = v.float()
		case tagFilterHits:
			n := v.uvarint()
			if n > uint64(len(v.b)) {
				v.fail("filter hits")
				break
			}
			r.FilterHits = make([]FilterHit, 0, n)
			for range n {
				r.FilterHits = append(r.FilterHits, FilterHit{List: v.str(), Entry: v.str(),
					Action: v.str(), Count: int(v.varint())})
			}
		case tagQueueWait:
			r.QueueWait = time.Duration(v.varint())
		case tagAPIEquivUSD:
			r.APIEquivUSD = v.float()
		case tagSavedTokens:
			r.SavedTokens = v.varint()
		default:
			continue // a field from a newer Ferry
		}
		if v.err == nil && len(v.b) > 0 {
			v.err = fmt.Errorf("%w: tagged field %d has %d bytes left over", ErrCorrupt, tag, len(v.b))
		}
		if v.err != nil {
			t.err = v.err
		}
	}
	if t.err != nil {
		d.err = t.err
	}
}
