package handlers_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/escapegate/escapegate/app/summary"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/internal/fakegithub/events"
	"github.com/escapegate/escapegate/store"
)

var (
	libRepo  = events.Repo{ID: 43, FullName: "acme/lib", DefaultBranch: "trunk"}
	webRepo  = events.Repo{ID: 44, FullName: "acme/web", DefaultBranch: "main"}
	dotGHub  = events.Repo{ID: 45, FullName: "acme/.github", DefaultBranch: "main"}
	reportsR = events.Repo{ID: 46, FullName: "acme/security-reports", DefaultBranch: "main"}
)

// installationRepositories builds an installation_repositories event.
func installationRepositories(inst int64, action string, repos []events.Repo, sender string) []byte {
	var rs []*github.Repository
	for _, r := range repos {
		_, name, _ := strings.Cut(r.FullName, "/")
		rs = append(rs, &github.Repository{ID: github.Int64(r.ID), Name: github.String(name), FullName: github.String(r.FullName), Private: github.Bool(false)})
	}
	ev := github.InstallationRepositoriesEvent{
		Action: github.String(action), RepositorySelection: github.String("selected"),
		Installation: &github.Installation{ID: github.Int64(inst), Account: &github.User{Login: github.String("acme"), Type: github.String("Organization")}},
		Sender:       &github.User{Login: github.String(sender), Type: github.String("User")},
	}
	if action == "added" {
		ev.RepositoriesAdded = rs
	} else {
		ev.RepositoriesRemoved = rs
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return b
}

// addOpenPull registers an open PR on the fake GitHub without delivering any event.
func (e *env) addOpenPull(repo string, n int, head string, lines ...string) {
	e.h.GitHub.AddPull(repo, fakegithub.Pull{Number: n, Title: "pending work", Author: "alice", HeadSHA: sha(head), HeadRef: "feature/x",
		BaseSHA: sha("base"), Files: []fakegithub.PullFile{envFile("config/app.env", lines...)}})
}

func runsOn(f *fakegithub.Server, repo, head string) []fakegithub.CheckRun {
	var out []fakegithub.CheckRun
	for _, r := range f.CheckRuns(repo) {
		if r.HeadSHA == head && r.Name == "escapegate" {
			out = append(out, r)
		}
	}
	return out
}

func (e *env) repository(name string) store.Repository {
	e.t.Helper()
	r, err := e.h.Store.GetRepository(e.ctx, name)
	if err != nil {
		e.t.Fatalf("repository %s: %v", name, err)
	}
	return r
}

func TestInstallationCreatedRecordsAndChecks(t *testing.T) {
	e := newEnv(t)
	e.h.GitHub.AddRepo(libRepo.FullName, libRepo.DefaultBranch)
	e.h.GitHub.AddInstallation(e.inst, libRepo.FullName)
	e.addOpenPull(e.repo.FullName, 1, "i1", "LOG=info")
	e.addOpenPull(libRepo.FullName, 3, "i2", "AWS_ACCESS_KEY_ID="+awsKey())

	payload := events.InstallationCreated(e.inst, "acme", []events.Repo{e.repo, libRepo, dotGHub}, "sec-lead")
	for i := 0; i < 2; i++ { // a replay of the same delivery changes nothing
		if status, err := e.h.SendDelivery(e.ctx, "installation", "install-1", payload); err != nil || status/100 != 2 {
			t.Fatalf("installation: %d %v", status, err)
		}
	}
	in, err := e.h.Store.GetInstallation(e.ctx, e.inst)
	if err != nil {
		t.Fatal(err)
	}
	if in.Account != "acme" || in.AccountType != "Organization" || in.CreatedAt.IsZero() || !in.DeletedAt.IsZero() {
		t.Fatalf("installation = %+v", in)
	}
	repos, err := e.h.Store.ListRepositories(e.ctx, e.inst)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]store.Repository{}
	for _, r := range repos {
		got[strings.ToLower(r.FullName)] = r
	}
	for _, want := range []events.Repo{e.repo, libRepo, dotGHub} {
		r, ok := got[strings.ToLower(want.FullName)]
		if !ok {
			t.Errorf("%s not recorded (got %+v)", want.FullName, repos)
			continue
		}
		if r.InstallationID != e.inst || r.ID != want.ID || r.DefaultBranch != want.DefaultBranch || r.AddedAt.IsZero() || !r.RemovedAt.IsZero() {
			t.Errorf("%s recorded as %+v", want.FullName, r)
		}
	}
	for _, tc := range []struct {
		repo, head, want string
	}{
		{e.repo.FullName, sha("i1"), "success"},
		{libRepo.FullName, sha("i2"), "failure"},
	} {
		runs := runsOn(e.h.GitHub, tc.repo, tc.head)
		if len(runs) != 1 || runs[0].Status != "completed" || runs[0].Conclusion != tc.want {
			t.Errorf("%s: check runs on the open PR = %+v, want one %s", tc.repo, runs, tc.want)
		}
	}
}

