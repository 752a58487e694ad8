package handlers_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/gate"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/server"
	"github.com/escapegate/escapegate/internal/demo"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/bolt"
	"github.com/escapegate/escapegate/store/postgres"
	"github.com/escapegate/escapegate/store/postgres/pgtest"
)

// dyingStore fails the first write that records a fix-later issue on an exception
// (GitHub has created the issue). With die set the process is gone from then on: every
// later write of an exception or of a fix-later claim fails too, until revive.
type dyingStore struct {
	store.Store
	armed, die bool
	dead       atomic.Bool
}

var errStoreGone = errors.New("store: connection lost")

func (s *dyingStore) UpdateException(ctx context.Context, e store.Exception) error {
	if s.dead.Load() {
		return errStoreGone
	}
	if e.Issue != 0 && s.armed {
		s.armed = false
		s.dead.Store(s.die)
		return errStoreGone
	}
	return s.Store.UpdateException(ctx, e)
}

func (s *dyingStore) PutSetting(ctx context.Context, key string, v []byte) error {
	if s.dead.Load() && strings.HasPrefix(key, "fixlater/") {
		return errStoreGone
	}
	return s.Store.PutSetting(ctx, key, v)
}

func (s *dyingStore) DeleteSetting(ctx context.Context, key string) error {
	if s.dead.Load() && strings.HasPrefix(key, "fixlater/") {
		return errStoreGone
	}
	return s.Store.DeleteSetting(ctx, key)
}

func (s *dyingStore) revive() { s.dead.Store(false) }

func boltStore(t *testing.T) store.Store {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "escapegate.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// mergedFixLater sets up a "fix later" exception on PR 1 and merges it; GitHub's search
// never finds a new issue, as when its index lags behind.
func mergedFixLater(t *testing.T, clk *clock, st store.Store, beforeMerge func(e *env)) *env {
	t.Helper()
	e, _ := newEnvOpts(t, demo.Options{Now: clk.Now, Store: st})
	e.h.GitHub.SetSearchLag(-1)
	e.withTeamPolicy()
	e.h.GitHub.SetPermission(e.repo.FullName, "alice", "write")
	pr := e.openPR(1, "alice", "f1", envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey()))
	e.h.GitHub.AddLabel(e.repo.FullName, 1, "escapegate/fix-later")
	e.label(pr, overrideLabel, "sec-lead")
	if beforeMerge != nil {
		beforeMerge(e)
	}
	e.merge(pr, "sec-lead")
	e.h.GitHub.ClearFaults()
	return e
}

// oneIssue fails unless the repository has exactly one issue and the exception records it.
func (e *env) oneIssue(when string) {
	e.t.Helper()
	issues := e.h.GitHub.Issues(e.repo.FullName)
	if len(issues) != 1 {
		e.t.Fatalf("%s: %d fix-later issues, want 1", when, len(issues))
	}
	if exc := e.exceptions(1)[0]; exc.Issue != issues[0].Number {
		e.t.Fatalf("%s: exception records issue %d, GitHub has #%d", when, exc.Issue, issues[0].Number)
	}
}

// TestFixLaterIssueOnceAfterFailedRecord: at merge GitHub creates the issue but the
// store fails to record it; the periodic pass, at once, finds that issue (through the
// issues list: search does not have it yet) instead of opening a second.
func TestFixLaterIssueOnceAfterFailedRecord(t *testing.T) {
	clk := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	st := &dyingStore{Store: boltStore(t), armed: true}
	e := mergedFixLater(t, clk, st, nil)
	if n := len(e.h.GitHub.Issues(e.repo.FullName)); n != 1 {
		t.Fatalf("the merge opened %d issues, want 1", n)
	}
	clk.Advance(time.Minute)
	g := e.h.Server.Gate()
	opened, _, err := g.TrackFixLater(e.ctx)
	if err != nil || opened != 0 {
		t.Fatalf("pass after the failed record: opened %d, %v", opened, err)
	}
	e.oneIssue("after the failed record")
	if opened, _, err := g.TrackFixLater(e.ctx); err != nil || opened != 0 {
		t.Fatalf("a later pass opened %d (%v)", opened, err)
	}
}

