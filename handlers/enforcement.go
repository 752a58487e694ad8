package handlers

import (
	"context"

	"github.com/escapegate/escapegate/app/gh"
)

// Enforcement handles changes to branch protection and rulesets: whether the escapegate
// check is required (so a failing PR cannot merge) is read again from GitHub.
type Enforcement struct{ Deps }

// Handles implements githubapp.EventHandler.
func (h *Enforcement) Handles() []string {
	return []string{"branch_protection_rule", "repository_ruleset"}
}

// rulesEvent is what both events share; go-github v62 knows neither event's payload
// fully, and only these fields are read.
type rulesEvent struct {
	Action     string `json:"action"`
	Repository *struct {
		ID            int64  `json:"id"`
		FullName      string `json:"full_name"`
		DefaultBranch string `json:"default_branch"`
	} `json:"repository"`
	Installation struct {
		ID int64 `json:"id"`
	} `json:"installation"`
}

// Handle implements githubapp.EventHandler. An organization's ruleset names no
// repository: then every repository of the installation is read again, paced, and a
// retry of the delivery goes on where the last attempt stopped.
func (h *Enforcement) Handle(ctx context.Context, _, deliveryID string, payload []byte) error {
	var ev rulesEvent
	if err := decode(payload, &ev); err != nil {
		return err
	}
	inst := ev.Installation.ID
	if ev.Repository == nil || ev.Repository.FullName == "" {
		_, err := h.Gate.RefreshEnforcementAfterChange(ctx, inst, deliveryID, h.InstallPace)
		return err
	}
	repo, err := gh.ParseRepo(ev.Repository.FullName)
	if err != nil {
		return err
	}
	_, err = h.Gate.RefreshEnforcement(ctx, inst, repo, ev.Repository.ID, ev.Repository.DefaultBranch)
	return err
}
