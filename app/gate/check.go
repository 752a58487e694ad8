package gate

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/escapegate/escapegate/app/delivery"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/policy"
	"github.com/escapegate/escapegate/app/render"
	"github.com/escapegate/escapegate/app/verdict"
	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/store"
)

// PR identifies the pull request an event is about, with what its payload already says
// (so the domain does not spend API calls re-reading it).
type PR struct {
	Installation  int64
	Repo          gh.Repo
	RepoID        int64
	DefaultBranch string
	Number        int
	Author        string
	HeadSHA       string
	BaseSHA       string
	HeadRef       string
	BaseRef       string
	Title         string
	Labels        []string
	// ChangedFiles is the payload's changed_files (0: not known): past GitHub's listing
	// cap the files are not listed at all.
	ChangedFiles int

	// atHead: HeadSHA is not the PR's current head, so its files come from a compare of
	// base and HeadSHA (the PR files listing answers for the current head only).
	atHead bool
	// partial: Labels and Title are not known (a re-requested check's minimal pull
	// request), so release-PR-ness by them is taken from the store (syncReleaseComment).
	partial bool
}

// CheckOutcome is what a check concluded (for callers and tests).
type CheckOutcome struct {
	CheckRunID int64
	Conclusion string
	Failing    []checks.Finding
}

func isNotFound(err error) bool {
	return errors.Is(err, store.ErrNotFound) || errors.Is(err, gh.ErrNotFound)
}

// CheckPullRequest creates the escapegate check run on the PR's head, scans the
// lines the PR adds, records what it caught and completes the check run.
func (s *Service) CheckPullRequest(ctx context.Context, pr PR) (CheckOutcome, error) {
	c, err := s.client(pr.Installation)
	if err != nil {
		return CheckOutcome{}, err
	}
	if _, err := s.ensureRepo(ctx, pr.Installation, pr.Repo, pr.RepoID, pr.DefaultBranch); err != nil {
		return CheckOutcome{}, err
	}
	// A retry first looks for the run an earlier attempt created: one left in progress is
	// completed, a completed one is brought up to date at the end (see publish).
	var id int64
	var prior *gh.FoundCheckRun
	if delivery.Retrying(ctx) {
		run, found, err := s.findRun(ctx, c, pr)
		if err != nil {
			return CheckOutcome{}, err
		}
		switch {
		case found && run.Status != "completed":
			s.logger(ctx).Info().Int64("check_run", run.ID).Msg("completing the check run an earlier attempt left in progress")
			id = run.ID
		case found:
			prior = &run
		}
	}
	evaluate := s.evaluate
	if pr.atHead {
		evaluate = s.evaluateAtHead
	}
	var out evaluation
	if id == 0 && prior == nil {
		// No run yet: scan first, and create the run completed when the scan is done
		// within inProgressAfter (one write); a slower scan gets its run in progress
		// meanwhile, completed at the end.
		var serr error
		out, id, err, serr = s.evaluateOrStart(ctx, c, pr, evaluate)
		if serr != nil {
			return CheckOutcome{}, fmt.Errorf("creating check run on %s@%s: %w", pr.Repo, short(pr.HeadSHA), serr)
		}
	} else {
		out, err = evaluate(ctx, c, pr)
	}
	finish := func(r render.Result) (int64, error) {
		switch {
		case prior != nil:
			return s.publish(ctx, c, pr, *prior, r)
		case id != 0:
			return id, s.complete(ctx, c, pr, id, r)
		}
		return s.createCompleted(ctx, c, pr, r)
	}
	if err != nil {
		// Fail closed: the check must not stay in progress or pass when the scan could not run.
		if posted, cerr := finish(render.Result{
			Conclusion: "failure",
			Title:      "escapegate could not scan this pull request",
			Summary:    "The scan did not finish: " + err.Error() + "\n\nRe-run this check once GitHub is reachable again.",
		}); cerr == nil {
			id = posted
		}
		return CheckOutcome{CheckRunID: id, Conclusion: "failure"}, err
	}
	if id, err = finish(out.result); err != nil {
		return CheckOutcome{}, err
	}
	if err := s.recordScan(ctx, pr, id, out); err != nil {
		return CheckOutcome{}, err
	}
	if err := s.syncReleaseComment(ctx, c, pr, out.pol.Policy); err != nil {
		s.logger(ctx).Warn().Err(err).Msg("release comment not updated")
	}
	return CheckOutcome{CheckRunID: id, Conclusion: out.result.Conclusion, Failing: out.failing}, nil
}

