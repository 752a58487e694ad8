package agents

import (
	"flag"
	"os"
	"testing"
)

// The huge-input tests and the fuzz seed corpus are single-goroutine CPU work that
// the race detector slows many times without finding anything. The default run
// (go test -race ./...) checks a small deterministic sample of them, so that a broken
// detector still fails quickly; ESCAPEGATE_FULL_SWEEPS=1 checks all of it (CI does,
// once, without -race).

// fullSweepsEnv names the environment variable that asks for the exhaustive sweeps.
const fullSweepsEnv = "ESCAPEGATE_FULL_SWEEPS"

// fullSweeps reports whether this run checks every item of every sweep at full size.
func fullSweeps() bool { return os.Getenv(fullSweepsEnv) == "1" }

// sweepSize is full in a full sweep and sample otherwise.
func sweepSize(full, sample int) int {
	if fullSweeps() {
		return full
	}
	return sample
}

// everyNth reports whether item i of a sweep is checked: every item in a full sweep,
// every nth otherwise.
func everyNth(i, n int) bool { return fullSweeps() || i%n == 0 }

// fuzzing reports whether go test runs with -fuzz: the fuzzer then gets every seed.
func fuzzing() bool {
	f := flag.Lookup("test.fuzz")
	return f != nil && f.Value.String() != ""
}

// noteSample says in the test's log that it checked a sample.
func noteSample(t testing.TB) {
	t.Helper()
	if !fullSweeps() {
		t.Logf("checked a sample of the sweep; %s=1 checks all of it", fullSweepsEnv)
	}
}
