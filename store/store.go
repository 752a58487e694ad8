// Package store persists what escapegate must remember: installations and
// repositories, scans per head SHA, findings by fingerprint (never raw values),
// the exception and escape ledger, the escapes that wait for a release or a
// deployment, the last release and release comment ids, processed deliveries
// and small settings.
// Store is the one interface; bbolt and PostgreSQL implement it and pass the
// same conformance suite (storetest).
package store

import (
	"context"
	"errors"
	"time"
)

// SchemaVersion is the version of the persisted layout that this build writes.
// Version 2 moved pending escapes, the last release and release comment ids
// out of settings into their own records; version 3 added the durable inbox
// (bolt: its buckets; postgres: the job queue's tables); version 4 added the
// caught findings' daily counts (per repository, UTC day and severity), built
// from the caught records on migration, so that counting a window costs its
// days, not its findings.
const SchemaVersion = 4

// ErrNotFound is returned (wrapped) when a keyed record does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrLocked is returned by Open when another process holds an embedded store file.
var ErrLocked = errors.New("store: the store file is held by another process")

// Installation is one GitHub App installation.
type Installation struct {
	ID          int64     `json:"id"`
	Account     string    `json:"account"`      // org or user login
	AccountType string    `json:"account_type"` // Organization or User
	CreatedAt   time.Time `json:"created_at"`   // nothing before this counts toward a rate
	DeletedAt   time.Time `json:"deleted_at,omitempty"`
	Suspended   bool      `json:"suspended"`
}

// Repository is a repository that an installation covers.
type Repository struct {
	ID             int64     `json:"id"`
	InstallationID int64     `json:"installation_id"`
	FullName       string    `json:"full_name"` // owner/name; keys are case-insensitive
	DefaultBranch  string    `json:"default_branch"`
	AddedAt        time.Time `json:"added_at"`
	RemovedAt      time.Time `json:"removed_at,omitempty"`
	// Enforcement is whether the escapegate check is required on the repository's
	// production branches, as last read from GitHub; nil until it has been read.
	Enforcement *Enforcement `json:"enforcement,omitempty"`
}

// Enforcement is what a repository's rulesets and branch protection require of the
// escapegate check on its production branches.
type Enforcement struct {
	// Required: every production branch read requires the check (so a failing PR cannot merge).
	Required bool `json:"required"`
	// Branches are the branches read; Missing those that do not require the check.
	Branches []string `json:"branches"`
	Missing  []string `json:"missing,omitempty"`
	// Via says what requires it on the branches that do (a ruleset, branch protection).
	Via []string `json:"via,omitempty"`
	// OtherApp: a rule requires a check named escapegate but set by another app, which
	// this app's check does not satisfy (and a failing one does not block).
	OtherApp bool `json:"other_app,omitempty"`
	// CheckedAt is when GitHub was read.
	CheckedAt time.Time `json:"checked_at"`
}

// Finding is what is kept of a finding: identity and place, never its value.
type Finding struct {
	Fingerprint string `json:"fingerprint"`
	Rule        string `json:"rule"`
	Category    string `json:"category"`
	Severity    string `json:"severity"`
	Path        string `json:"path"`
	Line        int    `json:"line"`
	Redacted    string `json:"redacted,omitempty"`
	Message     string `json:"message,omitempty"`
	Existing    bool   `json:"existing,omitempty"`
}

// Scan is the result of one check of one head SHA of a pull request (or a push).
type Scan struct {
	Repo       string    `json:"repo"`
	SHA        string    `json:"sha"`
	PR         int       `json:"pr"`
	CheckRunID int64     `json:"check_run_id"`
	Conclusion string    `json:"conclusion"` // success, failure, neutral
	Findings   []Finding `json:"findings"`
	At         time.Time `json:"at"`
}

// Caught is the first time a PR check raised a fingerprint in a repository.
type Caught struct {
	Repo        string    `json:"repo"`
	Fingerprint string    `json:"fingerprint"`
	Rule        string    `json:"rule"`
	Severity    string    `json:"severity"`
	Path        string    `json:"path"`
	PR          int       `json:"pr"`
	SHA         string    `json:"sha"`
	At          time.Time `json:"at"`
}

// Exception states.
const (
	ExceptionActive  = "active"
	ExceptionRevoked = "revoked"
	ExceptionExpired = "expired"
	ExceptionMerged  = "merged"
)

