package recovery_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/app/gate"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/recovery"
	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/memstore"
)

// newGate builds the domain service on st; the reconcile asks it for no GitHub client.
func newGate(t *testing.T, st store.Store, clock func() time.Time) *gate.Service {
	t.Helper()
	g, err := gate.New(gate.Options{Store: st, FingerprintKey: []byte("k"), Now: clock, Logger: zerolog.Nop(),
		Clients: func(int64) (gh.Client, error) { return nil, errors.New("no GitHub client in this test") }})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

var (
	monthsAgo = now.AddDate(0, -3, 0)
	acme      = gh.Installation{ID: 4242, Account: "acme", AccountType: "Organization"}
	acmeRepos = []gh.InstallationRepo{{ID: 1, FullName: "acme/app", DefaultBranch: "main"}, {ID: 2, FullName: "acme/web", DefaultBranch: "trunk"}}
)

// TestReconcile is what one reconcile changes in the store, from what GitHub lists.
func TestReconcile(t *testing.T) {
	ctx := context.Background()
	put := func(t *testing.T, st store.Store, ins []store.Installation, repos []store.Repository) {
		t.Helper()
		for _, in := range ins {
			if err := st.PutInstallation(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		for _, r := range repos {
			if err := st.PutRepository(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name    string
		github  []gh.Installation
		repos   map[int64][]gh.InstallationRepo
		repoErr map[int64]error
		setup   func(t *testing.T, st store.Store)
		wantErr bool
		want    recovery.ReconcileResult
		check   func(t *testing.T, st store.Store)
	}{
		{
			name: "new installation", github: []gh.Installation{acme}, repos: map[int64][]gh.InstallationRepo{4242: acmeRepos},
			want: recovery.ReconcileResult{Listed: 1, Added: []int64{4242}, ReposAdded: 2},
			check: func(t *testing.T, st store.Store) {
				in := installation(t, st, 4242)
				if in.Account != "acme" || in.AccountType != "Organization" || !in.CreatedAt.Equal(now) || !in.DeletedAt.IsZero() {
					t.Errorf("installation = %+v", in)
				}
				if r := repository(t, st, "acme/web"); r.InstallationID != 4242 || r.DefaultBranch != "trunk" || !r.AddedAt.Equal(now) || r.ID != 2 {
					t.Errorf("repository = %+v", r)
				}
			},
		},
		{
			name: "known from webhooks only: counts from its first repository", github: []gh.Installation{acme},
			repos: map[int64][]gh.InstallationRepo{4242: acmeRepos},
			setup: func(t *testing.T, st store.Store) {
				put(t, st, nil, []store.Repository{{ID: 1, InstallationID: 4242, FullName: "acme/app", DefaultBranch: "main", AddedAt: monthsAgo}})
			},
			want: recovery.ReconcileResult{Listed: 1, Added: []int64{4242}, ReposAdded: 1},
			check: func(t *testing.T, st store.Store) {
				if in := installation(t, st, 4242); !in.CreatedAt.Equal(monthsAgo) {
					t.Errorf("installation created %v, want %v (its first repository)", in.CreatedAt, monthsAgo)
				}
				if r := repository(t, st, "acme/app"); !r.AddedAt.Equal(monthsAgo) {
					t.Errorf("a known repository's history moved: %+v", r)
				}
			},
		},
		{
			name: "removed repository", github: []gh.Installation{acme}, repos: map[int64][]gh.InstallationRepo{4242: acmeRepos[:1]},
			setup: func(t *testing.T, st store.Store) {
				put(t, st, []store.Installation{{ID: 4242, Account: "acme", AccountType: "Organization", CreatedAt: monthsAgo}},
					[]store.Repository{{ID: 1, InstallationID: 4242, FullName: "acme/app", DefaultBranch: "main", AddedAt: monthsAgo},
						{ID: 2, InstallationID: 4242, FullName: "acme/web", DefaultBranch: "trunk", AddedAt: monthsAgo}})
			},
			want: recovery.ReconcileResult{Listed: 1, Removed: 1},
			check: func(t *testing.T, st store.Store) {
				if r := repository(t, st, "acme/web"); !r.RemovedAt.Equal(now) {
					t.Errorf("acme/web = %+v, want removed now", r)
				}
				if r := repository(t, st, "acme/app"); !r.RemovedAt.IsZero() {
					t.Errorf("acme/app = %+v, want kept", r)
				}
				if in := installation(t, st, 4242); !in.CreatedAt.Equal(monthsAgo) {
					t.Errorf("installation = %+v, want unchanged", in)
				}
			},
		},
		{
			name: "deleted installation", github: []gh.Installation{acme}, repos: map[int64][]gh.InstallationRepo{4242: acmeRepos},
			setup: func(t *testing.T, st store.Store) {
				put(t, st, []store.Installation{{ID: 4242, Account: "acme", AccountType: "Organization", CreatedAt: monthsAgo},
					{ID: 77, Account: "gone", AccountType: "Organization", CreatedAt: monthsAgo},
					{ID: 78, Account: "long-gone", CreatedAt: monthsAgo, DeletedAt: monthsAgo}},
					[]store.Repository{{ID: 9, InstallationID: 77, FullName: "gone/app", AddedAt: monthsAgo}})
			},
			want: recovery.ReconcileResult{Listed: 1, Deleted: []int64{77}, ReposAdded: 2},
			check: func(t *testing.T, st store.Store) {
				if in := installation(t, st, 77); !in.DeletedAt.Equal(now) {
					t.Errorf("installation 77 = %+v, want deleted now", in)
				}
				if r := repository(t, st, "gone/app"); !r.RemovedAt.Equal(now) {
					t.Errorf("its repository = %+v, want removed", r)
				}
				if in := installation(t, st, 78); !in.DeletedAt.Equal(monthsAgo) {
					t.Errorf("an installation deleted before = %+v, want unchanged", in)
				}
			},
		},
		{
			name:    "suspended: recorded, its repositories left as they are",
			github:  []gh.Installation{{ID: 4242, Account: "acme", AccountType: "Organization", Suspended: true}},
			repoErr: map[int64]error{4242: errors.New("403 suspended")},
			setup: func(t *testing.T, st store.Store) {
				put(t, st, []store.Installation{{ID: 4242, Account: "acme", AccountType: "Organization", CreatedAt: monthsAgo}},
					[]store.Repository{{ID: 1, InstallationID: 4242, FullName: "acme/app", AddedAt: monthsAgo}})
			},
			want: recovery.ReconcileResult{Listed: 1, Updated: []int64{4242}},
			check: func(t *testing.T, st store.Store) {
				if in := installation(t, st, 4242); !in.Suspended {
					t.Errorf("installation = %+v, want suspended", in)
				}
				if r := repository(t, st, "acme/app"); !r.RemovedAt.IsZero() {
					t.Errorf("repository = %+v, want kept", r)
				}
			},
		},
		{
			name:   "listed again after being deleted: live from now",
			github: []gh.Installation{acme}, repos: map[int64][]gh.InstallationRepo{4242: acmeRepos},
			setup: func(t *testing.T, st store.Store) {
				put(t, st, []store.Installation{{ID: 4242, Account: "acme", CreatedAt: monthsAgo, DeletedAt: monthsAgo.Add(time.Hour)}}, nil)
			},
			want: recovery.ReconcileResult{Listed: 1, Added: []int64{4242}, ReposAdded: 2},
			check: func(t *testing.T, st store.Store) {
				if in := installation(t, st, 4242); !in.DeletedAt.IsZero() || !in.CreatedAt.Equal(now) {
					t.Errorf("installation = %+v", in)
				}
			},
		},
		{
			name:    "one installation's repositories fail: the others go on",
			github:  []gh.Installation{acme, {ID: 5, Account: "beta", AccountType: "User"}},
			repos:   map[int64][]gh.InstallationRepo{5: {{ID: 7, FullName: "beta/dots", DefaultBranch: "main"}}},
			repoErr: map[int64]error{4242: errors.New("500")},
			setup: func(t *testing.T, st store.Store) {
				put(t, st, nil, []store.Repository{{ID: 1, InstallationID: 4242, FullName: "acme/app", AddedAt: monthsAgo}})
			},
			wantErr: true,
			want:    recovery.ReconcileResult{Listed: 2, Added: []int64{4242, 5}, ReposAdded: 1},
			check: func(t *testing.T, st store.Store) {
				if r := repository(t, st, "acme/app"); !r.RemovedAt.IsZero() {
					t.Errorf("repository of the failed listing = %+v, want kept", r)
				}
				if in := installation(t, st, 5); in.AccountType != "User" {
					t.Errorf("installation 5 = %+v", in)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := memstore.New()
			if tc.setup != nil {
				tc.setup(t, st)
			}
			app := &fakeApp{installs: tc.github, repos: tc.repos, repoErr: tc.repoErr}
			clock := func() time.Time { return now }
			s, _ := newService(t, app, st, clock, recovery.Options{Gate: newGate(t, st, clock)})
			res, err := s.Reconcile(ctx)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Reconcile error = %v, want error %v", err, tc.wantErr)
			}
			if !sameResult(res, tc.want) {
				t.Errorf("result = %+v\nwant %+v", res, tc.want)
			}
			if tc.check != nil {
				tc.check(t, st)
			}
			// A second reconcile of the same list changes nothing.
			if tc.wantErr {
				return
			}
			res, err = s.Reconcile(ctx)
			if err != nil || !sameResult(res, recovery.ReconcileResult{Listed: res.Listed}) {
				t.Errorf("second reconcile = %+v, %v; want no change", res, err)
			}
		})
	}
}

// TestReconcileOnePerSlot: replicas reconciling at once: one does it.
func TestReconcileOnePerSlot(t *testing.T) {
	st := memstore.New()
	app := &fakeApp{installs: []gh.Installation{acme}, repos: map[int64][]gh.InstallationRepo{4242: acmeRepos}}
	clock := func() time.Time { return now }
	g := newGate(t, st, clock)
	var mu sync.Mutex
	ran := 0
	var wg sync.WaitGroup
	for range 3 {
		s, _ := newService(t, app, st, clock, recovery.Options{Gate: g, InstallationsInterval: 24 * time.Hour})
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ok, err := s.TryReconcile(context.Background())
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if ok {
				ran++
			}
		}()
	}
	wg.Wait()
	if ran != 1 {
		t.Errorf("%d replicas reconciled, want 1", ran)
	}
}

func sameResult(a, b recovery.ReconcileResult) bool {
	return a.Listed == b.Listed && slices.Equal(a.Added, b.Added) && slices.Equal(a.Updated, b.Updated) &&
		slices.Equal(a.Deleted, b.Deleted) && a.ReposAdded == b.ReposAdded && a.Removed == b.Removed
}

func installation(t *testing.T, st store.Store, id int64) store.Installation {
	t.Helper()
	in, err := st.GetInstallation(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func repository(t *testing.T, st store.Store, name string) store.Repository {
	t.Helper()
	r, err := st.GetRepository(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
