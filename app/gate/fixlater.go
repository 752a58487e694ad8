package gate

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/escapegate/escapegate/app/claim"
	"github.com/escapegate/escapegate/app/escaperate"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/render"
	"github.com/escapegate/escapegate/store"
)

// fixLaterRemindBefore is how long before a "fix later" deadline its issue is reminded.
const fixLaterRemindBefore = 72 * time.Hour

// DefaultFixLaterStaleAfter is how old a claim on opening a fix-later issue must be
// before another attempt assumes its owner died: opening one takes a few requests.
const DefaultFixLaterStaleAfter = 10 * time.Minute

// fixLaterLookback bounds the exceptions looked at by creation time: a fix owed longer
// than this is left to the monthly summary's overdue list.
const fixLaterLookback = 2 * 365 * 24 * time.Hour

// owedFixLater reports whether e is a merged "fix later" exception not yet remediated.
func owedFixLater(e store.Exception) bool {
	return e.State == store.ExceptionMerged && e.Reason == escaperate.ReasonFixLater && e.RemediatedAt.IsZero()
}

// TrackFixLater keeps every merged "fix later" exception tracked: it opens the issue of
// one that has none (the merge tries first; this catches what that attempt missed) and
// comments one reminder on an issue whose deadline is near. It returns how many issues it
// opened and reminded.
func (s *Service) TrackFixLater(ctx context.Context) (opened, reminded int, err error) {
	now := s.now()
	err = s.eachLiveRepo(ctx, func(inst int64, repo gh.Repo, r store.Repository) error {
		list, err := s.store.ListExceptions(ctx, r.FullName, 0, store.Window{From: now.Add(-fixLaterLookback), To: now.Add(time.Hour)})
		if err != nil {
			return fmt.Errorf("listing exceptions of %s: %w", r.FullName, err)
		}
		for _, e := range list {
			if !owedFixLater(e) {
				continue
			}
			c, err := s.client(inst)
			if err != nil {
				return err
			}
			o, rm, err := s.trackFixLater(ctx, c, repo, e, "")
			if err != nil {
				s.logger(ctx).Warn().Err(err).Str("repo", r.FullName).Int64("exception", e.ID).Msg("fix-later exception not tracked; tried again later")
				continue
			}
			opened, reminded = opened+b2i(o), reminded+b2i(rm)
		}
		return nil
	})
	return opened, reminded, err
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// trackFixLater opens e's issue if it has none (assigned to the PR's author; author ""
// reads it from the PR) and reminds once when the deadline is near.
func (s *Service) trackFixLater(ctx context.Context, c gh.Client, repo gh.Repo, e store.Exception, author string) (opened, reminded bool, err error) {
	if e.Issue == 0 {
		var ok bool
		if e, opened, ok, err = s.openFixLaterIssue(ctx, c, repo, e, author); err != nil || !ok {
			return opened, false, err
		}
	}
	now := s.now()
	if e.ExpiresAt.IsZero() || !e.RemindedAt.IsZero() || now.Before(e.ExpiresAt.Add(-fixLaterRemindBefore)) {
		return opened, false, nil
	}
	if author == "" {
		var err error
		if author, err = s.prAuthor(ctx, c, repo, e.PR); err != nil {
			return opened, false, err
		}
	}
	// Recorded before the comment: a crash in between loses the reminder rather than doubling it.
	e.RemindedAt = now
	if err := s.store.UpdateException(ctx, e); err != nil {
		return opened, false, fmt.Errorf("recording the reminder of exception %d: %w", e.ID, err)
	}
	if _, err := c.CreateComment(ctx, repo, e.Issue, render.FixLaterReminder(e, author, now)); err != nil {
		return opened, false, fmt.Errorf("reminding issue %d of exception %d: %w", e.Issue, e.ID, err)
	}
	return opened, true, nil
}

// fixLaterClaimKey is the store setting that claims the opening of exception id's issue.
func fixLaterClaimKey(id int64) string { return fmt.Sprintf("fixlater/issue/%d", id) }

// openFixLaterIssue opens e's issue exactly once, across attempts (the merge's, the
// periodic pass's, a retry after a crash) and replicas: under a claim (package claim),
// it first looks for escapegate's issue of the exception's title among those updated
// since the first attempt began, which finds one that an attempt created and died
// before recording. It returns e as stored with its issue; ok is false (and err nil)
// when another attempt holds the claim: that attempt opens it, or a later pass does.
func (s *Service) openFixLaterIssue(ctx context.Context, c gh.Client, repo gh.Repo, e store.Exception, author string) (_ store.Exception, opened, ok bool, err error) {
	key := fixLaterClaimKey(e.ID)
	claims := claim.Claims{Store: s.store, Now: s.now, StaleAfter: DefaultFixLaterStaleAfter}
	held, err := claims.Acquire(ctx, key)
	if err != nil {
		return e, false, false, fmt.Errorf("claiming the fix-later issue of exception %d: %w", e.ID, err)
	}
	if !held.OK && !held.Done {
		return e, false, false, nil
	}
	// Read again under the claim: another attempt may have recorded the issue since e was read.
	cur, err := s.store.GetException(ctx, e.ID)
	if err != nil {
		s.releaseFixLater(ctx, claims, key, held)
		return e, false, false, fmt.Errorf("reading exception %d: %w", e.ID, err)
	}
	e = cur
	if e.Issue != 0 {
		if held.OK {
			_ = claims.MarkDone(ctx, key, held.Claim, e.Issue) // best effort: the exception has it
		}
		return e, false, true, nil
	}
	var is gh.Issue
	if held.Done {
		is.Number = held.Issue // made and claimed done, but not recorded on the exception
	} else {
		title := render.FixLaterTitle(e)
		found := false
		if is, found, err = c.FindIssueSince(ctx, repo, title, held.Claim.LookupSince()); err != nil {
			claims.Release(ctx, key, held.Claim)
			return e, false, false, fmt.Errorf("looking for the fix-later issue of exception %d: %w", e.ID, err)
		}
		if !found {
			if author == "" {
				if author, err = s.prAuthor(ctx, c, repo, e.PR); err != nil {
					claims.Release(ctx, key, held.Claim)
					return e, false, false, err
				}
			}
			body := render.FixLaterBody(render.FixLaterIssue{Exception: e, Findings: s.coveredFindings(ctx, e), Assignee: author})
			var assignees []string
			if author != "" && !strings.HasSuffix(author, "[bot]") {
				assignees = []string{author}
			}
			if is, err = c.CreateIssue(ctx, repo, title, body, assignees...); err != nil {
				// GitHub may have created it all the same: the next attempt's lookup finds it.
				claims.Release(ctx, key, held.Claim)
				return e, false, false, fmt.Errorf("opening the fix-later issue of exception %d: %w", e.ID, err)
			}
			opened = true
		}
	}
	e.Issue = is.Number
	if err := s.store.UpdateException(ctx, e); err != nil {
		// The next attempt takes the claim over at once and finds the issue.
		s.releaseFixLater(ctx, claims, key, held)
		return e, opened, false, fmt.Errorf("recording the issue of exception %d: %w", e.ID, err)
	}
	if held.OK {
		if err := claims.MarkDone(ctx, key, held.Claim, e.Issue); err != nil {
			s.logger(ctx).Warn().Err(err).Int64("exception", e.ID).Msg("fix-later claim not marked done; the exception records its issue")
		}
	}
	s.logger(ctx).Info().Int64("exception", e.ID).Int("issue", e.Issue).Bool("opened", opened).Msg("fix-later exception tracked by an issue")
	return e, opened, true, nil
}

// releaseFixLater releases a claim this attempt holds (a done one stays done).
func (s *Service) releaseFixLater(ctx context.Context, claims claim.Claims, key string, held claim.Held) {
	if held.OK {
		claims.Release(ctx, key, held.Claim)
	}
}

// prAuthor is the author of PR number of repo; "" when GitHub no longer has it.
func (s *Service) prAuthor(ctx context.Context, c gh.Client, repo gh.Repo, number int) (string, error) {
	pr, err := c.GetPullRequest(ctx, repo, number)
	if err != nil && !isNotFound(err) {
		return "", fmt.Errorf("reading %s#%d: %w", repo, number, err)
	}
	return pr.Author, nil
}

// coveredFindings are the findings an exception covers, as the check of its head raised
// them (redacted forms only); none when that scan is not kept.
func (s *Service) coveredFindings(ctx context.Context, e store.Exception) []store.Finding {
	sc, err := s.store.GetScan(ctx, e.Repo, e.HeadSHA)
	if err != nil {
		return nil
	}
	var out []store.Finding
	for _, f := range sc.Findings {
		if slices.Contains(e.Fingerprints, f.Fingerprint) {
			out = append(out, f)
		}
	}
	return out
}

// IssueChange is an issue closed or reopened (an issues event).
type IssueChange struct {
	Repo     gh.Repo
	Number   int
	Body     string
	Closed   bool // closed; false: reopened
	At       time.Time
	ByBot    bool // the issue was opened by a GitHub App (escapegate opens its own)
	ClosedBy string
}

// FixLaterIssueChanged records the remediation of a "fix later" exception when its issue
// is closed (and takes it back when the issue is reopened). Only the issue escapegate
// opened for the exception counts: another issue with a copied marker changes nothing.
func (s *Service) FixLaterIssueChanged(ctx context.Context, ch IssueChange) error {
	id, ok := render.ParseFixLaterMarker(ch.Body)
	if !ok || !ch.ByBot {
		return nil
	}
	e, err := s.store.GetException(ctx, id)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading exception %d: %w", id, err)
	}
	if !strings.EqualFold(e.Repo, ch.Repo.String()) || e.Issue != ch.Number {
		return nil
	}
	at := ch.At
	if at.IsZero() {
		at = s.now()
	}
	switch {
	case ch.Closed && e.RemediatedAt.IsZero():
		e.RemediatedAt = at.UTC()
	case !ch.Closed && !e.RemediatedAt.IsZero():
		e.RemediatedAt = time.Time{}
	default:
		return nil // a redelivery, or nothing changed
	}
	if err := s.store.UpdateException(ctx, e); err != nil {
		return fmt.Errorf("recording the remediation of exception %d: %w", id, err)
	}
	s.logger(ctx).Info().Int64("exception", id).Int("issue", ch.Number).Bool("remediated", ch.Closed).Str("by", ch.ClosedBy).Msg("fix-later issue changed")
	return nil
}
