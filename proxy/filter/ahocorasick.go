package filter

import "slices"

// acMatcher finds many keywords in one pass (Aho–Corasick over bytes).
// Compliance lists run to thousands of words: one giant alternation
// would make RE2 build a huge program and run it at a crawl, while this
// costs a few table lookups per byte whatever the list's size.
type acMatcher struct {
	root  [256]int32 // the root's transitions, dense: most bytes leave it
	nodes []acNode
	edges []acEdge // each node's children, sorted by byte
	outs  []int32  // pattern ids, grouped by node
	lens  []int    // pattern id → its length in bytes
	// dfa, for small pattern sets (the built-in anchors), is every
	// state's transition on every byte, failures folded in: one load per
	// byte. Big lists (10,000 keywords) would need hundreds of MB for it
	// and walk the sparse trie instead.
	// An entry's top bit (dfaOut) says the target state has outputs, so
	// the loop needs no second load per byte.
	dfa []uint16
	// starts has a bit for each byte pair a pattern starts with, and
	// every pair whose first byte is a whole pattern: where the pair at i
	// has none, no pattern starts at i, and from the root the matcher
	// skips i with independent loads instead of a chain of transitions.
	starts *[1 << 10]uint64
}

// dfaMaxStates bounds the dense table (256 × 2 bytes per state); state
// numbers must leave the top bit free.
const (
	dfaMaxStates = 4096
	dfaOut       = 1 << 15
)

type acNode struct {
	first, n int32 // children: edges[first : first+n]
	fail     int32 // longest proper suffix that is a trie node
	dict     int32 // nearest node on the fail chain with outputs, -1 if none
	outFirst int32 // outs[outFirst : outFirst+outN]: patterns ending here
	outN     int32
}

type acEdge struct {
	c  byte
	to int32
}

// newACMatcher builds a matcher for pats (non-empty byte strings); the
// matches it reports name a pattern by its index in pats.
func newACMatcher(pats []string) *acMatcher {
	type bnode struct {
		next map[byte]int32
		out  []int32
	}
	trie := []bnode{{next: map[byte]int32{}}}
	m := &acMatcher{lens: make([]int, len(pats)), starts: new([1 << 10]uint64)}
	for id, p := range pats {
		m.lens[id] = len(p)
		m.markStart(p)
		s := int32(0)
		for i := 0; i < len(p); i++ {
			t, ok := trie[s].next[p[i]]
			if !ok {
				t = int32(len(trie))
				trie = append(trie, bnode{next: map[byte]int32{}})
				trie[s].next[p[i]] = t
			}
			s = t
		}
		trie[s].out = append(trie[s].out, int32(id))
	}
	m.nodes = make([]acNode, len(trie))
	for i, n := range trie {
		keys := make([]byte, 0, len(n.next))
		for c := range n.next {
			keys = append(keys, c)
		}
		slices.Sort(keys)
		m.nodes[i].first, m.nodes[i].n = int32(len(m.edges)), int32(len(keys))
		for _, c := range keys {
			m.edges = append(m.edges, acEdge{c, n.next[c]})
		}
		m.nodes[i].outFirst, m.nodes[i].outN = int32(len(m.outs)), int32(len(n.out))
		m.outs = append(m.outs, n.out...)
		m.nodes[i].dict = -1
	}
	for c := range 256 {
		m.root[c] = 0
	}
	for _, e := range m.children(0) {
		m.root[e.c] = e.to
	}
	// Breadth first, so every node's fail target is done before it.
	queue := []int32{}
	for _, e := range m.children(0) {
		queue = append(queue, e.to)
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, e := range m.children(s) {
			f := m.nodes[s].fail
			for {
				if t := m.step(f, e.c); t >= 0 {
					m.nodes[e.to].fail = t
					break
				}
				if f == 0 {
					m.nodes[e.to].fail = m.root[e.c]
					break
				}
				f = m.nodes[f].fail
			}
			ft := m.nodes[e.to].fail
			if m.nodes[ft].outN > 0 {
				m.nodes[e.to].dict = ft
			} else {
				m.nodes[e.to].dict = m.nodes[ft].dict
			}
			queue = append(queue, e.to)
		}
	}
	if len(m.nodes) <= dfaMaxStates {
		m.buildDFA()
	}
	return m
}

