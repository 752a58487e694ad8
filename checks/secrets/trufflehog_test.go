package secrets

import (
	"sort"
	"strings"
	"testing"

	"github.com/escapegate/escapegate/internal/testenv"
)

type trufflehogSample struct {
	Detector string `json:"detector"`
	Label    string `json:"label"`
	Text     string `json:"text"`
}

// connectionDetectors are trufflehog detectors for connection strings with passwords,
// the family of escapegate's own connection-string rules.
var connectionDetectors = map[string]bool{
	"postgres": true, "mongodb": true, "redis": true, "jdbc": true, "uri": true, "sqlserver": true,
	"mysql": true, "rabbitmq": true, "amqp": true, "ftp": true, "ldap": true,
}

// familyRules are the rules that cover a trufflehog detector: rules whose id (without
// dashes) starts with the detector's name, or the connection-string rules.
func familyRules(e *Engine, detector string) map[string]bool {
	out := map[string]bool{}
	d := strings.ToLower(detector)
	for _, r := range e.rules {
		id := strings.ReplaceAll(strings.TrimPrefix(r.id, "escapegate-"), "-", "")
		if len(d) >= 4 && strings.HasPrefix(id, d) {
			out[r.id] = true
		}
		if connectionDetectors[d] && (strings.HasPrefix(r.id, "escapegate-connection-string") || r.id == "escapegate-url-credentials") {
			out[r.id] = true
		}
	}
	return out
}

// TestTrufflehogRecall measures recall on trufflehog's valid patterns for the
// detectors whose family our rules cover (numbers in BENCHMARKS.md), and the share
// of its invalid patterns on which a rule of the family fires.
func TestTrufflehogRecall(t *testing.T) {
	samples := readJSONL[trufflehogSample](t, testenv.Shared(t, "corpus/secrets/trufflehog-samples.jsonl"))
	e := mustEngine(t, Options{})
	type tally struct{ tp, byFamily, byAny, fp, fpFired int }
	fam := map[string]*tally{}
	var total tally
	var missedDetectors []string
	var allTP, allTPFound, allFP, allFPFired int
	for _, s := range samples {
		rules := familyRules(e, s.Detector)
		if len(rules) == 0 {
			n := len(e.ScanFile(testFP, "org/repo", "config.yaml", linesOf(s.Text, 1), nil))
			if s.Label == "tp" {
				allTP++
				if n > 0 {
					allTPFound++
				}
			} else {
				allFP++
				if n > 0 {
					allFPFired++
				}
			}
			continue
		}
		tl := fam[s.Detector]
		if tl == nil {
			tl = &tally{}
			fam[s.Detector] = tl
		}
		fs := e.ScanFile(testFP, "org/repo", "config.yaml", linesOf(s.Text, 1), nil)
		inFamily := false
		for _, f := range fs {
			inFamily = inFamily || rules[f.Rule]
		}
		switch s.Label {
		case "tp":
			tl.tp++
			if inFamily {
				tl.byFamily++
			}
			if len(fs) > 0 {
				tl.byAny++
			} else {
				missedDetectors = append(missedDetectors, s.Detector)
			}
		case "fp":
			tl.fp++
			if inFamily {
				tl.fpFired++
			}
		}
	}
	for _, tl := range fam {
		total.tp += tl.tp
		total.byFamily += tl.byFamily
		total.byAny += tl.byAny
		total.fp += tl.fp
		total.fpFired += tl.fpFired
	}
	if total.tp == 0 {
		t.Fatal("no trufflehog sample falls in a covered family")
	}
	sort.Strings(missedDetectors)
	t.Logf("covered detectors: %d; tp: %d, found by the family's rule: %d (%.1f%%), by any rule: %d (%.1f%%); fp: %d, family rule fired: %d",
		len(fam), total.tp, total.byFamily, pct(total.byFamily, total.tp), total.byAny, pct(total.byAny, total.tp), total.fp, total.fpFired)
	t.Logf("detectors outside our families: tp found by some rule %d of %d (%.1f%%); fp with some finding %d of %d",
		allTPFound, allTP, pct(allTPFound, allTP), allFPFired, allFP)
	t.Logf("tp missed by every rule, by detector: %v", missedDetectors)
	// A floor just under the recall measured when this test was written (see
	// BENCHMARKS.md): a change that loses recall fails here.
	if r := pct(total.byAny, total.tp); r < trufflehogRecallFloor {
		t.Errorf("recall %.1f%% fell under %.1f%%", r, trufflehogRecallFloor)
	}
}

const trufflehogRecallFloor = 58.0

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}
