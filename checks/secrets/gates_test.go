package secrets

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/escapegate/escapegate/internal/testenv"
)

// TestGatesAreNecessary checks on every gitleaks sample that a gated rule's pattern
// never matches where its gate does not: a gate may only skip work, never findings.
func TestGatesAreNecessary(t *testing.T) {
	samples := readJSONL[gitleaksSample](t, testenv.Shared(t, "corpus/secrets/gitleaks-samples.jsonl"))
	e := mustEngine(t, Options{})
	sweep := sweepSamples(samples)
	noteSample(t)
	checked := 0
	for i := range e.rules {
		r := &e.rules[i]
		if r.gate == nil && r.postGate == nil {
			continue
		}
		for _, i := range sweep {
			s := samples[i]
			text := s.Text + "\n"
			if !r.re.MatchString(text) {
				continue
			}
			checked++
			if r.gate != nil && !r.gate.MatchString(text) {
				t.Errorf("%s matches sample of %s but its gate does not", r.id, s.RuleID)
			}
			if r.postGate != nil && !postGateAnywhere(r, text) {
				t.Errorf("%s matches sample of %s but no keyword hit passes its post gate", r.id, s.RuleID)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no sample matched a gated rule")
	}
}

func postGateAnywhere(r *rule, text string) bool {
	lower := strings.ToLower(text)
	for _, k := range r.keywords {
		for off := 0; ; {
			i := strings.Index(lower[off:], k)
			if i < 0 {
				break
			}
			end := off + i + len(k)
			if r.postGate.MatchString(text[end:min(len(text), end+postGateSpan)]) {
				return true
			}
			off += i + 1
		}
	}
	return false
}

// TestPostGatesHoldOnLongerText checks what onKeyword relies on to try a post gate
// once for most keyword hits: a match on the rest of a line (which ends in its
// newline) is also a match on that text followed by the next lines. No gate may
// depend on the end of the text right after a newline.
func TestPostGatesHoldOnLongerText(t *testing.T) {
	e := mustEngine(t, Options{})
	const alphabet = "aZ09_.-=+/:;,>|?'\"` \t\\nr()\n"
	rng := rand.New(rand.NewPCG(7, 13))
	prefixes := []string{"", " = ", "_KEY = \"", "=", ": '", ":= `", "\\\"", " => "}
	gated, checked := 0, 0
	for i := range e.rules {
		pg := e.rules[i].postGate
		if pg == nil {
			continue
		}
		gated++
		for range 20000 {
			var b strings.Builder
			b.WriteString(prefixes[rng.IntN(len(prefixes))])
			for n := rng.IntN(40); n > 0; n-- {
				if rng.IntN(3) == 0 {
					b.WriteString("abcdef0123456789"[:1+rng.IntN(16)])
					continue
				}
				b.WriteByte(alphabet[rng.IntN(len(alphabet))])
			}
			text := b.String()
			for k := 1; k < len(text); k++ {
				if text[k-1] != '\n' || !pg.MatchString(text[:k]) {
					continue
				}
				checked++
				if !pg.MatchString(text) {
					t.Fatalf("%s: post gate matches %q but not %q", e.rules[i].id, text[:k], text)
				}
			}
		}
	}
	if gated == 0 || checked < 1000 {
		t.Fatalf("%d gated rules, %d line ends that pass a gate: too few to tell", gated, checked)
	}
}

// TestVaultRunGate: the byte gate after vault-service-token's keywords passes every
// text where the rule matches right after the keyword, ASCII or not, and fails short
// or broken runs.
func TestVaultRunGate(t *testing.T) {
	g := runPostGates["vault-service-token"]
	re := regexp.MustCompile(`\A(?:hvs\.[\w-]{90,120}|s\.(?i:[a-z0-9]{24}))`)
	for _, tc := range []struct {
		after string
		want  bool
	}{
		{"abcdefghijklmnopqrstuvwx", true},
		{"ABCDEFGHIJKLMNOPQRSTUVW", false},
		{"abcdefghijkl mnopqrstuvwx", false},
		{"ſ\u212aabcdefghijklmnopqrstu", true},
		{"abc_def-ghi_jkl-mno_pqr-stu", true},
	} {
		if got := g.MatchString(tc.after); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.after, got, tc.want)
		}
		if re.MatchString("s."+tc.after) && !g.MatchString(tc.after) {
			t.Errorf("%q: the rule matches after s. but the gate fails", tc.after)
		}
		if got := g.Match([]byte(tc.after)); got != g.MatchString(tc.after) {
			t.Errorf("%q: Match and MatchString disagree", tc.after)
		}
	}
	rng := rand.New(rand.NewPCG(2, 9))
	inRun, others := []rune("aZ09ſ\u212a"), []rune("_-. é")
	matched := 0
	for range 20000 {
		var b strings.Builder
		for n := 20 + rng.IntN(100); n > 0; n-- {
			if rng.IntN(40) == 0 {
				b.WriteRune(others[rng.IntN(len(others))])
				continue
			}
			b.WriteRune(inRun[rng.IntN(len(inRun))])
		}
		after := b.String()
		for _, kw := range []string{"s.", "hvs."} {
			if !re.MatchString(kw + after) {
				continue
			}
			matched++
			if !g.MatchString(after) {
				t.Fatalf("%q: the rule matches after %s but the gate fails", after, kw)
			}
		}
	}
	if matched < 1000 {
		t.Fatalf("only %d random texts matched: too few to tell", matched)
	}
}
