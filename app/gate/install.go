package gate

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/store"
)

// InstalledRepo is a repository named by an installation event or GitHub's list.
type InstalledRepo struct {
	ID       int64
	FullName string
	// DefaultBranch is known when GitHub's list gives it (SyncRepositories); ReposAdded
	// reads it from GitHub.
	DefaultBranch string
}

// Installed records an installation and its repositories; nothing before this
// moment counts toward any rate. Then it checks the open pull requests of the new
// repositories, paced so a large install stays inside GitHub's rate limits.
func (s *Service) Installed(ctx context.Context, in store.Installation, repos []InstalledRepo, pace time.Duration) error {
	if in.CreatedAt.IsZero() {
		in.CreatedAt = s.now()
	}
	if old, err := s.store.GetInstallation(ctx, in.ID); err == nil && old.DeletedAt.IsZero() {
		in.CreatedAt = old.CreatedAt
	}
	if err := s.store.PutInstallation(ctx, in); err != nil {
		return fmt.Errorf("recording installation %d: %w", in.ID, err)
	}
	return s.ReposAdded(ctx, in.ID, repos, pace)
}

// ReposAdded records repositories added to an installation and checks their open PRs.
func (s *Service) ReposAdded(ctx context.Context, inst int64, repos []InstalledRepo, pace time.Duration) error {
	c, err := s.client(inst)
	if err != nil {
		return err
	}
	for _, r := range repos {
		repo, err := gh.ParseRepo(r.FullName)
		if err != nil {
			return err
		}
		defaultBranch, err := c.GetRepository(ctx, repo)
		if err != nil {
			return fmt.Errorf("reading %s: %w", repo, err)
		}
		if _, err := s.ensureRepo(ctx, inst, repo, r.ID, defaultBranch); err != nil {
			return err
		}
		if err := sleep(ctx, pace); err != nil { // two more reads per branch: paced like the PR checks
			return err
		}
		if _, err := s.RefreshEnforcement(ctx, inst, repo, r.ID, defaultBranch); err != nil {
			s.logger(ctx).Warn().Err(err).Str("repo", repo.String()).Msg("enforcement not read at install; the daily reconcile reads it again")
		}
		prs, err := c.ListOpenPullRequests(ctx, repo)
		if err != nil {
			return fmt.Errorf("listing open pull requests of %s: %w", repo, err)
		}
		for _, x := range prs {
			if err := sleep(ctx, pace); err != nil {
				return err
			}
			pr := PR{Installation: inst, Repo: repo, RepoID: r.ID, DefaultBranch: defaultBranch, Number: x.Number,
				Author: x.Author, HeadSHA: x.HeadSHA, BaseSHA: x.BaseSHA, HeadRef: x.HeadRef, BaseRef: x.BaseRef,
				Title: x.Title, Labels: x.Labels}
			if _, err := s.CheckPullRequest(ctx, pr); err != nil {
				s.logger(ctx).Warn().Err(err).Str("repo", repo.String()).Int("pr", x.Number).Msg("install-time check failed")
			}
		}
	}
	return nil
}

// ReposRemoved marks repositories as no longer covered; their history stays.
func (s *Service) ReposRemoved(ctx context.Context, names []string) error {
	for _, n := range names {
		r, err := s.store.GetRepository(ctx, n)
		if err != nil {
			if isNotFound(err) {
				continue
			}
			return fmt.Errorf("reading %s: %w", n, err)
		}
		r.RemovedAt = s.now()
		if err := s.store.PutRepository(ctx, r); err != nil {
			return fmt.Errorf("recording removal of %s: %w", n, err)
		}
	}
	return nil
}

