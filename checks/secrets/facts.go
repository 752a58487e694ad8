package secrets

import "strings"

// patternFacts are what the engine works out from a rule pattern's syntax before its
// regex first runs: the literal pre-check (litCheck), the line window (windowOf) and
// the lazy prefix form (splitLazyPrefix). For the built-in rules they are worked out
// ahead, into builtinFacts (facts_builtin.go, written by `go test -run
// TestBuiltinFacts -update-facts`): every scan process would otherwise redo it for each
// rule it meets, about a tenth of a scan of a 12 MB diff. TestBuiltinFacts fails when
// the table and the live computation disagree, so a changed rule cannot go stale.
type patternFacts struct {
	lits   []string   // literalPreCheck; nil: none
	also   [][]string // requiredLiteralSets
	window int
	lazy   *lazyForm // nil: the pattern has no lazy prefix form
}

// lazyForm is a lazyPrefix before its core is compiled.
type lazyForm struct {
	core  string
	class []rune
	max   int
}

// factsKey names a rule's pattern as the facts depend on it.
type factsKey struct{ id, pattern, keywords string }

func keyOf(id, pattern string, keywords []string) factsKey {
	return factsKey{id, pattern, strings.Join(keywords, "\x00")}
}

// deriveFacts works the facts out (pattern with its (?m) prefix).
func deriveFacts(id, pattern string, keywords []string) patternFacts {
	f := patternFacts{lits: literalPreCheck(pattern), also: requiredLiteralSets(pattern), window: windowOf(id, pattern, keywords)}
	if mayHaveLazyPrefix(pattern) {
		if lp := splitLazyPrefix(pattern); lp != nil {
			f.lazy = &lazyForm{core: lp.core.String(), class: lp.class, max: lp.max}
		}
	}
	return f
}
