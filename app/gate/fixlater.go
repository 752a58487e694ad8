package gate

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/escapegate/escapegate/app/escaperate"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/render"
	"github.com/escapegate/escapegate/store"
)

// fixLaterRemindBefore is how long before a "fix later" deadline its issue is reminded.
const fixLaterRemindBefore = 72 * time.Hour

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
// reads it from the PR) and reminds once when the deadline is near. Opening is
// idempotent: an issue of escapegate's with the exception's title is taken for it.
func (s *Service) trackFixLater(ctx context.Context, c gh.Client, repo gh.Repo, e store.Exception, author string) (opened, reminded bool, err error) {
	if author == "" {
		pr, err := c.GetPullRequest(ctx, repo, e.PR)
		if err != nil && !isNotFound(err) {
			return false, false, fmt.Errorf("reading %s#%d: %w", repo, e.PR, err)
		}
		author = pr.Author
	}
	if e.Issue == 0 {
		title := render.FixLaterTitle(e)
		is, found, err := c.FindIssueByTitle(ctx, repo, title)
		if err != nil {
			return false, false, fmt.Errorf("looking for the fix-later issue of exception %d: %w", e.ID, err)
		}
		if !found {
			body := render.FixLaterBody(render.FixLaterIssue{Exception: e, Findings: s.coveredFindings(ctx, e), Assignee: author})
			var assignees []string
			if author != "" && !strings.HasSuffix(author, "[bot]") {
				assignees = []string{author}
			}
			if is, err = c.CreateIssue(ctx, repo, title, body, assignees...); err != nil {
				return false, false, fmt.Errorf("opening the fix-later issue of exception %d: %w", e.ID, err)
			}
			opened = true
		}
		e.Issue = is.Number
		if err := s.store.UpdateException(ctx, e); err != nil {
			return opened, false, fmt.Errorf("recording the issue of exception %d: %w", e.ID, err)
		}
		s.logger(ctx).Info().Int64("exception", e.ID).Int("issue", e.Issue).Bool("opened", opened).Msg("fix-later exception tracked by an issue")
	}
	now := s.now()
	if e.ExpiresAt.IsZero() || !e.RemindedAt.IsZero() || now.Before(e.ExpiresAt.Add(-fixLaterRemindBefore)) {
		return opened, false, nil
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
