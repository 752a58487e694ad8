package gh

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/go-github/v62/github"
)

// MaxAnnotationsPerRequest is how many annotations GitHub accepts in one check-run request.
const MaxAnnotationsPerRequest = 50

// MaxOutputChars is GitHub's limit on a check run's output summary and text.
const MaxOutputChars = 65535

// perPage is the largest page GitHub serves for the list endpoints used here.
const perPage = 100

// Option configures the client that New returns.
type Option func(*settings)

type settings struct {
	retry RetryPolicy
	appID int64
}

// WithRetryPolicy replaces the whole retry policy.
func WithRetryPolicy(p RetryPolicy) Option { return func(s *settings) { s.retry = p } }

// WithMaxRetryWait sets the longest rate-limit wait that is slept through rather than returned as an error.
func WithMaxRetryWait(d time.Duration) Option { return func(s *settings) { s.retry.MaxWait = d } }

// WithSleep replaces the sleep between retries (tests use it to avoid real waiting).
func WithSleep(sleep func(context.Context, time.Duration) error) Option {
	return func(s *settings) { s.retry.Sleep = sleep }
}

// WithAppID tells the client the id of the GitHub App it acts for, so that it finds that
// app's own check runs and comments only (0: any app's runs, any bot's comments).
func WithAppID(id int64) Option { return func(s *settings) { s.appID = id } }

type client struct {
	gh    *github.Client
	appID int64
}

// New returns a Client backed by go-github v62. The returned client sends its
// requests through c's HTTP client (so its authentication is kept), wrapped in a
// RetryTransport (DefaultRetryPolicy unless an option says otherwise).
func New(c *github.Client, opts ...Option) Client {
	st := settings{retry: DefaultRetryPolicy()}
	for _, o := range opts {
		o(&st)
	}
	return &client{gh: withRetry(c, opts), appID: st.appID}
}

// MayHaveApplied reports whether a write that failed may still have been carried out by
// GitHub: it answered 5xx, or gave no answer at all (the connection failed or timed out
// after the request may have been sent, or the answer could not be read). A rate limit
// or another 4xx answer means GitHub refused it.
func MayHaveApplied(err error) bool {
	if err == nil {
		return false
	}
	var rl *github.RateLimitError
	var ab *github.AbuseRateLimitError
	if errors.As(err, &rl) || errors.As(err, &ab) {
		return false
	}
	if s := statusOf(err); s != 0 {
		return s >= 500
	}
	return !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrTooManyFiles)
}

// wrap gives an error its context and maps GitHub's answers onto this package's errors.
func wrap(err error, op string, r Repo) error {
	if err == nil {
		return nil
	}
	where := op
	if r != (Repo{}) {
		where = op + " " + r.String()
	}
	var rl *github.RateLimitError
	var ab *github.AbuseRateLimitError
	var er *github.ErrorResponse
	switch {
	case errors.As(err, &rl):
		return fmt.Errorf("%s: primary rate limit exhausted until %s: %w", where, rl.Rate.Reset.Time.UTC().Format(time.RFC3339), err)
	case errors.As(err, &ab):
		return fmt.Errorf("%s: secondary rate limit (retry after %s): %w", where, retryAfterText(ab.RetryAfter), err)
	case errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusTooManyRequests:
		// go-github reports a 429 as a plain ErrorResponse; give callers the rate-limit type.
		ab := &github.AbuseRateLimitError{Response: er.Response, Message: er.Message, RetryAfter: parseRetryAfter(er.Response.Header)}
		return fmt.Errorf("%s: secondary rate limit (retry after %s): %w", where, retryAfterText(ab.RetryAfter), ab)
	case errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%s: %w (%v)", where, ErrNotFound, err)
	}
	return fmt.Errorf("%s: %w", where, err)
}

func retryAfterText(d *time.Duration) string {
	if d == nil {
		return "unknown"
	}
	return d.String()
}

func parseRetryAfter(h http.Header) *time.Duration {
	d, ok := retryAfter(h)
	if !ok {
		return nil
	}
	return &d
}

func statusOf(err error) int {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	return 0
}

