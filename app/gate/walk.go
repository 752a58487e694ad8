package gate

import (
	"context"
	"fmt"

	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/store"
)

// eachLiveRepo calls fn for every repository of every installation that is not deleted,
// suspended or removed, in the store's order; an error of fn stops the walk.
func (s *Service) eachLiveRepo(ctx context.Context, fn func(inst int64, repo gh.Repo, r store.Repository) error) error {
	insts, err := s.store.ListInstallations(ctx)
	if err != nil {
		return fmt.Errorf("listing installations: %w", err)
	}
	for _, in := range insts {
		if !in.DeletedAt.IsZero() || in.Suspended {
			continue
		}
		repos, err := s.store.ListRepositories(ctx, in.ID)
		if err != nil {
			return fmt.Errorf("listing repositories of installation %d: %w", in.ID, err)
		}
		for _, r := range repos {
			if !r.RemovedAt.IsZero() {
				continue
			}
			repo, err := gh.ParseRepo(r.FullName)
			if err != nil {
				continue
			}
			if err := fn(in.ID, repo, r); err != nil {
				return err
			}
		}
	}
	return nil
}
