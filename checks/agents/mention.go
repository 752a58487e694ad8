package agents

import "github.com/escapegate/escapegate/checks/diff"

// A mention set answers "does this text hold one of these literals?" in one pass over
// its bytes: an Aho-Corasick automaton turned into a dense DFA over byte classes, so
// the work per byte is one table lookup and nothing is tried twice. It replaces
// alternation regexes that Go's backtracker re-ran from every offset of every added
// line (most of a diff scan's time went there).

// follow is what the byte after a literal must be for the literal to count.
type follow uint8

const (
	followAny     follow = iota // anything, or the end of the text
	followNonWord               // \b after a literal ending in a word byte: end of text or a byte outside [0-9A-Za-z_]
	followWord                  // \w: a byte of [0-9A-Za-z_]
)

// mention is one literal of a set and what must follow it.
type mention struct {
	text  string
	after follow
}

type mentionSet struct {
	class  [256]uint8
	nclass int
	// trans[s+class[b]] is the next state, premultiplied by nclass (state k is
	// k*nclass), with matchFlag set when a literal ends there; match[k] lists the
	// follow conditions of the literals ending in state k (its own and its suffixes').
	trans []uint16
	match [][]follow
}

func newMentionSet(ms []mention) *mentionSet {
	m := &mentionSet{}
	n := 1 // class 0: bytes in no literal, always back to the start state
	for _, x := range ms {
		for i := 0; i < len(x.text); i++ {
			if c := x.text[i]; m.class[c] == 0 {
				m.class[c] = uint8(n)
				n++
			}
		}
	}
	m.nclass = n
	type node struct {
		next []int
		out  []follow
		fail int
	}
	newNode := func() node {
		nx := make([]int, n)
		for i := range nx {
			nx[i] = -1
		}
		return node{next: nx}
	}
	nodes := []node{newNode()}
	for _, x := range ms {
		s := 0
		for i := 0; i < len(x.text); i++ {
			c := m.class[x.text[i]]
			if nodes[s].next[c] < 0 {
				nodes = append(nodes, newNode())
				nodes[s].next[c] = len(nodes) - 1
			}
			s = nodes[s].next[c]
		}
		nodes[s].out = addFollow(nodes[s].out, x.after)
	}
	if len(nodes)*n >= matchFlag {
		panic("agents: mention set too large")
	}
	var queue []int
	for c := range n {
		if t := nodes[0].next[c]; t > 0 {
			queue = append(queue, t)
		} else {
			nodes[0].next[c] = 0
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for c := range n {
			t := nodes[s].next[c]
			if t < 0 {
				nodes[s].next[c] = nodes[nodes[s].fail].next[c]
				continue
			}
			f := nodes[nodes[s].fail].next[c]
			nodes[t].fail = f
			for _, o := range nodes[f].out {
				nodes[t].out = addFollow(nodes[t].out, o)
			}
			queue = append(queue, t)
		}
	}
	m.trans = make([]uint16, len(nodes)*n)
	m.match = make([][]follow, len(nodes))
	for s := range nodes {
		m.match[s] = nodes[s].out
		for c := range n {
			t := nodes[s].next[c]
			v := uint16(t * n)
			if len(nodes[t].out) > 0 {
				v |= matchFlag
			}
			m.trans[s*n+c] = v
		}
	}
	return m
}

func addFollow(fs []follow, f follow) []follow {
	for _, x := range fs {
		if x == f {
			return fs
		}
	}
	return append(fs, f)
}

const matchFlag = 1 << 15

// in reports whether s holds one of the set's literals followed as it requires.
func (m *mentionSet) in(s string) bool { return m.inFrom(s, 0, 0) }

// inFrom is in for s[from:], the walk being in state st at from.
func (m *mentionSet) inFrom(s string, from int, st uint16) bool {
	trans, class := m.trans, &m.class
	for i := from; i < len(s); i++ {
		st = trans[st+uint16(class[s[i]])]
		if st&matchFlag != 0 {
			st &^= matchFlag
			if m.followed(m.match[int(st)/m.nclass], s, i+1) {
				return true
			}
		}
	}
	return false
}

// inEither reports in(a) || in(b), walking both texts at once: each step of a walk
// waits on the table load of the one before, so two independent walks take about the
// time of one.
func (m *mentionSet) inEither(a, b string) bool {
	trans, class := m.trans, &m.class
	sa, sb := uint16(0), uint16(0)
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		sa = trans[sa+uint16(class[a[i]])]
		sb = trans[sb+uint16(class[b[i]])]
		if (sa|sb)&matchFlag != 0 {
			if sa&matchFlag != 0 {
				sa &^= matchFlag
				if m.followed(m.match[int(sa)/m.nclass], a, i+1) {
					return true
				}
			}
			if sb&matchFlag != 0 {
				sb &^= matchFlag
				if m.followed(m.match[int(sb)/m.nclass], b, i+1) {
					return true
				}
			}
		}
	}
	// The rest of the longer text, from the state its walk reached.
	if len(b) > len(a) {
		return m.inFrom(b, n, sb)
	}
	return m.inFrom(a, n, sa)
}

