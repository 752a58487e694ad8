package handlers

import (
	"context"
	"time"

	"github.com/escapegate/escapegate/app/gate"
	"github.com/escapegate/escapegate/app/gh"
)

// Issues handles issues closed and reopened: closing the issue that tracks a merged
// "fix later" exception records its remediation.
type Issues struct{ Deps }

// Handles implements githubapp.EventHandler.
func (h *Issues) Handles() []string { return []string{"issues"} }

type issuesEvent struct {
	Action string `json:"action"`
	Issue  struct {
		Number int    `json:"number"`
		Body   string `json:"body"`
		User   struct {
			Type string `json:"type"`
		} `json:"user"`
		ClosedAt *time.Time `json:"closed_at"`
	} `json:"issue"`
	Repository struct {
		FullName string `json:"full_name"`
	} `json:"repository"`
	Sender struct {
		Login string `json:"login"`
	} `json:"sender"`
}

// Handle implements githubapp.EventHandler.
func (h *Issues) Handle(ctx context.Context, _, _ string, payload []byte) error {
	var ev issuesEvent
	if err := decode(payload, &ev); err != nil {
		return err
	}
	if ev.Action != "closed" && ev.Action != "reopened" {
		return nil
	}
	repo, err := gh.ParseRepo(ev.Repository.FullName)
	if err != nil {
		return err
	}
	ch := gate.IssueChange{Repo: repo, Number: ev.Issue.Number, Body: ev.Issue.Body, Closed: ev.Action == "closed",
		ByBot: ev.Issue.User.Type == "Bot", ClosedBy: ev.Sender.Login}
	if ev.Issue.ClosedAt != nil {
		ch.At = *ev.Issue.ClosedAt
	}
	return h.Gate.FixLaterIssueChanged(ctx, ch)
}
