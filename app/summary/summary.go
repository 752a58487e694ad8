// Package summary is the monthly job of DESIGN §3: one summary issue per
// installation and month, in the repository its policy names, exactly once
// across restarts and replicas.
//
// Exactly-once rests on two things (package claim). A claim in the store
// (ClaimOnce on "summary/<installation>/<YYYY-MM>") lets one runner create the
// issue; its value records a state ("creating", "released", then "done"), the
// owner, the time and when the first attempt began. And before creating, the
// claim holder looks for escapegate's issue of that title among the issues
// updated since that first attempt began (the issues list, which sees an issue as
// soon as it is created, unlike search), because a runner may have crashed after
// GitHub created the issue but before it recorded "done". A "creating" claim older
// than StaleAfter, or one released after a failure, is taken over by exactly one
// runner.
package summary

import (
	"context"
	"fmt"
	"time"

	"github.com/escapegate/escapegate/app/claim"
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
		if found && cl.State == claim.Done {
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

	cl := r.claims(st)
	held, err := cl.Acquire(ctx, out.Key)
	switch {
	case err != nil:
		return out, fmt.Errorf("summary %s: %w", out.Key, err)
	case held.Done:
		out.Status, out.Issue = StatusExists, gh.Issue{Number: held.Issue, Title: out.Title}
		return out, nil
	case !held.OK:
		out.Status = StatusInProgress
		return out, nil
	}
	// We hold the claim. The issue may exist already: an attempt that crashed after
	// creating it, or whose create failed after GitHub made it. Never create a second
	// one. Only escapegate's own issue counts: anyone can open an issue with the
	// summary's title, and that must not stop the summary.
	if is, found, err := c.FindIssueSince(ctx, summaryRepo, out.Title, held.Claim.LookupSince()); err != nil {
		cl.Release(ctx, out.Key, held.Claim)
		return out, fmt.Errorf("summary %s: find issue in %s: %w", out.Key, summaryRepo, err)
	} else if found {
		out.Status, out.Issue = StatusExists, is
		return out, r.markDone(ctx, cl, out.Key, held.Claim, is.Number)
	}
	is, err := c.CreateIssue(ctx, summaryRepo, out.Title, out.Body)
	if err != nil {
		// Let the next tick retry at once; if GitHub did create it, the lookup above finds it.
		cl.Release(ctx, out.Key, held.Claim)
		return out, fmt.Errorf("summary %s: create issue in %s: %w", out.Key, summaryRepo, err)
	}
	out.Status, out.Issue = StatusCreated, is
	return out, r.markDone(ctx, cl, out.Key, held.Claim, is.Number)
}

// markDone records the issue; when that fails the claim is released, so that the next
// run takes it over at once and finds the issue.
func (r Runner) markDone(ctx context.Context, cl claim.Claims, key string, held claim.Claim, issue int) error {
	if err := cl.MarkDone(ctx, key, held, issue); err != nil {
		cl.Release(ctx, key, held)
		return fmt.Errorf("summary %s: %w", key, err)
	}
	return nil
}

func (r Runner) claims(st store.Store) claim.Claims {
	stale := r.StaleAfter
	if stale <= 0 {
		stale = DefaultStaleAfter
	}
	return claim.Claims{Store: st, Now: r.now, StaleAfter: stale, Owner: r.Owner}
}

func (r Runner) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

func readClaim(ctx context.Context, st store.Store, key string) (claim.Claim, bool, error) {
	return claim.Claims{Store: st}.Read(ctx, key)
}
