package summary

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/policy"
	"github.com/escapegate/escapegate/store"
)

// PolicyFunc loads the effective policy of a repository (the org's, for its .github
// repository); policy.Loader.Load and gate.Service.Policy both are one.
type PolicyFunc func(ctx context.Context, c gh.Client, repo gh.Repo, defaultBranch string) (policy.Result, error)

// Service posts the monthly summaries of every installation: where each goes comes
// from its org policy's summary.repository.
type Service struct {
	Store   store.Store
	Clients gh.Factory
	Policy  PolicyFunc
	// Problem records (why != "") or clears (why == "") a readiness detail such as a
	// missing summary repository; nil ignores them.
	Problem func(key, why string)
	Log     zerolog.Logger
	Runner  Runner
}

func (s *Service) problem(key, why string) {
	if s.Problem != nil {
		s.Problem(key, why)
	}
}

// Target resolves where an installation's monthly summary goes. A missing repository
// is a readiness problem, not an error: creating it would need the administration
// permission, which escapegate does not ask for.
func (s *Service) Target(ctx context.Context, inst store.Installation) (Destination, bool, error) {
	key := "summary/" + inst.Account
	c, err := s.Clients(inst.ID)
	if err != nil {
		return Destination{}, false, fmt.Errorf("GitHub client for installation %d: %w", inst.ID, err)
	}
	res, err := s.Policy(ctx, c, gh.Repo{Owner: inst.Account, Name: policy.OrgRepo}, "")
	if err != nil {
		return Destination{}, false, err
	}
	p := res.Policy
	if p.Summary.Repository == "" {
		s.problem(key, "")
		return Destination{}, false, nil
	}
	repo := gh.Repo{Owner: inst.Account, Name: p.Summary.Repository}
	if _, err := c.GetRepository(ctx, repo); err != nil {
		why := fmt.Sprintf("summary.repository %s cannot be read (%v): create it and add it to the installation", repo, err)
		s.problem(key, why)
		s.Log.Warn().Str("org", inst.Account).Str("repository", repo.String()).Err(err).Msg("monthly summary repository missing")
		return Destination{}, false, nil
	}
	s.problem(key, "")
	return Destination{Client: c, Repo: repo, WindowDays: p.EscapeRate.WindowDays, MinSeverity: p.EscapeRate.Severity}, true, nil
}

// Loop posts each installation's summary once its month is due, checking at start and
// then every interval until ctx ends. Several replicas may run it: the store's claim
// and the lookup before creating (package claim) keep it to one issue.
func (s *Service) Loop(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	sch := Scheduler{Store: s.Store, Target: s.Target, Runner: s.Runner, Log: s.Log}
	if err := sch.Loop(ctx, t.C); err != nil && ctx.Err() == nil {
		s.Log.Error().Err(err).Msg("monthly summaries stopped")
	}
}

// RunOne renders (dryRun) or posts one installation's summary for month.
func (s *Service) RunOne(ctx context.Context, installationID int64, month time.Time, dryRun bool) (Outcome, error) {
	inst, err := s.Store.GetInstallation(ctx, installationID)
	if err != nil {
		return Outcome{}, fmt.Errorf("installation %d: %w", installationID, err)
	}
	d, ok, err := s.Target(ctx, inst)
	if err != nil {
		return Outcome{}, err
	}
	if !ok && !dryRun {
		return Outcome{}, fmt.Errorf("the org policy of %s names no readable summary.repository", inst.Account)
	}
	r := s.Runner
	r.WindowDays, r.MinSeverity = d.WindowDays, d.MinSeverity
	return r.Run(ctx, s.Store, d.Client, inst, d.Repo, month, dryRun)
}

// FindInstallation returns the live installation of an org or user account.
func FindInstallation(ctx context.Context, st store.Store, account string) (store.Installation, error) {
	list, err := st.ListInstallations(ctx)
	if err != nil {
		return store.Installation{}, fmt.Errorf("listing installations: %w", err)
	}
	for _, in := range list {
		if strings.EqualFold(in.Account, account) && in.DeletedAt.IsZero() {
			return in, nil
		}
	}
	return store.Installation{}, fmt.Errorf("no installation of %s in the store: %w", account, store.ErrNotFound)
}
