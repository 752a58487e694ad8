package secrets

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/zricethezav/gitleaks/v8/config"
)

// TestRegexSetAsGitleaks: for every allowlist of the engine, the regex set answers as
// gitleaks' RegexAllowed does, on texts built from the allowlists' own literals (so
// that most branches are reached), the engine's rule samples when present, and
// hand-picked cases (flags carried from one regex into the next, anchors, non-ASCII).
func TestRegexSetAsGitleaks(t *testing.T) {
	e := mustEngine(t, Options{})
	var als []*config.Allowlist
	seen := map[*config.Allowlist]bool{}
	add := func(l []*config.Allowlist) {
		for _, a := range l {
			if len(a.Regexes) > 0 && !seen[a] {
				seen[a] = true
				als = append(als, a)
			}
		}
	}
	for _, set := range e.globalSets {
		add(set)
	}
	for i := range e.rules {
		add(e.rules[i].allowlists)
	}
	if len(als) < 20 {
		t.Fatalf("%d allowlists with regexes; gitleaks' rules have more", len(als))
	}
	// Pieces: every literal a branch needs, and characters around them.
	pieces := []string{"=", "\n", "$", "{", "}", "{{", "}}", "%", "_", "-", ".", " ", "\t", "/", ":", "\"", "'",
		"K", "\u212a", "é", "true", "FALSE", "null", "1234", "abcdef", "AKIA", "xxxx", "${", "${{ secrets.X }}"}
	for _, a := range als {
		set := e.regexes[a]
		set.once.Do(set.build)
		for _, b := range set.branches {
			pieces = append(pieces, b.lits...)
			pieces = append(pieces, strings.ToUpper(strings.Join(b.lits, "")))
		}
	}
	texts := []string{"", "true", "TRUE", "false", "null", "$1", "${2}", "$HOME", "${HOME}", "{{ .Values.x }}", "%s", "%USERNAME%",
		"ab", "aaaa", "****", "....", "public_key", "keyVaultToStoreSecrets", "io.jsonwebtoken:jjwt", "FOO=\nBAR=\n", "foo=\nbar=", "Monkey", "mONKEY"}
	rng := rand.New(rand.NewPCG(5, 17))
	for range 6000 {
		var b strings.Builder
		for n := 1 + rng.IntN(6); n > 0; n-- {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		texts = append(texts, b.String())
	}
	if samples, err := samplesIfPresent(t); err == nil {
		for _, i := range sweepSamples(samples) {
			texts = append(texts, samples[i].Text)
		}
	}
	allowed := 0
	for _, a := range als {
		set := e.regexes[a]
		for _, text := range texts {
			want := a.RegexAllowed(text)
			if got := set.match(text); got != want {
				t.Fatalf("allowlist %q (%d regexes) on %q: set says %v, gitleaks %v", a.Description, len(a.Regexes), text, got, want)
			}
			if want {
				allowed++
			}
		}
	}
	if allowed < 1000 {
		t.Fatalf("only %d allowed answers: the texts reach too few branches", allowed)
	}
}

// TestRegexSetCarriesFlags: gitleaks joins an allowlist's regexes into one, so a
// leading (?i) of the first applies to the next ones too; the set answers the same.
func TestRegexSetCarriesFlags(t *testing.T) {
	a := &config.Allowlist{Regexes: []*regexp.Regexp{regexp.MustCompile(`(?i)^true$`), regexp.MustCompile(`^abc$`)}}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	set := newRegexSet(a.Regexes)
	for _, text := range []string{"TRUE", "ABC", "abc", "Abc", "x", "abcd"} {
		if got, want := set.match(text), a.RegexAllowed(text); got != want {
			t.Errorf("%q: set %v, gitleaks %v", text, got, want)
		}
	}
	if !set.match("ABC") { // builds the branches too
		t.Error("the first regex's (?i) did not carry into the second, as gitleaks' join makes it")
	}
	if len(set.branches) < 2 {
		t.Errorf("%d branches: the alternation was not split", len(set.branches))
	}
}
