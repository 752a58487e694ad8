package fakegithub

import (
	"fmt"
	"net/http"
	"strconv"
	"unicode/utf8"
)

type annotationIn struct {
	Path            *string `json:"path"`
	StartLine       *int    `json:"start_line"`
	EndLine         *int    `json:"end_line"`
	StartColumn     *int    `json:"start_column"`
	EndColumn       *int    `json:"end_column"`
	AnnotationLevel *string `json:"annotation_level"`
	Message         *string `json:"message"`
	Title           *string `json:"title"`
	RawDetails      *string `json:"raw_details"`
}

type checkRunIn struct {
	Name        *string `json:"name"`
	HeadSHA     *string `json:"head_sha"`
	DetailsURL  *string `json:"details_url"`
	ExternalID  *string `json:"external_id"`
	Status      *string `json:"status"`
	Conclusion  *string `json:"conclusion"`
	StartedAt   *string `json:"started_at"`
	CompletedAt *string `json:"completed_at"`
	Output      *struct {
		Title       *string        `json:"title"`
		Summary     *string        `json:"summary"`
		Text        *string        `json:"text"`
		Annotations []annotationIn `json:"annotations"`
	} `json:"output"`
	Actions *[]Action `json:"actions"`
}

// Action is a button of a check run (GitHub: at most 3; label ≤ 20, description ≤ 40,
// identifier ≤ 20 characters).
type Action struct {
	Label       string `json:"label"`
	Description string `json:"description"`
	Identifier  string `json:"identifier"`
}

// statuses, conclusions and levels are GitHub's enums for check runs and annotations.
func statuses(s string) bool {
	switch s {
	case "queued", "in_progress", "completed", "waiting", "requested", "pending":
		return true
	}
	return false
}

func conclusions(s string) bool {
	switch s {
	case "action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out":
		return true
	}
	return false
}

func levels(s string) bool { return s == "notice" || s == "warning" || s == "failure" }

