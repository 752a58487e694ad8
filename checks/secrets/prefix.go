package secrets

import (
	"regexp/syntax"
	"strings"
)

// A rule's display prefix is the fixed literal its format documents (`ghp_`, `AKIA`,
// `xoxb-`, `sk_live_`): the literal that starts its secret group in its regex. Rules
// that find passwords, generic or high-entropy values have none, so their redacted
// form holds no character of the value (checks.RedactPrefix).

// noPrefixRules are rule ids (or id fragments) whose values carry no documented format
// prefix, whatever their regex starts with.
var noPrefixRules = []string{"generic", "password", "entropy", "netrc", "basic-auth", "curl-auth", "url-credentials", "connection-string"}

// maxPrefixes bounds the alternatives a regex's literal prefix may expand to.
const maxPrefixes = 64

// displayPrefixes are the literal prefixes a secret of the rule may start with, longest
// first; nil when the rule documents none.
func displayPrefixes(id, pattern string) []string {
	for _, s := range noPrefixRules {
		if strings.Contains(id, s) {
			return nil
		}
	}
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	set := map[string]bool{}
	var walk func(*syntax.Regexp)
	walk = func(r *syntax.Regexp) {
		if r.Op == syntax.OpCapture {
			ps, _ := literalPrefixes(r.Sub[0])
			for _, p := range ps {
				if len(p) >= 2 {
					set[p] = true
				}
			}
		}
		for _, s := range r.Sub {
			walk(s)
		}
	}
	ps, _ := literalPrefixes(re)
	for _, p := range ps {
		if len(p) >= 2 {
			set[p] = true
		}
	}
	walk(re)
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	// Longest first, then by text, so the choice is deterministic.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && (len(out[j]) > len(out[j-1]) || len(out[j]) == len(out[j-1]) && out[j] < out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// literalPrefixes are the case-sensitive literal strings every match of re starts with
// (one of them), and whether re is exactly those strings. A case-insensitive literal or
// anything that is not a literal ends the prefix.
func literalPrefixes(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return []string{""}, false
		}
		return []string{string(re.Rune)}, true
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpBeginText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return []string{""}, true
	case syntax.OpCapture:
		return literalPrefixes(re.Sub[0])
	case syntax.OpCharClass:
		var rs []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for c := re.Rune[i]; c <= re.Rune[i+1]; c++ {
				if len(rs) >= 4 {
					return []string{""}, false
				}
				rs = append(rs, string(c))
			}
		}
		if len(rs) == 0 {
			return []string{""}, false
		}
		return rs, true
	case syntax.OpAlternate:
		var out []string
		complete := true
		for _, s := range re.Sub {
			ps, c := literalPrefixes(s)
			complete = complete && c
			out = append(out, ps...)
			if len(out) > maxPrefixes {
				return []string{""}, false
			}
		}
		return out, complete
	case syntax.OpConcat:
		acc := []string{""}
		for _, s := range re.Sub {
			ps, c := literalPrefixes(s)
			if len(acc)*len(ps) > maxPrefixes {
				return acc, false
			}
			next := make([]string, 0, len(acc)*len(ps))
			for _, a := range acc {
				for _, p := range ps {
					next = append(next, a+p)
				}
			}
			acc = next
			if !c {
				return acc, false
			}
		}
		return acc, true
	}
	return []string{""}, false
}

// prefixList is the format's documented literal prefixes, longest first (nil for a
// rule without a regex).
func (r *rule) prefixList() []string {
	if r.re == nil {
		return nil
	}
	return r.re.displayPrefixes()
}

// prefixOf is the longest display prefix of the rule that value starts with, or "".
func (r *rule) prefixOf(value string) string {
	for _, p := range r.prefixList() {
		if strings.HasPrefix(value, p) {
			return p
		}
	}
	return ""
}
