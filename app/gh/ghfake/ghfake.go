// Package ghfake is a plain in-memory gh.Client for unit tests of the domain: a
// struct of values, as policy-bot's pulltest.Context is. A test fills in the
// repositories, pull requests, files and people it needs, calls the domain, then
// reads what the domain asked of GitHub (Calls) and what it made (CheckRuns, Posted,
// Edited, RemovedLabels).
//
// Repositories are named "owner/name" (gh.Repo.String()), matched exactly. Whatever
// is missing answers an error wrapping gh.ErrNotFound, as the real client does for a
// 404, except where GitHub answers a value instead: no team membership is "", no
// collaborator permission is "none", removing a label that is not there succeeds.
//
// The client is safe for concurrent use: every method holds one lock. A test sets the
// exported fields before it calls the domain (or between calls) and reads them after;
// CallsTo and Methods read the record under the lock. It imports no test code.
package ghfake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/escapegate/escapegate/app/gh"
)

// PR names a pull request (or issue) of a repository.
type PR struct {
	Repo   string
	Number int
}

// Compare names the comparison base...head of a repository.
type Compare struct{ Repo, Base, Head string }

// Branch names a branch of a repository.
type Branch struct{ Repo, Name string }

// FileAt names a file of a repository at a ref.
type FileAt struct{ Repo, Ref, Path string }

// Member names a user in an org's team.
type Member struct{ Org, Team, User string }

// Collaborator names a user of a repository.
type Collaborator struct{ Repo, User string }

// Call is one call the client received, with its arguments after the context.
type Call struct {
	Method string
	Args   []any
	Err    error // what the call returned
}

func (c Call) String() string { return fmt.Sprintf("%s%+v", c.Method, c.Args) }

// CheckRun is a check run as it stands (the create with each update applied, as
// GitHub applies them: fields sent replace those held, annotations are appended),
// with every create and update as sent.
type CheckRun struct {
	ID   int64
	Repo string
	gh.CheckRun
	Sent []gh.CheckRun
}

// Posted is a comment the client created.
type Posted struct {
	Repo   string
	Number int
	ID     int64
	Body   string
}

// Edited is a comment edit the client made.
type Edited struct {
	Repo string
	ID   int64
	Body string
}

// RemovedLabel is a label the client removed from a pull request.
type RemovedLabel struct {
	Repo   string
	Number int
	Label  string
}

// Client is the fake. Create it with New (or fill in every map).
type Client struct {
	mu sync.Mutex

	// Repos maps each repository to its default branch.
	Repos map[string]string
	// Pulls are the pull requests. ListOpenPullRequests lists those whose State is
	// "" or "open", by number.
	Pulls map[PR]gh.PullRequest
	// Labels, when a pull request has an entry, are its labels: GetPullRequest and
	// ListOpenPullRequests report them and RemoveLabel edits them.
	Labels map[PR][]string
	// PullFiles are the files each pull request changes; more than gh.MaxPullFiles
	// yields gh.ErrTooManyFiles, as GitHub stops listing there.
	PullFiles map[PR][]gh.File
	// Compares are the files each comparison changes; past gh.MaxPullFiles the first
	// gh.MaxPullFiles come with gh.ErrTooManyFiles.
	Compares map[Compare][]gh.File
	// Contents are the files. Ref "" is the default branch: a file kept under "" or
	// under the repository's default branch answers either. The ETag is ETag(content).
	Contents map[FileAt]string
	// Teams maps a team member to "active" or "pending".
	Teams map[Member]string
	// Permissions maps a collaborator to admin, maintain, write, triage or read.
	Permissions map[Collaborator]string
	// Comments are each pull request's comments, oldest first. Only those marked Mine
	// count as escapegate's own (the ones the client creates are).
	Comments map[PR][]gh.Comment
	// Issues are each repository's issues. FindIssueSince finds only those marked
	// Mine (escapegate's own), as the real client does.
	Issues map[string][]gh.Issue
	// Required are the status checks required on each branch (BranchRequirements).
	Required map[Branch][]gh.RequiredCheck
	// Login is the author of the comments the client creates.
	Login string

	// Fail makes every call of a method (named as in gh.Client) return its error.
	Fail map[string]error
	// Hook, when set, sees each call before it runs (after Fail); an error it returns
	// is the call's. It runs under the client's lock, so it must not call the client.
	Hook func(Call) error

	// Calls are all calls received, in order.
	Calls []Call
	// CheckRuns are the check runs created, in order.
	CheckRuns []CheckRun
	// Posted, Edited and RemovedLabels are the comments created, the edits made and
	// the labels removed, in order.
	Posted        []Posted
	Edited        []Edited
	RemovedLabels []RemovedLabel

	lastID int64

	compareCommits map[Compare][]string // see SetCommits
}

