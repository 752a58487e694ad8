package handlers

import (
	"context"

	"github.com/google/go-github/v62/github"
	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/app/gate"
)

// CheckRun handles check_run and check_suite re-requests: the head SHA is checked again.
type CheckRun struct{ Deps }

// Handles implements githubapp.EventHandler.
func (h *CheckRun) Handles() []string { return []string{"check_run", "check_suite"} }

// checkEvent is the part of check_run and check_suite payloads that a re-request
// needs. Decoding only this keeps odd fields elsewhere (GitHub has sent timestamps in
// more than one format in the app object) from failing the event.
type checkEvent struct {
	Action       string             `json:"action"`
	Installation struct{ ID int64 } `json:"installation"`
	Repository   *github.Repository `json:"repository"`
	CheckRun     *checkObject       `json:"check_run"`
	CheckSuite   *checkObject       `json:"check_suite"`
}

type checkObject struct {
	Name         string `json:"name"`
	HeadSHA      string `json:"head_sha"`
	PullRequests []struct {
		Number int `json:"number"`
		Head   struct {
			Ref string `json:"ref"`
			SHA string `json:"sha"`
		} `json:"head"`
		Base struct {
			Ref string `json:"ref"`
			SHA string `json:"sha"`
		} `json:"base"`
	} `json:"pull_requests"`
}

// Handle implements githubapp.EventHandler.
func (h *CheckRun) Handle(ctx context.Context, eventType, _ string, payload []byte) error {
	var ev checkEvent
	if err := decode(payload, &ev); err != nil {
		return err
	}
	obj := ev.CheckSuite
	if eventType == "check_run" {
		obj = ev.CheckRun
		if obj != nil && obj.Name != gate.CheckName {
			return nil // another app's check run
		}
	}
	if ev.Action != "rerequested" || obj == nil {
		return nil
	}
	r, err := repoOf(ev.Repository)
	if err != nil {
		return err
	}
	for _, p := range obj.PullRequests {
		// The payload's pull request is a stub (number, head, base): the domain reads the rest.
		pr := gate.PR{
			Installation: ev.Installation.ID, Repo: r, RepoID: ev.Repository.GetID(),
			DefaultBranch: ev.Repository.GetDefaultBranch(), Number: p.Number, HeadSHA: obj.HeadSHA,
			HeadRef: p.Head.Ref, BaseSHA: p.Base.SHA, BaseRef: p.Base.Ref,
		}
		if err := h.Gate.Recheck(ctx, pr); err != nil {
			return err
		}
	}
	if len(obj.PullRequests) == 0 {
		zerolog.Ctx(ctx).Info().Str("sha", obj.HeadSHA).Msg("re-requested check has no pull request (fork or direct push); nothing to check")
	}
	return nil
}
