package summary

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/store"
)

// Target tells the scheduler where an installation's summary goes: a client acting
// as the installation and the repository of its policy's summary.repository.
// ok is false when the policy names none (no summary for that organisation).
// It is a callback so that this package does not depend on policy loading.
type Target func(ctx context.Context, inst store.Installation) (c gh.Client, repo gh.Repo, ok bool, err error)

// Scheduler runs every installation's monthly summary when it is due.
type Scheduler struct {
	Store  store.Store
	Target Target
	Runner Runner
	Log    *slog.Logger // default slog.Default()
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
		s.log().ErrorContext(ctx, "monthly summary", "err", err)
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
		c, repo, ok, err := s.Target(ctx, inst)
		if err != nil {
			errs = append(errs, fmt.Errorf("monthly summary of %s: %w", inst.Account, err))
			continue
		}
		if !ok {
			continue
		}
		out, err := r.Run(ctx, s.Store, c, inst, repo, month, false)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if out.Status == StatusCreated {
			s.log().InfoContext(ctx, "monthly summary created", "installation", inst.ID, "account", inst.Account, "repo", repo.String(), "issue", out.Issue.Number)
		}
		outs = append(outs, out)
	}
	return outs, errors.Join(errs...)
}

func (s *Scheduler) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}