// Exception is an approver's accepted risk on a pull request.
type Exception struct {
	ID           int64     `json:"id"` // assigned by the store, per store, increasing
	Repo         string    `json:"repo"`
	PR           int       `json:"pr"`
	HeadSHA      string    `json:"head_sha"`
	Approver     string    `json:"approver"`
	Reason       string    `json:"reason"` // false_positive, used_in_tests, fix_later, or ""
	Label        string    `json:"label"`
	Fingerprints []string  `json:"fingerprints"`
	CreatedAt    time.Time `json:"created_at"`
	ExpiresAt    time.Time `json:"expires_at"`
	State        string    `json:"state"`
	RevokedBy    string    `json:"revoked_by,omitempty"`
	EndedAt      time.Time `json:"ended_at,omitempty"` // revoked, merged or expired at
	DeliveryID   string    `json:"delivery_id"`        // the labeled delivery; one exception per delivery
	// A merged "fix later" exception is tracked by an issue in the repository (Issue),
	// reminded once before it is due (RemindedAt) and remediated when the issue is
	// closed (RemediatedAt; reopening it clears it).
	Issue        int       `json:"issue,omitempty"`
	RemindedAt   time.Time `json:"reminded_at,omitempty"`
	RemediatedAt time.Time `json:"remediated_at,omitempty"`
}

// RefusedOverride is an audited override attempt by someone who may not approve.
type RefusedOverride struct {
	Repo       string    `json:"repo"`
	PR         int       `json:"pr"`
	Sender     string    `json:"sender"`
	Label      string    `json:"label"`
	Why        string    `json:"why"`
	At         time.Time `json:"at"`
	DeliveryID string    `json:"delivery_id"`
}

// Escape kinds (DESIGN §1).
const (
	EscapeOverridden = "overridden"
	EscapeAdvisory   = "advisory"
	EscapeMissed     = "missed"
)

// Escape is a critical risk that reached production. One per (repo, fingerprint).
type Escape struct {
	ID          int64  `json:"id"`
	Repo        string `json:"repo"`
	Fingerprint string `json:"fingerprint"`
	Kind        string `json:"kind"`
	Rule        string `json:"rule"`
	Severity    string `json:"severity"`
	Path        string `json:"path"`
	Redacted    string `json:"redacted,omitempty"`
	PR          int    `json:"pr,omitempty"`
	SHA         string `json:"sha"`
	ExceptionID int64  `json:"exception_id,omitempty"`
	Approver    string `json:"approver,omitempty"`
	Reason      string `json:"reason,omitempty"`
	// Enforcement, for an advisory escape, says why the failing check did not block the
	// merge, as GitHub's rules stood right after it (e.g. not required on main).
	Enforcement string    `json:"enforcement,omitempty"`
	DetectedAt  time.Time `json:"detected_at"` // when it was first caught, or found on production for missed
	At          time.Time `json:"at"`          // when it reached production
}

// Release is the last release published in a repository: the release comment
// counts what merged since it.
type Release struct {
	Tag string    `json:"tag"`
	At  time.Time `json:"at"` // when it was published
}

// Window is a half-open time range [From, To).
type Window struct{ From, To time.Time }

// Contains reports whether t is inside the window.
func (w Window) Contains(t time.Time) bool { return !t.Before(w.From) && t.Before(w.To) }

// LedgerQuery asks for what the escape-rate metric reads of one repository.
type LedgerQuery struct {
	Repo       string
	Escapes    Window   // escapes detected in it, as ListEscapes
	Exceptions Window   // exceptions created in it, as ListExceptions with pr 0
	Caught     []Window // caught counts, as CountCaughtWindows
}

// Ledger answers a LedgerQuery.
type Ledger struct {
	Escapes    []Escape
	Exceptions []Exception
	Caught     []int // one per LedgerQuery.Caught window
}

