package secrets

import "bytes"

// kwMatcher finds every occurrence of a set of keywords (overlapping ones too) in one
// pass, ignoring ASCII case: an Aho-Corasick automaton turned into a dense DFA over
// byte classes. Bytes that occur in no keyword share one class, which always leads
// back to the start state; ASCII upper-case letters share their lower-case letter's
// class, so the text needs no lower-casing pass.
type kwMatcher struct {
	class  [256]uint8
	nclass uint32
	// trans[s+class] is the next state, premultiplied by nclass (state k is k*nclass);
	// outFlag marks a state that ends a keyword.
	trans []uint32
	// out[k] lists the values attached to the keywords that end in state k, including
	// those of its proper suffixes; each value once.
	out [][]int32
}

const outFlag = 1 << 31

// newKWMatcher builds a matcher for keywords (lower-case already); vals[i] are the
// values reported when keyword i occurs.
func newKWMatcher(keywords []string, vals [][]int32) *kwMatcher {
	m := &kwMatcher{}
	// Byte classes: 0 for bytes in no keyword, then one per distinct byte (ASCII folded).
	var classOf [256]uint8
	n := uint8(1)
	for _, k := range keywords {
		for i := 0; i < len(k); i++ {
			if c := k[i]; classOf[c] == 0 {
				classOf[c] = n
				n++
			}
		}
	}
	for b := range 256 {
		c := byte(b)
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		m.class[b] = classOf[c]
	}
	m.nclass = uint32(n)
	nc := int(n)

	// The trie: goto[k*nc+class] (0 = none, except from the root), outputs per state.
	type node struct {
		next []int32 // per class; -1 none
		out  []int32
		fail int32
	}
	newNode := func() node {
		nx := make([]int32, nc)
		for i := range nx {
			nx[i] = -1
		}
		return node{next: nx}
	}
	nodes := []node{newNode()}
	for ki, k := range keywords {
		s := int32(0)
		for i := 0; i < len(k); i++ {
			c := classOf[k[i]]
			if nodes[s].next[c] < 0 {
				nodes = append(nodes, newNode())
				nodes[s].next[c] = int32(len(nodes) - 1)
			}
			s = nodes[s].next[c]
		}
		nodes[s].out = addVals(nodes[s].out, vals[ki])
	}
	// Breadth-first: fail links, inherited outputs, and the full transition function.
	queue := make([]int32, 0, len(nodes))
	for c := range nc {
		if t := nodes[0].next[c]; t > 0 {
			nodes[t].fail = 0
			queue = append(queue, t)
		} else {
			nodes[0].next[c] = 0
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for c := range nc {
			t := nodes[s].next[c]
			if t < 0 {
				nodes[s].next[c] = nodes[nodes[s].fail].next[c]
				continue
			}
			f := nodes[nodes[s].fail].next[c]
			nodes[t].fail = f
			nodes[t].out = addVals(nodes[t].out, nodes[f].out)
			queue = append(queue, t)
		}
	}
	m.trans = make([]uint32, len(nodes)*nc)
	m.out = make([][]int32, len(nodes))
	for s := range nodes {
		m.out[s] = nodes[s].out
		for c := range nc {
			t := nodes[s].next[c]
			v := uint32(t) * m.nclass
			if len(nodes[t].out) > 0 {
				v |= outFlag
			}
			m.trans[s*nc+c] = v
		}
	}
	return m
}

// addVals appends to dst the values of src it does not hold yet.
func addVals(dst, src []int32) []int32 {
	for _, v := range src {
		found := false
		for _, d := range dst {
			if d == v {
				found = true
				break
			}
		}
		if !found {
			dst = append(dst, v)
		}
	}
	return dst
}

// kwHit is a keyword hit held back: where it ends, and the state it left.
type kwHit struct {
	end   int
	state uint32
}

// twoStreams is the text length from which scan walks two halves at once.
const twoStreams = 64

// scan calls hit for every position where keywords end (end is the index of their
// last byte), in ascending order, with the values of all keywords ending there. later
// is scratch space for the hits of the second half.
//
// A text of a few lines or more is walked as two streams, its halves split after a
// newline: each step of the automaton waits on the table load of the step before, so
// two independent walks run in about the time of one. A newline is in no keyword, so
// it leads back to the start state, where the second walk starts: both walks see what
// one walk would. The second half's hits are held back and reported after the first's.
func (m *kwMatcher) scan(text []byte, hit func(end int, vals []int32), later *[]kwHit) {
	mid := -1
	if m.class['\n'] == 0 && len(text) >= twoStreams {
		if i := bytes.IndexByte(text[len(text)/2:], '\n'); i >= 0 {
			mid = len(text)/2 + i + 1
		}
	}
	if mid < 0 || mid >= len(text) {
		m.walk(text, hit)
		return
	}
	a, b := text[:mid], text[mid:]
	trans, class, nclass := m.trans, &m.class, m.nclass
	held := (*later)[:0]
	var sa, sb uint32
	n := min(len(a), len(b))
	a, b = a[:n:n], b[:n:n]
	for i := range n {
		sa = trans[sa+uint32(class[a[i]])]
		sb = trans[sb+uint32(class[b[i]])]
		if (sa|sb)&outFlag != 0 {
			if sa&outFlag != 0 {
				sa &^= outFlag
				hit(i, m.out[sa/nclass])
			}
			if sb&outFlag != 0 {
				sb &^= outFlag
				held = append(held, kwHit{mid + i, sb})
			}
		}
	}
	// The rest of the longer half (the first, or the second by a line at most).
	for i := n; i < mid; i++ {
		if sa = trans[sa+uint32(class[text[i]])]; sa&outFlag != 0 {
			sa &^= outFlag
			hit(i, m.out[sa/nclass])
		}
	}
	for i := mid + n; i < len(text); i++ {
		if sb = trans[sb+uint32(class[text[i]])]; sb&outFlag != 0 {
			sb &^= outFlag
			held = append(held, kwHit{i, sb})
		}
	}
	for _, h := range held {
		hit(h.end, m.out[h.state/nclass])
	}
	*later = held
}

// walk is scan as one stream.
func (m *kwMatcher) walk(text []byte, hit func(end int, vals []int32)) {
	trans, class := m.trans, &m.class
	s := uint32(0)
	for i, b := range text {
		s = trans[s+uint32(class[b])]
		if s&outFlag != 0 {
			s &^= outFlag
			hit(i, m.out[s/m.nclass])
		}
	}
}
