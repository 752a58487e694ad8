package handlers

import (
	"context"

	"github.com/google/go-github/v62/github"

	"github.com/escapegate/escapegate/app/gate"
	"github.com/escapegate/escapegate/app/gh"
)

// CheckRun handles check_run and check_suite re-requests: the head SHA is checked again.
type CheckRun struct{ Deps }

// Handles implements githubapp.EventHandler.
func (h *CheckRun) Handles() []string { return []string{"check_run", "check_suite"} }

// Handle implements githubapp.EventHandler.
func (h *CheckRun) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var (
		action string
		inst   int64
		repo   *github.Repository
		sha    string
		prs    []*github.PullRequest
	)
	if eventType == "check_run" {
		var ev github.CheckRunEvent
		if err := decode(payload, &ev); err != nil {
			return err
		}
		if ev.GetCheckRun().GetName() != gate.CheckName && ev.GetAction() == "rerequested" {
			return nil // another app's check
		}
		action, inst, repo = ev.GetAction(), ev.GetInstallation().GetID(), ev.GetRepo()
		sha, prs = ev.GetCheckRun().GetHeadSHA(), ev.GetCheckRun().PullRequests
	} else {
		var ev github.CheckSuiteEvent
		if err := decode(payload, &ev); err != nil {
			return err
		}
		action, inst, repo = ev.GetAction(), ev.GetInstallation().GetID(), ev.GetRepo()
		sha, prs = ev.GetCheckSuite().GetHeadSHA(), ev.GetCheckSuite().PullRequests
	}
	if action != "rerequested" {
		return nil
	}
	r, err := repoOf(repo)
	if err != nil {
		return err
	}
	return h.once(ctx, deliveryID, func() error {
		for _, p := range prs {
			// The payload's pull request is a stub (number, head, base): the domain fills the rest as needed.
			pr := gate.PR{
				Installation: inst, Repo: r, RepoID: repo.GetID(), DefaultBranch: repo.GetDefaultBranch(),
				Number: p.GetNumber(), HeadSHA: sha, HeadRef: p.GetHead().GetRef(),
				BaseSHA: p.GetBase().GetSHA(), BaseRef: p.GetBase().GetRef(),
			}
			if err := h.Gate.Recheck(ctx, pr); err != nil {
				return err
			}
		}
		if len(prs) == 0 {
			h.Log.Info().Str("repo", gh.Repo(r).String()).Str("sha", sha).Msg("re-requested check has no pull request (fork or direct push); nothing to check")
		}
		return nil
	})
}
