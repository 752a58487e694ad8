package gate

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/escapegate/escapegate/app/delivery"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/policy"
	"github.com/escapegate/escapegate/app/render"
	"github.com/escapegate/escapegate/app/verdict"
	"github.com/escapegate/escapegate/store"
)

// LabelEvent is a labeled or unlabeled pull_request event.
type LabelEvent struct {
	PR         PR
	Label      string
	Sender     string
	SenderType string // User or Bot
	DeliveryID string
}

// OverrideOutcome says what a label did.
type OverrideOutcome struct {
	Ignored   bool // not the override label
	Accepted  bool
	Refused   bool
	Why       string
	Exception store.Exception
}

// permissionRank orders repository permissions; "" and none rank lowest.
func permissionRank(p string) int {
	switch strings.ToLower(p) {
	case "admin":
		return 5
	case "maintain":
		return 4
	case "write", "push":
		return 3
	case "triage":
		return 2
	case "read", "pull":
		return 1
	}
	return 0
}

// teamRef names a team as org/slug whether policy wrote "slug", "org/slug" or "@org/slug".
func teamRef(owner, t string) string {
	t = strings.TrimPrefix(strings.TrimSpace(t), "@")
	if strings.Contains(t, "/") {
		return t
	}
	return owner + "/" + t
}

// Approver decides whether user may accept risks on the PR, and if not, why.
func (s *Service) Approver(ctx context.Context, c gh.Client, pr PR, p policy.Policy, user string) (bool, string, error) {
	if strings.EqualFold(user, pr.Author) && !p.Override.AllowAuthor {
		return false, "the author of a pull request may not accept its risks", nil
	}
	for _, t := range p.Override.Approvers.Teams {
		org, slug, _ := strings.Cut(teamRef(pr.Repo.Owner, t), "/")
		state, err := c.TeamMembershipState(ctx, org, slug, user)
		if err != nil {
			return false, "", fmt.Errorf("reading membership of %s in %s/%s: %w", user, org, slug, err)
		}
		if state == "active" {
			return true, "", nil
		}
	}
	if want := p.Override.Approvers.Permission; want != "" {
		got, err := c.Permission(ctx, pr.Repo, user)
		if err != nil {
			return false, "", fmt.Errorf("reading permission of %s on %s: %w", user, pr.Repo, err)
		}
		if permissionRank(got) >= permissionRank(want) {
			return true, "", nil
		}
	}
	return false, "not an approver", nil
}

// Labeled handles the override label: an approver's label records an exception
// covering the findings open at this head and turns the check neutral; anyone
// else's label is removed, answered and audited.
func (s *Service) Labeled(ctx context.Context, ev LabelEvent) (OverrideOutcome, error) {
	c, pol, err := s.session(ctx, ev.PR.Installation, ev.PR.Repo, ev.PR.DefaultBranch)
	if err != nil {
		return OverrideOutcome{}, err
	}
	p := pol.Policy
	if !strings.EqualFold(ev.Label, p.Override.Label) {
		return OverrideOutcome{Ignored: true}, s.syncReleaseComment(ctx, c, ev.PR, p)
	}
	ok, why, err := s.Approver(ctx, c, ev.PR, p, ev.Sender)
	if err != nil {
		return OverrideOutcome{}, err
	}
	if !ok {
		return s.refuse(ctx, c, ev, p, why)
	}
	evn, err := s.evaluate(ctx, c, ev.PR)
	if err != nil {
		return OverrideOutcome{}, err
	}
	// The files listing shows the PR's current head. When a push landed after the label
	// (the labeled and synchronize events race), the exception must cover the findings of
	// the labeled head only: findings pushed later are not covered (DESIGN §1).
	cur, err := c.GetPullRequest(ctx, ev.PR.Repo, ev.PR.Number)
	if err != nil {
		return OverrideOutcome{}, fmt.Errorf("reading %s#%d: %w", ev.PR.Repo, ev.PR.Number, err)
	}
	moved := cur.HeadSHA != "" && cur.HeadSHA != ev.PR.HeadSHA
	if moved {
		if evn, err = s.evaluateAtHead(ctx, c, ev.PR); err != nil {
			return OverrideOutcome{}, err
		}
	}
	var fps []string
	for _, f := range evn.failing {
		fps = append(fps, f.Fingerprint)
	}
	days := p.Override.ExpiresAfterDays
	if days <= 0 {
		days = 30
	}
	now := s.now()
	exc, first, err := s.store.AddException(ctx, store.Exception{
		Repo: ev.PR.Repo.String(), PR: ev.PR.Number, HeadSHA: ev.PR.HeadSHA, Approver: ev.Sender,
		Reason: p.ReasonForLabels(ev.PR.Labels), Label: ev.Label, Fingerprints: fps,
		CreatedAt: now, ExpiresAt: now.Add(time.Duration(days) * 24 * time.Hour), State: store.ExceptionActive,
		DeliveryID: ev.DeliveryID,
	})
	if err != nil {
		return OverrideOutcome{}, fmt.Errorf("recording exception on %s#%d: %w", ev.PR.Repo, ev.PR.Number, err)
	}
	if !first {
		s.logger(ctx).Info().Msg("override label delivery seen before; exception already recorded")
	}
	s.logger(ctx).Info().Str("approver", ev.Sender).
		Int64("exception", exc.ID).Int("findings", len(fps)).Msg("exception recorded")
	evn.exception = &exc
	if err := s.republish(ctx, c, ev.PR, evn); err != nil {
		return OverrideOutcome{}, err
	}
	if moved {
		// The newer head's check may have run before this exception existed: check it again.
		next := ev.PR
		next.HeadSHA, next.BaseSHA, next.HeadRef, next.BaseRef = cur.HeadSHA, cur.BaseSHA, cur.HeadRef, cur.BaseRef
		next.Title, next.Labels = cur.Title, cur.Labels
		if _, err := s.CheckPullRequest(ctx, next); err != nil {
			return OverrideOutcome{}, err
		}
	}
	return OverrideOutcome{Accepted: true, Exception: exc}, nil
}

