package secrets

import (
	"regexp/syntax"
	"strings"
	"unicode/utf8"

	"github.com/zricethezav/gitleaks/v8/config"
)

// requiredLiterals returns strings, lower-cased, one of which every match of pattern
// contains (ASCII case ignored); ok is false when no such set is known.
func requiredLiterals(pattern string) (lits []string, ok bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, false
	}
	return reqLits(re.Simplify())
}

const maxReqLits = 32

func reqLits(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return nil, false
		}
		return []string{strings.ToLower(string(re.Rune))}, true
	case syntax.OpCharClass:
		// A small class of single characters, such as [23].
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				if len(out) == 8 {
					return nil, false
				}
				out = append(out, strings.ToLower(string(r)))
			}
		}
		return out, len(out) > 0
	case syntax.OpCapture, syntax.OpPlus:
		return reqLits(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return reqLits(re.Sub[0])
		}
	case syntax.OpConcat:
		var best []string
		for _, s := range re.Sub {
			if l, ok := reqLits(s); ok && better(l, best) {
				best = l
			}
		}
		return best, best != nil
	case syntax.OpAlternate:
		var out []string
		for _, s := range re.Sub {
			l, ok := reqLits(s)
			if !ok || len(out)+len(l) > maxReqLits {
				return nil, false
			}
			out = append(out, l...)
		}
		return out, true
	}
	return nil, false
}

// better prefers the set whose shortest string is longest, then the smaller set.
func better(a, b []string) bool {
	if b == nil {
		return true
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

// pathFilter answers an allowlist's PathAllowed without running its path regexes
// when the path holds none of the literals they need (most paths).
type pathFilter struct {
	lits []string // nil: no literal set known, always ask the allowlist
}

func newPathFilter(a *config.Allowlist) pathFilter {
	var all []string
	for _, p := range a.Paths {
		l, ok := requiredLiterals(p.String())
		if !ok {
			return pathFilter{}
		}
		all = append(all, l...)
	}
	return pathFilter{lits: all}
}

// mayAllow reports whether a's path regexes can match path (lower is path lower-cased).
func (f pathFilter) mayAllow(lower string) bool {
	if f.lits == nil {
		return true
	}
	for _, l := range f.lits {
		if strings.Contains(lower, l) {
			return true
		}
	}
	return false
}

// lowerPath lower-cases an ASCII path; ok is false for other paths (whose case
// folding the filter does not model).
func lowerPath(path string) (string, bool) {
	for i := 0; i < len(path); i++ {
		if path[i] >= utf8.RuneSelf {
			return "", false
		}
	}
	return strings.ToLower(path), true
}