// evaluateOrStart runs evaluate and, when it has not returned within s.inProgressAfter,
// creates the check run in progress while it goes on, so that a slow scan shows on the
// pull request as running. It returns the evaluation and its error, the id of the run
// created in progress (0: none, the caller creates it completed) and the error of
// creating it. evaluate runs on the caller's goroutine (a panic stays the caller's).
func (s *Service) evaluateOrStart(ctx context.Context, c gh.Client, pr PR, evaluate func(context.Context, gh.Client, PR) (evaluation, error)) (ev evaluation, id int64, err, startErr error) {
	if s.inProgressAfter <= 0 {
		// Every run in progress first: nothing is scanned before it exists.
		if id, startErr = s.startRun(ctx, c, pr); startErr != nil {
			return ev, 0, nil, startErr
		}
		ev, err = evaluate(ctx, c, pr)
		return ev, id, err, nil
	}
	started := make(chan struct{})
	timer := time.AfterFunc(s.inProgressAfter, func() {
		defer close(started)
		id, startErr = s.startRun(ctx, c, pr)
	})
	ev, err = evaluate(ctx, c, pr)
	if timer.Stop() {
		return ev, 0, err, nil // the scan was done in time: no run in progress
	}
	<-started
	return ev, id, err, startErr
}

type evaluation struct {
	pol       policy.Result
	decide    verdict.Input     // what the verdict is decided on
	view      render.CheckInput // what the check run says besides the verdict
	result    render.Result
	failing   []checks.Finding // failing at fail_on, before exceptions
	raised    []checks.Finding // what counts as caught: not existing, not silenced, at or above the critical threshold
	exception *store.Exception
}

// conclude decides the verdict of an evaluation (with its exception as it stands) and renders it.
func (ev *evaluation) conclude() {
	ev.decide.Exception = nil
	if e := ev.exception; e != nil {
		ev.decide.Exception = &verdict.Exception{ID: e.ID, Approver: e.Approver, Reason: e.Reason, ExpiresAt: e.ExpiresAt, Fingerprints: e.Fingerprints}
	}
	ev.result = render.CheckRun(verdict.Decide(ev.decide), ev.view)
}

// verdictPolicy is the part of a policy that decides a verdict.
func verdictPolicy(p policy.Policy) verdict.Policy {
	return verdict.Policy{FailOn: p.FailOn, CriticalAt: p.EscapeRate.Severity, AllowInline: p.Secrets.AllowInlineSuppressions,
		UnscannedNeutral: p.Unscanned == policy.UnscannedNeutral}
}

// evaluate scans the PR and renders the check without posting anything. It lists the
// PR's files, which GitHub answers for the PR's current head.
func (s *Service) evaluate(ctx context.Context, c gh.Client, pr PR) (evaluation, error) {
	return s.evaluateFiles(ctx, c, pr, func() ([]gh.File, error) {
		if pr.ChangedFiles > gh.MaxPullFiles {
			// GitHub would list 3,000 of them (30 pages) and the check could not pass anyway.
			return nil, fmt.Errorf("%s#%d has %d changed files: %w", pr.Repo, pr.Number, pr.ChangedFiles, gh.ErrTooManyFiles)
		}
		return c.ListPullRequestFiles(ctx, pr.Repo, pr.Number)
	})
}

