package recovery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/escapegate/escapegate/app/gate"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/store"
)

// ReconcileResult says what one reconcile changed in the store.
type ReconcileResult struct {
	Listed              int     // installations GitHub listed
	Added, Updated      []int64 // installations recorded, or whose record changed
	Deleted             []int64 // installations GitHub no longer lists, marked deleted
	ReposAdded, Removed int     // repositories recorded, marked removed
	EnforcementRead     int     // repositories whose required checks were read again
}

// enforcementFresh is how old a repository's enforcement may be before the reconcile
// reads it again: a restart does not re-read what the daily run read this morning.
const enforcementFresh = 20 * time.Hour

// Reconcile lists the app's installations and each one's repositories and brings the
// store's records in line, through the gate (the rules of installation events, without
// checking pull requests). Installations GitHub no longer lists are marked deleted. One
// installation whose repositories cannot be listed keeps them as they are; the errors
// are joined. It does not claim a slot (TryReconcile does).
func (s *Service) Reconcile(ctx context.Context) (ReconcileResult, error) {
	s.recMu.Lock()
	defer s.recMu.Unlock()
	res, err := s.reconcile(ctx)
	outcome := "ok"
	if err != nil {
		outcome = "error"
	} else {
		s.metrics.lastReconcile.SetToCurrentTime()
	}
	s.metrics.reconciles.WithLabelValues(outcome).Inc()
	return res, err
}

func (s *Service) reconcile(ctx context.Context) (ReconcileResult, error) {
	var res ReconcileResult
	if s.o.Gate == nil {
		return res, errors.New("recovery: the reconcile needs the gate")
	}
	listed, err := s.o.App.ListInstallations(ctx)
	if err != nil {
		return res, fmt.Errorf("listing the app's installations: %w", err)
	}
	res.Listed = len(listed)
	s.metrics.installations.Set(float64(len(listed)))
	live := map[int64]bool{}
	var errs []error
	for i, in := range listed {
		live[in.ID] = true
		if i > 0 {
			if err := s.o.Sleep(ctx, s.o.Pace); err != nil {
				return res, err
			}
		}
		log := s.o.Log.With().Int64("installation", in.ID).Str("account", in.Account).Logger()
		created, changed, err := s.o.Gate.RecordInstallation(ctx, store.Installation{
			ID: in.ID, Account: in.Account, AccountType: in.AccountType, Suspended: in.Suspended,
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		switch {
		case created:
			res.Added = append(res.Added, in.ID)
			s.metrics.changes.WithLabelValues("installation_added").Inc()
			log.Info().Msg("installation recorded from GitHub's list")
		case changed:
			res.Updated = append(res.Updated, in.ID)
			s.metrics.changes.WithLabelValues("installation_updated").Inc()
		}
		if in.Suspended {
			continue // a suspended installation gets no token: its repositories stay as they are
		}
		repos, err := s.o.App.ListInstallationRepositories(ctx, in.ID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		added, removed, err := s.o.Gate.SyncRepositories(ctx, in.ID, installedRepos(repos))
		res.ReposAdded, res.Removed = res.ReposAdded+added, res.Removed+removed
		s.metrics.changes.WithLabelValues("repository_added").Add(float64(added))
		s.metrics.changes.WithLabelValues("repository_removed").Add(float64(removed))
		if added > 0 || removed > 0 {
			log.Info().Int("added", added).Int("removed", removed).Msg("repositories reconciled with GitHub's list")
		}
		if err != nil {
			errs = append(errs, err)
		}
		// Whether the check is required changes in settings that send this app no event
		// (an organization's rulesets), so it is read again daily with the rest.
		read, err := s.o.Gate.RefreshAllEnforcement(ctx, in.ID, enforcementFresh, s.o.Pace)
		res.EnforcementRead += read
		if err != nil {
			log.Warn().Err(err).Msg("enforcement of some repositories not read")
		}
	}
	stored, err := s.o.Store.ListInstallations(ctx)
	if err != nil {
		return res, errors.Join(append(errs, fmt.Errorf("listing stored installations: %w", err))...)
	}
	for _, in := range stored {
		if live[in.ID] || !in.DeletedAt.IsZero() {
			continue
		}
		if err := s.o.Gate.InstallationChanged(ctx, in.ID, "deleted"); err != nil {
			errs = append(errs, err)
			continue
		}
		res.Deleted = append(res.Deleted, in.ID)
		s.metrics.changes.WithLabelValues("installation_deleted").Inc()
		s.o.Log.Warn().Int64("installation", in.ID).Str("account", in.Account).Msg("installation GitHub no longer lists marked deleted")
	}
	s.o.Log.Info().Int("listed", res.Listed).Int("added", len(res.Added)).Int("updated", len(res.Updated)).
		Int("deleted", len(res.Deleted)).Int("repos_added", res.ReposAdded).Int("repos_removed", res.Removed).
		Msg("installations reconciled")
	return res, errors.Join(errs...)
}

func installedRepos(rs []gh.InstallationRepo) []gate.InstalledRepo {
	out := make([]gate.InstalledRepo, 0, len(rs))
	for _, r := range rs {
		out = append(out, gate.InstalledRepo{ID: r.ID, FullName: r.FullName, DefaultBranch: r.DefaultBranch})
	}
	return out
}
