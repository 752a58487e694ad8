package gate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/policy"
	"github.com/escapegate/escapegate/app/verdict"
	"github.com/escapegate/escapegate/store"
)

// Production triggers (DESIGN §1).
const (
	TriggerMerge      = "merge"
	TriggerRelease    = "release"
	TriggerDeployment = "deployment"
)

// Merged accounts a pull request merged into a production branch: each critical risk
// raised on its merged head escaped, as overridden (an exception covered it) or
// advisory (the check was failing and nothing covered it). With a release or
// deployment trigger the escapes wait until that ships them.
func (s *Service) Merged(ctx context.Context, pr PR) ([]store.Escape, error) {
	c, pol, err := s.session(ctx, pr.Installation, pr.Repo, pr.DefaultBranch)
	if err != nil {
		return nil, err
	}
	p := pol.Policy
	if !p.IsProductionBranch(pr.BaseRef, pr.DefaultBranch) {
		return nil, nil
	}
	exc, err := s.activeException(ctx, pr.Repo, pr.Number)
	if err != nil {
		return nil, err
	}
	sc, err := s.store.GetScan(ctx, pr.Repo.String(), pr.HeadSHA)
	if err != nil {
		if !isNotFound(err) {
			return nil, fmt.Errorf("reading scan of %s@%s: %w", pr.Repo, short(pr.HeadSHA), err)
		}
		// The merged head was never checked (opened before the install, or its synchronize
		// failed or had not run yet). What no PR check ever raised, the push to the branch
		// accounts as missed; what an earlier head's check raised, that push skips, so it is
		// accounted here from a scan of the merged head.
		s.logger(ctx).Info().Msg("merged head was never scanned; scanning it now")
		if sc, err = s.caughtAtMerge(ctx, c, pr); err != nil {
			return nil, err
		}
	}
	covered := map[string]bool{}
	if exc != nil {
		for _, fp := range exc.Fingerprints {
			covered[fp] = true
		}
	}
	now := s.now()
	var escapes []store.Escape
	for _, f := range sc.Findings {
		if !severityOf(f.Severity).AtLeast(p.EscapeRate.Severity) {
			continue
		}
		e := store.Escape{
			Repo: pr.Repo.String(), Fingerprint: f.Fingerprint, Rule: f.Rule, Severity: f.Severity,
			Path: f.Path, Redacted: f.Redacted, PR: pr.Number, SHA: pr.HeadSHA, DetectedAt: sc.At, At: now,
			Kind: store.EscapeAdvisory,
		}
		if covered[f.Fingerprint] {
			e.Kind, e.ExceptionID, e.Approver, e.Reason = store.EscapeOverridden, exc.ID, exc.Approver, exc.Reason
		}
		escapes = append(escapes, e)
	}
	s.noteEnforcement(ctx, pr, escapes)
	if err := s.closeException(ctx, exc); err != nil {
		return nil, err
	}
	out, err := s.reachProduction(ctx, c, pr.Repo, p, escapes)
	if err == nil && exc != nil && owedFixLater(*exc) {
		// The issue is opened now when GitHub lets it; TrackFixLater opens what this misses.
		if _, _, terr := s.trackFixLater(ctx, c, pr.Repo, *exc, pr.Author); terr != nil {
			s.logger(ctx).Warn().Err(terr).Int64("exception", exc.ID).Msg("fix-later issue not opened at merge; the periodic pass opens it")
		}
	}
	return out, err
}

// caughtAtMerge scans a merged head that was never checked and keeps the critical
// findings that some PR check of the repository raised before.
func (s *Service) caughtAtMerge(ctx context.Context, c gh.Client, pr PR) (store.Scan, error) {
	sc := store.Scan{Repo: pr.Repo.String(), SHA: pr.HeadSHA, PR: pr.Number, At: s.now()}
	ev, err := s.evaluate(ctx, c, pr)
	if err != nil {
		return sc, fmt.Errorf("scanning merged head %s@%s: %w", pr.Repo, short(pr.HeadSHA), err)
	}
	for _, f := range ev.raised {
		caught, err := s.store.WasCaught(ctx, pr.Repo.String(), f.Fingerprint)
		if err != nil {
			return sc, fmt.Errorf("reading caught findings: %w", err)
		}
		if caught {
			sc.Findings = append(sc.Findings, storeFinding(f))
		}
	}
	return sc, nil
}

