package handlers

import (
	"context"
	"errors"

	"github.com/google/go-github/v62/github"
	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/app/delivery"
	"github.com/escapegate/escapegate/app/gate"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/store"
)

// CheckRun handles check_run and check_suite re-requests: the head SHA is checked again.
type CheckRun struct{ Deps }

// Handles implements githubapp.EventHandler.
func (h *CheckRun) Handles() []string { return []string{"check_run", "check_suite"} }

// checkEvent is the part of check_run and check_suite payloads that a re-request
// needs. Decoding only this keeps odd fields elsewhere (GitHub has sent timestamps in
// more than one format in the app object) from failing the event.
type checkEvent struct {
	Action          string             `json:"action"`
	Installation    struct{ ID int64 } `json:"installation"`
	Repository      *github.Repository `json:"repository"`
	CheckRun        *checkObject       `json:"check_run"`
	CheckSuite      *checkObject       `json:"check_suite"`
	RequestedAction *struct {
		Identifier string `json:"identifier"`
	} `json:"requested_action"`
	Sender struct {
		Login string `json:"login"`
	} `json:"sender"`
}

type checkObject struct {
	Name       string `json:"name"`
	HeadSHA    string `json:"head_sha"`
	HeadBranch string `json:"head_branch"` // a check suite's
	ExternalID string `json:"external_id"`
	CheckSuite *struct {
		HeadBranch string `json:"head_branch"`
	} `json:"check_suite"` // a check run's suite
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
func (h *CheckRun) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
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
	if obj == nil || (ev.Action != "rerequested" && ev.Action != "requested_action") {
		return nil
	}
	r, err := repoOf(ev.Repository)
	if err != nil {
		return err
	}
	if ev.Action == "requested_action" {
		return h.requestedAction(ctx, ev, obj, r)
	}
	if len(obj.PullRequests) == 0 {
		return h.recheckUnnamed(ctx, eventType, ev, obj, r)
	}
	ctx = h.markRedelivery(ctx, deliveryID)
	for _, p := range obj.PullRequests {
		// The payload's pull request is minimal (number, head, base): its head.sha is the
		// PR's head when the event was sent, which the re-run commit may be older than.
		pr := gate.PR{
			Installation: ev.Installation.ID, Repo: r, RepoID: ev.Repository.GetID(),
			DefaultBranch: ev.Repository.GetDefaultBranch(), Number: p.Number, HeadSHA: obj.HeadSHA,
			HeadRef: p.Head.Ref, BaseSHA: p.Base.SHA, BaseRef: p.Base.Ref,
		}
		if err := h.Gate.Recheck(ctx, pr, p.Head.SHA); err != nil {
			return err
		}
	}
	return nil
}

// recheckUnnamed handles a re-request whose payload names no pull request. GitHub lists
// there only pull requests whose head is in the repository itself, so a fork's pull
// request is never named: the check run's external id, escapegate's "owner/name#N"
// (for a suite, that of its newest escapegate run), says which pull request it checked,
// and the rest is read from GitHub. A merge queue group's run is left alone (the queue
// checks a group again by queueing it).
func (h *CheckRun) recheckUnnamed(ctx context.Context, eventType string, ev checkEvent, obj *checkObject, r gh.Repo) error {
	branch := obj.HeadBranch
	if obj.CheckSuite != nil {
		branch = obj.CheckSuite.HeadBranch
	}
	if _, group := gate.QueuePR(branch); group {
		zerolog.Ctx(ctx).Info().Str("sha", obj.HeadSHA).Msg("re-requested check of a merge group; the queue checks a group when it is queued again")
		return nil
	}
	pr := gate.PR{
		Installation: ev.Installation.ID, Repo: r, RepoID: ev.Repository.GetID(),
		DefaultBranch: ev.Repository.GetDefaultBranch(), HeadSHA: obj.HeadSHA,
	}
	if eventType == "check_suite" {
		return h.Gate.RecheckSuite(ctx, pr) // the suite's run names its pull request
	}
	if pr.Number = gate.PRFromExternalID(obj.ExternalID, r); pr.Number == 0 {
		zerolog.Ctx(ctx).Info().Str("sha", obj.HeadSHA).Msg("re-requested check run names no pull request of this repository; nothing to check")
		return nil
	}
	return h.Gate.Recheck(ctx, pr, "") // no head named: the pull request is read
}

// markRedelivery marks ctx as a redelivery when the recovery sweep asked GitHub for this
// delivery (it records that first): its payload may be days old. A store that cannot
// answer counts as yes, which only costs the PR read.
func (h *CheckRun) markRedelivery(ctx context.Context, deliveryID string) context.Context {
	if deliveryID == "" || h.Store == nil {
		return ctx
	}
	_, err := h.Store.GetSetting(ctx, delivery.RedeliveryKey(deliveryID))
	switch {
	case err == nil:
		return delivery.WithRedelivered(ctx)
	case errors.Is(err, store.ErrNotFound):
		return ctx
	}
	zerolog.Ctx(ctx).Warn().Err(err).Msg("could not tell whether this is a redelivery; the pull request is read from GitHub")
	return delivery.WithRedelivered(ctx)
}

// requestedAction handles a click on one of the check run's buttons.
func (h *CheckRun) requestedAction(ctx context.Context, ev checkEvent, obj *checkObject, r gh.Repo) error {
	if ev.RequestedAction == nil || ev.RequestedAction.Identifier != gate.RequestExceptionAction {
		return nil
	}
	req := gate.ExceptionRequest{
		Installation: ev.Installation.ID, Repo: r, RepoID: ev.Repository.GetID(), DefaultBranch: ev.Repository.GetDefaultBranch(),
		HeadSHA: obj.HeadSHA, ExternalID: obj.ExternalID, Requester: ev.Sender.Login,
	}
	if len(obj.PullRequests) > 0 {
		req.PR = obj.PullRequests[0].Number
	}
	_, err := h.Gate.RequestException(ctx, req)
	return err
}