// evaluateAtHead is evaluate for exactly pr.HeadSHA, even when the PR has moved on
// since: its files are the compare of the PR's base and that head (what the PR files
// listing shows for the PR at that head).
func (s *Service) evaluateAtHead(ctx context.Context, c gh.Client, pr PR) (evaluation, error) {
	base := pr.BaseSHA
	if base == "" {
		base = pr.BaseRef
	}
	return s.evaluateFiles(ctx, c, pr, func() ([]gh.File, error) { return c.CompareCommits(ctx, pr.Repo, base, pr.HeadSHA) })
}

func (s *Service) evaluateFiles(ctx context.Context, c gh.Client, pr PR, list func() ([]gh.File, error)) (evaluation, error) {
	var ev evaluation
	pol, err := s.Policy(ctx, c, pr.Repo, pr.DefaultBranch)
	if err != nil {
		return ev, err
	}
	ev.pol = pol
	p := pol.Policy
	in := render.CheckInput{
		Repo: pr.Repo.String(), PR: pr.Number, HeadSHA: pr.HeadSHA,
		Override: overrideHelp(pr.Repo, p),
	}
	ev.decide.Policy = verdictPolicy(p)
	for _, e := range pol.Errors {
		in.PolicyErrors = append(in.PolicyErrors, e.Error())
	}
	for _, r := range pol.Refusals {
		in.PolicyNotes = append(in.PolicyNotes, r.String())
	}
	files, err := list()
	if errors.Is(err, gh.ErrTooManyFiles) {
		in.TooManyFiles = true
		ev.decide.TooManyFiles = true
		ev.view = in
		ev.conclude()
		return ev, nil
	}
	if err != nil {
		return ev, fmt.Errorf("listing files of %s#%d: %w", pr.Repo, pr.Number, err)
	}
	eng, err := s.engineFor(ctx, c, pr.Repo, p)
	if err != nil {
		in.PolicyErrors = append(in.PolicyErrors, err.Error())
		eng = s.base
	}
	baseRef := pr.BaseSHA
	if baseRef == "" {
		baseRef = pr.BaseRef
	}
	res, err := s.scanFiles(ctx, c, pr.Repo, files, pr.HeadSHA, baseRef, eng)
	if err != nil {
		return ev, err
	}
	for _, path := range res.policyFiles {
		data, err := getContent(ctx, c, pr.Repo, path, pr.HeadSHA)
		if err != nil {
			return ev, fmt.Errorf("fetching changed policy %s: %w", path, err)
		}
		for _, fe := range s.policies.ValidateChanged(path, data, p) {
			in.ChangedPolicyErrors = append(in.ChangedPolicyErrors, fe.Error())
		}
	}
	ev.decide.ChangedPolicyInvalid = len(in.ChangedPolicyErrors) > 0
	sortFindings(res.findings)
	ev.decide.Findings = res.findings
	if p.Secrets.RevokeGitHubTokens {
		in.Revoked = s.revokeAdded(ctx, pr, files, res.findings)
	}
	for _, n := range res.notScanned {
		in.NotScanned = append(in.NotScanned, render.NotScanned{Path: n.Path, Why: n.Why})
	}
	for _, n := range res.unscanned {
		ev.decide.Unscanned = append(ev.decide.Unscanned, verdict.Unscanned{Path: n.Path, Why: n.Why})
	}
	ev.failing = verdict.FailingFindings(res.findings, ev.decide.Policy)
	ev.raised = verdict.Raised(res.findings, ev.decide.Policy)
	exc, expired, err := s.exceptions(ctx, pr.Repo, pr.Number)
	if err != nil {
		return ev, err
	}
	ev.exception = exc
	if expired != nil {
		in.Expired = fmt.Sprintf("Exception #%d, accepted by @%s, expired on %s: the risks it accepted fail this check again. An approver may apply `%s` again.",
			expired.ID, expired.Approver, expired.ExpiresAt.UTC().Format("2006-01-02"), p.Override.Label)
	}
	ev.view = in
	ev.conclude()
	return ev, nil
}

