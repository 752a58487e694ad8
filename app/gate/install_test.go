package gate_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/gate"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/store"
)

var (
	appRepo = gate.InstalledRepo{ID: 42, FullName: "acme/app"}
	libRepo = gate.InstalledRepo{ID: 43, FullName: "acme/lib"}
	dotRepo = gate.InstalledRepo{ID: 45, FullName: "acme/.github"}
)

var acme = store.Installation{ID: inst, Account: "acme", AccountType: "Organization"}

func (f *fixture) repository(name string) store.Repository {
	f.t.Helper()
	r, err := f.st.GetRepository(f.ctx, name)
	if err != nil {
		f.t.Fatalf("repository %s: %v", name, err)
	}
	return r
}

func (f *fixture) installed(repos ...gate.InstalledRepo) {
	f.t.Helper()
	if err := f.svc.Installed(f.ctx, acme, repos, 0); err != nil {
		f.t.Fatal(err)
	}
}

// runsIn returns the check runs on head in repository full.
func (f *fixture) runsIn(full, head string) []string {
	var out []string
	for _, r := range f.gh.CheckRuns {
		if r.Repo == full && r.HeadSHA == head {
			out = append(out, r.Status+"/"+r.Conclusion)
		}
	}
	return out
}

func TestInstalledRecordsAndChecksOpenPRs(t *testing.T) {
	f := newFixture(t)
	f.gh.Repos["acme/lib"] = "trunk"
	f.gh.AddPull(repoName, gh.PullRequest{Number: 1, State: "open", Author: "alice", HeadSHA: sha("i1"), BaseSHA: sha("base"), BaseRef: "main"},
		envFile("config/app.env", "LOG=info"))
	f.gh.AddPull(repoName, gh.PullRequest{Number: 2, State: "closed", HeadSHA: sha("i0")}, envFile("config/app.env", criticalLine()))
	f.gh.AddPull("acme/lib", gh.PullRequest{Number: 3, State: "open", Author: "bob", HeadSHA: sha("i2"), BaseSHA: sha("base"), BaseRef: "trunk"},
		envFile("config/app.env", criticalLine()))
	f.installed(appRepo, libRepo, dotRepo)

	in, err := f.st.GetInstallation(f.ctx, inst)
	if err != nil {
		t.Fatal(err)
	}
	if in.Account != "acme" || in.AccountType != "Organization" || !in.CreatedAt.Equal(start) || !in.DeletedAt.IsZero() || in.Suspended {
		t.Fatalf("installation = %+v", in)
	}
	repos, err := f.st.ListRepositories(f.ctx, inst)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]store.Repository{
		"acme/app":     {ID: 42, InstallationID: inst, FullName: "acme/app", DefaultBranch: "main", AddedAt: start},
		"acme/lib":     {ID: 43, InstallationID: inst, FullName: "acme/lib", DefaultBranch: "trunk", AddedAt: start},
		"acme/.github": {ID: 45, InstallationID: inst, FullName: "acme/.github", DefaultBranch: "main", AddedAt: start},
	}
	if len(repos) != len(want) {
		t.Fatalf("repositories = %+v", repos)
	}
	for _, r := range repos {
		w := want[strings.ToLower(r.FullName)]
		if r.ID != w.ID || r.InstallationID != w.InstallationID || r.DefaultBranch != w.DefaultBranch || !r.AddedAt.Equal(w.AddedAt) || !r.RemovedAt.IsZero() {
			t.Errorf("%s recorded as %+v, want %+v", r.FullName, r, w)
		}
	}
	for _, tc := range []struct{ repo, head, want string }{
		{"acme/app", sha("i1"), "completed/success"},
		{"acme/lib", sha("i2"), "completed/failure"},
		{"acme/app", sha("i0"), ""}, // closed: not checked
	} {
		if got := strings.Join(f.runsIn(tc.repo, tc.head), ","); got != tc.want {
			t.Errorf("%s@%s: check runs %q, want %q", tc.repo, tc.head[36:], got, tc.want)
		}
	}

	// The same installation event again keeps the first install time.
	f.advance(time.Hour)
	f.installed(appRepo, libRepo, dotRepo)
	if in, err := f.st.GetInstallation(f.ctx, inst); err != nil || !in.CreatedAt.Equal(start) {
		t.Fatalf("installation after a second created event = %+v, %v", in, err)
	}
	if r := f.repository("acme/app"); !r.AddedAt.Equal(start) {
		t.Fatalf("repository after a second created event = %+v", r)
	}
}