// anyLine reports whether one of lines holds one of the set's literals, two lines at a time.
func (m *mentionSet) anyLine(lines []diff.Line) bool {
	i := 0
	for ; i+1 < len(lines); i += 2 {
		if m.inEither(lines[i].Text, lines[i+1].Text) {
			return true
		}
	}
	return i < len(lines) && m.in(lines[i].Text)
}

// inBytes is in for a byte slice.
func (m *mentionSet) inBytes(b []byte) bool {
	trans, class := m.trans, &m.class
	st := uint16(0)
	for i := 0; i < len(b); i++ {
		st = trans[st+uint16(class[b[i]])]
		if st&matchFlag != 0 {
			st &^= matchFlag
			if m.followedBytes(m.match[int(st)/m.nclass], b, i+1) {
				return true
			}
		}
	}
	return false
}

func (m *mentionSet) followed(out []follow, s string, next int) bool {
	for _, f := range out {
		switch f {
		case followAny:
			return true
		case followNonWord:
			if next == len(s) || !isWordByte(s[next]) {
				return true
			}
		case followWord:
			if next < len(s) && isWordByte(s[next]) {
				return true
			}
		}
	}
	return false
}

func (m *mentionSet) followedBytes(out []follow, b []byte, next int) bool {
	for _, f := range out {
		switch f {
		case followAny:
			return true
		case followNonWord:
			if next == len(b) || !isWordByte(b[next]) {
				return true
			}
		case followWord:
			if next < len(b) && isWordByte(b[next]) {
				return true
			}
		}
	}
	return false
}

// isWordByte is regexp's ASCII \w.
func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// frameworkMentions are the Python lines that may create an agent tool or executor:
// regexp `langchain|crewai|…|@tool\b` (agents_test keeps that form as the reference).
var frameworkMentions = newMentionSet(func() []mention {
	var ms []mention
	for _, s := range []string{"langchain", "crewai", "autogen", "smolagents", "from agents import", "function_tool",
		"ShellTool", "PythonREPLTool", "PythonAstREPLTool", "CommandLineCodeExecutor", "allow_dangerous_code",
		"allow_dangerous_requests", "code_execution", "FileManagementToolkit", "use_docker",
		"additional_authorized_imports", "executor_type", "PythonREPL", "load_tools", "allow_dangerous_tools",
		"unsafe_mode", "BashProcess", "LLMBashChain"} {
		ms = append(ms, mention{text: s})
	}
	return append(ms, mention{text: "@tool", after: followNonWord})
}())

// claudeRuleMentions is a line of JSON that looks like Claude Code settings: its schema,
// or a permission rule in Claude Code's syntax. Regexp form:
// claude-code-settings\.json|"(Bash|Edit|Write|MultiEdit|WebFetch|Read|NotebookEdit)(\(|")|"mcp__\w
var claudeRuleMentions = newMentionSet(func() []mention {
	ms := []mention{{text: "claude-code-settings.json"}, {text: `"mcp__`, after: followWord}}
	for _, t := range []string{"Bash", "Edit", "Write", "MultiEdit", "WebFetch", "Read", "NotebookEdit"} {
		ms = append(ms, mention{text: `"` + t + `(`}, mention{text: `"` + t + `"`})
	}
	return ms
}())
