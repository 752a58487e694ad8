package agents

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
	"github.com/tailscale/hujson"
	"gopkg.in/yaml.v3"
)

// kind is the shape of a node of the format-neutral tree every rule reads.
type kind int

const (
	scalarNode kind = iota
	mapNode
	listNode
)

// node is one value of a parsed config file (JSON, JSONC, YAML or TOML) with the
// line it starts on, so rules can be written once and point at exact lines.
type node struct {
	kind  kind
	line  int
	keys  []string // map keys in file order
	field map[string]*node
	items []*node
	str   string // scalar text (strings unquoted, bools "true"/"false")
	kline int    // line of the key that holds this value in its map (0 for list items and the root)
	isStr bool   // the scalar was a string in the file (not a bool or number)
	block bool   // a YAML block scalar (| or >): its text starts on the line after line
}

// get walks map keys; it returns nil when any step is missing or not a map.
func (n *node) get(path ...string) *node {
	for _, k := range path {
		if n == nil || n.kind != mapNode {
			return nil
		}
		n = n.field[k]
	}
	return n
}

// list returns the items of a list node, or the node itself when it is a scalar
// (several tools accept a single string where a list is expected).
func (n *node) list() []*node {
	switch {
	case n == nil:
		return nil
	case n.kind == listNode:
		return n.items
	case n.kind == scalarNode:
		return []*node{n}
	}
	return nil
}

// text is the scalar text of n, "" for nil or composite nodes.
func (n *node) text() string {
	if n == nil || n.kind != scalarNode {
		return ""
	}
	return n.str
}

// truthy reports a boolean true, written as a bool or a string.
func (n *node) truthy() bool {
	return strings.EqualFold(strings.TrimSpace(n.text()), "true")
}

// each calls fn for every key/value of a map in file order.
func (n *node) each(fn func(k string, v *node)) {
	if n == nil || n.kind != mapNode {
		return
	}
	for _, k := range n.keys {
		fn(k, n.field[k])
	}
}

func newMap(line int) *node { return &node{kind: mapNode, line: line, field: map[string]*node{}} }

func (n *node) set(k string, v *node, keyLine int) {
	v.kline = keyLine
	if _, ok := n.field[k]; !ok {
		n.keys = append(n.keys, k)
	}
	n.field[k] = v
}

// parseError is a file that its tool would refuse to load; line is where the parser stopped.
type parseError struct {
	line int
	msg  string
}

func (e *parseError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

var hujsonLine = regexp.MustCompile(`^hujson: line (\d+), column \d+: `)

// parseJSON parses JSON with comments and trailing commas (what VS Code, Claude Code and
// Gemini CLI accept); strict JSON files parse the same.
func parseJSON(b []byte) (*node, error) {
	v, err := hujson.Parse(b)
	if err != nil {
		msg := err.Error()
		line := 1
		if m := hujsonLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = msg[len(m[0]):]
		}
		return nil, &parseError{line: line, msg: "invalid JSON: " + msg}
	}
	lines := newLineIndex(b)
	return fromHuJSON(v, lines), nil
}

func fromHuJSON(v hujson.Value, li lineIndex) *node {
	line := li.line(v.StartOffset)
	switch t := v.Value.(type) {
	case *hujson.Object:
		m := newMap(line)
		for _, mem := range t.Members {
			name, _ := mem.Name.Value.(hujson.Literal)
			m.set(name.String(), fromHuJSON(mem.Value, li), li.line(mem.Name.StartOffset))
		}
		return m
	case *hujson.Array:
		l := &node{kind: listNode, line: line}
		for _, e := range t.Elements {
			l.items = append(l.items, fromHuJSON(e, li))
		}
		return l
	case hujson.Literal:
		s := &node{kind: scalarNode, line: line}
		switch t.Kind() {
		case '"':
			s.str, s.isStr = t.String(), true
		case 'n':
			s.str = ""
		default:
			s.str = string(t)
		}
		return s
	}
	return &node{kind: scalarNode, line: line}
}

// keyLine is the line of the key holding n, or n's own line.
func (n *node) keyLine() int {
	if n == nil {
		return 1
	}
	if n.kline > 0 {
		return n.kline
	}
	return n.line
}

// lineIndex maps byte offsets to 1-based line numbers.
type lineIndex []int

func newLineIndex(b []byte) lineIndex {
	idx := lineIndex{0}
	for i, c := range b {
		if c == '\n' {
			idx = append(idx, i+1)
		}
	}
	return idx
}