// Store is the persistence interface. Every method is safe for concurrent use.
// Repository names are matched case-insensitively.
type Store interface {
	// Deliveries: MarkDelivery returns true the first time an id is seen.
	MarkDelivery(ctx context.Context, id string, at time.Time) (first bool, err error)
	// ForgetDelivery drops a mark (the event failed), so a redelivery of the same id runs again.
	// Forgetting an unknown id is not an error.
	ForgetDelivery(ctx context.Context, id string) error
	// DeliverySeen reports whether id is marked: handled, or being handled, and not
	// forgotten since. It changes nothing (the recovery sweep asks it before it
	// requests a redelivery, so marks must be kept at least as long as its window).
	DeliverySeen(ctx context.Context, id string) (bool, error)

	PutInstallation(ctx context.Context, in Installation) error
	GetInstallation(ctx context.Context, id int64) (Installation, error)
	ListInstallations(ctx context.Context) ([]Installation, error)
	PutRepository(ctx context.Context, r Repository) error
	GetRepository(ctx context.Context, fullName string) (Repository, error)
	ListRepositories(ctx context.Context, installationID int64) ([]Repository, error)

	// PutScan stores the scan of (repo, sha), replacing an earlier one; GetScan returns the newest.
	PutScan(ctx context.Context, s Scan) error
	GetScan(ctx context.Context, repo, sha string) (Scan, error)

	// RecordCaught keeps the first detection of a fingerprint; later calls change nothing.
	RecordCaught(ctx context.Context, c Caught) (first bool, err error)
	// RecordScan does in one transaction what PutScan(s) and RecordCaught for each
	// of caught, in order, would do: either all of it is stored or none. It returns
	// how many of caught were first detections (a fingerprint repeated within caught
	// counts once, as its first occurrence).
	RecordScan(ctx context.Context, s Scan, caught []Caught) (firstCaught int, err error)
	// WasCaught reports whether a PR check ever raised the fingerprint in the repository.
	WasCaught(ctx context.Context, repo, fingerprint string) (bool, error)
	ListCaught(ctx context.Context, repo string, w Window) ([]Caught, error)
	// CountCaught counts the repository's caught fingerprints detected in the window
	// whose severity is at least minSeverity (critical, high, medium, low): the
	// escape-rate denominator without loading every record.
	CountCaught(ctx context.Context, repo string, w Window, minSeverity string) (int, error)
	// CountCaughtWindows is CountCaught for each of ws, in one read: counts[i] is
	// what CountCaught(ctx, repo, ws[i], minSeverity) returns.
	CountCaughtWindows(ctx context.Context, repo string, ws []Window, minSeverity string) (counts []int, err error)

	// ReadLedgers answers each query as ListEscapes, ListExceptions (pr 0) and
	// CountCaughtWindows would, in a few round trips for all of them (bbolt and
	// PostgreSQL: from one consistent view of the store): the monthly summary of thousands of
	// repositories reads them in batches instead of three calls per repository.
	ReadLedgers(ctx context.Context, qs []LedgerQuery, minSeverity string) ([]Ledger, error)

	// AddException assigns an id; a second call with the same DeliveryID returns the first exception and false.
	AddException(ctx context.Context, e Exception) (Exception, bool, error)
	UpdateException(ctx context.Context, e Exception) error
	GetException(ctx context.Context, id int64) (Exception, error)
	// ListExceptions lists a repository's exceptions created in the window, or of a PR when pr > 0.
	ListExceptions(ctx context.Context, repo string, pr int, w Window) ([]Exception, error)

	// AddRefused records a refused attempt; a repeated DeliveryID is ignored.
	AddRefused(ctx context.Context, r RefusedOverride) (bool, error)
	ListRefused(ctx context.Context, repo string, w Window) ([]RefusedOverride, error)

	// AddEscape records an escape once per (repo, fingerprint); later calls return false.
	AddEscape(ctx context.Context, e Escape) (Escape, bool, error)
	// ListEscapes lists escapes whose DetectedAt is in the window.
	ListEscapes(ctx context.Context, repo string, w Window) ([]Escape, error)

	// Pending escapes reached a production branch but wait for the release or the
	// deployment (production.trigger) that ships them. AddPending keeps escapes
	// for repo in one transaction, once per (repo, fingerprint): a fingerprint
	// already pending, or repeated within escapes, keeps its first escape, so a
	// redelivered merge adds nothing. It returns how many it added. Times are kept
	// as UTC microseconds; the rest of each escape as given.
	AddPending(ctx context.Context, repo string, escapes []Escape) (added int, err error)
	// TakePending returns repo's pending escapes in the order they were added and
	// removes them, in one transaction: of callers taking at the same time (two
	// replicas shipping one release), each escape goes to exactly one.
	TakePending(ctx context.Context, repo string) ([]Escape, error)

	// PutLastRelease keeps r as repo's last release unless the one kept was
	// published later (a greater At): a late event of an older release does not
	// move it back. An equal At replaces it.
	PutLastRelease(ctx context.Context, repo string, r Release) error
	// GetLastRelease returns repo's last release or an error wrapping ErrNotFound.
	GetLastRelease(ctx context.Context, repo string) (Release, error)

	// PutReleaseComment remembers the id of the escape-rate comment on a release
	// pull request, replacing an earlier one.
	PutReleaseComment(ctx context.Context, repo string, pr int, commentID int64) error
	// GetReleaseComment returns that id or an error wrapping ErrNotFound.
	GetReleaseComment(ctx context.Context, repo string, pr int) (int64, error)

	// Settings: small named values (the fingerprint key, cached policy with its ETag, summary claims).
	GetSetting(ctx context.Context, key string) ([]byte, error)
	PutSetting(ctx context.Context, key string, value []byte) error
	// ClaimOnce sets key only if it is absent and reports whether this caller set it
	// (monthly summary idempotence across replicas).
	ClaimOnce(ctx context.Context, key string, value []byte) (bool, error)
	DeleteSetting(ctx context.Context, key string) error

	// SchemaVersion returns the persisted schema version (0 for a new store).
	SchemaVersion(ctx context.Context) (int, error)
	// Migrate brings the persisted schema to SchemaVersion.
	Migrate(ctx context.Context) error
	Close() error
}