// buildDFA folds the failure links into a dense table, breadth first so
// each state's fail target is complete before the state.
func (m *acMatcher) buildDFA() {
	m.dfa = make([]uint16, len(m.nodes)*256)
	out := func(s int32) uint16 {
		if n := m.nodes[s]; n.outN > 0 || n.dict >= 0 {
			return dfaOut
		}
		return 0
	}
	for c := range 256 {
		m.dfa[c] = uint16(m.root[c]) | out(m.root[c])
	}
	queue := []int32{}
	for _, e := range m.children(0) {
		queue = append(queue, e.to)
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := int(m.nodes[s].fail) * 256
		row := m.dfa[int(s)*256 : int(s)*256+256]
		copy(row, m.dfa[f:f+256])
		for _, e := range m.children(s) {
			row[e.c] = uint16(e.to) | out(e.to)
			queue = append(queue, e.to)
		}
	}
}

func (m *acMatcher) children(s int32) []acEdge {
	n := m.nodes[s]
	return m.edges[n.first : n.first+n.n]
}

// step is the trie's own transition from s on c, -1 if none.
func (m *acMatcher) step(s int32, c byte) int32 {
	if s == 0 {
		if t := m.root[c]; t != 0 {
			return t
		}
		return -1
	}
	es := m.children(s)
	if len(es) <= 8 {
		for _, e := range es {
			if e.c == c {
				return e.to
			}
		}
		return -1
	}
	lo, hi := 0, len(es)
	for lo < hi {
		mid := (lo + hi) / 2
		if es[mid].c < c {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < len(es) && es[lo].c == c {
		return es[lo].to
	}
	return -1
}

// markStart sets p's byte pairs in starts.
func (m *acMatcher) markStart(p string) {
	if len(p) == 0 { // never given; would match everywhere
		for i := range m.starts {
			m.starts[i] = ^uint64(0)
		}
		return
	}
	if len(p) >= 2 {
		k := uint(p[0])<<8 | uint(p[1])
		m.starts[k>>6] |= 1 << (k & 63)
		return
	}
	for c := range uint(256) {
		k := uint(p[0])<<8 | c
		m.starts[k>>6] |= 1 << (k & 63)
	}
}

// skip returns the first i' >= i where a pattern may start (or the last
// byte). From the root, a byte where none starts leads to a state from
// which the next byte goes where it would from the root (the pair is no
// pattern's prefix) with nothing reported (the byte is no pattern): the
// matcher may as well be at the root at i+1. Most bytes of a request are
// such bytes, and testing a pair is a load that depends on no earlier
// transition, where the walk is a chain of dependent loads (8 ns a byte
// on the bench machine, the request filter's largest cost).
func (m *acMatcher) skip(b []byte, i int) int {
	st := m.starts
	// Four pairs a round, their tests OR-ed: one branch for four bytes.
	for ; i+4 < len(b); i += 4 {
		p := b[i : i+5 : i+5]
		k0 := uint(p[0])<<8 | uint(p[1])
		k1 := uint(p[1])<<8 | uint(p[2])
		k2 := uint(p[2])<<8 | uint(p[3])
		k3 := uint(p[3])<<8 | uint(p[4])
		if (st[k0>>6]>>(k0&63)|st[k1>>6]>>(k1&63)|st[k2>>6]>>(k2&63)|st[k3>>6]>>(k3&63))&1 != 0 {
			break
		}
	}
	for ; i+1 < len(b); i++ {
		k := uint(b[i])<<8 | uint(b[i+1])
		if st[k>>6]&(1<<(k&63)) != 0 {
			break
		}
	}
	return i
}

// find calls fn for every occurrence of every pattern in b, overlapping
// ones included, with the pattern's id and the occurrence's byte range.
func (m *acMatcher) find(b []byte, fn func(id, start, end int)) {
	if m.dfa != nil {
		dfa := m.dfa
		s := uint(0)
		for i := 0; i < len(b); i++ {
			if s == 0 {
				i = m.skip(b, i)
			}
			c := b[i]
			t := dfa[s<<8|uint(c)]
			s = uint(t &^ dfaOut)
			if t&dfaOut != 0 {
				m.emit(int32(s), i, fn)
			}
		}
		return
	}
	s := int32(0)
	for i := 0; i < len(b); i++ {
		if s == 0 {
			i = m.skip(b, i)
		}
		c := b[i]
		for {
			if s == 0 {
				s = m.root[c]
				break
			}
			if t := m.step(s, c); t >= 0 {
				s = t
				break
			}
			s = m.nodes[s].fail
		}
		if s != 0 {
			m.emit(s, i, fn)
		}
	}
}

// emit reports the patterns ending at b[i] in state s.
func (m *acMatcher) emit(s int32, i int, fn func(id, start, end int)) {
	for o := s; o >= 0; o = m.nodes[o].dict {
		n := m.nodes[o]
		for _, id := range m.outs[n.outFirst : n.outFirst+n.outN] {
			fn(int(id), i+1-m.lens[id], i+1)
		}
	}
}