var _ gh.Client = (*Client)(nil)

// New returns an empty fake whose comments are by escapegate[bot].
func New() *Client {
	return &Client{
		Repos: map[string]string{}, Pulls: map[PR]gh.PullRequest{}, Labels: map[PR][]string{},
		PullFiles: map[PR][]gh.File{}, Compares: map[Compare][]gh.File{}, Contents: map[FileAt]string{},
		Teams: map[Member]string{}, Permissions: map[Collaborator]string{}, Comments: map[PR][]gh.Comment{},
		Issues: map[string][]gh.Issue{}, Required: map[Branch][]gh.RequiredCheck{}, Login: "escapegate[bot]", Fail: map[string]error{},
	}
}

// ETag is the ETag the fake gives content.
func ETag(content string) string {
	sum := sha256.Sum256([]byte(content))
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}

// AddPull stores a pull request, its labels (pr.Labels) and its files.
func (f *Client) AddPull(repo string, pr gh.PullRequest, files ...gh.File) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := PR{repo, pr.Number}
	f.Pulls[k] = pr
	f.Labels[k] = slices.Clone(pr.Labels)
	f.PullFiles[k] = slices.Clone(files)
}

// SetFile stores a file's content at ref ("" is the default branch).
func (f *Client) SetFile(repo, ref, path, content string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Contents[FileAt{repo, ref, path}] = content
}

// CallsTo returns the calls of one method, in order.
func (f *Client) CallsTo(method string) []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Call
	for _, c := range f.Calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Methods returns the method of every call, in order.
func (f *Client) Methods() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.Calls))
	for i, c := range f.Calls {
		out[i] = c.Method
	}
	return out
}

// begin records a call and returns the error injected for it, if any. The caller
// holds f.mu and reports the call's own outcome through end.
func (f *Client) begin(method string, args ...any) (int, error) {
	c := Call{Method: method, Args: args}
	err := f.Fail[method]
	if err == nil && f.Hook != nil {
		err = f.Hook(c)
	}
	c.Err = err
	f.Calls = append(f.Calls, c)
	return len(f.Calls) - 1, err
}

func (f *Client) end(i int, err error) error {
	f.Calls[i].Err = err
	return err
}

func (f *Client) nextID() int64 {
	f.lastID++
	return f.lastID
}

func notFound(what string) error { return fmt.Errorf("ghfake: %s: %w", what, gh.ErrNotFound) }

// pull returns a stored pull request with its labels.
func (f *Client) pull(k PR) (gh.PullRequest, bool) {
	p, ok := f.Pulls[k]
	if !ok {
		return p, false
	}
	if ls, ok := f.Labels[k]; ok {
		p.Labels = slices.Clone(ls)
	} else {
		p.Labels = slices.Clone(p.Labels)
	}
	return p, true
}

func (f *Client) GetRepository(_ context.Context, r gh.Repo) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.begin("GetRepository", r)
	if err != nil {
		return "", err
	}
	db, ok := f.Repos[r.String()]
	if !ok {
		return "", f.end(i, notFound("repository "+r.String()))
	}
	return db, nil
}

func (f *Client) GetPullRequest(_ context.Context, r gh.Repo, number int) (gh.PullRequest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.begin("GetPullRequest", r, number)
	if err != nil {
		return gh.PullRequest{}, err
	}
	p, ok := f.pull(PR{r.String(), number})
	if !ok {
		return gh.PullRequest{}, f.end(i, notFound(fmt.Sprintf("pull request %s#%d", r, number)))
	}
	return p, nil
}

func (f *Client) ListOpenPullRequests(_ context.Context, r gh.Repo) ([]gh.PullRequest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.begin("ListOpenPullRequests", r)
	if err != nil {
		return nil, err
	}
	if _, ok := f.Repos[r.String()]; !ok {
		return nil, f.end(i, notFound("repository "+r.String()))
	}
	var out []gh.PullRequest
	for k := range f.Pulls {
		if k.Repo != r.String() {
			continue
		}
		if p, _ := f.pull(k); p.State == "" || p.State == "open" {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Number < out[b].Number })
	return out, nil
}

