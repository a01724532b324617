package sse

import (
	"bytes"
	"testing"
)

// FuzzScanner checks the properties callers rely on: the frames do not depend
// on how the input is split across Feed calls, and (with nothing skipped for
// size) the Raw of all frames, concatenated, is a prefix of the input. The
// same holds with a tiny Max, where skipping is exercised.
func FuzzScanner(f *testing.F) {
	f.Add([]byte(benchStream), uint8(7), uint16(0))
	f.Add([]byte("event: a\r\ndata: 1\r\n\r\n:c\r\rdata: 2\r\r"), uint8(3), uint16(5))
	f.Add([]byte("data: 你好🚢\n\n"), uint8(1), uint16(0))
	f.Fuzz(func(t *testing.T, in []byte, step uint8, max uint16) {
		whole := feedSplit(&Scanner{}, in)
		var raw []byte
		for _, g := range whole {
			raw = append(raw, g.Raw...)
		}
		if !bytes.HasPrefix(in, raw) {
			t.Fatalf("Raw concatenated %q is not a prefix of %q", raw, in)
		}
		// Split into chunks of varying size derived from step.
		var cuts []int
		n := int(step%16) + 1
		for i := n; i < len(in); i += n {
			cuts = append(cuts, i)
			n = n%7 + 1
		}
		if split := feedSplit(&Scanner{}, in, cuts...); !equalFrames(split, whole) {
			t.Fatalf("split %v:\n got %v\nwant %v", cuts, split, whole)
		}
		small := int(max%64) + 1
		a := &Scanner{Max: small}
		b := &Scanner{Max: small}
		wa := feedSplit(a, in)
		wb := feedSplit(b, in, cuts...)
		if !equalFrames(wa, wb) || a.Skipped() != b.Skipped() {
			t.Fatalf("Max %d split %v:\n got %v (skipped %d)\nwant %v (skipped %d)", small, cuts, wb, b.Skipped(), wa, a.Skipped())
		}
		for _, g := range wa {
			if len(g.Raw) > small {
				t.Fatalf("frame of %d bytes reported with Max %d", len(g.Raw), small)
			}
		}
	})
}
