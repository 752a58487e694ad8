package handlers_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/app/delivery"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/handlers"
	"github.com/escapegate/escapegate/internal/demo"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/internal/fakegithub/events"
)

// faultyPR sets up PR #1 adding an AWS key and an agent configuration (so the check reads
// contents at head and base as well as both policy files), and returns its files.
func (e *env) faultyPR() []fakegithub.PullFile {
	e.withTeamPolicy()
	e.h.GitHub.SetFile(e.repo.FullName, "", ".github/escapegate.yml", []byte("fail_on: high\n"))
	settings := `{"permissions": {"allow": ["Bash(*)"]}}`
	e.h.GitHub.SetFile(e.repo.FullName, sha("f1"), ".claude/settings.json", []byte(settings))
	return []fakegithub.PullFile{
		envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey()),
		{Filename: ".claude/settings.json", Status: "added", Additions: 1, Patch: addedPatch(settings)},
	}
}

// newSlowScanEnv is newEnv with every check run created in progress before the scan
// ends, as for a scan slower than gate.DefaultInProgressAfter: both check-run writes
// (create, complete) then meet the faults injected.
func newSlowScanEnv(t *testing.T) *env {
	t.Helper()
	e, _ := newEnvOpts(t, demo.Options{InProgressAfter: -1})
	return e
}

// headRuns returns escapegate's check runs on head.
func (e *env) headRuns(head string) []fakegithub.CheckRun {
	var out []fakegithub.CheckRun
	for _, r := range e.h.GitHub.CheckRuns(e.repo.FullName) {
		if r.HeadSHA == head && r.Name == "escapegate" {
			out = append(out, r)
		}
	}
	return out
}

// expectedRun is the run the check posts for faultyPR when GitHub has no fault.
func expectedRun(t *testing.T) fakegithub.CheckRun {
	t.Helper()
	e := newEnv(t)
	pr := e.openPR(1, "alice", "f1", e.faultyPR()...)
	runs := e.headRuns(pr.HeadSHA)
	if len(runs) != 1 || runs[0].Status != "completed" || runs[0].Conclusion != "failure" || len(runs[0].Annotations) < 2 {
		t.Fatalf("without faults: %+v", runs)
	}
	return runs[0]
}

// sameResult fails unless got is completed and says what want says, annotations once each.
func sameResult(t *testing.T, got, want fakegithub.CheckRun) {
	t.Helper()
	if got.Status != "completed" || got.Conclusion != want.Conclusion || got.Title != want.Title || got.Summary != want.Summary {
		t.Fatalf("run %s/%s %q, want completed/%s %q", got.Status, got.Conclusion, got.Title, want.Conclusion, want.Title)
	}
	if fmt.Sprint(got.Annotations) != fmt.Sprint(want.Annotations) {
		t.Fatalf("annotations %+v, want %+v", got.Annotations, want.Annotations)
	}
}

// TestCheckSurvivesGitHubFaults: the fake GitHub answers 500, 502 and secondary-rate-limit
// 403s with Retry-After on every endpoint the check uses (both policy reads, the files
// listing, contents at head and base, check-run create and update, and the look-up of the
// run after a failed create): the check run still completes, once, with the conclusion it
// has without faults, within one delivery.
func TestCheckSurvivesGitHubFaults(t *testing.T) {
	want := expectedRun(t)
	for _, created := range []bool{false, true} {
		t.Run(fmt.Sprintf("the failed create created the run=%v", created), func(t *testing.T) {
			e := newSlowScanEnv(t)
			files := e.faultyPR()
			gets := []string{"/repos/acme/.github/contents/", "/repos/acme/app/contents/", "/repos/acme/app/pulls/1/files", "/repos/acme/app/commits/"}
			for _, path := range gets {
				for _, k := range []fakegithub.FaultKind{fakegithub.ServerError, fakegithub.BadGateway, fakegithub.SecondaryRateLimitForbidden} {
					e.h.GitHub.InjectFault(fakegithub.Fault{Method: "GET", Path: path, Kind: k, Wait: time.Second})
				}
			}
			for _, k := range []fakegithub.FaultKind{fakegithub.ServerError, fakegithub.BadGateway, fakegithub.SecondaryRateLimitForbidden} {
				e.h.GitHub.InjectFault(fakegithub.Fault{Method: "PATCH", Path: "/repos/acme/app/check-runs/", Kind: k, Wait: time.Second})
			}
			// A POST is retried by the transport only when GitHub refused it; a 502 goes to the
			// gate, which looks for the run before creating another.
			e.h.GitHub.InjectFault(fakegithub.Fault{Method: "POST", Path: "/repos/acme/app/check-runs", Kind: fakegithub.SecondaryRateLimitForbidden, Wait: time.Second})
			e.h.GitHub.InjectFault(fakegithub.Fault{Method: "POST", Path: "/repos/acme/app/check-runs", Kind: fakegithub.BadGateway, Apply: created})
			pending := e.h.GitHub.PendingFaults()

			pr := e.openPR(1, "alice", "f1", files...)
			runs := e.headRuns(pr.HeadSHA)
			if len(runs) != 1 {
				t.Fatalf("%d check runs on the head, want 1: %+v", len(runs), runs)
			}
			sameResult(t, runs[0], want)
			if n := e.h.GitHub.PendingFaults(); n != 0 {
				t.Errorf("%d of %d faults never met: the check did not use every endpoint faulted", n, pending)
			}
			waits := e.waits.all()
			var total time.Duration
			var honoured int
			for _, w := range waits {
				if w <= 0 || w > 10*time.Second {
					t.Errorf("wait %s", w)
				}
				if w == time.Second {
					honoured++
				}
				total += w
			}
			// Every fault on a GET or PATCH, and the POST's 403, is retried after one wait (a
			// backoff, or the 1 s Retry-After asked for); the POST's 502 goes to the gate,
			// which looks the run up rather than waiting.
			if wantWaits := pending - 1; len(waits) != wantWaits {
				t.Errorf("%d waits (%v), want %d", len(waits), waits, wantWaits)
			}
			if want403 := len(gets) + 2; honoured < want403 {
				t.Errorf("Retry-After: 1 honoured %d times, want %d: %v", honoured, want403, waits)
			}
			t.Logf("%d faults, %d retry waits asked for (%s in all, not slept)", pending, len(waits), total)
		})
	}
}