// republish posts an evaluation as a new completed check run (after an exception was
// recorded or revoked): one API call, and the newest run is the one branch protection
// reads. A retry first looks at the newest run, which an earlier attempt may have posted.
func (s *Service) republish(ctx context.Context, c gh.Client, pr PR, ev evaluation) error {
	ev.conclude()
	var id int64
	var err error
	if delivery.Retrying(ctx) {
		run, found, ferr := s.findRun(ctx, c, pr)
		if ferr != nil {
			return ferr
		}
		if found {
			id, err = s.publish(ctx, c, pr, run, ev.result)
		} else {
			id, err = s.createCompleted(ctx, c, pr, ev.result)
		}
	} else {
		id, err = s.createCompleted(ctx, c, pr, ev.result)
	}
	if err != nil {
		return fmt.Errorf("posting check run on %s@%s: %w", pr.Repo, short(pr.HeadSHA), err)
	}
	return s.recordScan(ctx, pr, id, ev)
}

// externalID is the external id of a PR's check runs.
func externalID(pr PR) string { return fmt.Sprintf("%s#%d", pr.Repo, pr.Number) }

// findRun finds escapegate's newest check run for the PR on its head.
func (s *Service) findRun(ctx context.Context, c gh.Client, pr PR) (gh.FoundCheckRun, bool, error) {
	run, found, err := c.FindCheckRun(ctx, pr.Repo, pr.HeadSHA, CheckName, externalID(pr))
	if err != nil {
		return run, false, fmt.Errorf("looking for the check run on %s@%s: %w", pr.Repo, short(pr.HeadSHA), err)
	}
	return run, found, nil
}

// startRun creates the PR head's check run in progress. When GitHub answered 5xx (or
// not at all) it may have created it all the same: a run in progress found then is taken
// for it, and only when there is none is the run created again, once.
func (s *Service) startRun(ctx context.Context, c gh.Client, pr PR) (int64, error) {
	title, summary := render.InProgress()
	run := gh.CheckRun{
		Name: CheckName, HeadSHA: pr.HeadSHA, Status: "in_progress", StartedAt: s.now(),
		ExternalID: externalID(pr), DetailsURL: s.detail,
		Title: title, Summary: summary,
	}
	id, err := c.CreateCheckRun(ctx, pr.Repo, run)
	if err == nil || !gh.MayHaveApplied(err) {
		return id, err
	}
	found, ok, ferr := s.findRun(ctx, c, pr)
	if ferr != nil {
		return 0, errors.Join(err, ferr)
	}
	if ok && found.Status != "completed" {
		return found.ID, nil
	}
	s.logger(ctx).Info().Err(err).Msg("check run not created; creating it again")
	return c.CreateCheckRun(ctx, pr.Repo, run)
}

// createCompleted posts r as a new completed check run on the PR's head. When GitHub
// answered 5xx (or not at all), the newest run is looked at first: if it already says r,
// it is the one just posted.
func (s *Service) createCompleted(ctx context.Context, c gh.Client, pr PR, r render.Result) (int64, error) {
	now := s.now()
	run := gh.CheckRun{
		Name: CheckName, HeadSHA: pr.HeadSHA, Status: "completed", Conclusion: r.Conclusion,
		StartedAt: now, CompletedAt: now, DetailsURL: s.detail, ExternalID: externalID(pr),
		Title: r.Title, Summary: r.Summary, Text: r.Text, Annotations: r.Annotations, Actions: r.Actions,
	}
	id, err := c.CreateCheckRun(ctx, pr.Repo, run)
	if err == nil || !gh.MayHaveApplied(err) {
		return id, err
	}
	found, ok, ferr := s.findRun(ctx, c, pr)
	if ferr != nil {
		return 0, errors.Join(err, ferr)
	}
	if ok && shows(found, r) {
		return found.ID, nil
	}
	s.logger(ctx).Info().Err(err).Msg("check run not posted; posting it again")
	return c.CreateCheckRun(ctx, pr.Repo, run)
}

