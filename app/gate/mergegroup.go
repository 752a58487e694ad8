package gate

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/escapegate/escapegate/app/delivery"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/render"
	"github.com/escapegate/escapegate/store"
)

// MergeGroup is a merge queue's group (merge_group checks_requested): the commit GitHub
// built on the queue's base to test the pull requests in it before merging them.
type MergeGroup struct {
	Installation  int64
	Repo          gh.Repo
	RepoID        int64
	DefaultBranch string
	HeadSHA       string // the group's commit; the check run goes on it
	HeadRef       string // refs/heads/gh-readonly-queue/<base>/pr-<number>-<sha>
	BaseSHA       string
	BaseRef       string
}

// QueuePR reads the pull request a merge group was built for from its head ref
// (refs/heads/gh-readonly-queue/<base branch>/pr-<number>-<sha>; the base branch may
// hold slashes). It is the last pull request of the group: the ones ahead of it in the
// queue are in its commits.
func QueuePR(headRef string) (int, bool) {
	i := strings.LastIndex(headRef, "/pr-")
	if i < 0 || !strings.Contains(headRef, "gh-readonly-queue/") {
		return 0, false
	}
	rest := headRef[i+len("/pr-"):]
	num, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(num)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

// mergeGroupKey is the store setting that remembers which pull requests a group's
// commit holds, so that the next group of the queue (built on this one) finds them.
func mergeGroupKey(repo gh.Repo, sha string) string {
	return "mergegroup/" + strings.ToLower(repo.String()) + "/" + sha
}

// mergeGroupRecord is the value kept under mergeGroupKey.
type mergeGroupRecord struct {
	PRs []int `json:"prs"`
}

// maxLedgerLookups bounds the commits of a group looked up in the merge-group ledger.
const maxLedgerLookups = 250

// CheckMergeGroup checks a merge queue's group: it scans what base...head adds (the
// changes of every pull request in the group), carries the active exceptions of those
// pull requests (a finding one of them covers by fingerprint is neutral, anything else
// fails) and posts the check run, completed, on the group's head commit. The pull
// requests are the one the head ref names and those of the nearest earlier group of the
// queue among the group's commits (escapegate's ledger of groups, docs/merge-queue.md).
func (s *Service) CheckMergeGroup(ctx context.Context, g MergeGroup) (CheckOutcome, error) {
	c, err := s.client(g.Installation)
	if err != nil {
		return CheckOutcome{}, err
	}
	if _, err := s.ensureRepo(ctx, g.Installation, g.Repo, g.RepoID, g.DefaultBranch); err != nil {
		return CheckOutcome{}, err
	}
	number, _ := QueuePR(g.HeadRef)
	pr := PR{
		Installation: g.Installation, Repo: g.Repo, RepoID: g.RepoID, DefaultBranch: g.DefaultBranch,
		Number: number, HeadSHA: g.HeadSHA, BaseSHA: g.BaseSHA,
		HeadRef: strings.TrimPrefix(g.HeadRef, "refs/heads/"), BaseRef: strings.TrimPrefix(g.BaseRef, "refs/heads/"),
	}
	base := cmp.Or(g.BaseSHA, pr.BaseRef)
	var commits []string
	ev, err := s.evaluateFiles(ctx, c, pr, func() ([]gh.File, error) {
		comp, err := c.Compare(ctx, g.Repo, base, g.HeadSHA)
		commits = comp.Commits
		return comp.Files, err
	})
	if err != nil {
		// Fail closed, and at once: the queue waits for this check until its timeout.
		r := render.Result{
			Conclusion: "failure",
			Title:      "escapegate could not scan this merge group",
			Summary:    "The scan did not finish: " + err.Error() + "\n\nThe delivery is retried; re-queue the pull request once GitHub is reachable again.",
		}
		id, perr := s.postGroup(ctx, c, pr, r)
		if perr != nil {
			s.logger(ctx).Warn().Err(perr).Msg("merge group: failure not posted")
		}
		return CheckOutcome{CheckRunID: id, Conclusion: "failure"}, err
	}
	prs, err := s.groupPRs(ctx, g.Repo, number, g.HeadSHA, commits)
	if err != nil {
		return CheckOutcome{}, err
	}
	excs, err := s.groupExceptions(ctx, g.Repo, prs)
	if err != nil {
		return CheckOutcome{}, err
	}
	if number == 0 {
		// No pull request named: nothing is carried (and no PR's expiry is reported).
		ev.view.Expired = ""
	}
	ev.exception = combineExceptions(excs)
	ev.conclude()
	ev.result.Summary = withGroupNote(ev.result.Summary, pr.HeadRef, prs, excs)
	ev.result.Actions = nil // an exception is asked for on the pull request, not on its queue group
	id, err := s.postGroup(ctx, c, pr, ev.result)
	if err != nil {
		return CheckOutcome{}, fmt.Errorf("posting check run on merge group %s@%s: %w", g.Repo, short(g.HeadSHA), err)
	}
	if err := s.recordScan(ctx, pr, id, ev); err != nil {
		return CheckOutcome{}, err
	}
	s.logger(ctx).Info().Str("sha", g.HeadSHA).Ints("prs", prs).Int("exceptions", len(excs)).
		Str("conclusion", ev.result.Conclusion).Msg("merge group checked")
	return CheckOutcome{CheckRunID: id, Conclusion: ev.result.Conclusion, Failing: ev.failing}, nil
}

// postGroup posts r as the group head's check run, completed in one call; a retried
// delivery first looks for the run an earlier attempt posted (as republish does).
func (s *Service) postGroup(ctx context.Context, c gh.Client, pr PR, r render.Result) (int64, error) {
	if delivery.Retrying(ctx) {
		run, found, err := s.findRun(ctx, c, pr)
		if err != nil {
			return 0, err
		}
		if found {
			return s.publish(ctx, c, pr, run, r)
		}
	}
	return s.createCompleted(ctx, c, pr, r)
}

// groupPRs returns the pull requests of a group: number (from its head ref) and those
// of the nearest earlier group among its commits, newest first, as the ledger has them.
// It records the group's own list (before anything is posted, so the next group of the
// queue, handled after this one, finds it). A queue's groups are delivered in order
// (handlers.OrderKey), so the group ahead is in the ledger unless its delivery was lost.
func (s *Service) groupPRs(ctx context.Context, repo gh.Repo, number int, head string, commits []string) ([]int, error) {
	var prs []int
	if number > 0 {
		prs = append(prs, number)
	}
	looked := 0
	for i := len(commits) - 1; i >= 0 && looked < maxLedgerLookups; i-- {
		if commits[i] == head {
			continue
		}
		looked++
		v, err := s.store.GetSetting(ctx, mergeGroupKey(repo, commits[i]))
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading the merge-group ledger of %s: %w", repo, err)
		}
		var rec mergeGroupRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			s.logger(ctx).Warn().Err(err).Str("sha", commits[i]).Msg("merge-group ledger entry not read")
			continue
		}
		for _, p := range rec.PRs {
			if p > 0 && !slices.Contains(prs, p) {
				prs = append(prs, p)
			}
		}
		break // the nearest earlier group holds all the pull requests ahead of it
	}
	if len(prs) > 0 {
		b, err := json.Marshal(mergeGroupRecord{PRs: prs})
		if err != nil {
			return nil, fmt.Errorf("encoding the merge-group ledger entry: %w", err)
		}
		if err := s.store.PutSetting(ctx, mergeGroupKey(repo, head), b); err != nil {
			return nil, fmt.Errorf("recording merge group %s@%s: %w", repo, short(head), err)
		}
	}
	return prs, nil
}