// closeException marks an exception as merged: it no longer expires or covers anything new.
func (s *Service) closeException(ctx context.Context, exc *store.Exception) error {
	if exc == nil {
		return nil
	}
	exc.State, exc.EndedAt = store.ExceptionMerged, s.now()
	if err := s.store.UpdateException(ctx, *exc); err != nil {
		return fmt.Errorf("closing exception %d: %w", exc.ID, err)
	}
	return nil
}

// PushEvent is a push to a branch.
type PushEvent struct {
	Installation  int64
	Repo          gh.Repo
	RepoID        int64
	DefaultBranch string
	Ref           string
	Before, After string
	// Forced is a force push: Before need not be an ancestor of After.
	Forced       bool
	ChangedPaths []string // added, modified and removed paths named by the push's commits
}

const zeroSHA = "0000000000000000000000000000000000000000"

// Pushed scans a push to a production branch (the compare of before...after); critical
// risks no PR check ever raised escaped as missed. A push to a default branch that
// changes a policy file drops the cached policy.
func (s *Service) Pushed(ctx context.Context, ev PushEvent) ([]store.Escape, error) {
	branch := strings.TrimPrefix(ev.Ref, "refs/heads/")
	if branch == ev.Ref {
		return nil, nil // tags
	}
	if branch == ev.DefaultBranch {
		for _, p := range ev.ChangedPaths {
			if policy.IsPolicyPath(ev.Repo.Name, p) || strings.EqualFold(ev.Repo.Name, ".github") {
				s.ForgetPolicy(ev.Repo)
				break
			}
		}
	}
	if ev.After == zeroSHA || ev.Before == zeroSHA || ev.Before == "" {
		return nil, nil // branch created or deleted: nothing was added on top of production
	}
	c, err := s.client(ev.Installation)
	if err != nil {
		return nil, err
	}
	if _, err := s.ensureRepo(ctx, ev.Installation, ev.Repo, ev.RepoID, ev.DefaultBranch); err != nil {
		return nil, err
	}
	pol, err := s.Policy(ctx, c, ev.Repo, ev.DefaultBranch)
	if err != nil {
		return nil, err
	}
	p := pol.Policy
	if !p.IsProductionBranch(branch, ev.DefaultBranch) {
		return nil, nil
	}
	files, err := c.CompareCommits(ctx, ev.Repo, ev.Before, ev.After)
	if errors.Is(err, gh.ErrTooManyFiles) {
		// Scan what GitHub lists and say that the rest of this push was not seen.
		s.logger(ctx).Warn().Str("before", short(ev.Before)).Str("after", short(ev.After)).
			Int("scanned", len(files)).Msg("push changes more files than GitHub lists; the rest was not scanned for missed escapes")
	} else if err != nil {
		return nil, fmt.Errorf("comparing %s...%s on %s: %w", short(ev.Before), short(ev.After), ev.Repo, err)
	}
	eng, engErr := s.engineFor(ctx, c, ev.Repo, p)
	if engErr != nil {
		eng = s.base
	}
	res, err := s.scanFiles(ctx, c, ev.Repo, files, ev.After, ev.Before, eng)
	if err != nil {
		return nil, err
	}
	// What could not be read reached production unseen: an unknown, never clean.
	for _, u := range res.unscanned {
		s.unscannedPushed.Inc()
		s.logger(ctx).Warn().Str("escape", "unscanned").Str("path", u.Path).Str("why", u.Why).
			Str("before", short(ev.Before)).Str("after", short(ev.After)).
			Msg("file pushed to production could not be scanned: counted unscanned (unknown), not clean")
	}
	// A force push's before...after compares from the merge base, so it also lists what
	// the old head already had over that base (rewritten commits, already in production,
	// perhaps since before the install): only what the new head adds over the old one counts.
	had := map[string]bool{}
	if ev.Forced {
		old, err := c.CompareCommits(ctx, ev.Repo, ev.After, ev.Before)
		if err != nil && !errors.Is(err, gh.ErrTooManyFiles) {
			return nil, fmt.Errorf("comparing %s...%s on %s: %w", short(ev.After), short(ev.Before), ev.Repo, err)
		}
		oldRes, err := s.scanFiles(ctx, c, ev.Repo, old, ev.Before, ev.After, eng)
		if err != nil {
			return nil, err
		}
		for _, f := range oldRes.findings {
			had[f.Fingerprint] = true
		}
	}
	now := s.now()
	var escapes []store.Escape
	for _, f := range verdict.Raised(res.findings, verdictPolicy(p)) {
		if had[f.Fingerprint] {
			continue
		}
		caught, err := s.store.WasCaught(ctx, ev.Repo.String(), f.Fingerprint)
		if err != nil {
			return nil, fmt.Errorf("reading caught findings: %w", err)
		}
		if caught {
			continue // a PR check raised it: its merge accounts it
		}
		escapes = append(escapes, store.Escape{
			Repo: ev.Repo.String(), Fingerprint: f.Fingerprint, Kind: store.EscapeMissed, Rule: f.Rule,
			Severity: string(f.Severity), Path: f.Path, Redacted: f.Redacted, SHA: ev.After, DetectedAt: now, At: now,
		})
	}
	return s.reachProduction(ctx, c, ev.Repo, p, escapes)
}