func (f *Client) ListPullRequestFiles(_ context.Context, r gh.Repo, number int) ([]gh.File, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.begin("ListPullRequestFiles", r, number)
	if err != nil {
		return nil, err
	}
	k := PR{r.String(), number}
	if _, ok := f.Pulls[k]; !ok {
		return nil, f.end(i, notFound(fmt.Sprintf("pull request %s#%d", r, number)))
	}
	files := f.PullFiles[k]
	if len(files) > gh.MaxPullFiles {
		return nil, f.end(i, fmt.Errorf("ghfake: files of %s#%d: %w", r, number, gh.ErrTooManyFiles))
	}
	return slices.Clone(files), nil
}

func (f *Client) CompareCommits(_ context.Context, r gh.Repo, base, head string) ([]gh.File, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.begin("CompareCommits", r, base, head)
	if err != nil {
		return nil, err
	}
	files, ok := f.Compares[Compare{r.String(), base, head}]
	if !ok {
		return nil, f.end(i, notFound(fmt.Sprintf("comparison %s %s...%s", r, base, head)))
	}
	if len(files) > gh.MaxPullFiles {
		return slices.Clone(files[:gh.MaxPullFiles]), f.end(i, fmt.Errorf("ghfake: comparison %s %s...%s: %w", r, base, head, gh.ErrTooManyFiles))
	}
	return slices.Clone(files), nil
}

func (f *Client) CreateCheckRun(_ context.Context, r gh.Repo, c gh.CheckRun) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.begin("CreateCheckRun", r, c); err != nil {
		return 0, err
	}
	c.Annotations = slices.Clone(c.Annotations)
	run := CheckRun{ID: f.nextID(), Repo: r.String(), CheckRun: c, Sent: []gh.CheckRun{c}}
	f.CheckRuns = append(f.CheckRuns, run)
	return run.ID, nil
}

func (f *Client) UpdateCheckRun(_ context.Context, r gh.Repo, id int64, c gh.CheckRun) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.begin("UpdateCheckRun", r, id, c)
	if err != nil {
		return err
	}
	for j := range f.CheckRuns {
		run := &f.CheckRuns[j]
		if run.ID != id || run.Repo != r.String() {
			continue
		}
		c.Annotations = slices.Clone(c.Annotations)
		run.Sent = append(run.Sent, c)
		cur := &run.CheckRun
		set := func(dst *string, v string) {
			if v != "" {
				*dst = v
			}
		}
		set(&cur.Name, c.Name)
		set(&cur.HeadSHA, c.HeadSHA)
		set(&cur.ExternalID, c.ExternalID)
		set(&cur.DetailsURL, c.DetailsURL)
		set(&cur.Status, c.Status)
		set(&cur.Conclusion, c.Conclusion)
		set(&cur.Title, c.Title)
		set(&cur.Summary, c.Summary)
		set(&cur.Text, c.Text)
		if !c.StartedAt.IsZero() {
			cur.StartedAt = c.StartedAt
		}
		if !c.CompletedAt.IsZero() {
			cur.CompletedAt = c.CompletedAt
		}
		cur.Annotations = append(cur.Annotations, c.Annotations...)
		return nil
	}
	return f.end(i, notFound(fmt.Sprintf("check run %d of %s", id, r)))
}

func (f *Client) FindCheckRun(_ context.Context, r gh.Repo, headSHA, name, externalID string) (gh.FoundCheckRun, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.begin("FindCheckRun", r, headSHA, name, externalID)
	if err != nil {
		return gh.FoundCheckRun{}, false, err
	}
	for j := len(f.CheckRuns) - 1; j >= 0; j-- {
		run := f.CheckRuns[j]
		if run.Repo != r.String() || run.HeadSHA != headSHA || run.Name != name || (externalID != "" && run.ExternalID != externalID) {
			continue
		}
		return gh.FoundCheckRun{ID: run.ID, ExternalID: run.ExternalID, Status: run.Status, Conclusion: run.Conclusion, Title: run.Title, Annotations: len(run.Annotations)}, true, f.end(i, nil)
	}
	return gh.FoundCheckRun{}, false, f.end(i, nil)
}

