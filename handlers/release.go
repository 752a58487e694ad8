package handlers

import (
	"context"

	"github.com/google/go-github/v62/github"

	"github.com/escapegate/escapegate/app/gate"
)

// Release handles published releases and successful deployments, the optional production triggers.
type Release struct{ Deps }

// Handles implements githubapp.EventHandler.
func (h *Release) Handles() []string { return []string{"release", "deployment_status"} }

// Handle implements githubapp.EventHandler.
func (h *Release) Handle(ctx context.Context, eventType, _ string, payload []byte) error {
	if eventType == "release" {
		var ev github.ReleaseEvent
		if err := decode(payload, &ev); err != nil {
			return err
		}
		if ev.GetAction() != "published" || ev.GetRelease().GetDraft() {
			return nil
		}
		repo, err := repoOf(ev.GetRepo())
		if err != nil {
			return err
		}
		_, err = h.Gate.Ship(ctx, gate.Shipped{
			Installation: ev.GetInstallation().GetID(), Repo: repo, DefaultBranch: ev.GetRepo().GetDefaultBranch(),
			Trigger: gate.TriggerRelease, Tag: ev.GetRelease().GetTagName(), At: ev.GetRelease().GetPublishedAt().Time,
		})
		return err
	}
	var ev github.DeploymentStatusEvent
	if err := decode(payload, &ev); err != nil {
		return err
	}
	if ev.GetDeploymentStatus().GetState() != "success" {
		return nil
	}
	repo, err := repoOf(ev.GetRepo())
	if err != nil {
		return err
	}
	env := ev.GetDeploymentStatus().GetEnvironment()
	if env == "" {
		env = ev.GetDeployment().GetEnvironment()
	}
	_, err = h.Gate.Ship(ctx, gate.Shipped{
		Installation: ev.GetInstallation().GetID(), Repo: repo, DefaultBranch: ev.GetRepo().GetDefaultBranch(),
		Trigger: gate.TriggerDeployment, Environment: env, At: ev.GetDeploymentStatus().GetCreatedAt().Time,
	})
	return err
}
