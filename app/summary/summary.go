// Package summary is the monthly job of DESIGN §3: one summary issue per
// installation and month, in the repository its policy names, exactly once
// across restarts and replicas.
//
// Exactly-once rests on two things. A claim in the store (ClaimOnce on
// "summary/<installation>/<YYYY-MM>") lets one runner create the issue; its
// value records a state ("creating", then "done"), the owner and the time. And
// before creating, the claim holder looks the issue up by title, because a runner
// may have crashed after GitHub created the issue but before it recorded "done",
// or a person may have opened it by hand. A "creating" claim older than
// StaleAfter is taken over by exactly one runner: the takeover is itself a
// ClaimOnce on a key derived from the stale claim, so two runners that both see
// it stale cannot both proceed.
package summary

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/escapegate/escapegate/app/escaperate"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/render"
	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/store"
)

// DefaultStaleAfter is how old a "creating" claim must be before another runner
// assumes its owner died. Building the data takes seconds (DESIGN §7: ≤ 5 s), so
// ten minutes leaves a wide margin for a slow GitHub.
const DefaultStaleAfter = 10 * time.Minute

// Status says what a run did.
type Status string

const (
	// StatusCreated: this run created the issue.
	StatusCreated Status = "created"
	// StatusExists: the issue was made before (recorded, or found by its title).
	StatusExists Status = "exists"
	// StatusInProgress: another runner holds a fresh claim; try again later.
	StatusInProgress Status = "in_progress"
	// StatusDryRun: rendered only; nothing was claimed or posted.
	StatusDryRun Status = "dry_run"
)

// Outcome is the result of one run.
type Outcome struct {
	Installation int64     `json:"installation"`
	Month        time.Time `json:"month"`
	Key          string    `json:"key"`
	Status       Status    `json:"status"`
	Title        string    `json:"title"`
	Body         string    `json:"body,omitempty"` // set when this run rendered it
	Issue        gh.Issue  `json:"issue"`          // set when created or found
}

// claim is the value stored under a summary's key.
type claim struct {
	State   string    `json:"state"` // creating, done
	Owner   string    `json:"owner"`
	At      time.Time `json:"at"`
	Attempt int       `json:"attempt"`
	Issue   int       `json:"issue,omitempty"`
}

const (
	stateCreating = "creating"
	stateDone     = "done"
)

// Runner runs the monthly summary. The zero value is ready to use.
type Runner struct {
	Now         func() time.Time // default time.Now
	StaleAfter  time.Duration    // default DefaultStaleAfter
	WindowDays  int              // policy escape_rate.window_days; default 90
	MinSeverity checks.Severity  // policy escape_rate.severity; default critical
	Owner       string           // names this runner in claims; default a random id
}

// Run creates the summary issue of inst for month in summaryRepo with a zero Runner.
func Run(ctx context.Context, st store.Store, c gh.Client, inst store.Installation, summaryRepo gh.Repo, month time.Time, dryRun bool) (Outcome, error) {
	return Runner{}.Run(ctx, st, c, inst, summaryRepo, month, dryRun)
}

// Key is the store key of an installation's summary for a month.
func Key(installationID int64, month time.Time) string {
	return fmt.Sprintf("summary/%d/%s", installationID, escaperate.MonthStart(month).Format("2006-01"))
}

// Due returns the month whose summary is due at now: from the 1st of a month
// (UTC) on, the previous month is due. It stays due for the whole month, so a
// server that was down on the 1st still posts it; the claim makes repeated runs
// no-ops. ok is false only for the zero time (no clock).
func Due(now time.Time) (month time.Time, ok bool) {
	if now.IsZero() {
		return time.Time{}, false
	}
	return escaperate.MonthStart(now).AddDate(0, -1, 0), true
}

// Run creates the summary issue of inst for month in summaryRepo, at most once.
// With dryRun it only renders: no claim, no GitHub call.
func (r Runner) Run(ctx context.Context, st store.Store, c gh.Client, inst store.Installation, summaryRepo gh.Repo, month time.Time, dryRun bool) (Outcome, error) {
	month = escaperate.MonthStart(month)
	out := Outcome{Installation: inst.ID, Month: month, Key: Key(inst.ID, month), Title: render.MonthlyTitle(inst.Account, month)}
	if !dryRun {
		// Cheap exit for the common case: every tick after the first finds it done.
		cl, found, err := readClaim(ctx, st, out.Key)
		if err != nil {
			return out, err
		}
		if found && cl.State == stateDone {
			out.Status, out.Issue = StatusExists, gh.Issue{Number: cl.Issue, Title: out.Title}
			return out, nil
		}
	}
	data, err := escaperate.OrgMonth(ctx, st, inst.ID, month, r.WindowDays, r.MinSeverity)
	if err != nil {
		return out, fmt.Errorf("summary %s: %w", out.Key, err)
	}
	out.Title, out.Body = render.MonthlySummary(data)
	if dryRun {
		out.Status = StatusDryRun
		return out, nil
	}

	held, err := r.acquire(ctx, st, out.Key)
	if err != nil || !held.ok {
		out.Status = held.status
		out.Issue = gh.Issue{Number: held.issue, Title: out.Title}
		return out, err
	}
	// We hold the claim. The issue may exist already: a runner that crashed after
	// creating it. Never create a second one. Only escapegate's own issue counts: anyone
	// can open an issue with the summary's title, and that must not stop the summary.
	if is, found, err := c.FindIssueByTitle(ctx, summaryRepo, out.Title); err != nil {
		r.release(ctx, st, out.Key)
		return out, fmt.Errorf("summary %s: find issue in %s: %w", out.Key, summaryRepo, err)
	} else if found && is.Mine {
		out.Status, out.Issue = StatusExists, is
		return out, r.markDone(ctx, st, out.Key, held.claim, is.Number)
	}
	is, err := c.CreateIssue(ctx, summaryRepo, out.Title, out.Body)
	if err != nil {
		// Let the next tick retry at once; if GitHub did create it, the lookup above finds it.
		r.release(ctx, st, out.Key)
		return out, fmt.Errorf("summary %s: create issue in %s: %w", out.Key, summaryRepo, err)
	}
	out.Status, out.Issue = StatusCreated, is
	return out, r.markDone(ctx, st, out.Key, held.claim, is.Number)
}