// TestRetriedDeliveryCompletesTheRunLeftInProgress: GitHub refused every completion of the
// check, so the delivery failed with its run in progress. Handled again as the inbox's
// second attempt (same delivery id, delivery.WithAttempt 2), it completes that run and
// creates no other; a third attempt changes nothing.
func TestRetriedDeliveryCompletesTheRunLeftInProgress(t *testing.T) {
	want := expectedRun(t)
	e := newSlowScanEnv(t)
	files := e.faultyPR()
	pr := events.PR{Number: 1, Title: "change 1", Author: "alice", HeadSHA: sha("f1"), HeadRef: "feature/1", BaseSHA: sha("base"), BaseRef: "main"}
	e.h.GitHub.AddPull(e.repo.FullName, fakegithub.Pull{Number: 1, Title: pr.Title, Author: "alice", HeadSHA: pr.HeadSHA, HeadRef: pr.HeadRef, BaseSHA: pr.BaseSHA, BaseRef: "main", Files: files})
	payload := events.PullRequest(e.inst, e.repo, "opened", pr, "alice")
	e.h.GitHub.InjectFault(fakegithub.Fault{Method: "PATCH", Path: "/repos/acme/app/check-runs/", Kind: fakegithub.BadGateway, Times: 1 + gh.DefaultRetryPolicy().MaxRetries})
	if status, err := e.h.SendDelivery(e.ctx, "pull_request", "d-in-progress", payload); err != nil || status/100 != 2 {
		t.Fatalf("delivery: %d %v", status, err)
	}
	runs := e.headRuns(pr.HeadSHA)
	if len(runs) != 1 {
		t.Fatalf("after the failed attempt: %+v", runs)
	}
	if runs[0].Status != "in_progress" {
		// A server with a durable inbox has retried the delivery already (and so met
		// the run in progress itself); the attempts below must then change nothing.
		t.Logf("the failed attempt's run is %s already", runs[0].Status)
	}
	e.h.GitHub.ClearFaults()

	var handler func(attempt int) error
	for _, x := range handlers.All(handlers.Deps{Gate: e.h.Server.Gate(), Store: e.h.Store, Log: zerolog.Nop()}) {
		for _, ev := range x.Handles() {
			if ev == "pull_request" {
				x := x
				handler = func(attempt int) error {
					return x.Handle(delivery.WithAttempt(e.ctx, attempt), "pull_request", "d-in-progress", payload)
				}
			}
		}
	}
	if err := handler(2); err != nil {
		t.Fatalf("second attempt: %v", err)
	}
	runs = e.headRuns(pr.HeadSHA)
	if len(runs) != 1 {
		t.Fatalf("%d check runs on the head after the retry, want 1: %+v", len(runs), runs)
	}
	sameResult(t, runs[0], want)

	// The inbox may run it once more (its record of success lost): nothing is posted again.
	if err := e.h.Store.ForgetDelivery(e.ctx, "d-in-progress"); err != nil {
		t.Fatal(err)
	}
	e.h.GitHub.ResetRequests()
	if err := handler(3); err != nil {
		t.Fatalf("third attempt: %v", err)
	}
	runs = e.headRuns(pr.HeadSHA)
	if len(runs) != 1 {
		t.Fatalf("%d check runs after a third attempt", len(runs))
	}
	sameResult(t, runs[0], want)
	for _, r := range e.h.GitHub.Requests() {
		if strings.Contains(r.Path, "/check-runs") && r.Method != "GET" {
			t.Errorf("the third attempt wrote %s %s", r.Method, r.Path)
		}
	}
}
