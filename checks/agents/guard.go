package agents

import (
	"regexp"
	"regexp/syntax"
	"strings"
)

// guardedRE is a regexp that first checks for literals one of which each of its
// matches holds: on a whole Python file that mentions none of them (most files that
// reach the evaluator), the regex, which Go runs at tens of ns a byte on large
// inputs, is not run at all. The literals come from the pattern's syntax tree, so
// the check can only say no where the regex finds nothing.
type guardedRE struct {
	*regexp.Regexp
	lits []string // nil: no literal is required, the regex always runs
}

func mustGuarded(pattern string) *guardedRE {
	re := regexp.MustCompile(pattern)
	g := &guardedRE{Regexp: re}
	if t, err := syntax.Parse(pattern, syntax.Perl); err == nil {
		g.lits = requiredLits(t.Simplify())
	}
	return g
}

// may reports whether s can hold a match.
func (g *guardedRE) may(s string) bool {
	if g.lits == nil {
		return true
	}
	for _, l := range g.lits {
		if strings.Contains(s, l) {
			return true
		}
	}
	return false
}

func (g *guardedRE) MatchString(s string) bool { return g.may(s) && g.Regexp.MatchString(s) }

func (g *guardedRE) FindAllStringIndex(s string, n int) [][]int {
	if !g.may(s) {
		return nil
	}
	return g.Regexp.FindAllStringIndex(s, n)
}

func (g *guardedRE) FindAllStringSubmatchIndex(s string, n int) [][]int {
	if !g.may(s) {
		return nil
	}
	return g.Regexp.FindAllStringSubmatchIndex(s, n)
}

// requiredLits returns literals one of which every match of re holds, or nil when it
// cannot tell. Case-folded literals are not used (a match may spell them otherwise).
func requiredLits(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 || len(re.Rune) == 0 {
			return nil
		}
		return []string{string(re.Rune)}
	case syntax.OpCapture, syntax.OpPlus:
		return requiredLits(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLits(re.Sub[0])
		}
	case syntax.OpConcat:
		// Any one part's literals will do; the set whose shortest literal is longest
		// says no most often.
		var best []string
		bestLen := 0
		for _, sub := range re.Sub {
			ls := requiredLits(sub)
			if ls == nil {
				continue
			}
			short := len(ls[0])
			for _, l := range ls {
				short = min(short, len(l))
			}
			if short > bestLen {
				best, bestLen = ls, short
			}
		}
		return best
	case syntax.OpAlternate:
		var all []string
		for _, sub := range re.Sub {
			ls := requiredLits(sub)
			if ls == nil {
				return nil
			}
			all = append(all, ls...)
		}
		return all
	}
	return nil
}
