package summary

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/store"
)

// Destination is where an installation's summary goes and how its org counts: a client
// acting as the installation, the repository of its policy's summary.repository, and
// the policy's escape_rate settings (zero values keep the Runner's).
type Destination struct {
	Client      gh.Client
	Repo        gh.Repo
	WindowDays  int
	MinSeverity checks.Severity
}

// Target tells the scheduler an installation's Destination; ok is false when the
// policy names no summary repository. It is a callback so that this package does not
// depend on policy loading.
type Target func(ctx context.Context, inst store.Installation) (d Destination, ok bool, err error)

// Scheduler runs every installation's monthly summary when it is due.
type Scheduler struct {
	Store  store.Store
	Target Target
	Runner Runner
	Log    zerolog.Logger
}

// Loop runs the due summaries once at start and then at every tick, until ctx is
// cancelled (it then returns ctx's error). Ticks carry the time to use, so tests
// drive it with their own channel and production with a time.Ticker's C.
func (s *Scheduler) Loop(ctx context.Context, ticks <-chan time.Time) error {
	s.runLogged(ctx, s.Runner.now())
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case t, ok := <-ticks:
			if !ok {
				return nil
			}
			s.runLogged(ctx, t)
		}
	}
}

func (s *Scheduler) runLogged(ctx context.Context, now time.Time) {
	if _, err := s.RunDue(ctx, now); err != nil && ctx.Err() == nil {
		s.Log.Error().Err(err).Msg("monthly summary")
	}
}

// RunDue runs the summary due at now for every installation that is neither deleted
// nor suspended and existed before the month ended. One installation's failure does
// not stop the others; the errors are joined.
func (s *Scheduler) RunDue(ctx context.Context, now time.Time) ([]Outcome, error) {
	month, ok := Due(now)
	if !ok {
		return nil, nil
	}
	insts, err := s.Store.ListInstallations(ctx)
	if err != nil {
		return nil, fmt.Errorf("monthly summary: list installations: %w", err)
	}
	r := s.Runner
	if r.Now == nil {
		r.Now = func() time.Time { return now }
	}
	var outs []Outcome
	var errs []error
	for _, inst := range insts {
		if err := ctx.Err(); err != nil {
			return outs, err
		}
		if !inst.DeletedAt.IsZero() || inst.Suspended || (!inst.CreatedAt.IsZero() && !inst.CreatedAt.Before(month.AddDate(0, 1, 0))) {
			continue
		}
		d, ok, err := s.Target(ctx, inst)
		if err != nil {
			errs = append(errs, fmt.Errorf("monthly summary of %s: %w", inst.Account, err))
			continue
		}
		if !ok {
			continue
		}
		run := r
		if d.WindowDays > 0 {
			run.WindowDays = d.WindowDays
		}
		if d.MinSeverity != "" {
			run.MinSeverity = d.MinSeverity
		}
		out, err := run.Run(ctx, s.Store, d.Client, inst, d.Repo, month, false)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if out.Status == StatusCreated {
			s.Log.Info().Int64("installation", inst.ID).Str("account", inst.Account).Str("repo", d.Repo.String()).
				Int("issue", out.Issue.Number).Msg("monthly summary created")
		}
		outs = append(outs, out)
	}
	return outs, errors.Join(errs...)
}
