package summary_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/escaperate/escaperatetest"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/summary"
	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/memstore"
)

// fakeGitHub keeps issues per repository. Methods the summary does not use are
// left to the embedded nil interface: calling one fails the test loudly.
type fakeGitHub struct {
	gh.Client
	mu        sync.Mutex
	issues    map[string][]gh.Issue
	creates   int
	finds     int
	createErr error
	delay     time.Duration // widens the race window of concurrent runners
}

func newFake() *fakeGitHub { return &fakeGitHub{issues: map[string][]gh.Issue{}} }

func (f *fakeGitHub) CreateIssue(_ context.Context, r gh.Repo, title, body string, _ ...string) (gh.Issue, error) {
	time.Sleep(f.delay)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.creates++
	if f.createErr != nil {
		return gh.Issue{}, f.createErr
	}
	is := gh.Issue{Number: len(f.issues[r.String()]) + 1, Title: title, State: "open", Author: "escapegate[bot]", Mine: true}
	f.issues[r.String()] = append(f.issues[r.String()], is)
	return is, nil
}

// FindIssueSince takes every issue as created since since: the fake keeps no times.
func (f *fakeGitHub) FindIssueSince(_ context.Context, r gh.Repo, title string, _ time.Time) (gh.Issue, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.finds++
	for _, is := range f.issues[r.String()] {
		if is.Title == title && is.Mine {
			return is, true, nil
		}
	}
	return gh.Issue{}, false, nil
}

func (f *fakeGitHub) count(r gh.Repo) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.issues[r.String()])
}

var (
	repo  = gh.Repo{Owner: "acme", Name: "security"}
	inst  = store.Installation{ID: 7, Account: "acme", CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	month = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	t0    = time.Date(2026, 12, 1, 0, 5, 0, 0, time.UTC)
)

func seeded(t *testing.T) *memstore.Store {
	t.Helper()
	st := memstore.New()
	err := escaperatetest.SeedOrg(context.Background(), st, escaperatetest.OrgShape{InstallationID: inst.ID, Account: inst.Account,
		Repos: 5, CaughtPerRepo: 40, EscapeEvery: 9, MissedPerRepo: 1, Span: 300 * 24 * time.Hour, End: t0})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func at(t time.Time) func() time.Time { return func() time.Time { return t } }

func TestRunTwiceCreatesOneIssue(t *testing.T) {
	ctx := context.Background()
	st, c := seeded(t), newFake()
	r := summary.Runner{Now: at(t0)}
	first, err := r.Run(ctx, st, c, inst, repo, month.AddDate(0, 0, 14), false)
	if err != nil {
		t.Fatal(err)
	}
	if first.Status != summary.StatusCreated || first.Title != "escapegate summary — acme — 2026-11" || first.Issue.Number != 1 {
		t.Fatalf("first run: %+v", first)
	}
	if !strings.Contains(first.Body, "critical risks reached production in November 2026") {
		t.Errorf("body does not state the month's rate:\n%s", first.Body)
	}
	second, err := r.Run(ctx, st, c, inst, repo, month, false)
	if err != nil {
		t.Fatal(err)
	}
	if second.Status != summary.StatusExists || second.Issue.Number != 1 {
		t.Errorf("second run: %+v", second)
	}
	if c.count(repo) != 1 || c.creates != 1 {
		t.Errorf("%d issues after %d creates, want 1", c.count(repo), c.creates)
	}
}

func TestConcurrentRunnersCreateOneIssue(t *testing.T) {
	ctx := context.Background()
	st, c := seeded(t), newFake()
	c.delay = 5 * time.Millisecond
	const runners = 8
	var wg sync.WaitGroup
	outs := make([]summary.Outcome, runners)
	errs := make([]error, runners)
	for i := range runners {
		wg.Go(func() {
			outs[i], errs[i] = summary.Runner{Now: at(t0)}.Run(ctx, st, c, inst, repo, month, false)
		})
	}
	wg.Wait()
	created := 0
	for i := range runners {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		switch outs[i].Status {
		case summary.StatusCreated:
			created++
		case summary.StatusExists, summary.StatusInProgress:
		default:
			t.Errorf("runner %d: status %s", i, outs[i].Status)
		}
	}
	if created != 1 || c.count(repo) != 1 {
		t.Errorf("%d runners created, %d issues; want exactly 1", created, c.count(repo))
	}
}

// putClaim simulates what a runner that crashed left behind.
func putClaim(t *testing.T, st store.Store, state string, at time.Time) {
	t.Helper()
	v, _ := json.Marshal(map[string]any{"state": state, "owner": "dead-replica", "at": at, "attempt": 1})
	if err := st.PutSetting(context.Background(), summary.Key(inst.ID, month), v); err != nil {
		t.Fatal(err)
	}
}

func TestRecoveryAfterCrash(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name         string
		issueExisted bool // the crashed runner got as far as creating the issue
		after        time.Duration
		want         summary.Status
		wantIssues   int
		wantCreates  int
	}{
		{"fresh claim is left to its owner", false, time.Minute, summary.StatusInProgress, 0, 0},
		{"stale claim, no issue: retried", false, 11 * time.Minute, summary.StatusCreated, 1, 1},
		{"stale claim, issue created before the crash: found, not duplicated", true, 11 * time.Minute, summary.StatusExists, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, c := seeded(t), newFake()
			putClaim(t, st, "creating", t0)
			if tt.issueExisted {
				c.issues[repo.String()] = []gh.Issue{{Number: 1, Title: "escapegate summary — acme — 2026-11", Author: "escapegate[bot]", Mine: true}}
			}
			out, err := summary.Runner{Now: at(t0.Add(tt.after))}.Run(ctx, st, c, inst, repo, month, false)
			if err != nil {
				t.Fatal(err)
			}
			if out.Status != tt.want || c.count(repo) != tt.wantIssues || c.creates != tt.wantCreates {
				t.Errorf("status %s, %d issues, %d creates; want %s, %d, %d", out.Status, c.count(repo), c.creates, tt.want, tt.wantIssues, tt.wantCreates)
			}
			if tt.want == summary.StatusInProgress {
				return
			}
			// Recorded as done: a later run makes no GitHub call at all.
			finds := c.finds
			again, err := summary.Runner{Now: at(t0.Add(time.Hour))}.Run(ctx, st, c, inst, repo, month, false)
			if err != nil || again.Status != summary.StatusExists || c.finds != finds || again.Issue.Number != 1 {
				t.Errorf("after recovery: %+v, %v, %d finds", again, err, c.finds-finds)
			}
		})
	}
}