func (c *client) GetRepository(ctx context.Context, r Repo) (string, error) {
	repo, _, err := c.gh.Repositories.Get(ctx, r.Owner, r.Name)
	if err != nil {
		return "", wrap(err, "get repository", r)
	}
	return repo.GetDefaultBranch(), nil
}

func pullFrom(p *github.PullRequest) PullRequest {
	out := PullRequest{
		Number:  p.GetNumber(),
		Title:   p.GetTitle(),
		State:   p.GetState(),
		Author:  p.GetUser().GetLogin(),
		HeadSHA: p.GetHead().GetSHA(),
		HeadRef: p.GetHead().GetRef(),
		BaseRef: p.GetBase().GetRef(),
		BaseSHA: p.GetBase().GetSHA(),
		Merged:  p.GetMerged(),
	}
	for _, l := range p.Labels {
		out.Labels = append(out.Labels, l.GetName())
	}
	return out
}

func (c *client) GetPullRequest(ctx context.Context, r Repo, number int) (PullRequest, error) {
	p, _, err := c.gh.PullRequests.Get(ctx, r.Owner, r.Name, number)
	if err != nil {
		return PullRequest{}, wrap(err, fmt.Sprintf("get pull request #%d", number), r)
	}
	return pullFrom(p), nil
}

