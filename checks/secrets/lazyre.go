package secrets

import (
	"regexp"
	"sync"
)

// lazyRE is a rule's regex, compiled on the rule's first candidate window rather than
// in New: a scan only ever runs the rules whose keywords it meets, and compiling all
// ~280 (with the syntax walk for the window) was about half of New, which every
// `escapegate scan` process pays before its first line. The pattern has compiled
// once already (gitleaks' loader compiles it without (?m) and fails the load if it
// cannot), and a flag group in front cannot make it invalid, so the compile here
// does not fail; TestLazyRulesCompile compiles every rule's.
type lazyRE struct {
	once     sync.Once
	id       string
	pattern  string // with the (?m) prefix
	keywords []string
	source   string // the pattern as the rule file writes it, for its display prefixes
	re       *regexp.Regexp
	// The window and the display prefixes need only the pattern's syntax: each is
	// worked out on its own, so a rule that runs as its lazy prefix form alone never
	// compiles the full pattern (its {0,50}? prefix makes that the costliest compile).
	winOnce  sync.Once
	win      int
	preOnce  sync.Once
	prefixes []string
}

func newLazyRE(id, source string, keywords []string) *lazyRE {
	return &lazyRE{id: id, pattern: "(?m)" + source, source: source, keywords: keywords}
}

// presetWindow records a window known ahead (patternFacts).
func (l *lazyRE) presetWindow(w int) { l.winOnce.Do(func() { l.win = w }) }

func (l *lazyRE) get() *regexp.Regexp {
	l.once.Do(func() { l.re = regexp.MustCompile(l.pattern) })
	return l.re
}

// displayPrefixes are the rule's display prefixes (prefix.go).
func (l *lazyRE) displayPrefixes() []string {
	l.preOnce.Do(func() { l.prefixes = displayPrefixes(l.id, l.source) })
	return l.prefixes
}

// window is how many added lines around a keyword hit the regex runs on (windowOf).
func (l *lazyRE) window() int {
	l.winOnce.Do(func() { l.win = windowOf(l.id, l.pattern, l.keywords) })
	return l.win
}

func (l *lazyRE) String() string { return l.pattern }

func (l *lazyRE) NumSubexp() int { return l.get().NumSubexp() }

func (l *lazyRE) FindAllIndex(b []byte, n int) [][]int { return l.get().FindAllIndex(b, n) }

func (l *lazyRE) FindSubmatchIndex(b []byte) []int { return l.get().FindSubmatchIndex(b) }

func (l *lazyRE) MatchString(s string) bool { return l.get().MatchString(s) }
