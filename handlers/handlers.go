// Package handlers decodes GitHub webhook events and hands them to the domain
// (app/gate). It is thin by design: one file per event family, no product rules.
package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/app/gate"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/store"
)

// Deps is what every handler needs.
type Deps struct {
	Gate  *gate.Service
	Store store.Store
	Log   zerolog.Logger
	// InstallPace spaces the checks of open PRs after an install (rate limits).
	InstallPace time.Duration
	Now         func() time.Time
}

// All returns the handlers of every event escapegate subscribes to (see app.yml).
func All(d Deps) []githubapp.EventHandler {
	if d.Now == nil {
		d.Now = time.Now
	}
	return []githubapp.EventHandler{
		&PullRequest{d}, &CheckRun{d}, &Push{d}, &Installation{d}, &Release{d},
	}
}

// Events lists the event types the handlers take (the dispatcher answers 202 to others).
func Events() []string {
	var out []string
	for _, h := range All(Deps{}) {
		out = append(out, h.Handles()...)
	}
	return out
}

// once runs fn unless the delivery was processed before. The mark is taken first, so
// concurrent duplicates run once, and dropped again when fn fails, so that GitHub's
// redelivery of a failed event (same delivery id) runs again.
func (d Deps) once(ctx context.Context, deliveryID string, fn func() error) error {
	if deliveryID == "" {
		return fn()
	}
	first, err := d.Store.MarkDelivery(ctx, deliveryID, d.Now())
	if err != nil {
		return fmt.Errorf("marking delivery %s: %w", deliveryID, err)
	}
	if !first {
		d.Log.Info().Str("delivery", deliveryID).Msg("delivery already processed; ignored")
		return nil
	}
	if err := fn(); err != nil {
		if ferr := d.Store.ForgetDelivery(ctx, deliveryID); ferr != nil {
			d.Log.Error().Err(ferr).Str("delivery", deliveryID).Msg("could not release a failed delivery for redelivery")
		}
		return err
	}
	return nil
}

func decode(payload []byte, v any) error {
	if err := json.Unmarshal(payload, v); err != nil {
		return fmt.Errorf("decoding payload: %w", err)
	}
	return nil
}

func repoOf(r *github.Repository) (gh.Repo, error) {
	if r == nil || r.GetFullName() == "" {
		return gh.Repo{}, fmt.Errorf("payload has no repository")
	}
	return gh.ParseRepo(r.GetFullName())
}

func labelNames(ls []*github.Label) []string {
	out := make([]string, 0, len(ls))
	for _, l := range ls {
		out = append(out, l.GetName())
	}
	return out
}

// prOf builds the domain's view of a pull request from an event payload.
func prOf(inst int64, r *github.Repository, p *github.PullRequest) (gate.PR, error) {
	repo, err := repoOf(r)
	if err != nil {
		return gate.PR{}, err
	}
	if p == nil || p.GetNumber() == 0 {
		return gate.PR{}, fmt.Errorf("payload has no pull request")
	}
	return gate.PR{
		Installation: inst, Repo: repo, RepoID: r.GetID(), DefaultBranch: r.GetDefaultBranch(),
		Number: p.GetNumber(), Author: p.GetUser().GetLogin(), Title: p.GetTitle(),
		HeadSHA: p.GetHead().GetSHA(), HeadRef: p.GetHead().GetRef(),
		BaseSHA: p.GetBase().GetSHA(), BaseRef: p.GetBase().GetRef(),
		Labels: labelNames(p.Labels),
	}, nil
}
