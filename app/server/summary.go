package server

import (
	"context"
	"fmt"
	"time"

	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/policy"
	"github.com/escapegate/escapegate/app/summary"
	"github.com/escapegate/escapegate/store"
)

// summaryTarget resolves where an installation's monthly summary goes: the org
// policy's summary.repository. A missing repository is a readiness detail (creating
// it would need the administration permission, which escapegate does not ask for).
func (s *Server) summaryTarget(ctx context.Context, inst store.Installation) (summary.Destination, bool, error) {
	key := "summary/" + inst.Account
	c, err := s.clients(inst.ID)
	if err != nil {
		return summary.Destination{}, false, err
	}
	res, err := s.gate.Policy(ctx, c, gh.Repo{Owner: inst.Account, Name: policy.OrgRepo}, "")
	if err != nil {
		return summary.Destination{}, false, err
	}
	p := res.Policy
	if p.Summary.Repository == "" {
		s.SetProblem(key, "")
		return summary.Destination{}, false, nil
	}
	repo := gh.Repo{Owner: inst.Account, Name: p.Summary.Repository}
	if _, err := c.GetRepository(ctx, repo); err != nil {
		why := fmt.Sprintf("summary.repository %s cannot be read (%v): create it and add it to the installation", repo, err)
		s.SetProblem(key, why)
		s.log.Warn().Str("org", inst.Account).Str("repository", repo.String()).Err(err).Msg("monthly summary repository missing")
		return summary.Destination{}, false, nil
	}
	s.SetProblem(key, "")
	return summary.Destination{Client: c, Repo: repo, WindowDays: p.EscapeRate.WindowDays, MinSeverity: p.EscapeRate.Severity}, true, nil
}

// RunMonthlySummaries posts each installation's summary once its month is due,
// checking at start and then every interval until ctx ends. Several replicas may
// run it: the store's claim and a title search keep it to one issue.
func (s *Server) RunMonthlySummaries(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	sch := summary.Scheduler{Store: s.store, Target: s.summaryTarget, Log: s.log}
	if err := sch.Loop(ctx, t.C); err != nil && ctx.Err() == nil {
		s.log.Error().Err(err).Msg("monthly summaries stopped")
	}
}

// RunSummary renders (dryRun) or posts one installation's summary for month.
func (s *Server) RunSummary(ctx context.Context, installationID int64, month time.Time, dryRun bool) (summary.Outcome, error) {
	inst, err := s.store.GetInstallation(ctx, installationID)
	if err != nil {
		return summary.Outcome{}, fmt.Errorf("installation %d: %w", installationID, err)
	}
	d, ok, err := s.summaryTarget(ctx, inst)
	if err != nil {
		return summary.Outcome{}, err
	}
	if !ok && !dryRun {
		return summary.Outcome{}, fmt.Errorf("the org policy of %s names no readable summary.repository", inst.Account)
	}
	r := summary.Runner{WindowDays: d.WindowDays, MinSeverity: d.MinSeverity}
	return r.Run(ctx, s.store, d.Client, inst, d.Repo, month, dryRun)
}

// FindInstallation returns the installation of an org or user account.
func FindInstallation(ctx context.Context, st store.Store, account string) (store.Installation, error) {
	list, err := st.ListInstallations(ctx)
	if err != nil {
		return store.Installation{}, err
	}
	for _, in := range list {
		if equalFold(in.Account, account) && in.DeletedAt.IsZero() {
			return in, nil
		}
	}
	return store.Installation{}, fmt.Errorf("no installation of %s in the store: %w", account, store.ErrNotFound)
}
