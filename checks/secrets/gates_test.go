package secrets

import (
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