// publish brings run, which an earlier attempt may have left, to say r without doubling
// anything: nothing is sent when it already says r; a run still in progress, or one
// without annotations, is updated (GitHub appends annotations, so none are repeated);
// otherwise r is posted as a new run, which supersedes it.
func (s *Service) publish(ctx context.Context, c gh.Client, pr PR, run gh.FoundCheckRun, r render.Result) (int64, error) {
	switch {
	case run.Status == "completed" && shows(run, r):
		return run.ID, nil
	case run.Status != "completed" || run.Annotations == 0:
		return run.ID, s.complete(ctx, c, pr, run.ID, r)
	}
	return s.createCompleted(ctx, c, pr, r)
}

// shows reports whether a check run already says r.
func shows(run gh.FoundCheckRun, r render.Result) bool {
	return run.Conclusion == r.Conclusion && run.Title == r.Title && run.Annotations == len(r.Annotations)
}

func (s *Service) complete(ctx context.Context, c gh.Client, pr PR, id int64, r render.Result) error {
	err := c.UpdateCheckRun(ctx, pr.Repo, id, gh.CheckRun{
		Name: CheckName, HeadSHA: pr.HeadSHA, Status: "completed", Conclusion: r.Conclusion,
		CompletedAt: s.now(), DetailsURL: s.detail,
		Title: r.Title, Summary: r.Summary, Text: r.Text, Annotations: r.Annotations, Actions: r.Actions,
	})
	if err != nil {
		return fmt.Errorf("completing check run %d on %s: %w", id, pr.Repo, err)
	}
	return nil
}

// recordScan keeps the raised findings of this head SHA (fingerprints and redacted
// forms only) and the first detection of each critical fingerprint.
// Both go to the store in one transaction (one commit, one fsync).
func (s *Service) recordScan(ctx context.Context, pr PR, id int64, ev evaluation) error {
	sc := store.Scan{Repo: pr.Repo.String(), SHA: pr.HeadSHA, PR: pr.Number, CheckRunID: id, Conclusion: ev.result.Conclusion, At: s.now()}
	var caught []store.Caught
	for _, f := range ev.raised {
		sc.Findings = append(sc.Findings, storeFinding(f))
		caught = append(caught, store.Caught{
			Repo: pr.Repo.String(), Fingerprint: f.Fingerprint, Rule: f.Rule, Severity: string(f.Severity),
			Path: f.Path, PR: pr.Number, SHA: pr.HeadSHA, At: s.now(),
		})
	}
	if _, err := s.store.RecordScan(ctx, sc, caught); err != nil {
		return fmt.Errorf("recording scan of %s@%s: %w", pr.Repo, short(pr.HeadSHA), err)
	}
	return nil
}

func storeFinding(f checks.Finding) store.Finding {
	return store.Finding{
		Fingerprint: f.Fingerprint, Rule: f.Rule, Category: string(f.Category), Severity: string(f.Severity),
		Path: f.Path, Line: f.Line, Redacted: f.Redacted, Message: f.Message, Existing: f.Existing,
	}
}

// activeException returns the PR's newest active, unexpired exception, marking expired ones.
func (s *Service) activeException(ctx context.Context, repo gh.Repo, number int) (*store.Exception, error) {
	active, _, err := s.exceptions(ctx, repo, number)
	return active, err
}

// exceptions returns the PR's newest active, unexpired exception and, when there is
// none, the newest that expired (so the check can say why it fails again), marking
// expired ones.
func (s *Service) exceptions(ctx context.Context, repo gh.Repo, number int) (active, expired *store.Exception, err error) {
	list, err := s.store.ListExceptions(ctx, repo.String(), number, store.Window{To: s.now().Add(time.Hour)})
	if err != nil {
		return nil, nil, fmt.Errorf("listing exceptions of %s#%d: %w", repo, number, err)
	}
	for i := range list {
		e := list[i]
		if e.State == store.ExceptionActive && !e.ExpiresAt.IsZero() && !s.now().Before(e.ExpiresAt) {
			e.State, e.EndedAt = store.ExceptionExpired, e.ExpiresAt
			if err := s.store.UpdateException(ctx, e); err != nil {
				return nil, nil, fmt.Errorf("expiring exception %d: %w", e.ID, err)
			}
		}
		switch {
		case e.State == store.ExceptionActive && (active == nil || e.ID > active.ID):
			ec := e
			active = &ec
		case e.State == store.ExceptionExpired && (expired == nil || e.ID > expired.ID):
			ec := e
			expired = &ec
		}
	}
	if active != nil || (expired != nil && expired.EndedAt.Before(s.now().Add(-expiredNoteFor))) {
		expired = nil
	}
	return active, expired, nil
}

