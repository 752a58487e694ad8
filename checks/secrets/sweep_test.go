package secrets

import (
	"os"
	"testing"
)

// The exhaustive sweeps (every gitleaks sample in every file shape, every rule against
// every sample, the big fresh tables, thousands of random lines) are single-goroutine
// CPU work that the race detector slows about fifteen times without finding anything.
// The default run (go test -race ./...) checks a small deterministic sample of each,
// so that a broken rule still fails quickly; ESCAPEGATE_FULL_SWEEPS=1 checks all of
// it (CI does, once, without -race).

// fullSweepsEnv names the environment variable that asks for the exhaustive sweeps.
const fullSweepsEnv = "ESCAPEGATE_FULL_SWEEPS"

// fullSweeps reports whether this run checks every item of every sweep.
func fullSweeps() bool { return os.Getenv(fullSweepsEnv) == "1" }

// sweepSize is full in a full sweep and sample otherwise.
func sweepSize(full, sample int) int {
	if fullSweeps() {
		return full
	}
	return sample
}

// everyNth reports whether item i of a sweep is checked: every item in a full sweep,
// every nth otherwise. Passing the sum of two indices rotates the sample over a table.
func everyNth(i, n int) bool { return fullSweeps() || i%n == 0 }

// noteSample says in the test's log that it checked a sample.
func noteSample(t testing.TB) {
	t.Helper()
	if !fullSweeps() {
		t.Logf("checked a sample of the sweep; %s=1 checks all of it", fullSweepsEnv)
	}
}

// sweepSamples returns the indices of the gitleaks samples a sweep checks: all of
// them in a full sweep, otherwise the first two of every rule and label (so every
// rule is checked on its own true and false positives) and every 50th.
func sweepSamples(samples []gitleaksSample) []int {
	var out []int
	seen := map[[2]string]int{}
	for i, s := range samples {
		k := [2]string{s.RuleID, s.Label}
		seen[k]++
		if fullSweeps() || seen[k] <= 2 || i%50 == 0 {
			out = append(out, i)
		}
	}
	return out
}
