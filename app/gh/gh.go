// Package gh is the small interface through which escapegate's domain code talks
// to GitHub (as policy-bot's pull.Context does), with a go-github v62 implementation.
// Domain code never sees go-github types, so unit tests can use a plain fake and
// integration tests the fake GitHub server.
package gh

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNotFound is returned (wrapped) when GitHub answers 404.
var ErrNotFound = errors.New("github: not found")

// MaxContentBytes is the most of a file GetContent reads: files are scanned whole up to
// this size (a larger one is reported as not scanned), and one read cannot hold more memory.
const MaxContentBytes = 10 << 20

// MaxPullFiles is the most files GitHub lists for one pull request.
const MaxPullFiles = 3000

// ErrTooManyFiles is returned when a pull request or comparison has more files than GitHub lists.
var ErrTooManyFiles = fmt.Errorf("github: more than %d changed files", MaxPullFiles)

// MaxCommentBytes is the most of one comment's body ListComments keeps (GitHub's limit is
// 65,536 characters, at most 4 bytes each); MaxCommentPageBytes bounds one page's answer and
// MaxComments the comments listed.
const (
	MaxCommentBytes     = 256 << 10
	MaxCommentPageBytes = 32 << 20
	MaxComments         = 5000
)

// ErrTooLarge is returned (wrapped) when a file or an answer is larger than escapegate reads.
var ErrTooLarge = errors.New("github: too large to read")

// Repo names a repository.
type Repo struct{ Owner, Name string }

// ParseRepo reads "owner/name".
func ParseRepo(full string) (Repo, error) {
	o, n, ok := strings.Cut(full, "/")
	if !ok || o == "" || n == "" || strings.Contains(n, "/") {
		return Repo{}, fmt.Errorf("repository %q is not of the form owner/name", full)
	}
	return Repo{Owner: o, Name: n}, nil
}

func (r Repo) String() string { return r.Owner + "/" + r.Name }

// File is a changed file of a pull request or a comparison.
type File struct {
	Filename         string
	PreviousFilename string
	Status           string // added, removed, modified, renamed, copied, changed, unchanged
	Patch            string // "" when GitHub sends none (binary or too large)
	Additions        int
	Changes          int
}

// PullRequest is what the domain needs of a pull request.
type PullRequest struct {
	Number  int
	Title   string
	State   string
	Author  string
	HeadSHA string
	HeadRef string
	BaseRef string
	BaseSHA string
	Labels  []string
	Merged  bool
}

// Annotation is one check-run annotation.
type Annotation struct {
	Path       string
	StartLine  int
	EndLine    int
	Level      string // notice, warning, failure
	Title      string
	Message    string
	RawDetails string
}

// CheckRun is a check run to create or update. Annotations beyond 50 are sent
// by the implementation in further updates, 50 per call, as GitHub requires.
type CheckRun struct {
	Name        string
	HeadSHA     string
	ExternalID  string
	DetailsURL  string
	Status      string // queued, in_progress, completed
	Conclusion  string // success, failure, neutral, ... (with completed)
	StartedAt   time.Time
	CompletedAt time.Time
	Title       string
	Summary     string
	Text        string
	Annotations []Annotation
	// Actions are buttons on the run (at most 3); a click arrives as a check_run
	// requested_action event with the action's Identifier.
	Actions []CheckAction
}

// CheckAction is a check-run button: label ≤ 20, description ≤ 40, identifier ≤ 20 characters.
type CheckAction struct {
	Label, Description, Identifier string
}

// Content is a file's content at a ref, fetched conditionally.
type Content struct {
	Data        []byte
	ETag        string
	NotModified bool // If-None-Match matched: Data is empty, use the cached copy
}

// Comment is an issue or pull request comment.
type Comment struct {
	ID     int64
	Body   string
	Author string
	// Mine says escapegate wrote it: its author is a GitHub App's bot account and, when
	// GitHub names the app that wrote it and the client knows its own (WithAppID), that
	// app is this one. Only such comments are ever taken for escapegate's own.
	Mine bool
}