// expiredNoteFor is how long the check keeps saying that an exception expired.
const expiredNoteFor = 7 * 24 * time.Hour

// RecheckExpired checks again the open pull requests whose exception has expired, so
// that their check fails (and says why) without waiting for a push. It returns how
// many it checked.
func (s *Service) RecheckExpired(ctx context.Context) (int, error) {
	now := s.now()
	checked := 0
	err := s.eachLiveRepo(ctx, func(inst int64, repo gh.Repo, r store.Repository) error {
		list, err := s.store.ListExceptions(ctx, r.FullName, 0, store.Window{From: now.AddDate(-1, 0, 0), To: now.Add(time.Hour)})
		if err != nil {
			return fmt.Errorf("listing exceptions of %s: %w", r.FullName, err)
		}
		seen := map[int]bool{}
		for _, e := range list {
			if e.State != store.ExceptionActive || e.ExpiresAt.IsZero() || now.Before(e.ExpiresAt) || seen[e.PR] {
				continue
			}
			seen[e.PR] = true
			rechecked, err := s.recheckExpired(ctx, inst, repo, r, e)
			if err != nil {
				s.logger(ctx).Warn().Err(err).Str("repo", r.FullName).Int("pr", e.PR).Msg("expired exception: check not re-run")
				continue
			}
			if rechecked {
				checked++
			}
		}
		return nil
	})
	return checked, err
}

// recheckExpired re-runs the check of an expired exception's pull request if it is open
// (and reports whether it did); otherwise the exception just ends.
func (s *Service) recheckExpired(ctx context.Context, inst int64, repo gh.Repo, r store.Repository, e store.Exception) (bool, error) {
	c, err := s.client(inst)
	if err != nil {
		return false, err
	}
	full, err := c.GetPullRequest(ctx, repo, e.PR)
	if err != nil && !isNotFound(err) {
		return false, fmt.Errorf("reading %s#%d: %w", repo, e.PR, err)
	}
	if err != nil || full.State != "open" {
		_, _, err := s.exceptions(ctx, repo, e.PR)
		return false, err
	}
	// The PR was just read: it is checked again at its head without reading it twice.
	pr := withRead(PR{Installation: inst, Repo: repo, RepoID: r.ID, DefaultBranch: r.DefaultBranch, Number: e.PR}, full)
	err = s.recheck(ctx, c, pr)
	return err == nil, err
}

func overrideHelp(repo gh.Repo, p policy.Policy) render.OverrideHelp {
	h := render.OverrideHelp{
		Label:       p.Override.Label,
		Permission:  p.Override.Approvers.Permission,
		AllowAuthor: p.Override.AllowAuthor,

		ExpiresAfterDays: p.Override.ExpiresAfterDays,
	}
	for label := range p.Override.Reasons {
		h.ReasonLabels = append(h.ReasonLabels, label)
	}
	sort.Strings(h.ReasonLabels)
	for _, t := range p.Override.Approvers.Teams {
		h.Teams = append(h.Teams, teamRef(repo.Owner, t))
	}
	return h
}

