package secrets

import (
	"regexp"
	"testing"

	"github.com/zricethezav/gitleaks/v8/config"
)

// TestLazyRulesCompile compiles every rule's regex as its first candidate would, and
// checks it is gitleaks' pattern with (?m) and what gitleaks' loader checked before
// the built-in patterns were kept from it: the secret group exists. Then the patterns
// are those gitleaks' own load of its defaults holds.
func TestLazyRulesCompile(t *testing.T) {
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i := range e.rules {
		r := &e.rules[i]
		if r.re == nil {
			continue
		}
		want := regexp.MustCompile(r.re.String())
		if got := r.re.get(); got.String() != want.String() || got.String()[:4] != "(?m)" {
			t.Fatalf("%s: compiled %q, want %q", r.id, got, want)
		}
		if r.secretGroup > r.re.NumSubexp() {
			t.Fatalf("%s: secretGroup %d of %d groups", r.id, r.secretGroup, r.re.NumSubexp())
		}
		if w := r.re.window(); w != windowOf(r.id, r.re.String(), r.keywords) || w < 0 {
			t.Fatalf("%s: window %d", r.id, w)
		}
		n++
	}
	if n < 250 {
		t.Fatalf("only %d rules with a regex", n)
	}
	c, _, err := loadConfig([]byte(config.DefaultConfig), false)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*rule{}
	for i := range e.rules {
		byID[e.rules[i].id] = &e.rules[i]
	}
	for id, gr := range c.Rules {
		r := byID[id]
		if gr.SkipReport {
			continue
		}
		if r == nil {
			t.Fatalf("gitleaks rule %s missing", id)
		}
		if (gr.Regex == nil) != (r.re == nil) || gr.Regex != nil && "(?m)"+gr.Regex.String() != r.re.String() {
			t.Fatalf("%s: pattern %v, gitleaks loads %v", id, r.re, gr.Regex)
		}
	}
}