func (s *Service) refuse(ctx context.Context, c gh.Client, ev LabelEvent, p policy.Policy, why string) (OverrideOutcome, error) {
	first, err := s.store.AddRefused(ctx, store.RefusedOverride{
		Repo: ev.PR.Repo.String(), PR: ev.PR.Number, Sender: ev.Sender, Label: ev.Label, Why: why,
		At: s.now(), DeliveryID: ev.DeliveryID,
	})
	if err != nil {
		return OverrideOutcome{}, fmt.Errorf("recording refused override: %w", err)
	}
	out := OverrideOutcome{Refused: true, Why: why}
	// A delivery seen before (recorded already, or a retry of the inbox) is one whose
	// handling failed part way, so finish it: removing a label that is gone is a no-op, and
	// the comment carries the delivery id so that it is posted once. Only escapegate's own
	// comments count: anyone else's copy of the marker does not silence the answer.
	if err := c.RemoveLabel(ctx, ev.PR.Repo, ev.PR.Number, ev.Label); err != nil {
		return out, fmt.Errorf("removing refused label: %w", err)
	}
	marker := fmt.Sprintf("<!-- escapegate:refused-override %s -->", ev.DeliveryID)
	if !first || delivery.Retrying(ctx) {
		comments, err := c.ListComments(ctx, ev.PR.Repo, ev.PR.Number)
		if err != nil {
			return out, fmt.Errorf("listing comments of %s#%d: %w", ev.PR.Repo, ev.PR.Number, err)
		}
		for _, cm := range comments {
			if cm.Mine && strings.Contains(cm.Body, marker) {
				return out, nil
			}
		}
	}
	body := render.RefusalComment(ev.Sender, ev.Label, ev.PR.Repo.String(), overrideHelp(ev.PR.Repo, p), why) + "\n" + marker
	if _, err := c.CreateComment(ctx, ev.PR.Repo, ev.PR.Number, body); err != nil {
		return out, fmt.Errorf("answering refused label: %w", err)
	}
	s.logger(ctx).Warn().Str("sender", ev.Sender).
		Str("why", why).Msg("override refused")
	return out, nil
}

// Unlabeled revokes the PR's active exceptions when the override label goes, and
// checks again (the check fails again where findings remain).
func (s *Service) Unlabeled(ctx context.Context, ev LabelEvent) (OverrideOutcome, error) {
	c, pol, err := s.session(ctx, ev.PR.Installation, ev.PR.Repo, ev.PR.DefaultBranch)
	if err != nil {
		return OverrideOutcome{}, err
	}
	if !strings.EqualFold(ev.Label, pol.Policy.Override.Label) {
		return OverrideOutcome{Ignored: true}, s.syncReleaseComment(ctx, c, ev.PR, pol.Policy)
	}
	list, err := s.store.ListExceptions(ctx, ev.PR.Repo.String(), ev.PR.Number, store.Window{To: s.now().Add(time.Hour)})
	if err != nil {
		return OverrideOutcome{}, fmt.Errorf("listing exceptions: %w", err)
	}
	revoked := 0
	for _, e := range list {
		if e.State != store.ExceptionActive {
			continue
		}
		e.State, e.RevokedBy, e.EndedAt = store.ExceptionRevoked, ev.Sender, s.now()
		if err := s.store.UpdateException(ctx, e); err != nil {
			return OverrideOutcome{}, fmt.Errorf("revoking exception %d: %w", e.ID, err)
		}
		revoked++
		s.logger(ctx).Info().Int64("exception", e.ID).
			Str("by", ev.Sender).Msg("exception revoked")
	}
	if revoked == 0 {
		// Nothing to revoke (e.g. escapegate removing a refused label), unless this head's
		// recorded check is still neutral: a revocation whose check failed to post, redelivered.
		sc, err := s.store.GetScan(ctx, ev.PR.Repo.String(), ev.PR.HeadSHA)
		if err != nil && !isNotFound(err) {
			return OverrideOutcome{}, fmt.Errorf("reading scan of %s@%s: %w", ev.PR.Repo, short(ev.PR.HeadSHA), err)
		}
		if err != nil || sc.Conclusion != verdict.Neutral {
			return OverrideOutcome{Ignored: true}, nil
		}
	}
	evn, err := s.evaluate(ctx, c, ev.PR)
	if err != nil {
		return OverrideOutcome{}, err
	}
	return OverrideOutcome{}, s.republish(ctx, c, ev.PR, evn)
}
