package gate

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/policy"
	"github.com/escapegate/escapegate/app/render"
	"github.com/escapegate/escapegate/store"
)

// RefreshEnforcement reads from GitHub whether the escapegate check is required on the
// repository's production branches (rulesets and classic branch protection) and records
// it. A check that is not required is advisory: a failing pull request can merge, and each
// such merge is an escape. It costs two reads per production branch and is run on
// install, on branch_protection_rule and repository_ruleset events, on a merge that
// escaped as advisory, and daily (docs/enforcement.md).
// defaultBranch may be "" when the repository is known to the store already.
func (s *Service) RefreshEnforcement(ctx context.Context, inst int64, repo gh.Repo, repoID int64, defaultBranch string) (store.Enforcement, error) {
	if defaultBranch == "" {
		if known, err := s.store.GetRepository(ctx, repo.String()); err == nil {
			defaultBranch = known.DefaultBranch
		}
	}
	rp, err := s.ensureRepo(ctx, inst, repo, repoID, defaultBranch)
	if err != nil {
		return store.Enforcement{}, err
	}
	c, pol, err := s.session(ctx, inst, repo, rp.DefaultBranch)
	if err != nil {
		return store.Enforcement{}, err
	}
	e := store.Enforcement{CheckedAt: s.now()}
	for _, b := range productionBranches(pol.Policy, rp.DefaultBranch) {
		reqs, err := c.BranchRequirements(ctx, repo, b)
		if err != nil {
			return store.Enforcement{}, fmt.Errorf("reading what %s requires: %w", b, err)
		}
		e.Branches = append(e.Branches, b)
		via, other := s.requiresEscapegate(reqs)
		e.OtherApp = e.OtherApp || other
		if len(via) == 0 {
			e.Missing = append(e.Missing, b)
			continue
		}
		for _, v := range via {
			if !slices.Contains(e.Via, v) {
				e.Via = append(e.Via, v)
			}
		}
	}
	e.Required = len(e.Branches) > 0 && len(e.Missing) == 0
	if err := s.putEnforcement(ctx, repo, e); err != nil {
		return store.Enforcement{}, err
	}
	return e, nil
}

// requiresEscapegate returns what requires this app's check among reqs, and whether a
// check of the same name is required from another app (which escapegate cannot satisfy,
// so it blocks every PR rather than enforcing this one: a misconfiguration worth naming).
func (s *Service) requiresEscapegate(reqs []gh.RequiredCheck) (via []string, otherApp bool) {
	for _, r := range reqs {
		if r.Context != CheckName {
			continue
		}
		if r.AppID != 0 && s.appID != 0 && r.AppID != s.appID {
			otherApp = true
			continue
		}
		via = append(via, r.Source)
	}
	return via, otherApp
}

// productionBranches are the branches whose protection decides whether a failing PR can
// reach production: the default branch unless production.branches replaces it, and the
// production.branches named literally (a pattern names no branch to read).
func productionBranches(p policy.Policy, defaultBranch string) []string {
	var out []string
	if defaultBranch != "" && (len(p.Production.Branches) == 0 || p.Production.AlsoDefaultBranch) {
		out = append(out, defaultBranch)
	}
	for _, b := range p.Production.Branches {
		if !strings.ContainsAny(b, "*?[") && !slices.Contains(out, b) {
			out = append(out, b)
		}
	}
	return out
}

// putEnforcement records e on the repository record as it stands now, so its other
// fields are kept. (A write of the record racing this one can drop e; it is read again
// at the next trigger, daily at the latest.)
func (s *Service) putEnforcement(ctx context.Context, repo gh.Repo, e store.Enforcement) error {
	rp, err := s.store.GetRepository(ctx, repo.String())
	if err != nil {
		return fmt.Errorf("reading repository %s: %w", repo, err)
	}
	rp.Enforcement = &e
	if err := s.store.PutRepository(ctx, rp); err != nil {
		return fmt.Errorf("recording enforcement of %s: %w", repo, err)
	}
	return nil
}

