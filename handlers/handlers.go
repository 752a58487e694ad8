// Package handlers decodes GitHub webhook events and hands them to the domain
// (app/gate). It is thin by design: one file per event family, no product rules.
package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
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

// All returns the handlers of every event escapegate subscribes to (see app.yml), each
// wrapped once with a logger naming the delivery on every line.
func All(d Deps) []githubapp.EventHandler {
	if d.Now == nil {
		d.Now = time.Now
	}
	hs := []githubapp.EventHandler{
		&PullRequest{d}, &CheckRun{d}, &Push{d}, &Installation{d}, &Release{d}, &Enforcement{d}, &Issues{d},
		&PullRequest{d}, &CheckRun{d}, &Push{d}, &Installation{d}, &Release{d}, &MergeGroup{d},
	}
	for i, h := range hs {
		hs[i] = perDelivery{inner: h, d: d}
	}
	return hs
}

// Events lists the event types the handlers take (the dispatcher answers 202 to others).
func Events() []string {
	var out []string
	for _, h := range All(Deps{}) {
		out = append(out, h.Handles()...)
	}
	return out
}

// perDelivery runs a handler with a logger naming the delivery, installation,
// repository and pull request in its context (zerolog.Ctx), so that every line the
// handler and the domain log says which delivery it belongs to. De-duplication is the
// inbox's (app/inbox): a delivery id is taken once, when it is committed.
type perDelivery struct {
	inner githubapp.EventHandler
	d     Deps
}

func (p perDelivery) Handles() []string { return p.inner.Handles() }

func (p perDelivery) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	log := deliveryLogger(p.d.Log, eventType, deliveryID, payload)
	return p.inner.Handle(log.WithContext(ctx), eventType, deliveryID, payload)
}

// OrderKey is what orders deliveries: the events of one pull request are handled one at
// a time, in the order received ("owner/name#number"), and so are the groups of one merge
// queue ("owner/name@queue:refs/heads/main"); other events need no order ("").
func OrderKey(eventType string, payload []byte) string {
	env, err := decodeEnvelope(payload)
	if err != nil {
		return ""
	}
	return env.orderKey(eventType)
}

// envelope is the part of every app webhook that intake needs.
type envelope struct {
	Installation *struct {
		ID int64 `json:"id"`
	} `json:"installation"`
	Repository struct {
		FullName string `json:"full_name"`
	} `json:"repository"`
	Number int `json:"number"`
	// MergeGroup orders the groups of one merge queue (repository and base branch).
	MergeGroup struct {
		BaseRef string `json:"base_ref"`
	} `json:"merge_group"`
}

func decodeEnvelope(payload []byte) (envelope, error) {
	var env envelope
	err := json.Unmarshal(payload, &env)
	return env, err
}

func (e envelope) orderKey(eventType string) string {
	repo := strings.ToLower(e.Repository.FullName)
	switch {
	case repo == "":
	case eventType == "pull_request" && e.Number != 0:
		return repo + "#" + strconv.Itoa(e.Number)
	case eventType == "merge_group" && e.MergeGroup.BaseRef != "":
		// A group is checked on the ledger of the groups ahead of it: one queue in order.
		return repo + "@queue:" + e.MergeGroup.BaseRef
	}
	return ""
}

// Intake checks what a delivery must be before it is stored (JSON naming its
// installation: a GitHub App webhook) and returns its OrderKey, decoding the payload
// once for both.
func Intake(eventType string, payload []byte) (key string, err error) {
	env, err := decodeEnvelope(payload)
	if err != nil {
		return "", fmt.Errorf("payload is not valid JSON: %w", err)
	}
	if env.Installation == nil || env.Installation.ID <= 0 {
		return "", fmt.Errorf("payload names no installation (is it a GitHub App webhook?)")
	}
	return env.orderKey(eventType), nil
}

// deliveryLogger names what a delivery is about, read from the few payload fields every
// event family shares (a payload that does not decode still gets its delivery id).
func deliveryLogger(base zerolog.Logger, eventType, deliveryID string, payload []byte) zerolog.Logger {
	var env struct {
		Action       string `json:"action"`
		Installation struct {
			ID int64 `json:"id"`
		} `json:"installation"`
		Repository struct {
			FullName string `json:"full_name"`
		} `json:"repository"`
		PullRequest struct {
			Number int `json:"number"`
		} `json:"pull_request"`
	}
	_ = json.Unmarshal(payload, &env)
	c := base.With().Str("delivery", deliveryID).Str("event", eventType)
	if env.Action != "" {
		c = c.Str("action", env.Action)
	}
	if env.Installation.ID != 0 {
		c = c.Int64("installation", env.Installation.ID)
	}
	if env.Repository.FullName != "" {
		c = c.Str("repo", env.Repository.FullName)
	}
	if env.PullRequest.Number != 0 {
		c = c.Int("pr", env.PullRequest.Number)
	}
	return c.Logger()
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
		Labels: labelNames(p.Labels), ChangedFiles: p.GetChangedFiles(),
	}, nil
}
