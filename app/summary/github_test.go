package summary_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/summary"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/store"
)

// failDone is a store that, while dead, fails every write of a summary claim but a
// new one: the process died after GitHub created the issue, before the store recorded
// it (nor could it release its claim).
type failDone struct {
	store.Store
	dead atomic.Bool
}

func (s *failDone) PutSetting(ctx context.Context, key string, v []byte) error {
	if s.dead.Load() && strings.HasPrefix(key, "summary/") && !strings.Contains(string(v), `"state":"creating"`) {
		return errors.New("store: connection lost")
	}
	return s.Store.PutSetting(ctx, key, v)
}

// realGitHub is the fake GitHub server behind escapegate's real client, with search
// never finding a new issue (GitHub's index lags behind its writes).
func realGitHub(t *testing.T) (*fakegithub.Server, gh.Client) {
	t.Helper()
	f := fakegithub.New()
	t.Cleanup(f.Close)
	f.AddRepo(repo.String(), "main")
	f.SetIssueClock(at(t0))
	f.SetSearchLag(-1)
	return f, gh.New(f.GitHubClient(), gh.WithAppID(f.App().ID), gh.WithSleep(func(context.Context, time.Duration) error { return nil }))
}

// TestCrashAfterCreateOverGitHub: a runner dies after creating the issue, before it
// records it; the runner that takes the stale claim over finds that issue through the
// issues list (search does not have it yet) and opens no second one. Two runners
// taking over at once open none either.
func TestCrashAfterCreateOverGitHub(t *testing.T) {
	ctx := context.Background()
	for _, runners := range []int{1, 2} {
		f, c := realGitHub(t)
		st := &failDone{Store: seeded(t)}
		st.dead.Store(true)
		if _, err := (summary.Runner{Now: at(t0)}).Run(ctx, st, c, inst, repo, month, false); err == nil {
			t.Fatal("the crashed run reported no error")
		}
		st.dead.Store(false) // restarted
		if out, err := (summary.Runner{Now: at(t0.Add(time.Minute))}).Run(ctx, st, c, inst, repo, month, false); err != nil || out.Status != summary.StatusInProgress {
			t.Fatalf("right after the restart: %s, %v; want the dead runner's fresh claim left alone", out.Status, err)
		}
		var wg sync.WaitGroup
		outs := make([]summary.Outcome, runners)
		errs := make([]error, runners)
		for i := range runners {
			wg.Go(func() {
				outs[i], errs[i] = summary.Runner{Now: at(t0.Add(summary.DefaultStaleAfter + time.Minute))}.Run(ctx, st, c, inst, repo, month, false)
			})
		}
		wg.Wait()
		for i := range runners {
			if errs[i] != nil || outs[i].Status == summary.StatusCreated {
				t.Errorf("%d runners: runner %d after the crash: %s #%d, %v", runners, i, outs[i].Status, outs[i].Issue.Number, errs[i])
			}
		}
		if is := f.Issues(repo.String()); len(is) != 1 {
			t.Fatalf("%d runners: %d issues after a crash and a takeover, want 1", runners, len(is))
		}
		again, err := summary.Runner{Now: at(t0.Add(time.Hour))}.Run(ctx, st, c, inst, repo, month, false)
		if err != nil || again.Status != summary.StatusExists || again.Issue.Number != 1 {
			t.Errorf("%d runners: later run %s #%d, %v", runners, again.Status, again.Issue.Number, err)
		}
	}
}

// TestCreateAnswerLostOverGitHub: GitHub creates the issue but its answer is lost (a
// 502 after the write); the next run, at once, finds the issue instead of opening a second.
func TestCreateAnswerLostOverGitHub(t *testing.T) {
	ctx := context.Background()
	f, c := realGitHub(t)
	st := seeded(t)
	f.InjectFault(fakegithub.Fault{Method: "POST", Path: "/repos/" + repo.String() + "/issues", Kind: fakegithub.BadGateway, Apply: true})
	r := summary.Runner{Now: at(t0)}
	if _, err := r.Run(ctx, st, c, inst, repo, month, false); err == nil {
		t.Fatal("a lost answer reported no error")
	}
	out, err := r.Run(ctx, st, c, inst, repo, month, false)
	if err != nil || out.Status != summary.StatusExists || out.Issue.Number != 1 {
		t.Errorf("retry: %s #%d, %v", out.Status, out.Issue.Number, err)
	}
	if is := f.Issues(repo.String()); len(is) != 1 {
		t.Fatalf("%d issues, want 1", len(is))
	}
}