// InstallationChanged records deleted, suspended and unsuspended installations.
func (s *Service) InstallationChanged(ctx context.Context, id int64, action string) error {
	in, err := s.store.GetInstallation(ctx, id)
	if err != nil {
		if isNotFound(err) {
			in = store.Installation{ID: id, CreatedAt: s.now()}
		} else {
			return fmt.Errorf("reading installation %d: %w", id, err)
		}
	}
	switch action {
	case "deleted":
		in.DeletedAt = s.now()
		// Its repositories are no longer covered: a later install counts from then, not from before.
		repos, err := s.store.ListRepositories(ctx, id)
		if err != nil {
			return fmt.Errorf("listing repositories of installation %d: %w", id, err)
		}
		var names []string
		for _, r := range repos {
			names = append(names, r.FullName)
		}
		if err := s.ReposRemoved(ctx, names); err != nil {
			return err
		}
	case "suspend":
		in.Suspended = true
	case "unsuspend":
		in.Suspended = false
	default:
		return nil
	}
	if err := s.store.PutInstallation(ctx, in); err != nil {
		return fmt.Errorf("recording installation %d %s: %w", id, action, err)
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ensureInstallation records an installation that an event names but the store lacks
// (its installation event was lost, or came before the store existed), so that the
// monthly summary and `escapegate summary` know it. The account is the repository's
// owner; the reconcile with GitHub's list fills in the rest. A deleted installation
// stays deleted: a late or redelivered event does not bring it back.
func (s *Service) ensureInstallation(ctx context.Context, id int64, account string) error {
	if id == 0 {
		return nil
	}
	s.mu.Lock()
	known := s.installs[id]
	s.mu.Unlock()
	if known {
		return nil
	}
	_, err := s.store.GetInstallation(ctx, id)
	switch {
	case err == nil:
	case isNotFound(err):
		created, err := s.firstAdded(ctx, id)
		if err != nil {
			return err
		}
		if err := s.store.PutInstallation(ctx, store.Installation{ID: id, Account: account, CreatedAt: created}); err != nil {
			return fmt.Errorf("recording installation %d: %w", id, err)
		}
		s.logger(ctx).Info().Int64("installation", id).Str("account", account).Msg("installation recorded from an event that names it")
	default:
		return fmt.Errorf("reading installation %d: %w", id, err)
	}
	s.mu.Lock()
	s.installs[id] = true
	s.mu.Unlock()
	return nil
}

// firstAdded is when the store first covered one of the installation's repositories, or
// now: what an installation recorded late counts from.
func (s *Service) firstAdded(ctx context.Context, id int64) (time.Time, error) {
	first := s.now()
	repos, err := s.store.ListRepositories(ctx, id)
	if err != nil {
		return first, fmt.Errorf("listing repositories of installation %d: %w", id, err)
	}
	for _, r := range repos {
		if !r.AddedAt.IsZero() && r.AddedAt.Before(first) {
			first = r.AddedAt
		}
	}
	return first, nil
}

// RecordInstallation makes the store's installation record match in, as GitHub lists
// it (account, type, suspension). created says the store lacked it (or had it deleted),
// changed that anything was written. A live record keeps its CreatedAt; a missing one
// counts from its first recorded repository (or now); one the store had as deleted is
// live again from now, as after a new install.
func (s *Service) RecordInstallation(ctx context.Context, in store.Installation) (created, changed bool, err error) {
	in.DeletedAt = time.Time{}
	old, err := s.store.GetInstallation(ctx, in.ID)
	switch {
	case err == nil && old.DeletedAt.IsZero():
		in.CreatedAt = old.CreatedAt
		if old.Account == in.Account && old.AccountType == in.AccountType && old.Suspended == in.Suspended {
			return false, false, nil
		}
	case err == nil:
		in.CreatedAt, created = s.now(), true
	case isNotFound(err):
		if in.CreatedAt, err = s.firstAdded(ctx, in.ID); err != nil {
			return false, false, err
		}
		created = true
	default:
		return false, false, fmt.Errorf("reading installation %d: %w", in.ID, err)
	}
	if err := s.store.PutInstallation(ctx, in); err != nil {
		return false, false, fmt.Errorf("recording installation %d: %w", in.ID, err)
	}
	s.mu.Lock()
	s.installs[in.ID] = true
	s.mu.Unlock()
	return created, true, nil
}

// SyncRepositories makes the store's repositories of an installation match repos, the
// complete list GitHub gives: missing ones are recorded (counting from now, like an
// event that names them first), default branches and moves between installations are
// updated, and those no longer listed are marked removed. Unlike ReposAdded it asks
// GitHub nothing and checks no pull request.
func (s *Service) SyncRepositories(ctx context.Context, inst int64, repos []InstalledRepo) (added, removed int, err error) {
	stored, err := s.store.ListRepositories(ctx, inst)
	if err != nil {
		return 0, 0, fmt.Errorf("listing repositories of installation %d: %w", inst, err)
	}
	live := map[string]string{} // lower-case name -> name, of repositories covered now
	for _, r := range stored {
		if r.RemovedAt.IsZero() {
			live[strings.ToLower(r.FullName)] = r.FullName
		}
	}
	for _, r := range repos {
		repo, err := gh.ParseRepo(r.FullName)
		if err != nil {
			return added, removed, err
		}
		key := strings.ToLower(r.FullName)
		if _, ok := live[key]; ok {
			delete(live, key)
		} else {
			added++
		}
		if _, err := s.ensureRepo(ctx, inst, repo, r.ID, r.DefaultBranch); err != nil {
			return added, removed, err
		}
	}
	gone := make([]string, 0, len(live))
	for _, n := range live {
		gone = append(gone, n)
	}
	sort.Strings(gone)
	if err := s.ReposRemoved(ctx, gone); err != nil {
		return added, len(gone), err
	}
	return added, len(gone), nil
}
