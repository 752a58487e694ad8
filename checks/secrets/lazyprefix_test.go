package secrets

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/escapegate/escapegate/internal/testenv"
)

// sameMatches fails when a rule's lazy-prefix path finds other matches than its regex.
func sameMatches(t *testing.T, r *rule, text, what string) bool {
	t.Helper()
	want := r.re.FindAllIndex([]byte(text), -1)
	got := r.lazy.get().findAll([]byte(text), nil)
	if len(want) == 0 && len(got) == 0 {
		return true
	}
	if !slices.EqualFunc(want, got, slices.Equal[[]int]) {
		t.Errorf("%s on %s %q: regex finds %v, lazy-prefix path %v", r.id, what, text, want, got)
		return false
	}
	// The groups, found as the engine finds them on each match alone (runRule), are
	// the core's too (all but group 0, the whole match, which the engine does not use).
	lp := r.lazy.get()
	for _, m := range want {
		match := []byte(text[m[0]:m[1]])
		if w, g := r.re.FindSubmatchIndex(match), r.groups(lp, match); len(w) != len(g) || !slices.Equal(w[2:], g[2:]) {
			t.Errorf("%s on %s: groups of match %q: regex %v, lazy-prefix core %v", r.id, what, match, w, g)
			return false
		}
	}
	return true
}

// rulesWhere returns the rules of a default engine for which keep is true; it fails
// the test (with fewFmt, given the count) when there are fewer than least.
func rulesWhere(t *testing.T, keep func(r *rule) bool, least int, fewFmt string) []*rule {
	t.Helper()
	e := mustEngine(t, Options{})
	var rs []*rule
	for i := range e.rules {
		if keep(&e.rules[i]) {
			rs = append(rs, &e.rules[i])
		}
	}
	if len(rs) < least {
		t.Fatalf(fewFmt, len(rs))
	}
	return rs
}

// samplesIfPresent reads gitleaks' rule samples from the shared directory, or
// returns why it cannot find them (a test then goes on without them).
func samplesIfPresent(t *testing.T) ([]gitleaksSample, error) {
	t.Helper()
	p := filepath.Join(testenv.SharedDir(), "corpus/secrets/gitleaks-samples.jsonl")
	if _, err := os.Stat(p); err != nil {
		return nil, err
	}
	return readJSONL[gitleaksSample](t, p), nil
}

// TestLazyStartSameMatches checks that every rule run without its lazy prefix finds
// exactly the matches of its full regex: on every gitleaks sample (alone, after text
// that runs into the prefix, and several samples on one line) and on random text
// built from the rule's keywords, value characters and separators.
func TestLazyStartSameMatches(t *testing.T) {
	rs := rulesWhere(t, func(r *rule) bool { return r.lazy.get() != nil }, 90,
		"only %d rules run without their lazy prefix; gitleaks has about 100 such rules")
	rng := rand.New(rand.NewPCG(3, 11))
	if samples, err := samplesIfPresent(t); err == nil {
		lower := make([]string, len(samples))
		for i, s := range samples {
			lower[i] = strings.ToLower(s.Text)
		}
		sweep := sweepSamples(samples)
		for _, r := range rs {
			errs, others := 0, 0
			for _, i := range sweep {
				s := samples[i]
				// Samples without any of the rule's keywords (all its patterns need
				// one) are matched by neither; every 64th is checked all the same.
				if i%64 != 0 && !slices.ContainsFunc(r.keywords, func(k string) bool { return strings.Contains(lower[i], k) }) {
					continue
				}
				// The default run's sample: the rule's own samples and every 16th other.
				if s.RuleID != r.id {
					if others++; !everyNth(others, 16) {
						continue
					}
				}
				other := samples[(i*7+1)%len(samples)].Text
				for _, text := range []string{
					s.Text + "\n",
					"abc_DEF-" + s.Text + " ",
					strings.Repeat("x.", 30) + s.Text,
					s.Text + " " + other + "\n" + s.Text,
					"ſK" + s.Text + "\xff" + s.Text,
				} {
					if !sameMatches(t, r, text, "sample of "+s.RuleID) {
						errs++
					}
				}
				if errs > 5 {
					break
				}
			}
		}
	} else {
		t.Logf("no gitleaks samples (%v): random text only", err)
	}
	noteSample(t)
	for _, r := range rs {
		for i := range sweepSize(400, 40) {
			if !sameMatches(t, r, randomLine(rng, r.keywords, 20+i%180), "random text") {
				break
			}
		}
	}
}

// randomLine mixes a rule's keywords with the characters its patterns care about.
func randomLine(rng *rand.Rand, keywords []string, n int) string {
	pieces := []string{
		"=", ":", ":=", "=>", "||", "?=", ",", " ", "\t", "\n", "'", `"`, "`", ";", `\n`, `\r`,
		".", "-", "_", "/", "+", "==", "x", "A", "0", "9", "f", "Z", "ſ", "K", "é", "\xff", "\xc5",
		"key", "API", "token", "Secret", "ey", "_", "abcdefghij", "0123456789abcdef", "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345",
	}
	var b strings.Builder
	for b.Len() < n {
		switch k := rng.IntN(10); {
		case k < 2 && len(keywords) > 0:
			kw := keywords[rng.IntN(len(keywords))]
			if rng.IntN(2) == 0 {
				kw = strings.ToUpper(kw)
			}
			b.WriteString(kw)
		case k < 4:
			// A run of value characters, as long as secrets are.
			const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
			for range 8 + rng.IntN(60) {
				b.WriteByte(alnum[rng.IntN(len(alnum))])
			}
		default:
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
	}
	return b.String()
}

func TestSplitLazyStart(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		split   bool
	}{
		{`(?i)[\w.-]{0,50}?(?:key|token)[ =]+([a-z0-9]{20})`, true},
		{`(?m)(?i)[\w.-]{0,50}?(?:key)=([a-z]{4})(?:\s|$)`, true},
		{`[\w.-]{0,50}(?:key)=x`, false},        // greedy prefix
		{`[\w.-]{1,50}?(?:key)=x`, false},       // the prefix must be optional
		{`[\w.-]{0,50}?\bkey=x`, false},         // an assertion after the prefix
		{`(?i)[\w.-]{0,50}?(?:key)?`, false},    // the rest can match empty
		{`[^a]{0,50}?(?:key)=x`, false},         // the class holds U+FFFD
		{`(?:[\w.-]{0,50}?key=x|other)`, false}, // not a prefix of the whole pattern
		{`(?i)[\w.-]{0,50}?(?:key)=x|other`, false},
	} {
		if got := splitLazyPrefix(tc.pattern) != nil; got != tc.split {
			t.Errorf("splitLazyPrefix(%q) split = %v, want %v", tc.pattern, got, tc.split)
		}
	}
}
