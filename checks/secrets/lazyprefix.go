package secrets

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
	"unicode/utf8"
)

// lazyPrefix runs a pattern of the form F C{0,n}? S (F: flag groups such as (?m)(?i),
// C: a character class, S: the rest), as about a hundred gitleaks rules are written
// ([\w.-]{0,50}?(?:keyword)...), without its lazy prefix: Go's regexp runs S several
// times faster (the prefix multiplies the program and defeats its prefix search), and
// the full pattern's matches follow from S's.
//
// Why they are the same: let p be the leftmost position (from the search start pos)
// where S matches. The full pattern matches at s iff S matches at some p' >= s with
// text[s:p'] at most n runes of C; every S match is at or after p, so the leftmost
// such s is p minus the run of C runes ending at p (at most n, not before pos): an s
// further left would need an S match after p whose C run crosses the rune before
// that run, or more than n runes. At s the lazy prefix tries its lengths shortest
// first, and S matches at none of s..p-1, so the match is S's own leftmost-first
// match at p, extended back to s. Empty-width assertions in S would see a different
// context at pos (text is searched from pos on), so patterns where S has any are not
// split. TestLazyStartSameMatches compares both on the gitleaks samples and random
// text.
type lazyPrefix struct {
	core  *regexp.Regexp // F S
	class []rune         // C as sorted ranges (lo, hi pairs), as regexp/syntax folds it
	max   int            // n, in runes
}

// lazySlot holds a rule's lazy prefix form, worked out on first use: most rules never
// have a candidate line in a process, and compiling S for all of them would cost
// about a quarter of New.
type lazySlot struct {
	once    sync.Once
	pattern string
	form    *lazyForm // known ahead (patternFacts): only its core is left to compile
	lp      *lazyPrefix
}

func (s *lazySlot) get() *lazyPrefix {
	if s == nil {
		return nil
	}
	s.once.Do(func() {
		if f := s.form; f != nil {
			s.lp = &lazyPrefix{core: regexp.MustCompile(f.core), class: f.class, max: f.max}
			return
		}
		s.lp = splitLazyPrefix(s.pattern)
	})
	return s.lp
}

// mayHaveLazyPrefix is a cheap test that pattern may be of the lazy prefix form.
func mayHaveLazyPrefix(pattern string) bool {
	_, rest := leadingFlags(pattern)
	i := strings.Index(rest, "}?")
	return strings.HasPrefix(rest, "[") && i > 0 && !strings.Contains(rest[:i], "(")
}

// splitLazyPrefix returns the lazy prefix form of pattern, or nil when the pattern is
// not of that form.
func splitLazyPrefix(pattern string) *lazyPrefix {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil || re.Op != syntax.OpConcat || len(re.Sub) < 2 {
		return nil
	}
	first := re.Sub[0]
	if first.Op != syntax.OpRepeat || first.Min != 0 || first.Max < 1 || first.Flags&syntax.NonGreedy == 0 ||
		first.Sub[0].Op != syntax.OpCharClass {
		return nil
	}
	width := 0
	for _, sub := range re.Sub[1:] {
		if hasAssertion(sub) {
			return nil
		}
		width += minWidth(sub)
	}
	if width == 0 || (&lazyPrefix{class: first.Sub[0].Rune}).inClass(utf8.RuneError) {
		return nil // S could match empty, or C holds the rune invalid bytes decode to
	}
	// The prefix is written out in the pattern after its flag groups: cut it there.
	flags, rest := leadingFlags(pattern)
	close := strings.Index(rest, "}?")
	if close < 0 || !strings.HasPrefix(rest, "[") {
		return nil
	}
	prefix, rest := rest[:close+2], rest[close+2:]
	// The cut must be exactly the parsed prefix: reparse both halves and compare.
	pre, err := syntax.Parse(flags+prefix, syntax.Perl)
	if err != nil || !pre.Equal(first) {
		return nil
	}
	coreRe, err := syntax.Parse(flags+rest, syntax.Perl)
	if err != nil || coreRe.String() != (&syntax.Regexp{Op: syntax.OpConcat, Sub: re.Sub[1:]}).String() {
		return nil
	}
	core, err := regexp.Compile(flags + rest)
	if err != nil {
		return nil
	}
	return &lazyPrefix{core: core, class: first.Sub[0].Rune, max: first.Max}
}

// leadingFlags splits pattern after its leading flag groups such as (?m)(?i).
func leadingFlags(pattern string) (flags, rest string) {
	rest = pattern
	for strings.HasPrefix(rest, "(?") {
		end := strings.IndexByte(rest, ')')
		if end < 0 || strings.ContainsAny(rest[2:end], ":(") {
			break
		}
		rest = rest[end+1:]
	}
	return pattern[:len(pattern)-len(rest)], rest
}

// hasAssertion reports whether re holds an empty-width assertion other than $ or \z
// (which look at the text after a position, never cut here).
func hasAssertion(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpBeginLine, syntax.OpBeginText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return true
	}
	for _, s := range re.Sub {
		if hasAssertion(s) {
			return true
		}
	}
	return false
}

func (lp *lazyPrefix) inClass(r rune) bool {
	c := lp.class
	for i := 0; i+1 < len(c); i += 2 {
		if r < c[i] {
			return false
		}
		if r <= c[i+1] {
			return true
		}
	}
	return false
}

// findAll is the full pattern's FindAllIndex(text, -1) (appending to out).
func (lp *lazyPrefix) findAll(text []byte, out [][]int) [][]int {
	for pos := 0; pos <= len(text); {
		m := lp.core.FindIndex(text[pos:])
		if m == nil {
			break
		}
		p, end := pos+m[0], pos+m[1]
		s := p
		for n := 0; n < lp.max && s > pos; n++ {
			r, size := utf8.DecodeLastRune(text[pos:s])
			if !lp.inClass(r) {
				break
			}
			s -= size
		}
		m[0], m[1] = s, end // m is FindIndex's own
		out = append(out, m)
		pos = end // > p: S never matches empty
	}
	return out
}

// minWidth is the fewest bytes a match of re holds.
func minWidth(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune) // a rune is a byte or more
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1
	case syntax.OpCapture, syntax.OpPlus:
		return minWidth(re.Sub[0])
	case syntax.OpRepeat:
		return re.Min * minWidth(re.Sub[0])
	case syntax.OpConcat:
		n := 0
		for _, s := range re.Sub {
			n += minWidth(s)
		}
		return n
	case syntax.OpAlternate:
		n := -1
		for _, s := range re.Sub {
			if w := minWidth(s); n < 0 || w < n {
				n = w
			}
		}
		return max(n, 0)
	}
	return 0 // empty, assertions, star, quest
}
