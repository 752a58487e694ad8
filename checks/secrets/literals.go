package secrets

import (
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
)

// requiredLiterals returns strings, lower-cased, one of which every match of pattern
// contains (ASCII case ignored); ok is false when no such set is known.
func requiredLiterals(pattern string) (lits []string, ok bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, false
	}
	l := reqLits(re.Simplify())
	if !l.ok || minLen(l.lits) == 0 {
		return nil, false
	}
	return l.lits, true
}

// requiredLiteralSets returns further literal sets (lower-cased ASCII) that every match
// of pattern holds one of each: those of the elements of its top-level sequence (and
// of the sequences inside its groups and repeats), besides requiredLiterals' best one.
// A set whose strings are single characters common in code is left out: it would
// pass almost everywhere. url-credentials' "@" is such a set: most URLs near its
// keyword "https://" hold no credentials, and hold no "@".
func requiredLiteralSets(pattern string) [][]string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	best, _ := requiredLiterals(pattern)
	var out [][]string
	seen := map[string]bool{strings.Join(best, "\x00"): true}
	var walk func(*syntax.Regexp)
	walk = func(re *syntax.Regexp) {
		switch re.Op {
		case syntax.OpCapture, syntax.OpPlus:
			walk(re.Sub[0])
			return
		case syntax.OpRepeat:
			if re.Min >= 1 {
				walk(re.Sub[0])
			}
			return
		case syntax.OpConcat:
			for _, sub := range re.Sub {
				walk(sub)
			}
			return
		}
		l := reqLits(re)
		if !l.ok || !usefulLiteralSet(l.lits) || impliedBy(best, l.lits) {
			return
		}
		if k := strings.Join(l.lits, "\x00"); !seen[k] {
			seen[k] = true
			out = append(out, l.lits)
		}
	}
	walk(re.Simplify())
	return out
}

// impliedBy reports whether holding one of best means holding one of set (each of
// best contains one of set).
func impliedBy(best, set []string) bool {
	if len(best) == 0 {
		return false
	}
	for _, b := range best {
		if !slices.ContainsFunc(set, func(s string) bool { return strings.Contains(b, s) }) {
			return false
		}
	}
	return true
}

// usefulLiteralSet: ASCII strings, none of them empty or a single character other
// than punctuation rare in source code.
func usefulLiteralSet(lits []string) bool {
	for _, l := range lits {
		if l == "" || (len(l) == 1 && !strings.Contains("@#$%&*|~^!?\\`", l)) {
			return false
		}
		for i := 0; i < len(l); i++ {
			if l[i] >= utf8.RuneSelf {
				return false
			}
		}
	}
	return len(lits) > 0
}

const maxReqLits = 32

// litSet is what reqLits knows of a pattern: every match contains one of lits (ok),
// and when exact, every match is one of lits.
type litSet struct {
	lits      []string
	ok, exact bool
}

func reqLits(re *syntax.Regexp) litSet {
	switch re.Op {
	case syntax.OpLiteral:
		return litSet{lits: []string{strings.ToLower(string(re.Rune))}, ok: true, exact: true}
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return litSet{lits: []string{""}, ok: true, exact: true}
	case syntax.OpCharClass:
		// A small class of single characters, such as [23].
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				if len(out) == 8 {
					return litSet{}
				}
				out = append(out, strings.ToLower(string(r)))
			}
		}
		return litSet{lits: out, ok: len(out) > 0, exact: len(out) > 0}
	case syntax.OpCapture:
		return reqLits(re.Sub[0])
	case syntax.OpPlus:
		l := reqLits(re.Sub[0])
		l.exact = false
		return l
	case syntax.OpRepeat:
		if re.Min >= 1 {
			l := reqLits(re.Sub[0])
			l.exact = l.exact && re.Min == 1 && re.Max == 1
			return l
		}
	case syntax.OpConcat:
		// Runs of exact parts multiply out ("." then (doc|pdf) is .doc or .pdf); the
		// result is the best of the runs and of the other parts' sets.
		var best []string
		consider := func(l []string) {
			if l != nil && better(l, best) {
				best = l
			}
		}
		run, exact := []string{""}, true
		for _, sub := range re.Sub {
			l := reqLits(sub)
			if l.exact && len(run)*len(l.lits) <= maxReqLits {
				run = cross(run, l.lits)
				continue
			}
			exact = false
			consider(run)
			run = []string{""}
			if l.exact {
				run = l.lits
			} else if l.ok {
				consider(l.lits)
			}
		}
		consider(run)
		return litSet{lits: best, ok: best != nil, exact: exact}
	case syntax.OpAlternate:
		var out []string
		exact := true
		for _, sub := range re.Sub {
			l := reqLits(sub)
			if !l.ok || len(out)+len(l.lits) > maxReqLits {
				return litSet{}
			}
			out = append(out, l.lits...)
			exact = exact && l.exact
		}
		return litSet{lits: out, ok: true, exact: exact}
	}
	return litSet{}
}

func cross(a, b []string) []string {
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, x+y)
		}
	}
	return out
}

// better prefers the set whose shortest string is longest, then the smaller set.
func better(a, b []string) bool {
	if b == nil {
		return true
	}
	if a == nil {
		return false
	}
	ma, mb := minLen(a), minLen(b)
	if ma != mb {
		return ma > mb
	}
	return len(a) < len(b)
}

func minLen(l []string) int {
	m := -1
	for _, s := range l {
		if m < 0 || len(s) < m {
			m = len(s)
		}
	}
	return m
}