// FoundCheckRun is what FindCheckRun reports of a check run already on a commit.
type FoundCheckRun struct {
	ID          int64
	ExternalID  string
	Status      string // queued, in_progress, completed
	Conclusion  string
	Title       string
	Annotations int // how many annotations it holds
}

// Issue is what the monthly summary needs of an issue.
type Issue struct {
	Number int
	Title  string
	State  string
	Author string
	// Mine says escapegate opened it, by the same rule as Comment.Mine: its author is a
	// GitHub App's bot account and, when GitHub names the app and the client knows its
	// own, that app is this one.
	Mine bool
}

// Client is everything escapegate asks of GitHub for one installation.
type Client interface {
	GetRepository(ctx context.Context, r Repo) (defaultBranch string, err error)
	GetPullRequest(ctx context.Context, r Repo, number int) (PullRequest, error)
	ListOpenPullRequests(ctx context.Context, r Repo) ([]PullRequest, error)
	// ListPullRequestFiles lists all pages, at most MaxPullFiles; more yields ErrTooManyFiles.
	ListPullRequestFiles(ctx context.Context, r Repo, number int) ([]File, error)
	// CompareCommits lists the files changed between base and head (base...head); past
	// MaxPullFiles it returns the first MaxPullFiles with ErrTooManyFiles.
	CompareCommits(ctx context.Context, r Repo, base, head string) ([]File, error)
	// Compare is CompareCommits with the commits of base...head too (a merge group's).
	Compare(ctx context.Context, r Repo, base, head string) (Comparison, error)

	CreateCheckRun(ctx context.Context, r Repo, c CheckRun) (id int64, err error)
	UpdateCheckRun(ctx context.Context, r Repo, id int64, c CheckRun) error
	// FindCheckRun finds this app's newest check run called name with externalID ("":
	// any) on headSHA (every run of that name on the commit, every page), so that a
	// retried write updates the run an earlier attempt created instead of adding one.
	FindCheckRun(ctx context.Context, r Repo, headSHA, name, externalID string) (run FoundCheckRun, found bool, err error)

	// GetContent fetches a file at ref; a non-empty etag makes it conditional.
	// A missing file yields ErrNotFound; one over MaxContentBytes, ErrTooLarge.
	GetContent(ctx context.Context, r Repo, path, ref, etag string) (Content, error)

	// TeamMembershipState returns "active", "pending" or "" (not a member).
	TeamMembershipState(ctx context.Context, org, teamSlug, user string) (string, error)
	// Permission returns admin, maintain, write, triage, read or none.
	Permission(ctx context.Context, r Repo, user string) (string, error)

	// RemoveLabel removes a label; a label that is not there (404) is no error.
	RemoveLabel(ctx context.Context, r Repo, number int, label string) error
	CreateComment(ctx context.Context, r Repo, number int, body string) (int64, error)
	ListComments(ctx context.Context, r Repo, number int) ([]Comment, error)
	EditComment(ctx context.Context, r Repo, id int64, body string) error

	// CreateIssue opens an issue assigned to assignees (when GitHub refuses an assignee,
	// who cannot be assigned in the repository, the issue is opened unassigned).
	CreateIssue(ctx context.Context, r Repo, title, body string, assignees ...string) (Issue, error)
	// FindIssueSince finds an issue (open or closed) with exactly this title that
	// escapegate opened (Mine) and created at or after since (zero: any time); anyone
	// else's issue with the title is passed over. It reads the issues list, which sees
	// an issue as soon as it is created (search's index lags behind), so an attempt that
	// recorded when it began finds what an earlier, crashed attempt created.
	FindIssueSince(ctx context.Context, r Repo, title string, since time.Time) (Issue, bool, error)

	// BranchRequirements lists the status checks required before a change reaches
	// branch: those of the active rulesets that apply to it (repository and
	// organization level) and those of classic branch protection. A branch nothing
	// protects has none.
	BranchRequirements(ctx context.Context, r Repo, branch string) ([]RequiredCheck, error)
}

// Factory returns a client acting as one installation.
type Factory func(installationID int64) (Client, error)
