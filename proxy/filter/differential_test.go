package filter

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// The fast paths against the oracle (the code before them, in
// oracle_*_test.go): the same matches in the same order, the same bodies,
// frames and hits.

type acHit struct{ id, start, end int }

func acHits(find func([]byte, func(id, start, end int)), text []byte) []acHit {
	var out []acHit
	find(text, func(id, s, e int) { out = append(out, acHit{id, s, e}) })
	return out
}

// TestACSkipMatchesOracle: the skip over bytes where no pattern starts
// reports exactly what the plain walk did, in the same order, for the
// dense table and the sparse trie, with one-byte patterns among them.
func TestACSkipMatchesOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for round := range 3000 {
		alpha := "abcdefgh=:/"[:2+rng.IntN(9)]
		var pats []string
		sparse := round%10 == 0
		if sparse {
			alpha = "abcdefghijklmnopqrstuvwxyz=:/"
		}
		np := 1 + rng.IntN(12)
		if sparse {
			np = 1200 // over dfaMaxStates nodes: the sparse trie
		}
		for range np {
			n := 1 + rng.IntN(6)
			if sparse {
				n = 4 + rng.IntN(8)
			}
			var b strings.Builder
			for range n {
				b.WriteByte(alpha[rng.IntN(len(alpha))])
			}
			pats = append(pats, b.String())
		}
		var tb []byte
		for range rng.IntN(300) {
			if rng.IntN(4) == 0 {
				tb = append(tb, "xyz. \n"[rng.IntN(6)])
			} else {
				tb = append(tb, alpha[rng.IntN(len(alpha))])
			}
		}
		m := newACMatcher(pats)
		if sparse != (m.dfa == nil) {
			t.Fatalf("round %d: sparse %v but dfa %v", round, sparse, m.dfa != nil)
		}
		got, want := acHits(m.find, tb), acHits(func(b []byte, fn func(id, s, e int)) { oldFind(m, b, fn) }, tb)
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: pats %q text %q:\n got %v\nwant %v", round, pats, tb, got, want)
		}
	}
}

// TestACSkipSecrets: the built-in anchors over request-shaped text.
func TestACSkipSecrets(t *testing.T) {
	s := defaultSet(t, "")
	total := 0
	for _, body := range [][]byte{benchBody(4096), ccBodyOf(40_000), []byte(proseStream()), []byte(tPEM + tJWT + tGitHub + " x=AKIA" + tAWSSecret)} {
		for sd := range s.sides {
			m := s.sides[sd].anchors
			got, want := acHits(m.find, body), acHits(func(b []byte, fn func(id, s, e int)) { oldFind(m, b, fn) }, body)
			total += len(want)
			if !slices.Equal(got, want) {
				t.Fatalf("side %d: got %d hits, want %d (%v)", sd, len(got), len(want), fmt.Sprint(want[:min(5, len(want))]))
			}
		}
	}
	if total == 0 {
		t.Fatal("no anchor in the texts: the test tests nothing")
	}
}
