// Package events builds webhook payloads shaped as GitHub sends them to an app
// (with the installation, repository, sender and organization objects), for the
// tests and the demo. They are marshalled from go-github's own event types so that
// field names are GitHub's.
package events

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"
)

// Repo describes the repository an event is about.
type Repo struct {
	ID            int64
	FullName      string // owner/name
	DefaultBranch string
	Private       bool
}

// PR describes a pull request in an event.
type PR struct {
	Number  int
	Title   string
	Author  string
	HeadSHA string
	HeadRef string
	BaseSHA string
	BaseRef string
	Labels  []string
	Merged  bool
	State   string
	// UpdatedAt is pull_request.updated_at, which GitHub sets to the time of the change
	// an event reports (a label applied or removed); zero: a fixed time.
	UpdatedAt time.Time
}

func user(login string) *github.User {
	t := "User"
	if strings.HasSuffix(login, "[bot]") {
		t = "Bot"
	}
	return &github.User{Login: github.String(login), ID: github.Int64(int64(len(login))*1000 + 7), Type: github.String(t),
		NodeID: github.String("U_" + login), HTMLURL: github.String("https://github.com/" + login)}
}

func (r Repo) gh() *github.Repository {
	owner, name, _ := strings.Cut(r.FullName, "/")
	db := r.DefaultBranch
	if db == "" {
		db = "main"
	}
	return &github.Repository{
		ID: github.Int64(r.ID), Name: github.String(name), FullName: github.String(r.FullName),
		Owner:   &github.User{Login: github.String(owner), Type: github.String("Organization"), ID: github.Int64(r.ID + 1)},
		Private: github.Bool(r.Private), DefaultBranch: github.String(db),
		HTMLURL: github.String("https://github.com/" + r.FullName), NodeID: github.String(fmt.Sprintf("R_%d", r.ID)),
	}
}

func org(r Repo) *github.Organization {
	owner, _, _ := strings.Cut(r.FullName, "/")
	return &github.Organization{Login: github.String(owner), ID: github.Int64(r.ID + 1)}
}

func inst(id int64) *github.Installation {
	return &github.Installation{ID: github.Int64(id), NodeID: github.String(fmt.Sprintf("I_%d", id))}
}

func (p PR) gh(r Repo) *github.PullRequest {
	state := p.State
	if state == "" {
		state = "open"
	}
	base := p.BaseRef
	if base == "" {
		base = r.gh().GetDefaultBranch()
	}
	var labels []*github.Label
	for i, l := range p.Labels {
		labels = append(labels, &github.Label{ID: github.Int64(int64(i + 1)), Name: github.String(l)})
	}
	now := github.Timestamp{Time: time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)}
	updated := now
	if !p.UpdatedAt.IsZero() {
		updated = github.Timestamp{Time: p.UpdatedAt.UTC()}
	}
	pr := &github.PullRequest{
		ID: github.Int64(r.ID*1000 + int64(p.Number)), Number: github.Int(p.Number), State: github.String(state),
		Title: github.String(p.Title), User: user(p.Author), Labels: labels, Merged: github.Bool(p.Merged),
		Head:      &github.PullRequestBranch{Ref: github.String(p.HeadRef), SHA: github.String(p.HeadSHA), Repo: r.gh(), Label: github.String(p.HeadRef)},
		Base:      &github.PullRequestBranch{Ref: github.String(base), SHA: github.String(p.BaseSHA), Repo: r.gh(), Label: github.String(base)},
		HTMLURL:   github.String(fmt.Sprintf("https://github.com/%s/pull/%d", r.FullName, p.Number)),
		CreatedAt: &now, UpdatedAt: &updated,
	}
	if p.Merged {
		pr.MergedAt = &now
		pr.State = github.String("closed")
		pr.MergeCommitSHA = github.String(strings.Repeat("m", 40))
	}
	return pr
}

// PullRequest builds a pull_request event (opened, synchronize, closed, ...).
func PullRequest(installation int64, r Repo, action string, p PR, sender string) []byte {
	ev := github.PullRequestEvent{
		Action: github.String(action), Number: github.Int(p.Number), PullRequest: p.gh(r), Repo: r.gh(),
		Sender: user(sender), Installation: inst(installation), Organization: org(r),
	}
	if action == "synchronize" {
		ev.Before, ev.After = github.String(strings.Repeat("0", 39)+"1"), github.String(p.HeadSHA)
	}
	return mustJSON(ev)
}