func TestConcurrentTakeoverOfStaleClaim(t *testing.T) {
	ctx := context.Background()
	st, c := seeded(t), newFake()
	c.delay = 5 * time.Millisecond
	putClaim(t, st, "creating", t0)
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			if _, err := (summary.Runner{Now: at(t0.Add(time.Hour))}).Run(ctx, st, c, inst, repo, month, false); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if c.count(repo) != 1 {
		t.Errorf("%d issues after a concurrent takeover, want 1", c.count(repo))
	}
}

func TestCreateFailureReleasesClaim(t *testing.T) {
	ctx := context.Background()
	st, c := seeded(t), newFake()
	c.createErr = errors.New("github: 502")
	r := summary.Runner{Now: at(t0)}
	if _, err := r.Run(ctx, st, c, inst, repo, month, false); err == nil || !strings.Contains(err.Error(), "502") {
		t.Fatalf("err = %v, want the create error", err)
	}
	c.createErr = nil
	out, err := r.Run(ctx, st, c, inst, repo, month, false) // no need to wait for staleness
	if err != nil || out.Status != summary.StatusCreated || c.count(repo) != 1 {
		t.Errorf("retry: %+v, %v, %d issues", out, err, c.count(repo))
	}
}

// An issue that someone else opened with the summary's exact title does not stop the
// summary: escapegate posts its own, and its next run finds that one.
func TestIssueMadeByHandDoesNotStopTheSummary(t *testing.T) {
	st, c := seeded(t), newFake()
	c.issues[repo.String()] = []gh.Issue{{Number: 42, Title: "escapegate summary — acme — 2026-11", Author: "mallory"}}
	out, err := summary.Runner{Now: at(t0)}.Run(context.Background(), st, c, inst, repo, month, false)
	if err != nil || out.Status != summary.StatusCreated || out.Issue.Number == 42 || c.creates != 1 || c.count(repo) != 2 {
		t.Errorf("%+v, %v, %d creates, %d issues", out, err, c.creates, c.count(repo))
	}
}

func TestDryRun(t *testing.T) {
	ctx := context.Background()
	st, c := seeded(t), newFake()
	out, err := summary.Runner{Now: at(t0)}.Run(ctx, st, c, inst, repo, month, true)
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != summary.StatusDryRun || out.Body == "" || c.finds+c.creates != 0 {
		t.Errorf("dry run: status %s, %d GitHub calls", out.Status, c.finds+c.creates)
	}
	if _, err := st.GetSetting(ctx, summary.Key(inst.ID, month)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("dry run left a claim: %v", err)
	}
}

func TestDue(t *testing.T) {
	tests := []struct {
		now  time.Time
		want time.Time
		ok   bool
	}{
		{time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), true},
		{time.Date(2026, 11, 30, 23, 59, 59, 0, time.UTC), time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), true},
		{time.Date(2027, 1, 15, 8, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), true},
		// 23:30 on Nov 30 in New York is Dec 1 in UTC: the server clock is UTC.
		{time.Date(2026, 11, 30, 23, 30, 0, 0, time.FixedZone("EST", -5*3600)), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), true},
		{time.Time{}, time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := summary.Due(tt.now)
		if !got.Equal(tt.want) || ok != tt.ok {
			t.Errorf("Due(%v) = %v, %v; want %v, %v", tt.now, got, ok, tt.want, tt.ok)
		}
	}
}
