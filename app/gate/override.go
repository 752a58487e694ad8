package gate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/escapegate/escapegate/app/config"
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
	// At is GitHub's time of the change: the payload's pull_request.updated_at, which
	// the label change sets. It orders label applications and revocations (see
	// overrideState); zero when the payload has none.
	At time.Time
}

// OverrideOutcome says what a label did.
type OverrideOutcome struct {
	Ignored   bool // not the override label
	Accepted  bool
	Refused   bool
	Why       string
	Exception store.Exception
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
		if policy.PermissionRank(got) >= policy.PermissionRank(want) {
			return true, "", nil
		}
	}
	return false, "not an approver", nil
}

// Labeled handles the override label: an approver's label records an exception
// covering the findings open at this head and turns the check neutral; anyone
// else's label is removed, answered and audited.
//
// The exception follows GitHub's state, not the event: the label must be on the pull
// request now (read back from GitHub), the event must not be older than the label's last
// removal, and one application of the label grants at most one exception, however often
// its delivery is replayed under new delivery ids (see currentApplication).
func (s *Service) Labeled(ctx context.Context, ev LabelEvent) (OverrideOutcome, error) {
	c, pol, err := s.session(ctx, ev.PR.Installation, ev.PR.Repo, ev.PR.DefaultBranch)
	if err != nil {
		return OverrideOutcome{}, err
	}
	p := pol.Policy
	if !strings.EqualFold(ev.Label, p.Override.Label) {
		return OverrideOutcome{Ignored: true}, s.syncReleaseComment(ctx, c, ev.PR, p)
	}
	// The PR as it is now: its labels say whether this application still stands, its head
	// whether a push landed after the label.
	cur, err := c.GetPullRequest(ctx, ev.PR.Repo, ev.PR.Number)
	if err != nil {
		return OverrideOutcome{}, fmt.Errorf("reading %s#%d: %w", ev.PR.Repo, ev.PR.Number, err)
	}
	st, err := s.overrideState(ctx, ev.PR)
	if err != nil {
		return OverrideOutcome{}, err
	}
	if stale, err := s.currentApplication(ctx, ev, cur, st); err != nil {
		return OverrideOutcome{}, err
	} else if stale != "" {
		s.logger(ctx).Info().Str("sender", ev.Sender).Str("label", ev.Label).
			Str("why", stale).Msg("override label event ignored: it grants nothing")
		return OverrideOutcome{Ignored: true, Why: stale}, nil
	}
	ok, why, err := s.verifyApprover(ctx, c, ev, p)
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
		// The event's labels first (applied with the override label), then the PR's as GitHub
		// shows it now: a reason label applied a moment after the override label still counts.
		Reason: p.ReasonForLabels(append(slices.Clone(ev.PR.Labels), cur.Labels...)), Label: ev.Label, Fingerprints: fps,
		CreatedAt: now, ExpiresAt: now.Add(time.Duration(days) * 24 * time.Hour), State: store.ExceptionActive,
		DeliveryID: ev.DeliveryID,
	})
	if err != nil {
		return OverrideOutcome{}, fmt.Errorf("recording exception on %s#%d: %w", ev.PR.Repo, ev.PR.Number, err)
	}
	if !first {
		s.logger(ctx).Info().Msg("override label delivery seen before; exception already recorded")
	}
	st.Granted, st.GrantedAt = true, ev.At
	if err := s.putOverrideState(ctx, ev.PR, st); err != nil {
		return OverrideOutcome{}, err
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

// overrideState is what escapegate keeps of a pull request's override label between
// events, in GitHub's times (LabelEvent.At): when the label was last removed, and whether
// (and as of which application) an exception was granted since.
type overrideState struct {
	RevokedAt time.Time `json:"revoked_at,omitzero"` // the newest unlabeled event's time
	Granted   bool      `json:"granted,omitempty"`   // an exception was granted since the last removal
	GrantedAt time.Time `json:"granted_at,omitzero"` // the time of the labeled event that was granted
}

func overrideStateKey(pr PR) string {
	return fmt.Sprintf("override/pr/%s#%d", strings.ToLower(pr.Repo.String()), pr.Number)
}

// overrideState reads the state of pr's override label (the zero state when none is kept).
// The events of one pull request are handled one at a time (the inbox's order key), so
// reading and then writing it does not race.
func (s *Service) overrideState(ctx context.Context, pr PR) (overrideState, error) {
	var st overrideState
	b, err := s.store.GetSetting(ctx, overrideStateKey(pr))
	if err != nil {
		if isNotFound(err) {
			return st, nil
		}
		return st, fmt.Errorf("reading override state of %s#%d: %w", pr.Repo, pr.Number, err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return overrideState{}, fmt.Errorf("reading override state of %s#%d: %w", pr.Repo, pr.Number, err)
	}
	return st, nil
}

func (s *Service) putOverrideState(ctx context.Context, pr PR, st overrideState) error {
	b, err := json.Marshal(st)
	if err == nil {
		err = s.store.PutSetting(ctx, overrideStateKey(pr), b)
	}
	if err != nil {
		return fmt.Errorf("keeping override state of %s#%d: %w", pr.Repo, pr.Number, err)
	}
	return nil
}

// currentApplication says why a labeled event of the override label grants nothing ("")
// when it does not stand for a label application that is current and not yet granted:
//
//   - the label is not on the pull request now (it was removed since, and the unlabeled
//     event may have been handled first): nothing to grant;
//   - the event is older than the label's last removal (GitHub's times; an equal time
//     is not older, so a label removed and applied again within a second still counts);
//   - the PR has an active exception of this label already, or one was granted since the
//     last removal for an event at least as new: this application is recorded, and the
//     event is a replay of its delivery under a new delivery id (which the signature does
//     not cover), or GitHub's second delivery of it.
//
// A retry of the delivery that recorded the exception or the refusal goes on, so that it
// finishes what its earlier attempt began (the store keeps one record per delivery id).
func (s *Service) currentApplication(ctx context.Context, ev LabelEvent, cur gh.PullRequest, st overrideState) (string, error) {
	list, err := s.store.ListExceptions(ctx, ev.PR.Repo.String(), ev.PR.Number, store.Window{To: s.now().Add(time.Hour)})
	if err != nil {
		return "", fmt.Errorf("listing exceptions: %w", err)
	}
	for _, e := range list {
		if e.DeliveryID == ev.DeliveryID {
			return "", nil // this delivery's exception: a retry finishing its work
		}
	}
	if !containsFold(cur.Labels, ev.Label) {
		refused, err := s.refusedBefore(ctx, ev)
		if err != nil || refused {
			return "", err // a refusal's retry: its label is gone, its answer may not be
		}
		return "the label is no longer on the pull request", nil
	}
	if !ev.At.IsZero() && ev.At.Before(st.RevokedAt) {
		return fmt.Sprintf("the event (%s) is older than the label's last removal (%s)",
			ev.At.UTC().Format(time.RFC3339), st.RevokedAt.UTC().Format(time.RFC3339)), nil
	}
	for _, e := range list {
		if e.State == store.ExceptionActive && strings.EqualFold(e.Label, ev.Label) {
			return fmt.Sprintf("exception %d already covers this application of the label", e.ID), nil
		}
	}
	if st.Granted && !ev.At.After(st.GrantedAt) {
		return "this application of the label was granted before (a replayed delivery)", nil
	}
	return "", nil
}

// refusedBefore reports whether this delivery was refused already (an earlier attempt, or
// a dead-lettered delivery retried by hand much later). It is asked only when the label
// is gone, so listing the repository's refused attempts is rare.
func (s *Service) refusedBefore(ctx context.Context, ev LabelEvent) (bool, error) {
	list, err := s.store.ListRefused(ctx, ev.PR.Repo.String(), store.Window{To: s.now().Add(time.Hour)})
	if err != nil {
		return false, fmt.Errorf("listing refused overrides: %w", err)
	}
	for _, r := range list {
		if r.DeliveryID == ev.DeliveryID && r.PR == ev.PR.Number {
			return true, nil
		}
	}
	return false, nil
}

// SetApproverAttempts tells the service the durable inbox's attempts at a delivery
// (retry.max_attempts): an override label whose sender GitHub keeps failing to verify
// is refused at the last one instead of staying on. n <= 0 takes config.Default's.
// Call it before the service handles events.
func (s *Service) SetApproverAttempts(n int) { s.approverAttempts = n }

// lastAttempt is the attempt at which an unverifiable approver is refused.
func (s *Service) lastAttempt() int {
	if s.approverAttempts > 0 {
		return s.approverAttempts
	}
	return config.Default().Retry.MaxAttempts
}

// botSender reports whether the sender is not a user (GitHub's sender.type Bot, for an
// app's bot account, or anything else but User): it has no team membership or
// repository permission to check, so it is never an approver. An event that names no
// type is judged by GitHub's answers about the sender.
func botSender(ev LabelEvent) bool {
	return ev.SenderType != "" && !strings.EqualFold(ev.SenderType, "User")
}

// verifyApprover is Approver for the sender of a label event, with a refusal instead of
// an error whenever the sender cannot be verified, so that a label never stays on
// unanswered: a bot or app sender, a 404 from GitHub's membership or permission APIs (the
// account is not a user it can answer for), or any other 4xx are refusals at once. A
// transient fault (a 5xx, a rate limit, no answer) is returned for the inbox to retry
// the delivery, until its last attempt (SetApproverAttempts): there an approver
// that cannot be verified is treated as no approver, and refused.
func (s *Service) verifyApprover(ctx context.Context, c gh.Client, ev LabelEvent, p policy.Policy) (bool, string, error) {
	if botSender(ev) {
		return false, "a bot or app account cannot accept risks", nil
	}
	ok, why, err := s.Approver(ctx, c, ev.PR, p, ev.Sender)
	if err == nil {
		return ok, why, nil
	}
	attempt := delivery.Attempt(ctx)
	log := s.logger(ctx).Warn().Err(err).Str("sender", ev.Sender).Int("attempt", attempt)
	switch {
	case errors.Is(err, gh.ErrNotFound):
		log.Msg("approver check answered 404: refused")
		return false, "GitHub does not know the sender as a user whose approval it can check", nil
	case !gh.Transient(err):
		log.Msg("approver check refused by GitHub: refused")
		return false, "GitHub refused to say whether the sender is an approver", nil
	case attempt < s.lastAttempt():
		return false, "", err // the inbox retries the delivery
	}
	log.Int("attempts", s.lastAttempt()).Msg("approver check kept failing: refused")
	return false, fmt.Sprintf("GitHub did not answer whether the sender is an approver in %d attempts", attempt), nil
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
	st, err := s.overrideState(ctx, ev.PR)
	if err != nil {
		return OverrideOutcome{}, err
	}
	if st.Granted && !ev.At.IsZero() && ev.At.Before(st.GrantedAt) {
		// A removal older than the application that was granted, arriving late: it revokes
		// nothing while the label is on the pull request (GitHub's state decides).
		cur, err := c.GetPullRequest(ctx, ev.PR.Repo, ev.PR.Number)
		if err != nil {
			return OverrideOutcome{}, fmt.Errorf("reading %s#%d: %w", ev.PR.Repo, ev.PR.Number, err)
		}
		if containsFold(cur.Labels, ev.Label) {
			s.logger(ctx).Info().Str("by", ev.Sender).Msg("unlabeled event older than the granted label, which is on the pull request: ignored")
			return OverrideOutcome{Ignored: true, Why: "older than the label application on the pull request"}, nil
		}
	}
	// The removal comes first: a labeled event older than it, handled later, grants nothing.
	if ev.At.After(st.RevokedAt) {
		st.RevokedAt = ev.At
	}
	st.Granted, st.GrantedAt = false, time.Time{}
	if err := s.putOverrideState(ctx, ev.PR, st); err != nil {
		return OverrideOutcome{}, err
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