// RefreshAllEnforcement re-reads the enforcement of every repository of an installation
// not read in the last fresh (0: all of them), pausing pace between repositories; one
// repository's error does not stop the rest. It returns how many it read.
func (s *Service) RefreshAllEnforcement(ctx context.Context, inst int64, fresh, pace time.Duration) (int, error) {
	var notSince time.Time
	if fresh > 0 {
		notSince = s.now().Add(-fresh)
	}
	return s.refreshAll(ctx, inst, notSince, pace)
}

// refreshAll is RefreshAllEnforcement for the repositories not read since notSince
// (zero: all of them).
func (s *Service) refreshAll(ctx context.Context, inst int64, notSince time.Time, pace time.Duration) (int, error) {
	repos, err := s.store.ListRepositories(ctx, inst)
	if err != nil {
		return 0, fmt.Errorf("listing repositories of installation %d: %w", inst, err)
	}
	n := 0
	var errs []error
	for _, rp := range repos {
		if !rp.RemovedAt.IsZero() || (!notSince.IsZero() && rp.Enforcement != nil && !rp.Enforcement.CheckedAt.Before(notSince)) {
			continue
		}
		if n > 0 {
			if err := sleep(ctx, pace); err != nil {
				return n, err
			}
		}
		repo, err := gh.ParseRepo(rp.FullName)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, err := s.RefreshEnforcement(ctx, inst, repo, rp.ID, rp.DefaultBranch); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	if len(errs) > 0 {
		return n, fmt.Errorf("enforcement of %d repositories not read: %w", len(errs), errs[0])
	}
	return n, nil
}

// RefreshEnforcementAfterChange re-reads every repository of an installation after a
// change that names none (an organization's ruleset), for delivery id. The first
// attempt records when it started; a retry of the same delivery (after a failure or a
// restart part-way) reads only the repositories not read since then, so thousands of
// repositories are not read again from the start each time.
func (s *Service) RefreshEnforcementAfterChange(ctx context.Context, inst int64, id string, pace time.Duration) (int, error) {
	key := "enforcement/refresh/" + id
	started := s.now().UTC()
	stamp := []byte(started.Format(time.RFC3339Nano))
	claimed, err := s.store.ClaimOnce(ctx, key, stamp)
	if err != nil {
		return 0, fmt.Errorf("recording the refresh of installation %d: %w", inst, err)
	}
	if !claimed {
		b, err := s.store.GetSetting(ctx, key)
		if err != nil {
			return 0, fmt.Errorf("reading the refresh of installation %d: %w", inst, err)
		}
		if t, err := time.Parse(time.RFC3339Nano, string(b)); err == nil {
			started = t
		}
	}
	n, err := s.refreshAll(ctx, inst, started, pace)
	if err != nil {
		return n, err
	}
	if err := s.store.DeleteSetting(ctx, key); err != nil {
		s.logger(ctx).Warn().Err(err).Str("key", key).Msg("refresh record not deleted")
	}
	return n, nil
}

// noteEnforcement reads the repository's rules again when a merge escaped as advisory
// (its failing check did not block it) and writes on each advisory escape what was
// missing. A read that fails leaves the escapes as they are: the accounting matters more.
func (s *Service) noteEnforcement(ctx context.Context, pr PR, escapes []store.Escape) {
	if !slices.ContainsFunc(escapes, func(e store.Escape) bool { return e.Kind == store.EscapeAdvisory }) {
		return
	}
	e, err := s.RefreshEnforcement(ctx, pr.Installation, pr.Repo, pr.RepoID, pr.DefaultBranch)
	if err != nil {
		s.logger(ctx).Warn().Err(err).Msg("enforcement not read after an advisory merge")
		return
	}
	note := render.Enforcement(e, CheckName)
	for i := range escapes {
		if escapes[i].Kind == store.EscapeAdvisory {
			escapes[i].Enforcement = note
		}
	}
}
