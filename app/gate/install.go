package gate

import (
	"context"
	"fmt"
	"time"

	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/store"
)

// InstalledRepo is a repository named by an installation event.
type InstalledRepo struct {
	ID       int64
	FullName string
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
