package gate

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/render"
	"github.com/escapegate/escapegate/app/verdict"
	"github.com/escapegate/escapegate/checks"
)

// RequestExceptionAction is the identifier of the failing check's "Request exception" button.
const RequestExceptionAction = render.RequestExceptionID

// ExceptionRequest is a click on a failing check's "Request exception" button (a
// check_run requested_action event).
type ExceptionRequest struct {
	Installation  int64
	Repo          gh.Repo
	RepoID        int64
	DefaultBranch string
	HeadSHA       string
	// PR is the pull request the check run names (0: read it from ExternalID).
	PR         int
	ExternalID string
	Requester  string
}

// RequestRecord is what is kept of a request: who asked, for which findings, where the
// comment is. Fingerprints only, never values.
type RequestRecord struct {
	Repo         string   `json:"repo"`
	PR           int      `json:"pr"`
	HeadSHA      string   `json:"head_sha"`
	Requester    string   `json:"requester"`
	RequestedAt  string   `json:"requested_at"`
	CommentID    int64    `json:"comment_id"`
	Fingerprints []string `json:"fingerprints"`
}

// requestKey is the setting a request is recorded under: one per head.
func requestKey(repo gh.Repo, pr int, head string) string {
	return fmt.Sprintf("exception-request/%s#%d@%s", strings.ToLower(repo.String()), pr, head)
}

// RequestException posts one comment that asks the approvers for an exception for the
// failing findings of the PR's current head, and records the request. A click on a head
// the PR has moved on from, on a check that no longer fails, or a second click on the
// same head posts nothing. The request decides nothing: an approver's label still does.
func (s *Service) RequestException(ctx context.Context, req ExceptionRequest) (posted bool, err error) {
	number := req.PR
	if number == 0 {
		number = PRFromExternalID(req.ExternalID, req.Repo)
	}
	log := s.logger(ctx)
	if number == 0 {
		log.Info().Str("sha", req.HeadSHA).Msg("exception requested on a check run that names no pull request; nothing to do")
		return false, nil
	}
	c, err := s.client(req.Installation)
	if err != nil {
		return false, err
	}
	cur, err := c.GetPullRequest(ctx, req.Repo, number)
	if err != nil {
		return false, fmt.Errorf("reading %s#%d: %w", req.Repo, number, err)
	}
	if cur.State != "open" || cur.HeadSHA != req.HeadSHA {
		log.Info().Int("pr", number).Str("state", cur.State).Msg("exception requested on a head the pull request has moved on from; nothing to do")
		return false, nil
	}
	pr := PR{Installation: req.Installation, Repo: req.Repo, RepoID: req.RepoID, DefaultBranch: req.DefaultBranch, Number: number,
		Author: cur.Author, HeadSHA: cur.HeadSHA, BaseSHA: cur.BaseSHA, HeadRef: cur.HeadRef, BaseRef: cur.BaseRef,
		Title: cur.Title, Labels: cur.Labels}
	if _, err := s.ensureRepo(ctx, req.Installation, req.Repo, req.RepoID, req.DefaultBranch); err != nil {
		return false, err
	}
	ev, err := s.evaluate(ctx, c, pr)
	if err != nil {
		return false, err
	}
	open := uncovered(ev)
	if ev.result.Conclusion != "failure" || len(open) == 0 {
		log.Info().Int("pr", number).Str("conclusion", ev.result.Conclusion).Msg("exception requested where nothing uncovered fails; nothing to do")
		return false, nil
	}
	marker := render.ExceptionRequestMarker(pr.HeadSHA)
	comments, err := c.ListComments(ctx, pr.Repo, number)
	if err != nil {
		return false, fmt.Errorf("listing comments of %s#%d: %w", pr.Repo, number, err)
	}
	var id int64
	for _, cm := range comments {
		if cm.Mine && strings.HasPrefix(cm.Body, marker) {
			id = cm.ID // asked already for this head (a second click, or a retried delivery)
		}
	}
	if id == 0 {
		body := render.ExceptionRequestComment(render.ExceptionRequest{
			Repo: pr.Repo.String(), PR: number, HeadSHA: pr.HeadSHA, Requester: req.Requester,
			Findings: open, Override: overrideHelp(pr.Repo, ev.pol.Policy),
		})
		if id, err = c.CreateComment(ctx, pr.Repo, number, body); err != nil {
			return false, fmt.Errorf("commenting the exception request on %s#%d: %w", pr.Repo, number, err)
		}
		posted = true
	}
	rec := RequestRecord{Repo: pr.Repo.String(), PR: number, HeadSHA: pr.HeadSHA, Requester: req.Requester,
		RequestedAt: s.now().UTC().Format("2006-01-02T15:04:05Z"), CommentID: id}
	for _, f := range open {
		rec.Fingerprints = append(rec.Fingerprints, f.Fingerprint)
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return posted, err
	}
	// ClaimOnce keeps the first request of a head: the one whose comment was posted.
	if _, err := s.store.ClaimOnce(ctx, requestKey(pr.Repo, number, pr.HeadSHA), data); err != nil {
		return posted, fmt.Errorf("recording the exception request on %s#%d: %w", pr.Repo, number, err)
	}
	log.Info().Int("pr", number).Str("requester", req.Requester).Int("findings", len(open)).Bool("posted", posted).Msg("exception requested")
	return posted, nil
}

// GetExceptionRequest returns the recorded request of a head, if any.
func (s *Service) GetExceptionRequest(ctx context.Context, repo gh.Repo, pr int, head string) (RequestRecord, bool, error) {
	data, err := s.store.GetSetting(ctx, requestKey(repo, pr, head))
	if isNotFound(err) {
		return RequestRecord{}, false, nil
	}
	if err != nil {
		return RequestRecord{}, false, err
	}
	var rec RequestRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return RequestRecord{}, false, fmt.Errorf("decoding exception request: %w", err)
	}
	return rec, true, nil
}

// uncovered are the failing findings of an evaluation that its exception does not cover.
func uncovered(ev evaluation) []checks.Finding {
	var out []checks.Finding
	for _, it := range verdict.Decide(ev.decide).Uncovered { // decide holds the exception (conclude)
		out = append(out, it.Finding)
	}
	return out
}

// PRFromExternalID reads the PR number of escapegate's external id "owner/name#N" of a
// check run on repo (0: none).
func PRFromExternalID(id string, repo gh.Repo) int {
	name, num, ok := strings.Cut(id, "#")
	if !ok || !strings.EqualFold(name, repo.String()) {
		return 0
	}
	n, err := strconv.Atoi(num)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}