func TestInstallationRepositoriesAddedAndRemoved(t *testing.T) {
	e := newEnv(t)
	e.send("installation", events.InstallationCreated(e.inst, "acme", []events.Repo{e.repo, dotGHub}, "sec-lead"))
	e.h.GitHub.AddRepo(webRepo.FullName, webRepo.DefaultBranch)
	e.h.GitHub.AddInstallation(e.inst, webRepo.FullName)
	e.addOpenPull(webRepo.FullName, 5, "w1", "GITHUB_TOKEN="+githubToken())

	e.send("installation_repositories", installationRepositories(e.inst, "added", []events.Repo{webRepo}, "sec-lead"))
	if r := e.repository(webRepo.FullName); r.InstallationID != e.inst || r.AddedAt.IsZero() || !r.RemovedAt.IsZero() {
		t.Fatalf("added repository recorded as %+v", r)
	}
	if runs := runsOn(e.h.GitHub, webRepo.FullName, sha("w1")); len(runs) != 1 || runs[0].Conclusion != "failure" {
		t.Fatalf("open PR of the added repository: %+v", runs)
	}

	e.send("installation_repositories", installationRepositories(e.inst, "removed", []events.Repo{webRepo}, "sec-lead"))
	if r := e.repository(webRepo.FullName); r.RemovedAt.IsZero() {
		t.Fatalf("removed repository not marked removed: %+v", r)
	}
	if r := e.repository(e.repo.FullName); !r.RemovedAt.IsZero() {
		t.Fatalf("a repository that stayed was marked removed: %+v", r)
	}

	// Added back: covered again from that moment.
	e.send("installation_repositories", installationRepositories(e.inst, "added", []events.Repo{webRepo}, "sec-lead"))
	if r := e.repository(webRepo.FullName); !r.RemovedAt.IsZero() {
		t.Fatalf("re-added repository still marked removed: %+v", r)
	}
}

func TestMonthlySummaryOnce(t *testing.T) {
	e := newEnv(t)
	e.h.GitHub.AddRepo(reportsR.FullName, "main")
	e.h.GitHub.AddInstallation(e.inst, reportsR.FullName)
	e.h.GitHub.SetFile("acme/.github", "", "escapegate.yml", []byte(teamPolicy+"summary:\n  repository: security-reports\n"))
	e.send("installation", events.InstallationCreated(e.inst, "acme", []events.Repo{e.repo, dotGHub, reportsR}, "sec-lead"))
	pr := e.openPR(1, "alice", "y1", envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey()))
	e.merge(pr, "alice")

	month := time.Now().UTC()
	var outs []summary.Outcome
	for i := 0; i < 2; i++ {
		out, err := e.h.Server.Summaries().RunOne(e.ctx, e.inst, month, false)
		if err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
		outs = append(outs, out)
	}
	if outs[0].Status != summary.StatusCreated || outs[1].Status != summary.StatusExists || outs[0].Issue.Number != outs[1].Issue.Number {
		t.Fatalf("outcomes = %+v / %+v", outs[0].Status, outs[1].Status)
	}
	// A replica that lost the claim (a fresh store key) finds the issue by its title in the issues list.
	if err := e.h.Store.DeleteSetting(e.ctx, summary.Key(e.inst, month)); err != nil {
		t.Fatal(err)
	}
	if out, err := e.h.Server.Summaries().RunOne(e.ctx, e.inst, month, false); err != nil || out.Status != summary.StatusExists {
		t.Fatalf("run without the claim: %+v, %v", out.Status, err)
	}
	issues := e.h.GitHub.Issues(reportsR.FullName)
	if len(issues) != 1 {
		t.Fatalf("want one summary issue, got %d: %+v", len(issues), issues)
	}
	if !strings.Contains(issues[0].Title, "acme") || !strings.Contains(issues[0].Body, "acme/app") {
		t.Errorf("summary issue %q does not cover acme/app:\n%s", issues[0].Title, issues[0].Body)
	}
	if strings.Contains(issues[0].Body, awsKey()) {
		t.Error("the summary issue holds the raw key")
	}
}