// Labeled builds a pull_request labeled or unlabeled event for label.
func Labeled(installation int64, r Repo, action string, p PR, label, sender string) []byte {
	if action == "labeled" && !contains(p.Labels, label) {
		p.Labels = append(p.Labels, label)
	}
	ev := github.PullRequestEvent{
		Action: github.String(action), Number: github.Int(p.Number), PullRequest: p.gh(r), Repo: r.gh(),
		Label:  &github.Label{Name: github.String(label), ID: github.Int64(99)},
		Sender: user(sender), Installation: inst(installation), Organization: org(r),
	}
	return mustJSON(ev)
}

// Push builds a push event from before to after on branch, naming changed paths.
func Push(installation int64, r Repo, branch, before, after string, paths []string, pusher string) []byte {
	pr := r.gh()
	ev := github.PushEvent{
		Ref: github.String("refs/heads/" + branch), Before: github.String(before), After: github.String(after),
		Repo: &github.PushEventRepository{
			ID: pr.ID, Name: pr.Name, FullName: pr.FullName, DefaultBranch: pr.DefaultBranch,
			Owner: pr.Owner, Private: pr.Private, HTMLURL: pr.HTMLURL, MasterBranch: pr.DefaultBranch,
		},
		Commits: []*github.HeadCommit{{ID: github.String(after), Message: github.String("change"), Modified: paths}},
		Pusher:  &github.CommitAuthor{Name: github.String(pusher)}, Sender: user(pusher),
		Installation: inst(installation), Organization: org(r),
	}
	return mustJSON(ev)
}

// CheckRunRerequested builds a check_run rerequested event for the escapegate check run
// on p's head, p being the pull request as it stands.
func CheckRunRerequested(installation int64, r Repo, p PR, checkRunID int64, sender string) []byte {
	return CheckRunRerequestedOn(installation, r, p, p.HeadSHA, checkRunID, sender)
}

// CheckRunRerequestedOn builds a check_run rerequested event for the escapegate check run
// on headSHA, p's head or an older one. Its pull request is minimal, as GitHub's is
// (number, head and base), and its head is p's: the PR's head when the event is sent.
func CheckRunRerequestedOn(installation int64, r Repo, p PR, headSHA string, checkRunID int64, sender string) []byte {
	return checkRunRerequested(installation, r, p, headSHA, checkRunID, sender, []*github.PullRequest{p.minimal(r)})
}

// CheckRunRerequestedFromFork builds a check_run rerequested event for the escapegate
// check run on the head of p, a pull request from a fork: GitHub lists in a check run's
// pull_requests only those whose head is in the repository itself, so it names none;
// the run's external id (escapegate's "owner/name#N") still says which it checked.
func CheckRunRerequestedFromFork(installation int64, r Repo, p PR, checkRunID int64, sender string) []byte {
	return checkRunRerequested(installation, r, p, p.HeadSHA, checkRunID, sender, []*github.PullRequest{})
}

func checkRunRerequested(installation int64, r Repo, p PR, headSHA string, checkRunID int64, sender string, prs []*github.PullRequest) []byte {
	ev := github.CheckRunEvent{
		Action: github.String("rerequested"),
		CheckRun: &github.CheckRun{ID: github.Int64(checkRunID), Name: github.String("escapegate"), HeadSHA: github.String(headSHA),
			ExternalID: github.String(fmt.Sprintf("%s#%d", r.FullName, p.Number)), Status: github.String("completed"),
			CheckSuite: &github.CheckSuite{ID: github.Int64(r.ID*100 + int64(p.Number)), HeadBranch: github.String(p.HeadRef)}, PullRequests: prs},
		Repo: r.gh(), Sender: user(sender), Installation: inst(installation), Org: org(r),
	}
	return mustJSON(ev)
}

// CheckSuiteRerequested builds a check_suite rerequested event for the suite on headSHA
// (p's head or an older one), with p as a minimal pull request (see CheckRunRerequestedOn).
func CheckSuiteRerequested(installation int64, r Repo, p PR, headSHA string, sender string) []byte {
	ev := github.CheckSuiteEvent{
		Action: github.String("rerequested"),
		CheckSuite: &github.CheckSuite{ID: github.Int64(r.ID*100 + int64(p.Number)), HeadBranch: github.String(p.HeadRef), HeadSHA: github.String(headSHA),
			Status: github.String("completed"), Conclusion: github.String("failure"), PullRequests: []*github.PullRequest{p.minimal(r)}},
		Repo: r.gh(), Sender: user(sender), Installation: inst(installation), Org: org(r),
	}
	return mustJSON(ev)
}