func sortFindings(f []checks.Finding) {
	sort.SliceStable(f, func(i, j int) bool {
		if f[i].Severity.Rank() != f[j].Severity.Rank() {
			return f[i].Severity.Rank() > f[j].Severity.Rank()
		}
		if f[i].Path != f[j].Path {
			return f[i].Path < f[j].Path
		}
		return f[i].Line < f[j].Line
	})
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// Recheck checks a PR again when its check run or suite is re-requested. pr.HeadSHA is
// the commit whose check is re-run; pr.BaseSHA, pr.BaseRef and pr.HeadRef are what the
// event's minimal pull request says, and prHead is that pull request's head.sha: the
// PR's head when the event was sent ("": not known).
//
// A delivery handled as it is sent is taken at its word (DESIGN §7: one read of the
// files, one write of the result): a re-run of the PR's head lists the PR's files, one
// of an older head compares the payload's base with that head. A retry or a redelivery
// may be days old, when the PR has moved on and its files are a newer head's, and a
// payload without the heads names nothing to trust: then the PR is read from GitHub.
func (s *Service) Recheck(ctx context.Context, pr PR, prHead string) error {
	c, err := s.client(pr.Installation)
	if err != nil {
		return err
	}
	if prHead != "" && pr.BaseSHA != "" && pr.HeadSHA != "" && !delivery.Late(ctx) {
		// The minimal pull request has no labels or title: the release comment goes by
		// what the store remembers (see syncReleaseComment).
		pr.Labels, pr.Title, pr.partial = nil, "", true
		pr.atHead = pr.HeadSHA != prHead
	} else {
		full, err := c.GetPullRequest(ctx, pr.Repo, pr.Number)
		if err != nil {
			return fmt.Errorf("reading %s#%d: %w", pr.Repo, pr.Number, err)
		}
		pr = withRead(pr, full)
	}
	return s.recheck(ctx, c, pr)
}

// RecheckSuite checks again the pull request whose escapegate run is on pr.HeadSHA, when
// a check suite is re-requested without naming a pull request (a fork's: GitHub names
// only pull requests whose head is in the repository). The newest run's external id
// names it; a commit without one of escapegate's runs (a direct push) has nothing to check.
func (s *Service) RecheckSuite(ctx context.Context, pr PR) error {
	c, err := s.client(pr.Installation)
	if err != nil {
		return err
	}
	run, found, err := c.FindCheckRun(ctx, pr.Repo, pr.HeadSHA, CheckName, "")
	if err != nil {
		return fmt.Errorf("looking for the check run on %s@%s: %w", pr.Repo, short(pr.HeadSHA), err)
	}
	if pr.Number = PRFromExternalID(run.ExternalID, pr.Repo); !found || pr.Number == 0 {
		s.logger(ctx).Info().Str("sha", pr.HeadSHA).Msg("re-requested check suite names no pull request and holds no pull request's run; nothing to check")
		return nil
	}
	return s.Recheck(ctx, pr, "")
}

// withRead fills pr from the pull request as GitHub has it now. A re-run of an older
// head keeps that head and the base it was checked against (rescanned from their
// compare, not the PR's newer files under the older head's SHA).
func withRead(pr PR, full gh.PullRequest) PR {
	pr.Author, pr.Title, pr.Labels = full.Author, full.Title, full.Labels
	pr.HeadRef, pr.BaseRef = full.HeadRef, full.BaseRef
	if pr.HeadSHA == "" {
		pr.HeadSHA = full.HeadSHA
	}
	if pr.HeadSHA != full.HeadSHA && pr.BaseSHA != "" {
		pr.atHead = true
	} else {
		pr.HeadSHA, pr.BaseSHA = full.HeadSHA, full.BaseSHA
	}
	return pr
}

// recheck checks pr again once its heads are known.
func (s *Service) recheck(ctx context.Context, c gh.Client, pr PR) error {
	if pr.DefaultBranch == "" {
		var err error
		if pr.DefaultBranch, err = c.GetRepository(ctx, pr.Repo); err != nil {
			return fmt.Errorf("reading %s: %w", pr.Repo, err)
		}
	}
	_, err := s.CheckPullRequest(ctx, pr)
	return err
}

// SyncRelease refreshes the release comment of a PR whose title, labels or branches changed.
func (s *Service) SyncRelease(ctx context.Context, pr PR) error {
	c, pol, err := s.session(ctx, pr.Installation, pr.Repo, pr.DefaultBranch)
	if err != nil {
		return err
	}
	return s.syncReleaseComment(ctx, c, pr, pol.Policy)
}
