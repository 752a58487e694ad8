package secrets

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
	"unicode/utf8"
)

// regexSet answers an allowlist's RegexAllowed with the same answers, faster. gitleaks
// joins an allowlist's regexes into one pattern, (?:r1|r2|...), so that a flag group at
// the start of one regex carries into those after it, and asks whether it matches
// anywhere in the target. That pattern is an alternation, which matches where one of its
// branches does: each top-level branch is compiled on its own (an anchored one then tries
// one position, not every one, and a small program runs on the backtracker), and a
// branch runs only when the target holds one of the literals that its every match holds
// (requiredLiterals). generic-api-key's one match-target regex, a 40-way alternation,
// cost more than all the rest of its checks together. TestRegexSetAsGitleaks compares the
// answers with gitleaks' own.
type regexSet struct {
	// built on first use: most allowlists belong to rules that never find anything
	// in a scan, and compiling their branches in New would cost more than it saves.
	once     sync.Once
	res      []*regexp.Regexp
	branches []regexBranch
}

type regexBranch struct {
	re   *regexp.Regexp
	lits []string // lower-case ASCII, one of which a match holds; nil: always run
}

// newRegexSet is the set for an allowlist's regexes (nil when there are none).
func newRegexSet(res []*regexp.Regexp) *regexSet {
	if len(res) == 0 {
		return nil
	}
	return &regexSet{res: res}
}

// build splits the joined pattern into its branches.
func (s *regexSet) build() {
	srcs := make([]string, len(s.res))
	for i, re := range s.res {
		srcs[i] = re.String()
	}
	union := "(?:" + strings.Join(srcs, "|") + ")" // as gitleaks' joinRegexOr writes it
	whole := []regexBranch{{re: regexp.MustCompile(union)}}
	tree, err := syntax.Parse(union, syntax.Perl)
	if err != nil || tree.Op != syntax.OpAlternate {
		s.branches = whole
		return
	}
	for _, sub := range tree.Sub {
		src := sub.String()
		re, err := regexp.Compile(src)
		if err != nil {
			s.branches = whole // not expected: a parsed tree prints as a pattern that parses
			return
		}
		s.branches = append(s.branches, regexBranch{re: re, lits: literalPreCheck(src)})
	}
}

// match is RegexAllowed(target).
func (s *regexSet) match(target string) bool {
	if s == nil || target == "" {
		return false
	}
	s.once.Do(s.build)
	// Lower-cased once for every branch's literals; a target with non-ASCII bytes
	// runs every branch (case folding beyond ASCII is not modelled).
	lower, ascii := lowerASCII(target)
	for _, b := range s.branches {
		if b.lits != nil && ascii && !containsAny(lower, b.lits) {
			continue
		}
		if b.re.MatchString(target) {
			return true
		}
	}
	return false
}

// lowerASCII lower-cases s when it is ASCII (ok false otherwise); s itself when it
// holds no upper-case letter.
func lowerASCII(s string) (string, bool) {
	upper := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return "", false
		}
		upper = upper || ('A' <= c && c <= 'Z')
	}
	if !upper {
		return s, true
	}
	return strings.ToLower(s), true
}

func containsAny(s string, lits []string) bool {
	for _, l := range lits {
		if strings.Contains(s, l) {
			return true
		}
	}
	return false
}
