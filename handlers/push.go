package handlers

import (
	"context"
	"fmt"

	"github.com/google/go-github/v62/github"

	"github.com/escapegate/escapegate/app/gate"
)

// Push handles pushes: production pushes are scanned for risks no PR check caught.
type Push struct{ Deps }

// Handles implements githubapp.EventHandler.
func (h *Push) Handles() []string { return []string{"push"} }

// Handle implements githubapp.EventHandler.
func (h *Push) Handle(ctx context.Context, _, _ string, payload []byte) error {
	var ev github.PushEvent
	if err := decode(payload, &ev); err != nil {
		return err
	}
	// A push payload's repository is a PushEventRepository: owner/name and default branch come from it.
	r := ev.GetRepo()
	if r == nil {
		return fmt.Errorf("payload has no repository")
	}
	repo, err := repoOf(&github.Repository{FullName: r.FullName})
	if err != nil {
		return err
	}
	var paths []string
	for _, c := range ev.Commits {
		paths = append(paths, c.Added...)
		paths = append(paths, c.Modified...)
		paths = append(paths, c.Removed...) // a deleted policy file changes the policy too
	}
	_, err = h.Gate.Pushed(ctx, gate.PushEvent{
		Installation: ev.GetInstallation().GetID(), Repo: repo, RepoID: r.GetID(),
		DefaultBranch: r.GetDefaultBranch(), Ref: ev.GetRef(), Before: ev.GetBefore(), After: ev.GetAfter(),
		Forced: ev.GetForced(), ChangedPaths: paths,
	})
	return err
}