// groupException is the active exception of one pull request of a group.
type groupException struct {
	PR int
	store.Exception
}

// groupExceptions returns the active, unexpired exception of each pull request.
func (s *Service) groupExceptions(ctx context.Context, repo gh.Repo, prs []int) ([]groupException, error) {
	var out []groupException
	for _, n := range prs {
		e, err := s.activeException(ctx, repo, n)
		if err != nil {
			return nil, err
		}
		if e != nil {
			out = append(out, groupException{PR: n, Exception: *e})
		}
	}
	return out, nil
}

// combineExceptions is the one exception the verdict weighs for a group: it covers
// every fingerprint that an exception of one of its pull requests covers. Its id is the
// first one's; the approvers are all named; it expires with the first to expire.
func combineExceptions(excs []groupException) *store.Exception {
	if len(excs) == 0 {
		return nil
	}
	out := excs[0].Exception
	out.Fingerprints = slices.Clone(out.Fingerprints)
	approvers := []string{strings.TrimPrefix(out.Approver, "@")}
	for _, e := range excs[1:] {
		out.Fingerprints = append(out.Fingerprints, e.Fingerprints...)
		if a := strings.TrimPrefix(e.Approver, "@"); !slices.Contains(approvers, a) {
			approvers = append(approvers, a)
		}
		if e.Reason != out.Reason {
			out.Reason = ""
		}
		if !e.ExpiresAt.IsZero() && (out.ExpiresAt.IsZero() || e.ExpiresAt.Before(out.ExpiresAt)) {
			out.ExpiresAt = e.ExpiresAt
		}
	}
	out.Approver = strings.Join(approvers, ", @")
	return &out
}

// withGroupNote puts a line naming the group and its pull requests (and their
// exceptions) above a check run's summary, when it fits GitHub's limit.
func withGroupNote(summary, headRef string, prs []int, excs []groupException) string {
	refs := make([]string, len(prs))
	for i, n := range prs {
		refs[i] = "#" + strconv.Itoa(n)
	}
	note := "**Merge queue group** `" + strings.ReplaceAll(headRef, "`", "") + "`"
	if len(refs) > 0 {
		note += " of " + strings.Join(refs, ", ")
	}
	note += ": what the group adds to its base is checked as one change."
	if len(excs) > 0 {
		parts := make([]string, len(excs))
		for i, e := range excs {
			parts[i] = fmt.Sprintf("exception #%d of #%d (@%s)", e.ID, e.PR, strings.TrimPrefix(e.Approver, "@"))
		}
		note += " Carried: " + strings.Join(parts, ", ") + "."
	}
	if len(note)+2+len(summary) > render.MaxChars {
		return summary
	}
	return note + "\n\n" + summary
}