func (f *Client) GetContent(_ context.Context, r gh.Repo, path, ref, etag string) (gh.Content, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.begin("GetContent", r, path, ref, etag)
	if err != nil {
		return gh.Content{}, err
	}
	data, ok := f.Contents[FileAt{r.String(), ref, path}]
	if db, known := f.Repos[r.String()]; !ok && known {
		switch ref {
		case "":
			data, ok = f.Contents[FileAt{r.String(), db, path}]
		case db:
			data, ok = f.Contents[FileAt{r.String(), "", path}]
		}
	}
	if !ok {
		return gh.Content{}, f.end(i, notFound(fmt.Sprintf("%s %s@%s", r, path, ref)))
	}
	tag := ETag(data)
	if etag != "" && etag == tag {
		return gh.Content{ETag: tag, NotModified: true}, nil
	}
	return gh.Content{Data: []byte(data), ETag: tag}, nil
}

func (f *Client) TeamMembershipState(_ context.Context, org, teamSlug, user string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.begin("TeamMembershipState", org, teamSlug, user); err != nil {
		return "", err
	}
	return f.Teams[Member{org, teamSlug, user}], nil
}

func (f *Client) Permission(_ context.Context, r gh.Repo, user string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.begin("Permission", r, user); err != nil {
		return "", err
	}
	if p, ok := f.Permissions[Collaborator{r.String(), user}]; ok {
		return p, nil
	}
	return "none", nil
}

func (f *Client) RemoveLabel(_ context.Context, r gh.Repo, number int, label string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.begin("RemoveLabel", r, number, label); err != nil {
		return err
	}
	k := PR{r.String(), number}
	ls := f.Labels[k]
	if j := slices.Index(ls, label); j >= 0 {
		f.Labels[k] = slices.Delete(slices.Clone(ls), j, j+1)
		f.RemovedLabels = append(f.RemovedLabels, RemovedLabel{r.String(), number, label})
	}
	return nil
}

func (f *Client) CreateComment(_ context.Context, r gh.Repo, number int, body string) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.begin("CreateComment", r, number, body); err != nil {
		return 0, err
	}
	k := PR{r.String(), number}
	c := gh.Comment{ID: f.nextID(), Body: body, Author: f.Login, Mine: true}
	f.Comments[k] = append(f.Comments[k], c)
	f.Posted = append(f.Posted, Posted{r.String(), number, c.ID, body})
	return c.ID, nil
}

func (f *Client) ListComments(_ context.Context, r gh.Repo, number int) ([]gh.Comment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.begin("ListComments", r, number); err != nil {
		return nil, err
	}
	return slices.Clone(f.Comments[PR{r.String(), number}]), nil
}

func (f *Client) EditComment(_ context.Context, r gh.Repo, id int64, body string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.begin("EditComment", r, id, body)
	if err != nil {
		return err
	}
	for k, cs := range f.Comments {
		if k.Repo != r.String() {
			continue
		}
		for j := range cs {
			if cs[j].ID == id {
				cs[j].Body = body
				f.Edited = append(f.Edited, Edited{r.String(), id, body})
				return nil
			}
		}
	}
	return f.end(i, notFound(fmt.Sprintf("comment %d of %s", id, r)))
}

func (f *Client) CreateIssue(_ context.Context, r gh.Repo, title, body string, assignees ...string) (gh.Issue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.begin("CreateIssue", r, title, body, assignees); err != nil {
		return gh.Issue{}, err
	}
	is := gh.Issue{Number: len(f.Issues[r.String()]) + 1, Title: title, State: "open", Author: f.Login, Mine: true}
	f.Issues[r.String()] = append(f.Issues[r.String()], is)
	return is, nil
}

// FindIssueSince takes every issue as created since since: the fake keeps no times, and
// it sees its writes at once, as GitHub's issues list does.
func (f *Client) FindIssueSince(_ context.Context, r gh.Repo, title string, since time.Time) (gh.Issue, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.begin("FindIssueSince", r, title, since); err != nil {
		return gh.Issue{}, false, err
	}
	for _, is := range f.Issues[r.String()] {
		if is.Title == title && is.Mine {
			return is, true, nil
		}
	}
	return gh.Issue{}, false, nil
}

func (f *Client) BranchRequirements(_ context.Context, r gh.Repo, branch string) ([]gh.RequiredCheck, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.begin("BranchRequirements", r, branch); err != nil {
		return nil, err
	}
	return slices.Clone(f.Required[Branch{r.String(), branch}]), nil
}
