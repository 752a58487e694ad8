package secrets

import (
	"sync"
	"unicode/utf8"
)

// litCheck is a rule's literal pre-check, worked out on first use: strings one of
// which every match of the rule's regex holds (requiredLiterals on its syntax tree),
// so a window holding none of them (ASCII case ignored) cannot match and the regex
// does not run there. The keyword that made a line a candidate is not enough: jwt's
// keyword is "ey", its matches need ".ey". TestLiteralPreCheckIsNecessary checks it.
type litCheck struct {
	once    sync.Once
	pattern string
	lits    []string   // nil: no check
	also    [][]string // further sets, one string of each of which a match holds (requiredLiteralSets)
}

// presetLitCheck is a litCheck whose literals are known already.
func presetLitCheck(lits []string, also [][]string) *litCheck {
	c := &litCheck{}
	c.once.Do(func() { c.lits, c.also = lits, also })
	return c
}

func (c *litCheck) get() []string {
	if c == nil {
		return nil
	}
	c.once.Do(func() { c.lits, c.also = literalPreCheck(c.pattern), requiredLiteralSets(c.pattern) })
	return c.lits
}

// mayMatch reports whether text can hold a match of the rule: it holds one of lits and
// one of each further set (mayMatch).
func (c *litCheck) mayMatch(text []byte) bool {
	if !mayMatch(text, c.get()) {
		return false
	}
	for _, set := range c.also {
		if !mayMatch(text, set) {
			return false
		}
	}
	return true
}

// literalPreCheck is the literal set of a litCheck on pattern, or nil for none.
func literalPreCheck(pattern string) []string {
	lits, ok := requiredLiterals(pattern)
	if !ok || minLen(lits) < 2 {
		return nil // a check on single bytes would pass almost everywhere
	}
	for _, l := range lits {
		for i := 0; i < len(l); i++ {
			if l[i] >= utf8.RuneSelf {
				return nil // case folding beyond ASCII is not modelled
			}
		}
	}
	return lits
}

// mayMatch reports whether text can hold a match: it holds one of lits (lower-case
// ASCII) with ASCII case ignored, or a non-ASCII byte (under (?i) the Kelvin sign
// matches k and ſ matches s, so such text is not judged).
func mayMatch(text []byte, lits []string) bool {
	if lits == nil {
		return true
	}
	var first [256]bool
	for _, l := range lits {
		first[l[0]] = true
		if 'a' <= l[0] && l[0] <= 'z' {
			first[l[0]-'a'+'A'] = true
		}
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c >= utf8.RuneSelf {
			return true
		}
		if !first[c] {
			continue
		}
		for _, l := range lits {
			if hasPrefixFoldASCII(text[i:], l) {
				return true
			}
		}
	}
	return false
}

// hasPrefixFoldASCII reports whether b starts with lit (lower-case ASCII), ASCII case ignored.
func hasPrefixFoldASCII(b []byte, lit string) bool {
	if len(b) < len(lit) {
		return false
	}
	for i := 0; i < len(lit); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lit[i] {
			return false
		}
	}
	return true
}
