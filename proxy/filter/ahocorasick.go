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
	m := &acMatcher{lens: make([]int, len(pats))}
	for id, p := range pats {
		m.lens[id] = len(p)
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

// find calls fn for every occurrence of every pattern in b, overlapping
// ones included, with the pattern's id and the occurrence's byte range.
func (m *acMatcher) find(b []byte, fn func(id, start, end int)) {
	if m.dfa != nil {
		dfa := m.dfa
		s := uint(0)
		for i, c := range b {
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