// TestInstallTimeCheckFailureDoesNotFailTheInstall: an open PR that cannot be scanned
// gets a failing check; the installation is still recorded.
func TestInstallTimeCheckFailureDoesNotFailTheInstall(t *testing.T) {
	f := newFixture(t)
	f.gh.AddPull(repoName, gh.PullRequest{Number: 1, State: "open", HeadSHA: sha("i1"), BaseRef: "main"}, envFile("a.txt", "x"))
	f.gh.Fail["ListPullRequestFiles"] = errors.New("GitHub answered 502")
	f.installed(appRepo)
	if got := f.runsIn(repoName, sha("i1")); len(got) != 1 || got[0] != "completed/failure" {
		t.Fatalf("check runs = %v", got)
	}
	if r := f.repository(repoName); r.InstallationID != inst {
		t.Fatalf("repository = %+v", r)
	}
}

func TestReposAddedThatGitHubDoesNotKnow(t *testing.T) {
	f := newFixture(t)
	err := f.svc.ReposAdded(f.ctx, inst, []gate.InstalledRepo{{ID: 99, FullName: "acme/ghost"}}, 0)
	if !errors.Is(err, gh.ErrNotFound) {
		t.Fatalf("error %v, want gh.ErrNotFound", err)
	}
	if _, err := f.st.GetRepository(f.ctx, "acme/ghost"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown repository recorded (%v)", err)
	}
}

func TestReposRemovedAndAddedBack(t *testing.T) {
	f := newFixture(t)
	f.gh.Repos["acme/lib"] = "trunk"
	f.installed(appRepo, libRepo)
	f.advance(time.Hour)
	if err := f.svc.ReposRemoved(f.ctx, []string{"acme/lib", "acme/never-installed"}); err != nil {
		t.Fatal(err)
	}
	if r := f.repository("acme/lib"); !r.RemovedAt.Equal(f.now) {
		t.Fatalf("removed repository = %+v", r)
	}
	if r := f.repository("acme/app"); !r.RemovedAt.IsZero() {
		t.Fatalf("a repository that stayed was marked removed: %+v", r)
	}
	// Added back: covered again from that moment.
	f.advance(time.Hour)
	if err := f.svc.ReposAdded(f.ctx, inst, []gate.InstalledRepo{libRepo}, 0); err != nil {
		t.Fatal(err)
	}
	if r := f.repository("acme/lib"); !r.RemovedAt.IsZero() || !r.AddedAt.Equal(f.now) {
		t.Fatalf("re-added repository = %+v", r)
	}
}

func TestInstallationChanged(t *testing.T) {
	f := newFixture(t)
	f.installed(appRepo, dotRepo)
	f.advance(time.Hour)
	for _, tc := range []struct{ action, want string }{
		{"suspend", "suspended"}, {"unsuspend", "active"}, {"new_permissions_accepted", "active"}, {"deleted", "deleted"},
	} {
		if err := f.svc.InstallationChanged(f.ctx, inst, tc.action); err != nil {
			t.Fatalf("%s: %v", tc.action, err)
		}
		in, err := f.st.GetInstallation(f.ctx, inst)
		if err != nil {
			t.Fatal(err)
		}
		state := "active"
		switch {
		case !in.DeletedAt.IsZero():
			state = "deleted"
		case in.Suspended:
			state = "suspended"
		}
		if state != tc.want || !in.CreatedAt.Equal(start) {
			t.Fatalf("after %s: installation %+v is %s, want %s", tc.action, in, state, tc.want)
		}
	}
	// Deleted: its repositories are no longer covered.
	for _, name := range []string{"acme/app", "acme/.github"} {
		if r := f.repository(name); !r.RemovedAt.Equal(f.now) {
			t.Errorf("%s still covered after the installation was deleted: %+v", name, r)
		}
	}
	// Installed again: counted from the new install, not from before.
	f.advance(time.Hour)
	f.installed(appRepo, dotRepo)
	if in, err := f.st.GetInstallation(f.ctx, inst); err != nil || !in.CreatedAt.Equal(f.now) {
		t.Fatalf("reinstalled installation = %+v, %v", in, err)
	}
	if r := f.repository("acme/app"); !r.RemovedAt.IsZero() || !r.AddedAt.Equal(f.now) {
		t.Fatalf("after reinstall: %+v", r)
	}
}

// TestFirstEventRecordsRepository: a repository is recorded the first time an event
// names it (the app was installed before its store existed) and follows its default branch.
func TestFirstEventRecordsRepository(t *testing.T) {
	f := newFixture(t)
	p := f.open(1, "alice", "e1", envFile("README.md", "hello"))
	if r := f.repository(repoName); r.ID != 42 || r.InstallationID != inst || r.DefaultBranch != "main" || !r.AddedAt.Equal(start) {
		t.Fatalf("repository = %+v", r)
	}
	f.advance(time.Hour)
	p.DefaultBranch = "trunk"
	f.gh.Repos[repoName] = "trunk"
	f.push(p, "e2", envFile("README.md", "hello again"))
	if r := f.repository(repoName); r.DefaultBranch != "trunk" || !r.AddedAt.Equal(start) {
		t.Fatalf("repository after the default branch changed = %+v", r)
	}
}