func (li lineIndex) line(off int) int {
	lo, hi := 0, len(li)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if li[mid] <= off {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo + 1
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// parseYAML parses one YAML document; lineOffset shifts lines (front matter inside Markdown).
func parseYAML(b []byte, lineOffset int) (*node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		line := 1
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		msg = yamlLine.ReplaceAllStringFunc(msg, func(s string) string {
			n, _ := strconv.Atoi(strings.TrimPrefix(s, "line "))
			return fmt.Sprintf("line %d", n+lineOffset)
		})
		return nil, &parseError{line: line + lineOffset, msg: "invalid YAML: " + msg}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return newMap(1 + lineOffset), nil // empty document
	}
	c := yamlConv{off: lineOffset, memo: map[*yaml.Node]*node{}}
	return c.node(doc.Content[0], 0), nil
}

// yamlConv converts a yaml.Node tree; an anchored node is converted once and shared by
// its aliases, so alias bombs stay linear.
type yamlConv struct {
	off  int
	memo map[*yaml.Node]*node
}

func (c *yamlConv) node(y *yaml.Node, depth int) *node {
	for i := 0; y.Kind == yaml.AliasNode && y.Alias != nil && i < 100; i++ {
		y = y.Alias
	}
	if n, ok := c.memo[y]; ok {
		cp := *n // shallow copy: the holder sets its own key line
		return &cp
	}
	n := c.build(y, depth)
	if y.Anchor != "" {
		c.memo[y] = n
	}
	return n
}

func (c *yamlConv) build(y *yaml.Node, depth int) *node {
	off := c.off
	if depth > 100 {
		return &node{kind: scalarNode, line: y.Line + off}
	}
	line := y.Line + off
	switch y.Kind {
	case yaml.MappingNode:
		m := newMap(line)
		for i := 0; i+1 < len(y.Content); i += 2 {
			k, v := y.Content[i], y.Content[i+1]
			if k.Value == "<<" && k.Tag == "!!merge" {
				merged := c.node(v, depth+1)
				merged.each(func(mk string, mv *node) {
					if _, ok := m.field[mk]; !ok {
						m.set(mk, mv, mv.kline)
					}
				})
				continue
			}
			m.set(k.Value, c.node(v, depth+1), k.Line+off)
		}
		return m
	case yaml.SequenceNode:
		l := &node{kind: listNode, line: line}
		for _, it := range y.Content {
			l.items = append(l.items, c.node(it, depth+1))
		}
		return l
	case yaml.DocumentNode:
		if len(y.Content) > 0 {
			return c.node(y.Content[0], depth+1)
		}
	}
	s := &node{kind: scalarNode, line: line, str: y.Value}
	s.isStr = y.Tag == "!!str" || y.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0
	s.block = y.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0
	if y.Tag == "!!null" {
		s.str = ""
	}
	return s
}

// parseFrontMatter parses the YAML front matter of a Markdown file (between "---" lines).
// A file without front matter yields an empty map: its tool applies defaults.
func parseFrontMatter(b []byte) (*node, error) {
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	if !strings.HasPrefix(s, "---\n") {
		return newMap(1), nil
	}
	rest := s[4:]
	if strings.HasPrefix(rest, "---") {
		return newMap(1), nil // empty front matter
	}
	end := strings.Index(rest, "\n---")
	if end < 0 {
		return nil, &parseError{line: 1, msg: "front matter opened with --- is never closed"}
	}
	return parseYAML([]byte(rest[:end+1]), 1)
}

// parseTOML validates with the full decoder (duplicate keys, redefined tables) and
// builds the tree from the positional parser so every value keeps its line.
func parseTOML(b []byte) (*node, error) {
	var probe map[string]any
	if err := toml.Unmarshal(b, &probe); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, _ := de.Position()
			return nil, &parseError{line: row, msg: "invalid TOML: " + de.Error()}
		}
		return nil, &parseError{line: 1, msg: "invalid TOML: " + err.Error()}
	}
	var p unstable.Parser
	p.Reset(b)
	li := newLineIndex(b)
	root := newMap(1)
	cur := root
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			keys, line := tomlKey(e.Key(), li)
			parent := root
			for i, k := range keys {
				last := i == len(keys)-1
				child := parent.field[k]
				switch {
				case last && e.Kind == unstable.ArrayTable:
					if child == nil || child.kind != listNode {
						child = &node{kind: listNode, line: line}
						parent.set(k, child, line)
					}
					item := newMap(line)
					child.items = append(child.items, item)
					parent = item
					continue
				case child == nil:
					child = newMap(line)
					parent.set(k, child, line)
				case child.kind == listNode && len(child.items) > 0:
					child = child.items[len(child.items)-1] // [[a]] then [a.b]: the last element
				}
				parent = child
			}
			cur = parent
		case unstable.KeyValue:
			tomlSetKV(cur, e, li)
		}
	}
	if err := p.Error(); err != nil {
		return nil, &parseError{line: 1, msg: "invalid TOML: " + err.Error()}
	}
	return root, nil
}

func tomlKey(it unstable.Iterator, li lineIndex) ([]string, int) {
	var keys []string
	line := 0
	for it.Next() {
		k := it.Node()
		keys = append(keys, string(k.Data))
		if line == 0 {
			line = li.line(int(k.Raw.Offset))
		}
	}
	return keys, line
}

func tomlSetKV(into *node, kv *unstable.Node, li lineIndex) {
	keys, line := tomlKey(kv.Key(), li)
	parent := into
	for _, k := range keys[:len(keys)-1] {
		child := parent.field[k]
		if child == nil || child.kind != mapNode {
			child = newMap(line)
			parent.set(k, child, line)
		}
		parent = child
	}
	parent.set(keys[len(keys)-1], tomlValue(kv.Value(), li, line), line)
}

func tomlValue(v *unstable.Node, li lineIndex, fallback int) *node {
	line := fallback
	if v.Raw.Length > 0 {
		line = li.line(int(v.Raw.Offset))
	}
	switch v.Kind {
	case unstable.Array:
		l := &node{kind: listNode, line: line}
		it := v.Children()
		for it.Next() {
			c := it.Node()
			if c.Kind == unstable.Comment {
				continue
			}
			l.items = append(l.items, tomlValue(c, li, line))
		}
		return l
	case unstable.InlineTable:
		m := newMap(line)
		it := v.Children()
		for it.Next() {
			if c := it.Node(); c.Kind == unstable.KeyValue {
				tomlSetKV(m, c, li)
			}
		}
		return m
	case unstable.String:
		return &node{kind: scalarNode, line: line, str: string(v.Data), isStr: true}
	}
	return &node{kind: scalarNode, line: line, str: string(bytes.TrimSpace(v.Data))}
}