// validate checks a check-run request as GitHub does; create says whether name and head_sha are required.
func (in *checkRunIn) validate(create bool) []fieldError {
	var errs []fieldError
	bad := func(field, code, msg string) {
		errs = append(errs, fieldError{Resource: "CheckRun", Field: field, Code: code, Message: msg})
	}
	if create && (in.Name == nil || *in.Name == "") {
		bad("name", "missing_field", "")
	}
	if create && (in.HeadSHA == nil || *in.HeadSHA == "") {
		bad("head_sha", "missing_field", "")
	}
	if in.Status != nil && !statuses(*in.Status) {
		bad("status", "invalid", fmt.Sprintf("%q is not a valid status", *in.Status))
	}
	if in.Conclusion != nil && !conclusions(*in.Conclusion) {
		bad("conclusion", "invalid", fmt.Sprintf("%q is not a valid conclusion", *in.Conclusion))
	}
	if in.Status != nil && *in.Status == "completed" && in.Conclusion == nil {
		bad("conclusion", "missing_field", "conclusion is required when status is completed")
	}
	if in.Actions != nil {
		if len(*in.Actions) > 3 {
			bad("actions", "custom", "at most 3 actions")
		}
		for i, a := range *in.Actions {
			field := fmt.Sprintf("actions[%d]", i)
			switch {
			case a.Label == "" || utf8.RuneCountInString(a.Label) > 20:
				bad(field+".label", "invalid", "label must be 1 to 20 characters")
			case a.Description == "" || utf8.RuneCountInString(a.Description) > 40:
				bad(field+".description", "invalid", "description must be 1 to 40 characters")
			case a.Identifier == "" || utf8.RuneCountInString(a.Identifier) > 20:
				bad(field+".identifier", "invalid", "identifier must be 1 to 20 characters")
			}
		}
	}
	o := in.Output
	if o == nil {
		return errs
	}
	if o.Title == nil {
		bad("output.title", "missing_field", "")
	}
	if o.Summary == nil {
		bad("output.summary", "missing_field", "")
	} else if n := utf8.RuneCountInString(*o.Summary); n > maxOutputChars {
		bad("output.summary", "custom", fmt.Sprintf("summary is too long (%d characters; maximum is %d)", n, maxOutputChars))
	}
	if o.Text != nil && utf8.RuneCountInString(*o.Text) > maxOutputChars {
		bad("output.text", "custom", fmt.Sprintf("text is too long (maximum is %d characters)", maxOutputChars))
	}
	if len(o.Annotations) > maxAnnotations {
		bad("output.annotations", "custom", fmt.Sprintf("%d annotations; at most %d may be sent per request", len(o.Annotations), maxAnnotations))
	}
	for i, a := range o.Annotations {
		field := fmt.Sprintf("output.annotations[%d]", i)
		switch {
		case a.Path == nil || *a.Path == "":
			bad(field+".path", "missing_field", "")
		case a.StartLine == nil || a.EndLine == nil:
			bad(field+".start_line", "missing_field", "")
		case *a.StartLine < 1 || *a.EndLine < *a.StartLine:
			bad(field+".end_line", "invalid", "end_line must not be before start_line")
		case a.AnnotationLevel == nil || !levels(*a.AnnotationLevel):
			bad(field+".annotation_level", "invalid", "annotation_level must be notice, warning or failure")
		case a.Message == nil || *a.Message == "":
			bad(field+".message", "missing_field", "")
		case (a.StartColumn != nil || a.EndColumn != nil) && *a.StartLine != *a.EndLine:
			bad(field+".start_column", "invalid", "columns only on single-line annotations")
		}
	}
	return errs
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// apply updates run with the request's fields; annotations are appended, as GitHub does.
func (in *checkRunIn) apply(run *CheckRun) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&run.Name, in.Name)
	set(&run.DetailsURL, in.DetailsURL)
	set(&run.ExternalID, in.ExternalID)
	set(&run.Status, in.Status)
	set(&run.Conclusion, in.Conclusion)
	set(&run.StartedAt, in.StartedAt)
	set(&run.CompletedAt, in.CompletedAt)
	if in.Conclusion != nil {
		run.Status = "completed" // GitHub completes a run given a conclusion
	}
	if run.Status == "" {
		run.Status = "queued"
	}
	run.Requests++
	if in.Actions != nil {
		run.Actions = append([]Action(nil), *in.Actions...) // a request's actions replace the run's
	}
	if in.Output == nil {
		return
	}
	set(&run.Title, in.Output.Title)
	set(&run.Summary, in.Output.Summary)
	set(&run.Text, in.Output.Text)
	for _, a := range in.Output.Annotations {
		run.Annotations = append(run.Annotations, Annotation{
			Path: str(a.Path), StartLine: *a.StartLine, EndLine: *a.EndLine, Level: str(a.AnnotationLevel),
			Title: str(a.Title), Message: str(a.Message), RawDetails: str(a.RawDetails),
		})
	}
}

func (f *Server) createCheckRun(c *call, r *repoState) {
	var in checkRunIn
	if !c.decode(&in) {
		return
	}
	if errs := in.validate(true); errs != nil {
		writeValidation(c.w, docChecks+"#create-a-check-run", errs)
		return
	}
	f.lastID++
	run := &CheckRun{ID: f.lastID, HeadSHA: *in.HeadSHA}
	in.apply(run)
	r.checkRuns = append(r.checkRuns, run)
	f.completed(r, run)
	writeJSON(c.w, http.StatusCreated, f.checkRunJSON(r, run))
}

func findRun(r *repoState, id string) *CheckRun {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return nil
	}
	for _, cr := range r.checkRuns {
		if cr.ID == n {
			return cr
		}
	}
	return nil
}