// CheckSuiteRerequestedFromFork builds a check_suite rerequested event for the suite on
// p's head, p being a pull request from a fork: no pull request is named (see
// CheckRunRerequestedFromFork), and a suite carries no external id.
func CheckSuiteRerequestedFromFork(installation int64, r Repo, p PR, sender string) []byte {
	ev := github.CheckSuiteEvent{
		Action: github.String("rerequested"),
		CheckSuite: &github.CheckSuite{ID: github.Int64(r.ID*100 + int64(p.Number)), HeadBranch: github.String(p.HeadRef), HeadSHA: github.String(p.HeadSHA),
			Status: github.String("completed"), Conclusion: github.String("failure"), PullRequests: []*github.PullRequest{}},
		Repo: r.gh(), Sender: user(sender), Installation: inst(installation), Org: org(r),
	}
	return mustJSON(ev)
}

// minimal is p as check_run and check_suite payloads carry it: no title, labels or author.
func (p PR) minimal(r Repo) *github.PullRequest {
	full := p.gh(r)
	ref := &github.Repository{ID: github.Int64(r.ID), Name: full.Base.Repo.Name, URL: github.String("https://api.github.com/repos/" + r.FullName)}
	return &github.PullRequest{
		ID: full.ID, Number: full.Number, URL: github.String(fmt.Sprintf("https://api.github.com/repos/%s/pulls/%d", r.FullName, p.Number)),
		Head: &github.PullRequestBranch{Ref: full.Head.Ref, SHA: full.Head.SHA, Repo: ref},
		Base: &github.PullRequestBranch{Ref: full.Base.Ref, SHA: full.Base.SHA, Repo: ref},
	}
}

// InstallationCreated builds an installation created event for repos.
func InstallationCreated(installation int64, account string, repos []Repo, sender string) []byte {
	var rs []*github.Repository
	for _, r := range repos {
		g := r.gh()
		rs = append(rs, &github.Repository{ID: g.ID, Name: g.Name, FullName: g.FullName, Private: g.Private, NodeID: g.NodeID})
	}
	in := inst(installation)
	in.Account = &github.User{Login: github.String(account), Type: github.String("Organization")}
	ev := github.InstallationEvent{Action: github.String("created"), Installation: in, Repositories: rs, Sender: user(sender)}
	return mustJSON(ev)
}

// ReleasePublished builds a release published event.
func ReleasePublished(installation int64, r Repo, tag string, at time.Time, sender string) []byte {
	ev := github.ReleaseEvent{
		Action:  github.String("published"),
		Release: &github.RepositoryRelease{TagName: github.String(tag), Name: github.String(tag), PublishedAt: &github.Timestamp{Time: at}, Draft: github.Bool(false)},
		Repo:    r.gh(), Sender: user(sender), Installation: inst(installation),
	}
	return mustJSON(ev)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("events: marshalling %T: %v", v, err)) // only static types: a bug, not input
	}
	return b
}

// DeploymentStatus builds a deployment_status event of state on environment.
func DeploymentStatus(installation int64, r Repo, environment, state, sha string, at time.Time, sender string) []byte {
	ts := &github.Timestamp{Time: at}
	ev := github.DeploymentStatusEvent{
		Action: github.String("created"),
		Deployment: &github.Deployment{ID: github.Int64(1), SHA: github.String(sha), Ref: github.String(r.gh().GetDefaultBranch()),
			Environment: github.String(environment), CreatedAt: ts},
		DeploymentStatus: &github.DeploymentStatus{ID: github.Int64(2), State: github.String(state), Environment: github.String(environment), CreatedAt: ts},
		Repo:             r.gh(), Sender: user(sender), Installation: inst(installation), Org: org(r),
	}
	return mustJSON(ev)
}

// InstallationAction builds an installation event without repositories (deleted, suspend, unsuspend).
func InstallationAction(installation int64, account, action, sender string) []byte {
	in := inst(installation)
	in.Account = &github.User{Login: github.String(account), Type: github.String("Organization")}
	return mustJSON(github.InstallationEvent{Action: github.String(action), Installation: in, Sender: user(sender)})
}

// CheckRunRequestedAction builds a check_run requested_action event: sender clicked the
// button identified by identifier on the escapegate check run of p.
func CheckRunRequestedAction(installation int64, r Repo, p PR, checkRunID int64, identifier, sender string) []byte {
	ev := github.CheckRunEvent{
		Action: github.String("requested_action"),
		CheckRun: &github.CheckRun{ID: github.Int64(checkRunID), Name: github.String("escapegate"), HeadSHA: github.String(p.HeadSHA),
			ExternalID: github.String(fmt.Sprintf("%s#%d", r.FullName, p.Number)),
			Status:     github.String("completed"), Conclusion: github.String("failure"), PullRequests: []*github.PullRequest{p.gh(r)}},
		RequestedAction: &github.RequestedAction{Identifier: identifier},
		Repo:            r.gh(), Sender: user(sender), Installation: inst(installation), Org: org(r),
	}
	return mustJSON(ev)
}
