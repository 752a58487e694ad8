package secrets

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestLiteralPreCheckIsNecessary checks that a rule's literal pre-check passes
// wherever its regex matches: every gitleaks sample (alone and with text around it)
// and random text built from the rule's keywords and literals.
func TestLiteralPreCheckIsNecessary(t *testing.T) {
	rs := rulesWhere(t, func(r *rule) bool { return r.lits.get() != nil }, 100, "only %d rules have a literal pre-check")
	check := func(r *rule, text, what string) {
		if r.re.MatchString(text) && !r.lits.mayMatch([]byte(text)) {
			t.Errorf("%s matches %s %q but its pre-check (%q and %q) fails", r.id, what, text, r.lits.get(), r.lits.also)
		}
	}
	matched := 0
	if samples, err := samplesIfPresent(t); err == nil {
		others := make([]int, len(rs))
		for _, i := range sweepSamples(samples) {
			s := samples[i]
			lower := strings.ToLower(s.Text)
			for ri, r := range rs {
				// The regex runs only where a keyword is (and on every 64th sample).
				if i%64 != 0 && len(r.keywords) > 0 && !slices.ContainsFunc(r.keywords, func(k string) bool { return strings.Contains(lower, k) }) {
					continue
				}
				// The default run's sample: the rule's own samples and every 16th other.
				if s.RuleID != r.id {
					if others[ri]++; !everyNth(others[ri], 16) {
						continue
					}
				}
				if r.re.MatchString(s.Text) {
					matched++
				}
				check(r, s.Text+"\n", "sample of "+s.RuleID)
				check(r, "x = '"+s.Text+"'\n", "sample of "+s.RuleID)
			}
		}
		if matched == 0 {
			t.Fatal("no sample matched a rule with a pre-check")
		}
	}
	rng := rand.New(rand.NewPCG(9, 2))
	noteSample(t)
	for _, r := range rs {
		words := append(append([]string(nil), r.keywords...), r.lits.get()...)
		for _, set := range r.lits.also {
			words = append(words, set...)
		}
		for i := range sweepSize(200, 20) {
			check(r, randomLine(rng, words, 20+i%120), "random text")
		}
	}
}

func TestMayMatch(t *testing.T) {
	lits := []string{".ey", "s."}
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"abc.eyJ", true},
		{"abc.EYJ", true},
		{"vault S.x", true},
		{"nothing here", false},
		{"ſ", true}, // non-ASCII: not judged
		{"", false},
	} {
		if got := mayMatch([]byte(tc.text), lits); got != tc.want {
			t.Errorf("mayMatch(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
	if !mayMatch([]byte("x"), nil) {
		t.Error("no literals must always pass")
	}
}
