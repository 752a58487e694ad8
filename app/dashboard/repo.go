package dashboard

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/escapegate/escapegate/app/escaperate"
	"github.com/escapegate/escapegate/app/render"
	"github.com/escapegate/escapegate/store"
)

// repoView is one repository's page.
type repoView struct {
	Report escaperate.Report
	Chart  template.HTML
	Tables []table
	GitHub string // the repository on GitHub
}

func (v repoView) Rate() escaperate.Ratio { return v.Report.Current.Rate() }

// repoFigures checks the session may see the repository's org and computes its
// report as `escapegate report` does (escaperate.ForRepo, now, 90 days).
func (d *Dashboard) repoFigures(w http.ResponseWriter, r *http.Request, s Session) (escaperate.Report, []table, bool) {
	owner, name := r.PathValue("owner"), r.PathValue("name")
	full := owner + "/" + name
	ctx := r.Context()
	if !s.canSee(owner) {
		ok := false
		if inst, err := d.installation(ctx, owner); err == nil {
			if ok, err = d.repoAllowed(ctx, s, inst, full); err != nil {
				d.o.Log.Warn().Err(err).Str("repo", full).Msg("dashboard: permission check failed")
			}
		}
		if !ok {
			d.fail(w, r, &s, http.StatusForbidden, fmt.Sprintf("@%s may not see %s's escape rate.", s.Login, full))
			return escaperate.Report{}, nil, false
		}
	}
	rp, err := d.o.Store.GetRepository(ctx, full)
	if err != nil || !sameOwner(rp.FullName, owner) {
		status := http.StatusInternalServerError
		if err == nil || errors.Is(err, store.ErrNotFound) {
			status = http.StatusNotFound
		}
		d.fail(w, r, &s, status, "escapegate does not know "+full+".")
		return escaperate.Report{}, nil, false
	}
	now := d.now()
	// The org's figures hold this report when they were computed (at most ui.refresh
	// ago): the repository page then shows the org page's numbers. Otherwise, or for
	// another window, it is computed now, as `escapegate report` does.
	var rep escaperate.Report
	cached := false
	if win := r.URL.Query().Get("window"); win == "" || win == "90d" {
		if inst, err := d.installation(ctx, owner); err == nil {
			if data := d.cache.peek(inst); data != nil {
				rep, cached = data.report(rp.FullName)
			}
		}
	}
	if !cached {
		if rep, err = escaperate.ForRepo(ctx, d.o.Store, rp.FullName, r.URL.Query().Get("window"), now); err != nil {
			d.fail(w, r, &s, http.StatusBadRequest, err.Error())
			return escaperate.Report{}, nil, false
		}
	}
	all := store.Window{From: rp.AddedAt, To: now.Add(time.Second)}
	exc, err := d.o.Store.ListExceptions(ctx, rp.FullName, 0, all)
	if err == nil {
		var refused []store.RefusedOverride
		refused, err = d.o.Store.ListRefused(ctx, rp.FullName, all)
		if err == nil {
			base := "/ui/repo/" + repoPath(rp.FullName)
			return rep, []table{escapesTable(rep, base, d.o.WebURL), exceptionsTable(exc, rep, now, base), refusedTable(refused, base), seriesTable(rep, base)}, true
		}
	}
	d.o.Log.Error().Err(err).Str("repo", full).Msg("dashboard: reading the repository's ledger failed")
	d.fail(w, r, &s, http.StatusInternalServerError, "The ledger of "+full+" could not be read; see the server's log.")
	return escaperate.Report{}, nil, false
}

// maxPageRows bounds a table on a page (the newest rows); its export has every row.
const maxPageRows = 200

func clipRows(t table, n int) table {
	if len(t.Rows) <= n {
		return t
	}
	t.Note = strings.TrimSpace(fmt.Sprintf("The newest %d of %d rows; the CSV and JSON exports hold them all. %s", n, len(t.Rows), t.Note))
	t.Rows = t.Rows[:n]
	return t
}

func sameOwner(full, owner string) bool {
	o, _, _ := cutRepo(full)
	return equalFold(o, owner)
}

func (d *Dashboard) repoPage(w http.ResponseWriter, r *http.Request, s Session) {
	rep, tables, ok := d.repoFigures(w, r, s)
	if !ok {
		return
	}
	var pts []point
	for _, p := range rep.Series {
		pts = append(pts, point{Label: render.Date(p.Window.To.AddDate(0, 0, -1)), Rate: p.Counts.Rate()})
	}
	owner, _, _ := cutRepo(rep.Repo)
	for i := range tables {
		tables[i] = clipRows(tables[i], maxPageRows)
	}
	v := repoView{Report: rep, Chart: rateChart(rep.Repo+": escape rate per 30 days", pts), Tables: tables, GitHub: webLink(d.o.WebURL, rep.Repo, 0)}
	d.render(w, r, http.StatusOK, "repo", page{Title: rep.Repo + " · escape rate", Session: &s, Org: owner, AsOf: rep.Now, Data: v})
}

func (d *Dashboard) repoExport(w http.ResponseWriter, r *http.Request, s Session) {
	rep, tables, ok := d.repoFigures(w, r, s)
	if !ok {
		return
	}
	for _, t := range tables {
		if t.Name == r.PathValue("table") {
			serveTable(w, t, r.URL.Query().Get("format"), rep.Repo+"-"+t.Name)
			return
		}
	}
	d.fail(w, r, &s, http.StatusNotFound, "no such table")
}

// webLink is a repository (pr 0) or pull request page on GitHub.
func webLink(webURL, repo string, pr int) string {
	if webURL == "" {
		return ""
	}
	u := trimSlash(webURL) + "/" + repoPath(repo)
	if pr > 0 {
		u += fmt.Sprintf("/pull/%d", pr)
	}
	return u
}