// reachProduction records escapes now (trigger merge) or keeps them pending until a
// release or deployment ships them.
func (s *Service) reachProduction(ctx context.Context, c gh.Client, repo gh.Repo, p policy.Policy, escapes []store.Escape) ([]store.Escape, error) {
	if len(escapes) == 0 {
		return nil, nil
	}
	trigger := p.Production.Trigger
	if trigger == "" || trigger == TriggerMerge {
		return s.recordEscapes(ctx, c, repo, p, escapes)
	}
	// One transaction, once per fingerprint: a redelivered merge adds nothing, and
	// replicas adding at once do not overwrite each other.
	added, err := s.store.AddPending(ctx, repo.String(), escapes)
	if err != nil {
		return nil, fmt.Errorf("saving pending escapes: %w", err)
	}
	s.logger(ctx).Info().Int("escapes", added).Str("trigger", trigger).Msg("escapes wait for production")
	return nil, nil
}

func (s *Service) recordEscapes(ctx context.Context, c gh.Client, repo gh.Repo, p policy.Policy, escapes []store.Escape) ([]store.Escape, error) {
	var recorded []store.Escape
	for _, e := range escapes {
		got, first, err := s.store.AddEscape(ctx, e)
		if err != nil {
			return recorded, fmt.Errorf("recording escape: %w", err)
		}
		if first {
			recorded = append(recorded, got)
			s.logger(ctx).Warn().Str("kind", got.Kind).Str("rule", got.Rule).Str("path", got.Path).
				Int("from_pr", got.PR).Msg("critical risk reached production")
		}
	}
	if len(recorded) > 0 {
		if err := s.refreshReleaseComments(ctx, c, repo, p); err != nil {
			s.logger(ctx).Warn().Err(err).Msg("release comments not refreshed")
		}
	}
	return recorded, nil
}

// Shipped is a release published or a deployment that succeeded.
type Shipped struct {
	Installation  int64
	Repo          gh.Repo
	DefaultBranch string
	Trigger       string // release or deployment
	Environment   string // for deployments
	Tag           string // for releases
	At            time.Time
}

// Ship records the pending escapes of a repository when its production trigger fires,
// and remembers a published release so the release comment knows what each release carries.
func (s *Service) Ship(ctx context.Context, ev Shipped) ([]store.Escape, error) {
	c, pol, err := s.session(ctx, ev.Installation, ev.Repo, ev.DefaultBranch)
	if err != nil {
		return nil, err
	}
	p := pol.Policy
	if ev.Trigger == TriggerRelease {
		if err := s.rememberRelease(ctx, ev.Repo, ev.Tag, ev.At); err != nil {
			return nil, err
		}
	}
	if p.Production.Trigger != ev.Trigger {
		return nil, nil
	}
	if ev.Trigger == TriggerDeployment && !containsFold(p.Production.Environments, ev.Environment) {
		return nil, nil
	}
	// Taken and removed in one transaction: of replicas shipping at once, each
	// pending escape goes to one.
	list, err := s.store.TakePending(ctx, ev.Repo.String())
	if err != nil {
		return nil, fmt.Errorf("taking pending escapes: %w", err)
	}
	at := ev.At
	if at.IsZero() {
		at = s.now()
	}
	for i := range list {
		list[i].At = at
	}
	recorded, err := s.recordEscapes(ctx, c, ev.Repo, p, list)
	if err != nil {
		// Put them back for the next shipment (or this one's redelivery): an
		// escape recorded already is once per fingerprint, so it adds nothing then.
		if _, perr := s.store.AddPending(ctx, ev.Repo.String(), list); perr != nil {
			s.logger(ctx).Error().Err(perr).Int("escapes", len(list)).Msg("pending escapes not put back after a failed recording")
		}
	}
	return recorded, err
}