func (f *Server) updateCheckRun(c *call, r *repoState) {
	run := findRun(r, c.segs[4])
	if run == nil {
		writeNotFound(c.w, docChecks+"#update-a-check-run")
		return
	}
	var in checkRunIn
	if !c.decode(&in) {
		return
	}
	if errs := in.validate(false); errs != nil {
		writeValidation(c.w, docChecks+"#update-a-check-run", errs)
		return
	}
	in.apply(run)
	f.completed(r, run)
	writeJSON(c.w, http.StatusOK, f.checkRunJSON(r, run))
}

// OnCheckRunCompleted calls fn (on a goroutine of its own) each time a check run is
// created or updated as completed: load generators time deliveries with it.
func (f *Server) OnCheckRunCompleted(fn func(repo, headSHA, conclusion string)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onCompleted = fn
}

// completed tells OnCheckRunCompleted's function; f.mu is held.
func (f *Server) completed(r *repoState, run *CheckRun) {
	if fn := f.onCompleted; fn != nil && run.Status == "completed" {
		go fn(r.fullName(), run.HeadSHA, run.Conclusion)
	}
}

func (f *Server) checkRunJSON(r *repoState, run *CheckRun) map[string]any {
	opt := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	return map[string]any{
		"id": run.ID, "node_id": fmt.Sprintf("CR_%d", run.ID), "name": run.Name, "head_sha": run.HeadSHA,
		"external_id": run.ExternalID, "details_url": opt(run.DetailsURL), "status": run.Status,
		"conclusion": opt(run.Conclusion), "started_at": opt(run.StartedAt), "completed_at": opt(run.CompletedAt),
		"url":      fmt.Sprintf("%s/repos/%s/check-runs/%d", f.base(), r.fullName(), run.ID),
		"html_url": fmt.Sprintf("https://github.com/%s/runs/%d", r.fullName(), run.ID),
		"output": map[string]any{
			"title": opt(run.Title), "summary": opt(run.Summary), "text": opt(run.Text),
			"annotations_count": len(run.Annotations),
			"annotations_url":   fmt.Sprintf("%s/repos/%s/check-runs/%d/annotations", f.base(), r.fullName(), run.ID),
		},
		"app": map[string]any{"id": f.app.ID, "slug": f.app.Slug, "name": f.app.Name},
	}
}

// listCheckRunsForRef lists the check runs on a commit, newest first, with GitHub's
// filters: check_name, status, app_id, and filter (latest, the default: the newest run of
// each name; all: every run).
func (f *Server) listCheckRunsForRef(c *call, r *repoState, ref string) {
	q := c.r.URL.Query()
	const doc = docChecks + "#list-check-runs-for-a-git-reference"
	filter := q.Get("filter")
	if filter == "" {
		filter = "latest"
	}
	if filter != "latest" && filter != "all" {
		writeValidation(c.w, doc, []fieldError{{Resource: "CheckRun", Field: "filter", Code: "invalid"}})
		return
	}
	if id := q.Get("app_id"); id != "" && id != strconv.FormatInt(f.app.ID, 10) {
		writeJSON(c.w, http.StatusOK, map[string]any{"total_count": 0, "check_runs": []any{}})
		return
	}
	var runs []*CheckRun
	newest := map[string]bool{}
	for i := len(r.checkRuns) - 1; i >= 0; i-- {
		cr := r.checkRuns[i]
		if cr.HeadSHA != ref || (q.Has("check_name") && cr.Name != q.Get("check_name")) || (q.Has("status") && cr.Status != q.Get("status")) {
			continue
		}
		if filter == "latest" {
			if newest[cr.Name] {
				continue
			}
			newest[cr.Name] = true
		}
		runs = append(runs, cr)
	}
	from, to := c.page(len(runs))
	out := make([]map[string]any, 0, to-from)
	for _, cr := range runs[from:to] {
		out = append(out, f.checkRunJSON(r, cr))
	}
	writeJSON(c.w, http.StatusOK, map[string]any{"total_count": len(runs), "check_runs": out})
}