// escapesTable lists the window's escapes: the redacted value is what the check run
// showed (the format's prefix and a length range); the store holds nothing more.
func escapesTable(rep escaperate.Report, base, webURL string) table {
	t := table{Name: "escapes", Title: fmt.Sprintf("Escapes detected in the last %d days", rep.WindowDays), Export: base + "/export/escapes",
		Cols: []col{{Key: "detected", Title: "detected"}, {Key: "reached_production", Title: "reached production"}, {Key: "kind", Title: "kind"},
			{Key: "rule", Title: "rule"}, {Key: "severity", Title: "severity"}, {Key: "path", Title: "path"}, {Key: "value", Title: "value (redacted)"},
			{Key: "pr", Title: "PR"}, {Key: "approver", Title: "approver"}, {Key: "reason", Title: "reason"}}}
	for i := len(rep.Escapes) - 1; i >= 0; i-- { // newest first
		e := rep.Escapes[i]
		prc := cell{Text: render.PR(e.PR), Value: e.PR}
		if e.PR > 0 {
			prc.Href = webLink(webURL, rep.Repo, e.PR)
		}
		approver, reason := "—", "—"
		if e.Approver != "" {
			approver = "@" + e.Approver
		}
		if e.Kind == store.EscapeOverridden {
			reason = render.Reason(e.Reason)
		}
		t.Rows = append(t.Rows, []cell{txt(render.Date(e.DetectedAt)), txt(render.Date(e.At)), {Text: e.Kind, Class: "kind-" + e.Kind},
			{Text: e.Rule, Class: "code"}, txt(e.Severity), {Text: e.Path, Class: "code"}, {Text: dash(e.Redacted), Class: "code"},
			prc, txt(approver), txt(reason)})
	}
	if len(t.Rows) == 0 {
		t.Note = "No critical risk reached production in this window."
	}
	return t
}

// exceptionsTable lists every exception since installation with its state as of now:
// an active one past its expiry is expired; a merged "fix later" one is due by its
// deadline and overdue after it, until its tracking issue is closed (remediated).
func exceptionsTable(all []store.Exception, rep escaperate.Report, now time.Time, base string) table {
	t := table{Name: "exceptions", Title: "Exceptions", Export: base + "/export/exceptions",
		Cols: []col{{Key: "id", Title: "id", Num: true}, {Key: "pr", Title: "PR"}, {Key: "state", Title: "state"}, {Key: "approver", Title: "approver"},
			{Key: "reason", Title: "reason"}, {Key: "created", Title: "created"}, {Key: "expires", Title: "expires / fix due"},
			{Key: "ended", Title: "ended"}, {Key: "findings", Title: "findings", Num: true}},
		Note: "A merged fix-later exception is tracked by an issue; it stays due until its deadline and is overdue after it, until the issue is closed (remediated on that date)."}
	for i := len(all) - 1; i >= 0; i-- { // newest first
		e := all[i]
		state := e.State
		switch {
		case e.State == store.ExceptionActive && !now.Before(e.ExpiresAt):
			state = store.ExceptionExpired
		case e.State == store.ExceptionMerged && e.Reason == escaperate.ReasonFixLater && !e.RemediatedAt.IsZero() && !e.RemediatedAt.After(now):
			state = "merged, remediated " + render.Date(e.RemediatedAt)
			if e.RemediatedAt.After(e.ExpiresAt) {
				state += " (late)"
			}
		case e.State == store.ExceptionMerged && e.Reason == escaperate.ReasonFixLater && !now.Before(e.ExpiresAt):
			state = "merged, fix overdue"
		case e.State == store.ExceptionMerged && e.Reason == escaperate.ReasonFixLater:
			state = "merged, fix due"
		}
		ended := "—"
		if !e.EndedAt.IsZero() {
			ended = render.Date(e.EndedAt)
			if e.RevokedBy != "" {
				ended += " by @" + e.RevokedBy
			}
		}
		t.Rows = append(t.Rows, []cell{num(int(e.ID)), {Text: render.PR(e.PR), Value: e.PR}, {Text: state, Class: "state"}, txt("@" + e.Approver),
			txt(render.Reason(e.Reason)), txt(render.Date(e.CreatedAt)), txt(render.Date(e.ExpiresAt)), txt(ended), num(len(e.Fingerprints))})
	}
	if len(t.Rows) == 0 {
		t.Note = "No exception was ever granted here."
	}
	return t
}

func refusedTable(rs []store.RefusedOverride, base string) table {
	t := table{Name: "refused", Title: "Refused override attempts", Export: base + "/export/refused",
		Cols: []col{{Key: "at", Title: "when"}, {Key: "pr", Title: "PR"}, {Key: "sender", Title: "who"}, {Key: "label", Title: "label"}, {Key: "why", Title: "why refused"}}}
	for i := len(rs) - 1; i >= 0; i-- {
		x := rs[i]
		t.Rows = append(t.Rows, []cell{txt(x.At.UTC().Format("2006-01-02 15:04")), {Text: render.PR(x.PR), Value: x.PR}, txt("@" + x.Sender), {Text: x.Label, Class: "code"}, txt(x.Why)})
	}
	if len(t.Rows) == 0 {
		t.Note = "Nobody tried to override without the right to."
	}
	return t
}

func seriesTable(rep escaperate.Report, base string) table {
	t := table{Name: "series", Title: "Rate per 30 days", Cols: countCols("window_end"), Export: base + "/export/series"}
	for _, p := range rep.Series {
		t.Rows = append(t.Rows, countRow(render.Date(p.Window.To), p.Counts))
	}
	return t
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