// TestFixLaterIssueOnceAfterDeath: the process dies between GitHub creating the issue
// and the store recording it (nothing more reaches the store). A pass right after the
// restart leaves the dead attempt's fresh claim alone; once it is stale a pass takes it
// over and finds the issue.
func TestFixLaterIssueOnceAfterDeath(t *testing.T) {
	clk := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	st := &dyingStore{Store: boltStore(t), armed: true, die: true}
	e := mergedFixLater(t, clk, st, nil)
	st.revive()
	g := e.h.Server.Gate()
	for _, after := range []time.Duration{time.Minute, gate.DefaultFixLaterStaleAfter} {
		clk.Advance(after)
		if opened, _, err := g.TrackFixLater(e.ctx); err != nil || opened != 0 {
			t.Fatalf("pass %v after the death: opened %d, %v", after, opened, err)
		}
		if n := len(e.h.GitHub.Issues(e.repo.FullName)); n != 1 {
			t.Fatalf("pass %v after the death: %d issues, want 1", after, n)
		}
	}
	e.oneIssue("after the takeover")
}

// pgStore opens the PostgreSQL store on dsn, migrated, closed at the end of the test.
func pgStore(t *testing.T, dsn string) store.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestFixLaterTwoTrackersOpenOneIssue: the merge could not open the issue (GitHub
// failed); two gate services (two replicas) track it. One that read the exception
// before the other recorded its issue opens none; two passes at once open one, on one
// bbolt store and on PostgreSQL with a connection pool each.
func TestFixLaterTwoTrackersOpenOneIssue(t *testing.T) {
	for _, tc := range []struct {
		concurrent, postgres bool
	}{{false, false}, {true, false}, {true, true}} {
		concurrent := tc.concurrent
		clk := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
		var first, second store.Store
		if tc.postgres {
			dsn := pgtest.FreshSchema(t)
			first, second = pgStore(t, dsn), pgStore(t, dsn)
			t.Cleanup(func() { second.Close() })
		} else {
			first = boltStore(t)
			second = first
		}
		stale := &staleExceptions{Store: first}
		e := mergedFixLater(t, clk, stale, func(e *env) {
			// Every issue write fails (the prefix takes comments too) until the merge is handled.
			e.h.GitHub.InjectFault(fakegithub.Fault{Method: "POST", Path: "/repos/acme/app/issues", Kind: fakegithub.ServerError, Times: 1000})
		})
		if n := len(e.h.GitHub.Issues(e.repo.FullName)); n != 0 {
			t.Fatalf("GitHub failing, the merge opened %d issues", n)
		}
		clients, err := server.PlainClients(e.h.GitHub.URL(), gh.WithSleep(func(context.Context, time.Duration) error { return nil }))
		if err != nil {
			t.Fatal(err)
		}
		var otherStore store.Store = stale
		if tc.postgres {
			otherStore = second
		}
		other, err := gate.New(gate.Options{Store: otherStore, Clients: clients, FingerprintKey: e.h.FingerprintKey, Now: clk.Now,
			AppID: e.h.GitHub.App().ID})
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
		if concurrent {
			var wg sync.WaitGroup
			for _, g := range []*gate.Service{e.h.Server.Gate(), other} {
				wg.Go(func() {
					if _, _, err := g.TrackFixLater(e.ctx); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
		} else {
			stale.freeze(e.ctx, e.repo.FullName)
			for _, g := range []*gate.Service{e.h.Server.Gate(), other} {
				if _, _, err := g.TrackFixLater(e.ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		e.oneIssue(fmt.Sprintf("concurrent %v, postgres %v", concurrent, tc.postgres))
	}
}

// staleExceptions lists, once frozen, the exceptions as they were then: a replica that
// read them just before another recorded an issue.
type staleExceptions struct {
	store.Store
	mu     sync.Mutex
	frozen []store.Exception
}

func (s *staleExceptions) freeze(ctx context.Context, repo string) {
	list, _ := s.Store.ListExceptions(ctx, repo, 0, everything)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.frozen = list
}

func (s *staleExceptions) ListExceptions(ctx context.Context, repo string, pr int, w store.Window) ([]store.Exception, error) {
	s.mu.Lock()
	frozen := s.frozen
	s.mu.Unlock()
	if frozen != nil && pr == 0 {
		return frozen, nil
	}
	return s.Store.ListExceptions(ctx, repo, pr, w)
}
