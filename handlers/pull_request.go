package handlers

import (
	"context"
	"fmt"

	"github.com/google/go-github/v62/github"

	"github.com/escapegate/escapegate/app/gate"
)

// PullRequest handles pull_request events: checks, override labels, merges and release comments.
type PullRequest struct{ Deps }

// Handles implements githubapp.EventHandler.
func (h *PullRequest) Handles() []string { return []string{"pull_request"} }

// Handle implements githubapp.EventHandler.
func (h *PullRequest) Handle(ctx context.Context, _, deliveryID string, payload []byte) error {
	var ev github.PullRequestEvent
	if err := decode(payload, &ev); err != nil {
		return err
	}
	pr, err := prOf(ev.GetInstallation().GetID(), ev.GetRepo(), ev.GetPullRequest())
	if err != nil {
		return err
	}
	switch ev.GetAction() {
	case "opened", "synchronize", "reopened", "ready_for_review":
		_, err := h.Gate.CheckPullRequest(ctx, pr)
		return err
	case "edited":
		if ev.GetChanges().GetBase() != nil {
			// Retargeted: against the new base the PR adds other lines, so check it again
			// (this also refreshes a release comment).
			_, err := h.Gate.CheckPullRequest(ctx, pr)
			return err
		}
		return h.Gate.SyncRelease(ctx, pr)
	case "labeled", "unlabeled":
		le := gate.LabelEvent{PR: pr, Label: ev.GetLabel().GetName(), Sender: ev.GetSender().GetLogin(),
			SenderType: ev.GetSender().GetType(), DeliveryID: deliveryID, At: ev.GetPullRequest().GetUpdatedAt().Time}
		var err error
		if ev.GetAction() == "labeled" {
			_, err = h.Gate.Labeled(ctx, le)
		} else {
			_, err = h.Gate.Unlabeled(ctx, le)
		}
		return err
	case "closed":
		if !ev.GetPullRequest().GetMerged() {
			return nil
		}
		if _, err := h.Gate.Merged(ctx, pr); err != nil {
			return fmt.Errorf("accounting merge of %s#%d: %w", pr.Repo, pr.Number, err)
		}
	}
	return nil
}
