package storage

import (
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"
)

// Records and rollups are stored in a small binary encoding rather than JSON:
// a record takes roughly a third of the bytes (the file holds ~90 days of
// requests) and decodes several times faster, which is what keeps Records and
// the kill-9 recovery scan cheap. Each value starts with a format byte so a
// later schema can change the layout and still read old values.
//
// A record is record format 1: the fixed fields, in order, then (since the
// optional fields, record_tags.go) a tail of tagged fields. A record
// without optional fields has no tail and is byte for byte what Ferry
// wrote before tags existed.

const (
	recordFormat1 = 1
	rollupFormat1 = 1
)

type encoder struct{ b []byte }

func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) float(v float64)  { e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(v)) }
func (e *encoder) bytes(p []byte) {
	e.uvarint(uint64(len(p)))
	e.b = append(e.b, p...)
}
func (e *encoder) str(s string) {
	e.uvarint(uint64(len(s)))
	e.b = append(e.b, s...)
}

// decoder reads what encoder wrote; the first failure sticks in err and
// every later read returns zero, so callers check err once at the end.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: truncated %s", ErrCorrupt, what)
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) float() float64 {
	if len(d.b) < 8 {
		d.fail("float")
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}

func (d *decoder) raw() []byte {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("bytes")
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

// str copies: bbolt's bytes are only valid inside the transaction.
func (d *decoder) str() string { return string(d.raw()) }

func (d *decoder) bytes() []byte {
	p := d.raw()
	if len(p) == 0 {
		return nil
	}
	return append([]byte(nil), p...)
}

func (d *decoder) byte1() byte {
	if len(d.b) < 1 {
		d.fail("byte")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

const (
	flagStream = 1 << iota
	flagCacheHit
	flagBatch
	flagPriceKnown
)

// encodeRecord encodes everything but ID, which is the key.
func encodeRecord(dst []byte, r *Record) []byte {
	e := encoder{b: dst}
	e.b = append(e.b, recordFormat1)
	if r.Time.IsZero() {
		e.varint(math.MinInt64)
	} else {
		e.varint(r.Time.UnixNano())
	}
	var flags byte
	if r.Stream {
		flags |= flagStream
	}
	if r.CacheHit {
		flags |= flagCacheHit
	}
	if r.Batch {
		flags |= flagBatch
	}
	if r.PriceKnown {
		flags |= flagPriceKnown
	}
	e.b = append(e.b, flags)
	e.str(r.Method)
	e.str(r.Path)
	e.str(r.Model)
	e.varint(int64(r.Status))
	e.str(r.ErrorType)
	e.str(string(r.ErrorClass))
	e.str(r.Route)
	e.str(r.Client)
	e.str(r.RequestID)
	e.str(r.KeyFingerprint)
	e.varint(r.Tokens.Input)
	e.varint(r.Tokens.Output)
	e.varint(r.Tokens.CacheWrite5m)
	e.varint(r.Tokens.CacheWrite1h)
	e.varint(r.Tokens.CacheRead)
	e.str(r.ServiceTier)
	keys := slices.Sorted(maps.Keys(r.UsageExtras))
	e.uvarint(uint64(len(keys)))
	for _, k := range keys {
		e.str(k)
		e.str(r.UsageExtras[k])
	}
	e.varint(int64(r.FirstByte))
	e.varint(int64(r.FirstToken))
	e.varint(int64(r.Total))
	e.float(r.TokensPerSec)
	e.varint(r.BytesIn)
	e.varint(r.BytesOut)
	e.float(r.CostUSD)
	e.str(r.PriceRow)
	e.bytes(r.RequestBody)
	e.bytes(r.ResponseBody)
	encodeOptional(&e, r)
	return e.b
}

// recordTime decodes only the time, for scans that filter by it.
func recordTime(v []byte) (time.Time, error) {
	if len(v) == 0 || v[0] != recordFormat1 {
		return time.Time{}, fmt.Errorf("%w: unknown record format", ErrCorrupt)
	}
	d := decoder{b: v[1:]}
	t := d.varint()
	if d.err != nil {
		return time.Time{}, d.err
	}
	if t == math.MinInt64 {
		return time.Time{}, nil
	}
	return time.Unix(0, t), nil
}

func decodeRecord(id uint64, v []byte) (Record, error) {
	if len(v) == 0 || v[0] != recordFormat1 {
		return Record{}, fmt.Errorf("%w: record %d: unknown format", ErrCorrupt, id)
	}
	d := decoder{b: v[1:]}
	r := Record{ID: id}
	if t := d.varint(); t != math.MinInt64 {
		r.Time = time.Unix(0, t)
	}
	flags := d.byte1()
	r.Stream = flags&flagStream != 0
	r.CacheHit = flags&flagCacheHit != 0
	r.Batch = flags&flagBatch != 0
	r.PriceKnown = flags&flagPriceKnown != 0
	r.Method = d.str()
	r.Path = d.str()
	r.Model = d.str()
	r.Status = int(d.varint())
	r.ErrorType = d.str()
	r.ErrorClass = ErrorClass(d.str())
	r.Route = d.str()
	r.Client = d.str()
	r.RequestID = d.str()
	r.KeyFingerprint = d.str()
	r.Tokens.Input = d.varint()
	r.Tokens.Output = d.varint()
	r.Tokens.CacheWrite5m = d.varint()
	r.Tokens.CacheWrite1h = d.varint()
	r.Tokens.CacheRead = d.varint()
	r.ServiceTier = d.str()
	if n := d.uvarint(); n > 0 {
		if n > uint64(len(d.b)) { // each entry takes at least two bytes
			d.fail("usage extras")
		} else {
			r.UsageExtras = make(map[string]string, n)
			for range n {
				k := d.str()
				r.UsageExtras[k] = d.str()
			}
		}
	}
	r.FirstByte = time.Duration(d.varint())
	r.FirstToken = time.Duration(d.varint())
	r.Total = time.Duration(d.varint())
	r.TokensPerSec = d.float()
	r.BytesIn = d.varint()
	r.BytesOut = d.varint()
	r.CostUSD = d.float()
	r.PriceRow = d.str()
	r.RequestBody = d.bytes()
	r.ResponseBody = d.bytes()
	decodeOptional(&d, &r)
	if d.err != nil {
		return Record{}, fmt.Errorf("record %d: %w", id, d.err)
	}
	return r, nil
}