type acquired struct {
	ok     bool
	claim  claim
	status Status // when not ok
	issue  int
}

// acquire takes the claim on key, or takes over a stale one.
func (r Runner) acquire(ctx context.Context, st store.Store, key string) (acquired, error) {
	mine := claim{State: stateCreating, Owner: r.owner(), At: r.now(), Attempt: 1}
	ok, err := claimOnce(ctx, st, key, mine)
	if err != nil || ok {
		return acquired{ok: ok, claim: mine}, err
	}
	cur, found, err := readClaim(ctx, st, key)
	switch {
	case err != nil:
		return acquired{}, err
	case !found:
		// Released between our ClaimOnce and our read (a failed create): try once more.
		ok, err := claimOnce(ctx, st, key, mine)
		if err != nil || ok {
			return acquired{ok: ok, claim: mine}, err
		}
		return acquired{status: StatusInProgress}, nil
	case cur.State == stateDone:
		return acquired{status: StatusExists, issue: cur.Issue}, nil
	case mine.At.Sub(cur.At) < r.staleAfter():
		return acquired{status: StatusInProgress}, nil
	}
	// Stale: its owner most likely died. Exactly one runner wins the takeover of
	// this particular stale claim (attempt, owner and time identify it).
	takeover := fmt.Sprintf("%s/takeover/%d/%s/%d", key, cur.Attempt, cur.Owner, cur.At.UnixNano())
	won, err := claimOnce(ctx, st, takeover, mine)
	if err != nil || !won {
		return acquired{status: StatusInProgress}, err
	}
	mine.Attempt = cur.Attempt + 1
	if err := putClaim(ctx, st, key, mine); err != nil {
		return acquired{}, err
	}
	return acquired{ok: true, claim: mine}, nil
}

func (r Runner) markDone(ctx context.Context, st store.Store, key string, cl claim, issue int) error {
	cl.State, cl.Issue, cl.At = stateDone, issue, r.now()
	if err := putClaim(ctx, st, key, cl); err != nil {
		// The issue exists; the next holder of a stale claim finds it by title.
		return fmt.Errorf("summary %s: record issue #%d: %w", key, issue, err)
	}
	return nil
}

// release drops our claim after a failure, so the next tick retries without waiting
// for it to go stale. Best effort: if it fails, the claim simply goes stale.
func (r Runner) release(ctx context.Context, st store.Store, key string) {
	_ = st.DeleteSetting(context.WithoutCancel(ctx), key)
}

func (r Runner) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

func (r Runner) staleAfter() time.Duration {
	if r.StaleAfter > 0 {
		return r.StaleAfter
	}
	return DefaultStaleAfter
}

func (r Runner) owner() string {
	if r.Owner != "" {
		return r.Owner
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func readClaim(ctx context.Context, st store.Store, key string) (claim, bool, error) {
	v, err := st.GetSetting(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return claim{}, false, nil
	}
	if err != nil {
		return claim{}, false, fmt.Errorf("read claim %s: %w", key, err)
	}
	var cl claim
	if err := json.Unmarshal(v, &cl); err != nil {
		// An unreadable claim is treated as a stale "creating" one: the title lookup
		// still prevents a duplicate issue.
		return claim{State: stateCreating}, true, nil
	}
	return cl, true, nil
}

func claimOnce(ctx context.Context, st store.Store, key string, cl claim) (bool, error) {
	v, err := json.Marshal(cl)
	if err != nil {
		return false, fmt.Errorf("encode claim %s: %w", key, err)
	}
	ok, err := st.ClaimOnce(ctx, key, v)
	if err != nil {
		return false, fmt.Errorf("claim %s: %w", key, err)
	}
	return ok, nil
}

func putClaim(ctx context.Context, st store.Store, key string, cl claim) error {
	v, err := json.Marshal(cl)
	if err != nil {
		return fmt.Errorf("encode claim %s: %w", key, err)
	}
	if err := st.PutSetting(ctx, key, v); err != nil {
		return fmt.Errorf("write claim %s: %w", key, err)
	}
	return nil
}
