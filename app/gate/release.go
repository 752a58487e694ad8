package gate

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/escapegate/escapegate/app/escaperate"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/policy"
	"github.com/escapegate/escapegate/app/render"
	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/checks/secrets"
	"github.com/escapegate/escapegate/store"
)

func (s *Service) rememberRelease(ctx context.Context, repo gh.Repo, tag string, at time.Time) error {
	if at.IsZero() {
		at = s.now()
	}
	// The store keeps the newest by publication time: a late event of an older release does not move it back.
	if err := s.store.PutLastRelease(ctx, repo.String(), store.Release{Tag: tag, At: at}); err != nil {
		return fmt.Errorf("remembering release %s of %s: %w", tag, repo, err)
	}
	return nil
}

func (s *Service) previousRelease(ctx context.Context, repo gh.Repo) (store.Release, error) {
	r, err := s.store.GetLastRelease(ctx, repo.String())
	if err != nil {
		if isNotFound(err) {
			return store.Release{}, nil
		}
		return store.Release{}, fmt.Errorf("reading last release of %s: %w", repo, err)
	}
	return r, nil
}

// ReleaseComment renders the release PR comment of a repository as it stands now.
func (s *Service) ReleaseComment(ctx context.Context, repo gh.Repo, p policy.Policy) (string, error) {
	r, err := escaperate.Compute(ctx, s.store, repo.String(), s.now(), p.EscapeRate.WindowDays, p.EscapeRate.Severity)
	if err != nil {
		return "", fmt.Errorf("computing escape rate of %s: %w", repo, err)
	}
	prev, err := s.previousRelease(ctx, repo)
	if err != nil {
		return "", err
	}
	var carried []store.Escape
	for _, e := range r.Escapes {
		if e.At.After(prev.At) || e.At.Equal(prev.At) {
			carried = append(carried, e)
		}
	}
	return render.ReleaseComment(r, carried, prev.Tag), nil
}

// syncReleaseComment posts or edits the one escape-rate comment of a release PR.
func (s *Service) syncReleaseComment(ctx context.Context, c gh.Client, pr PR, p policy.Policy) error {
	release, err := s.isReleasePR(ctx, pr, p)
	if err != nil || !release {
		return err
	}
	unlock := s.lockRepo(pr.Repo)
	defer unlock()
	body, err := s.ReleaseComment(ctx, pr.Repo, p)
	if err != nil {
		return err
	}
	// The remembered id saves listing comments on every event; the marker finds it again
	// when the store was lost or a replica posted it. Only escapegate's own comments count:
	// anyone can write the marker into a comment of theirs, which escapegate must never edit
	// (its author could rewrite it afterwards).
	if id, err := s.store.GetReleaseComment(ctx, pr.Repo.String(), pr.Number); err == nil {
		err := c.EditComment(ctx, pr.Repo, id, body)
		if err == nil {
			return nil
		}
		if !isNotFound(err) {
			return fmt.Errorf("editing release comment on %s#%d: %w", pr.Repo, pr.Number, err)
		}
	} else if !isNotFound(err) {
		return fmt.Errorf("reading release comment id: %w", err)
	}
	comments, err := c.ListComments(ctx, pr.Repo, pr.Number)
	if err != nil {
		return fmt.Errorf("listing comments of %s#%d: %w", pr.Repo, pr.Number, err)
	}
	var id int64
	for _, cm := range comments {
		if cm.Mine && strings.Contains(cm.Body, render.ReleaseMarker) {
			id = cm.ID
			break
		}
	}
	if id != 0 {
		if err := c.EditComment(ctx, pr.Repo, id, body); err != nil {
			return fmt.Errorf("editing release comment on %s#%d: %w", pr.Repo, pr.Number, err)
		}
	} else if id, err = c.CreateComment(ctx, pr.Repo, pr.Number, body); err != nil {
		return fmt.Errorf("posting release comment on %s#%d: %w", pr.Repo, pr.Number, err)
	}
	if err := s.store.PutReleaseComment(ctx, pr.Repo.String(), pr.Number, id); err != nil {
		return fmt.Errorf("remembering release comment id: %w", err)
	}
	return nil
}

// isReleasePR reports whether pr is a release PR. When its labels and title are not
// known (a re-requested check's minimal pull request has neither) and the branches do not
// decide, the release comment the store remembers does: escapegate posted it when an
// event that had them (opened, labeled, edited, synchronize) found a release PR. So a
// re-run spends no API call on reading them; a release PR whose comment was never posted
// gets it from its next pull_request event.
func (s *Service) isReleasePR(ctx context.Context, pr PR, p policy.Policy) (bool, error) {
	if p.IsReleasePR(pr.BaseRef, pr.HeadRef, pr.Labels, pr.Title) {
		return true, nil
	}
	if !pr.partial || (len(p.Release.Labels) == 0 && p.Release.TitlePattern == "") {
		return false, nil
	}
	_, err := s.store.GetReleaseComment(ctx, pr.Repo.String(), pr.Number)
	switch {
	case err == nil:
		return true, nil
	case isNotFound(err):
		return false, nil
	}
	return false, fmt.Errorf("reading release comment id: %w", err)
}

// refreshReleaseComments updates the comment of every open release PR after an escape was recorded.
func (s *Service) refreshReleaseComments(ctx context.Context, c gh.Client, repo gh.Repo, p policy.Policy) error {
	prs, err := c.ListOpenPullRequests(ctx, repo)
	if err != nil {
		return fmt.Errorf("listing open pull requests of %s: %w", repo, err)
	}
	for _, x := range prs {
		pr := PR{Repo: repo, Number: x.Number, HeadRef: x.HeadRef, BaseRef: x.BaseRef, Title: x.Title, Labels: x.Labels, HeadSHA: x.HeadSHA}
		if err := s.syncReleaseComment(ctx, c, pr, p); err != nil {
			return err
		}
	}
	return nil
}

// engineFor returns the secret engine with the org's extra rules file, if policy names one.
func (s *Service) engineFor(ctx context.Context, c gh.Client, repo gh.Repo, p policy.Policy) (*secrets.Engine, error) {
	if p.Secrets.RulesFile == "" {
		return s.base, nil
	}
	data, err := s.orgFile(ctx, c, repo.Owner, p.Secrets.RulesFile)
	if err != nil {
		return nil, fmt.Errorf("secrets.rules_file %s: %w", p.Secrets.RulesFile, err)
	}
	e, err := s.engine(data)
	if err != nil {
		return nil, fmt.Errorf("secrets.rules_file %s: %w", p.Secrets.RulesFile, err)
	}
	return e, nil
}

func severityOf(s string) checks.Severity { return checks.Severity(strings.ToLower(s)) }

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}