func (c *client) ListOpenPullRequests(ctx context.Context, r Repo) ([]PullRequest, error) {
	opts := &github.PullRequestListOptions{State: "open", ListOptions: github.ListOptions{PerPage: perPage}}
	var out []PullRequest
	for {
		ps, resp, err := c.gh.PullRequests.List(ctx, r.Owner, r.Name, opts)
		if err != nil {
			return nil, wrap(err, "list open pull requests", r)
		}
		for _, p := range ps {
			out = append(out, pullFrom(p))
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

func fileFrom(f *github.CommitFile) File {
	return File{
		Filename:         f.GetFilename(),
		PreviousFilename: f.GetPreviousFilename(),
		Status:           f.GetStatus(),
		Patch:            f.GetPatch(),
		Additions:        f.GetAdditions(),
		Changes:          f.GetChanges(),
	}
}

// pullFile is what escapegate reads of a listed file. Decoding only these fields (not
// go-github's CommitFile with its URLs and blob id, each a string and a pointer) is most of
// what a PR event costs in JSON.
type pullFile struct {
	Filename         string `json:"filename"`
	PreviousFilename string `json:"previous_filename"`
	Status           string `json:"status"`
	Patch            string `json:"patch"`
	Additions        int    `json:"additions"`
	Changes          int    `json:"changes"`
}

// listFilesPage reads one page of GET /repos/{owner}/{repo}/pulls/{number}/files, as
// go-github's PullRequests.ListFiles does, into pullFile.
func (c *client) listFilesPage(ctx context.Context, r Repo, number, page int) ([]pullFile, *github.Response, error) {
	u := fmt.Sprintf("repos/%v/%v/pulls/%d/files?per_page=%d", r.Owner, r.Name, number, perPage)
	if page > 0 {
		u += fmt.Sprintf("&page=%d", page)
	}
	req, err := c.gh.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	var fs []pullFile
	resp, err := c.gh.Do(ctx, req, &fs)
	return fs, resp, err
}

func (c *client) ListPullRequestFiles(ctx context.Context, r Repo, number int) ([]File, error) {
	op := fmt.Sprintf("list files of pull request #%d", number)
	var out []File
	page := 0
	for {
		fs, resp, err := c.listFilesPage(ctx, r, number, page)
		if err != nil {
			return nil, wrap(err, op, r)
		}
		if out == nil && resp.LastPage > 0 {
			out = make([]File, 0, min(resp.LastPage*perPage, MaxPullFiles+perPage))
		}
		for _, f := range fs {
			out = append(out, File(f))
		}
		if len(out) > MaxPullFiles {
			return nil, fmt.Errorf("%s %s: %w", op, r, ErrTooManyFiles)
		}
		if resp.NextPage == 0 {
			break
		}
		page = resp.NextPage
	}
	// GitHub stops listing at 3,000 files: only a listing that reached the cap can be
	// incomplete, and only then is the pull request's changed_files worth a call.
	if len(out) == MaxPullFiles {
		p, _, err := c.gh.PullRequests.Get(ctx, r.Owner, r.Name, number)
		if err != nil {
			return nil, wrap(err, op, r)
		}
		if p.GetChangedFiles() > MaxPullFiles {
			return nil, fmt.Errorf("%s %s: %d files: %w", op, r, p.GetChangedFiles(), ErrTooManyFiles)
		}
	}
	return out, nil
}

func (c *client) CompareCommits(ctx context.Context, r Repo, base, head string) ([]File, error) {
	op := fmt.Sprintf("compare %s...%s", base, head)
	opts := &github.ListOptions{PerPage: perPage}
	var out []File
	for {
		cmp, resp, err := c.gh.Repositories.CompareCommits(ctx, r.Owner, r.Name, base, head, opts)
		if err != nil {
			return nil, wrap(err, op, r)
		}
		for _, f := range cmp.Files {
			out = append(out, fileFrom(f))
		}
		if len(out) > MaxPullFiles {
			// The files listed so far are returned with the error: a caller may scan them.
			return out[:MaxPullFiles], fmt.Errorf("%s %s: %w", op, r, ErrTooManyFiles)
		}
		if resp.NextPage == 0 || len(cmp.Files) == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// truncateOutput keeps s within GitHub's limit, cutting at a line break and saying so.
// It counts bytes, which is never fewer than GitHub's characters.
func truncateOutput(s string) string {
	if len(s) <= MaxOutputChars {
		return s
	}
	const note = "\n\n… (truncated: GitHub allows 65,535 characters here)\n"
	cut := s[:MaxOutputChars-len(note)]
	if i := strings.LastIndexByte(cut, '\n'); i > 0 {
		cut = cut[:i]
	} else {
		// No line break: back off to a rune boundary.
		for len(cut) > 0 && !utf8Start(cut[len(cut)-1]) {
			cut = cut[:len(cut)-1]
		}
		if len(cut) > 0 {
			cut = cut[:len(cut)-1]
		}
	}
	return cut + note
}

// utf8Start reports whether b begins a UTF-8 sequence (so cutting before it is safe).
func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

func annotationsFrom(as []Annotation) []*github.CheckRunAnnotation {
	out := make([]*github.CheckRunAnnotation, 0, len(as))
	for _, a := range as {
		end := a.EndLine
		if end < a.StartLine {
			end = a.StartLine
		}
		ga := &github.CheckRunAnnotation{
			Path:            github.String(a.Path),
			StartLine:       github.Int(a.StartLine),
			EndLine:         github.Int(end),
			AnnotationLevel: github.String(a.Level),
			Message:         github.String(a.Message),
		}
		if a.Title != "" {
			ga.Title = github.String(a.Title)
		}
		if a.RawDetails != "" {
			ga.RawDetails = github.String(a.RawDetails)
		}
		out = append(out, ga)
	}
	return out
}

// output builds the check run's output with at most one batch of annotations; nil when there is no title.
func output(c CheckRun, batch []*github.CheckRunAnnotation) *github.CheckRunOutput {
	if c.Title == "" && c.Summary == "" && len(batch) == 0 {
		return nil
	}
	o := &github.CheckRunOutput{
		Title:       github.String(c.Title),
		Summary:     github.String(truncateOutput(c.Summary)),
		Annotations: batch,
	}
	if c.Text != "" {
		o.Text = github.String(truncateOutput(c.Text))
	}
	return o
}

func batches(as []*github.CheckRunAnnotation) [][]*github.CheckRunAnnotation {
	var out [][]*github.CheckRunAnnotation
	for len(as) > MaxAnnotationsPerRequest {
		out = append(out, as[:MaxAnnotationsPerRequest])
		as = as[MaxAnnotationsPerRequest:]
	}
	return append(out, as)
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optTime(t time.Time) *github.Timestamp {
	if t.IsZero() {
		return nil
	}
	return &github.Timestamp{Time: t}
}

func (c *client) CreateCheckRun(ctx context.Context, r Repo, cr CheckRun) (int64, error) {
	bs := batches(annotationsFrom(cr.Annotations))
	opts := github.CreateCheckRunOptions{
		Name:        cr.Name,
		HeadSHA:     cr.HeadSHA,
		DetailsURL:  optString(cr.DetailsURL),
		ExternalID:  optString(cr.ExternalID),
		Status:      optString(cr.Status),
		Conclusion:  optString(cr.Conclusion),
		StartedAt:   optTime(cr.StartedAt),
		CompletedAt: optTime(cr.CompletedAt),
		Output:      output(cr, bs[0]),
		Actions:     actionsFrom(cr.Actions),
	}
	run, _, err := c.gh.Checks.CreateCheckRun(ctx, r.Owner, r.Name, opts)
	if err != nil {
		return 0, wrap(err, "create check run "+cr.Name, r)
	}
	if err := c.appendAnnotations(ctx, r, run.GetID(), cr, bs[1:]); err != nil {
		return run.GetID(), err
	}
	return run.GetID(), nil
}

func (c *client) UpdateCheckRun(ctx context.Context, r Repo, id int64, cr CheckRun) error {
	bs := batches(annotationsFrom(cr.Annotations))
	opts := github.UpdateCheckRunOptions{
		Name:        cr.Name,
		DetailsURL:  optString(cr.DetailsURL),
		ExternalID:  optString(cr.ExternalID),
		Status:      optString(cr.Status),
		Conclusion:  optString(cr.Conclusion),
		CompletedAt: optTime(cr.CompletedAt),
		Output:      output(cr, bs[0]),
		Actions:     actionsFrom(cr.Actions),
	}
	if _, _, err := c.gh.Checks.UpdateCheckRun(ctx, r.Owner, r.Name, id, opts); err != nil {
		return wrap(err, fmt.Sprintf("update check run %d", id), r)
	}
	return c.appendAnnotations(ctx, r, id, cr, bs[1:])
}

func actionsFrom(as []CheckAction) []*github.CheckRunAction {
	var out []*github.CheckRunAction
	for _, a := range as {
		out = append(out, &github.CheckRunAction{Label: a.Label, Description: a.Description, Identifier: a.Identifier})
	}
	return out
}

// appendAnnotations sends the remaining batches; GitHub appends each update's annotations to the run's.
func (c *client) appendAnnotations(ctx context.Context, r Repo, id int64, cr CheckRun, rest [][]*github.CheckRunAnnotation) error {
	for i, b := range rest {
		opts := github.UpdateCheckRunOptions{Name: cr.Name, Output: output(cr, b)}
		if _, _, err := c.gh.Checks.UpdateCheckRun(ctx, r.Owner, r.Name, id, opts); err != nil {
			return wrap(err, fmt.Sprintf("add annotation batch %d of %d to check run %d", i+2, len(rest)+1, id), r)
		}
	}
	return nil
}

func (c *client) FindCheckRun(ctx context.Context, r Repo, headSHA, name, externalID string) (FoundCheckRun, bool, error) {
	op := fmt.Sprintf("find check run %s on %s", name, headSHA)
	// filter=all, not latest: latest is the newest run of the name on the commit, which is
	// another PR's when two PRs share a head, and this PR's run would then go unfound.
	opts := &github.ListCheckRunsOptions{CheckName: github.String(name), Filter: github.String("all"), ListOptions: github.ListOptions{PerPage: perPage}}
	if c.appID != 0 {
		opts.AppID = github.Int64(c.appID)
	}
	var best FoundCheckRun
	found := false
	for {
		res, resp, err := c.gh.Checks.ListCheckRunsForRef(ctx, r.Owner, r.Name, headSHA, opts)
		if err != nil {
			return FoundCheckRun{}, false, wrap(err, op, r)
		}
		for _, cr := range res.CheckRuns {
			if cr.GetName() != name || (externalID != "" && cr.GetExternalID() != externalID) || (c.appID != 0 && cr.GetApp().GetID() != 0 && cr.GetApp().GetID() != c.appID) {
				continue
			}
			if !found || cr.GetID() > best.ID {
				best = FoundCheckRun{
					ID: cr.GetID(), ExternalID: cr.GetExternalID(), Status: cr.GetStatus(), Conclusion: cr.GetConclusion(),
					Title: cr.GetOutput().GetTitle(), Annotations: cr.GetOutput().GetAnnotationsCount(),
				}
				found = true
			}
		}
		if resp.NextPage == 0 || len(res.CheckRuns) == 0 {
			return best, found, nil
		}
		opts.Page = resp.NextPage
	}
}

// escapePath escapes each segment of a repository file path, keeping its slashes.
func escapePath(p string) string {
	segs := strings.Split(strings.Trim(p, "/"), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

func (c *client) GetContent(ctx context.Context, r Repo, path, ref, etag string) (Content, error) {
	op := fmt.Sprintf("get content %s@%s", path, ref)
	u := fmt.Sprintf("repos/%s/%s/contents/%s", url.PathEscape(r.Owner), url.PathEscape(r.Name), escapePath(path))
	if ref != "" {
		u += "?ref=" + url.QueryEscape(ref)
	}
	req, err := c.gh.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return Content{}, wrap(err, op, r)
	}
	// The raw media type returns the bytes themselves, for files up to 100 MB.
	req.Header.Set("Accept", "application/vnd.github.raw+json")
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := c.gh.BareDo(ctx, req)
	if resp != nil && resp.StatusCode == http.StatusNotModified {
		// go-github reports a 304 as an ErrorResponse: it is the cache hit asked for.
		e := resp.Header.Get("ETag")
		if e == "" {
			e = etag
		}
		return Content{ETag: e, NotModified: true}, nil
	}
	if err != nil {
		return Content{}, wrap(err, op, r)
	}
	defer resp.Body.Close()
	if resp.ContentLength > MaxContentBytes {
		return Content{}, wrap(fmt.Errorf("%w: the file is %d bytes, more than the %d escapegate reads", ErrTooLarge, resp.ContentLength, MaxContentBytes), op, r)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxContentBytes+1))
	if err != nil {
		return Content{}, wrap(fmt.Errorf("read body: %w", err), op, r)
	}
	if len(data) > MaxContentBytes {
		return Content{}, wrap(fmt.Errorf("%w: the file is more than the %d bytes escapegate reads", ErrTooLarge, MaxContentBytes), op, r)
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && len(data) > 0 && data[0] == '[' {
		return Content{}, wrap(errors.New("path is a directory"), op, r)
	}
	return Content{Data: data, ETag: resp.Header.Get("ETag")}, nil
}

func (c *client) TeamMembershipState(ctx context.Context, org, teamSlug, user string) (string, error) {
	m, _, err := c.gh.Teams.GetTeamMembershipBySlug(ctx, url.PathEscape(org), url.PathEscape(teamSlug), url.PathEscape(user))
	if statusOf(err) == http.StatusNotFound {
		return "", nil
	}
	if err != nil {
		return "", wrap(err, fmt.Sprintf("team membership of %s in %s/%s", user, org, teamSlug), Repo{})
	}
	return m.GetState(), nil
}

// permissionLevel is the collaborator-permission answer, with role_name, which go-github v62 does not decode.
type permissionLevel struct {
	Permission string `json:"permission"`
	RoleName   string `json:"role_name"`
}

func (c *client) Permission(ctx context.Context, r Repo, user string) (string, error) {
	op := "permission of " + user
	u := fmt.Sprintf("repos/%s/%s/collaborators/%s/permission", url.PathEscape(r.Owner), url.PathEscape(r.Name), url.PathEscape(user))
	req, err := c.gh.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return "", wrap(err, op, r)
	}
	var pl permissionLevel
	if _, err := c.gh.Do(ctx, req, &pl); err != nil {
		return "", wrap(err, op, r)
	}
	// "permission" folds maintain into write and triage into read; role_name keeps them.
	switch pl.RoleName {
	case "maintain", "triage":
		return pl.RoleName, nil
	}
	if pl.Permission == "" {
		return "none", nil
	}
	return pl.Permission, nil
}

func (c *client) RemoveLabel(ctx context.Context, r Repo, number int, label string) error {
	// go-github v62 puts the label into the path unescaped; a '/' in it would then name another resource.
	u := fmt.Sprintf("repos/%s/%s/issues/%d/labels/%s", url.PathEscape(r.Owner), url.PathEscape(r.Name), number, url.PathEscape(label))
	req, err := c.gh.NewRequest(http.MethodDelete, u, nil)
	op := fmt.Sprintf("remove label %q from #%d", label, number)
	if err != nil {
		return wrap(err, op, r)
	}
	_, err = c.gh.Do(ctx, req, nil)
	if statusOf(err) == http.StatusNotFound {
		return nil // already gone
	}
	return wrap(err, op, r)
}

func (c *client) CreateComment(ctx context.Context, r Repo, number int, body string) (int64, error) {
	cm, _, err := c.gh.Issues.CreateComment(ctx, r.Owner, r.Name, number, &github.IssueComment{Body: github.String(body)})
	if err != nil {
		return 0, wrap(err, fmt.Sprintf("comment on #%d", number), r)
	}
	return cm.GetID(), nil
}

// issueComment is an issue comment as GitHub lists it, with performed_via_github_app,
// which go-github v62 does not decode.
type issueComment struct {
	ID   int64  `json:"id"`
	Body string `json:"body"`
	User struct {
		Login string `json:"login"`
		Type  string `json:"type"`
	} `json:"user"`
	App *struct {
		ID int64 `json:"id"`
	} `json:"performed_via_github_app"`
}

// mine reports whether this client's app wrote cm (see Comment.Mine).
func (c *client) mine(cm issueComment) bool {
	var app int64
	if cm.App != nil {
		app = cm.App.ID
	}
	return c.mineBy(cm.User.Type, app)
}

// mineBy reports whether a comment or issue by an account of userType, performed via
// the app appID (0: GitHub named none), is this client's app's own.
func (c *client) mineBy(userType string, appID int64) bool {
	if userType != "Bot" {
		return false
	}
	return c.appID == 0 || appID == 0 || appID == c.appID
}

// Transient reports whether err may go away if the request is made again later: a rate
// limit, a 5xx or 429 answer, or no answer at all (a connection failure or a timeout).
// A 404 or another 4xx answer is GitHub's word on the request and is not transient.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	var rl *github.RateLimitError
	var ab *github.AbuseRateLimitError
	if errors.As(err, &rl) || errors.As(err, &ab) {
		return true
	}
	if s := statusOf(err); s != 0 {
		return s >= 500 || s == http.StatusTooManyRequests
	}
	return !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrTooManyFiles)
}

func (c *client) ListComments(ctx context.Context, r Repo, number int) ([]Comment, error) {
	op := fmt.Sprintf("list comments of #%d", number)
	var out []Comment
	for page := 1; ; {
		u := fmt.Sprintf("repos/%s/%s/issues/%d/comments?per_page=%d", url.PathEscape(r.Owner), url.PathEscape(r.Name), number, perPage)
		if page > 1 {
			u += fmt.Sprintf("&page=%d", page)
		}
		req, err := c.gh.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			return nil, wrap(err, op, r)
		}
		var cs []issueComment
		resp, err := c.gh.BareDo(ctx, req)
		if err != nil {
			return nil, wrap(err, op, r)
		}
		// A page's answer is read up to a bound, never whole whatever its size.
		body, err := io.ReadAll(io.LimitReader(resp.Body, MaxCommentPageBytes+1))
		resp.Body.Close()
		if err != nil {
			return nil, wrap(fmt.Errorf("read body: %w", err), op, r)
		}
		if len(body) > MaxCommentPageBytes {
			return nil, wrap(fmt.Errorf("%w: a page of comments is more than %d bytes", ErrTooLarge, MaxCommentPageBytes), op, r)
		}
		if err := json.Unmarshal(body, &cs); err != nil {
			return nil, wrap(fmt.Errorf("decode comments: %w", err), op, r)
		}
		for _, cm := range cs {
			out = append(out, Comment{ID: cm.ID, Body: truncateUTF8(cm.Body, MaxCommentBytes), Author: cm.User.Login, Mine: c.mine(cm)})
		}
		if len(out) >= MaxComments {
			return out[:MaxComments], nil
		}
		if resp.NextPage == 0 || len(cs) == 0 {
			return out, nil
		}
		page = resp.NextPage
	}
}

// truncateUTF8 cuts s to at most n bytes at a character boundary.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func (c *client) EditComment(ctx context.Context, r Repo, id int64, body string) error {
	_, _, err := c.gh.Issues.EditComment(ctx, r.Owner, r.Name, id, &github.IssueComment{Body: github.String(body)})
	return wrap(err, fmt.Sprintf("edit comment %d", id), r)
}

func issueFrom(i *github.Issue) Issue {
	return Issue{Number: i.GetNumber(), Title: i.GetTitle(), State: i.GetState(), Author: i.GetUser().GetLogin(), Mine: true}
}

// issueItem is an issue as GitHub lists it, with performed_via_github_app,
// which go-github v62 does not decode.
type issueItem struct {
	Number int    `json:"number"`
	Title  string `json:"title"`
	State  string `json:"state"`
	User   struct {
		Login string `json:"login"`
		Type  string `json:"type"`
	} `json:"user"`
	PullRequest *json.RawMessage `json:"pull_request"`
	CreatedAt   time.Time        `json:"created_at"`
	App         *struct {
		ID int64 `json:"id"`
	} `json:"performed_via_github_app"`
}

func (c *client) issueOf(i issueItem) Issue {
	var app int64
	if i.App != nil {
		app = i.App.ID
	}
	return Issue{Number: i.Number, Title: i.Title, State: i.State, Author: i.User.Login, Mine: c.mineBy(i.User.Type, app)}
}

func (c *client) CreateIssue(ctx context.Context, r Repo, title, body string, assignees ...string) (Issue, error) {
	req := &github.IssueRequest{Title: github.String(title), Body: github.String(body)}
	if len(assignees) > 0 {
		req.Assignees = &assignees
	}
	i, _, err := c.gh.Issues.Create(ctx, r.Owner, r.Name, req)
	if statusOf(err) == http.StatusUnprocessableEntity && req.Assignees != nil {
		// An assignee without access to the repository fails the whole request (422): the
		// issue matters more than its assignee, who is named in the body anyway.
		req.Assignees = nil
		i, _, err = c.gh.Issues.Create(ctx, r.Owner, r.Name, req)
	}
	if err != nil {
		return Issue{}, wrap(err, "create issue", r)
	}
	return issueFrom(i), nil
}

// MaxIssuePages bounds FindIssueSince's listing (100 issues a page): past it the lookup
// fails rather than report "not found", which would open a duplicate.
const MaxIssuePages = 50

// FindIssueSince lists the issues updated since since (an issue created since then is
// among them), newest created first, and stops at the first created before since.
func (c *client) FindIssueSince(ctx context.Context, r Repo, title string, since time.Time) (Issue, bool, error) {
	v := url.Values{"state": {"all"}, "sort": {"created"}, "direction": {"desc"}, "per_page": {strconv.Itoa(perPage)}}
	if !since.IsZero() {
		since = since.UTC().Truncate(time.Second)
		v.Set("since", since.Format(time.RFC3339))
	}
	base := fmt.Sprintf("repos/%s/%s/issues?", url.PathEscape(r.Owner), url.PathEscape(r.Name))
	for page := 1; page <= MaxIssuePages; {
		if page > 1 {
			v.Set("page", strconv.Itoa(page))
		}
		req, err := c.gh.NewRequest(http.MethodGet, base+v.Encode(), nil)
		if err != nil {
			return Issue{}, false, wrap(err, "list issues", r)
		}
		var items []issueItem
		resp, err := c.gh.Do(ctx, req, &items)
		if err != nil {
			return Issue{}, false, wrap(err, "list issues", r)
		}
		if is, ok := c.mineIssue(items, title); ok {
			return is, true, nil
		}
		if resp.NextPage == 0 || len(items) == 0 || items[len(items)-1].CreatedAt.Before(since) {
			return Issue{}, false, nil
		}
		page = resp.NextPage
	}
	return Issue{}, false, wrap(fmt.Errorf("more than %d pages of issues updated since %s", MaxIssuePages, since.Format(time.RFC3339)), "list issues", r)
}

// mineIssue returns the first of items that is an issue titled title and opened by this app.
func (c *client) mineIssue(items []issueItem, title string) (Issue, bool) {
	for _, i := range items {
		if i.Title != title || i.PullRequest != nil {
			continue
		}
		if is := c.issueOf(i); is.Mine {
			return is, true
		}
	}
	return Issue{}, false
}

// compile-time check
var _ Client = (*client)(nil)
