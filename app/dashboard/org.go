package dashboard

import (
	"cmp"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/escapegate/escapegate/app/escaperate"
	"github.com/escapegate/escapegate/app/render"
	"github.com/escapegate/escapegate/store"
)

// pageSize is how many repositories one org page lists.
const pageSize = 100

// orgView is the org page.
type orgView struct {
	Org                 string
	WindowDays          int
	Current, Previous   escaperate.Counts
	Trend               escaperate.Trend
	Month               escaperate.OrgMonthData
	MonthChart, Rolling template.HTML
	KindChart           template.HTML
	Tables              []table
	Query               string
	Facet               string
	FacetOptions        []string // "topic:NAME" and "NAME=VALUE"
	FacetNote           string
	Repos               int
	Built               string
}

func (v orgView) Rate() escaperate.Ratio { return v.Current.Rate() }

// orgFigures checks the session may see org and returns its figures.
func (d *Dashboard) orgFigures(w http.ResponseWriter, r *http.Request, s Session, org string) (*orgData, bool) {
	if !s.canSee(org) {
		d.fail(w, r, &s, http.StatusForbidden, fmt.Sprintf("@%s may not see %s's escape rate.", s.Login, org))
		return nil, false
	}
	inst, err := d.installation(r.Context(), org)
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, store.ErrNotFound) {
			status = http.StatusNotFound
		}
		d.fail(w, r, &s, status, "escapegate has no installation for "+org+".")
		return nil, false
	}
	data, err := d.cache.get(r.Context(), inst)
	if err != nil {
		d.fail(w, r, &s, http.StatusInternalServerError, "The escape rate of "+org+" could not be computed; see the server's log.")
		return nil, false
	}
	return data, true
}

func (d *Dashboard) orgPage(w http.ResponseWriter, r *http.Request, s Session) {
	org := r.PathValue("org")
	data, ok := d.orgFigures(w, r, s, org)
	if !ok {
		return
	}
	v := d.orgView(data, org, r.URL.Query())
	d.render(w, r, http.StatusOK, "org", page{Title: org + " · escape rate", Session: &s, Org: org, AsOf: data.At, Data: v})
}

func (d *Dashboard) orgView(data *orgData, org string, q url.Values) orgView {
	v := orgView{Org: org, Current: data.Current, Previous: data.Previous, Month: data.Month, WindowDays: escaperate.DefaultWindowDays,
		Query: q.Get("q"), Facet: q.Get("facet"), FacetOptions: facetOptions(data.Facets), FacetNote: data.FacetErr, Repos: len(data.Reports), Built: fmt.Sprintf("%.0f ms", float64(data.Built.Microseconds())/1000)}
	v.Trend = escaperate.TrendOf(v.Current.Rate(), v.Previous.Rate())
	base := "/ui/org/" + url.PathEscape(org)
	months := monthsTable(data.Month, base)
	var mp []point
	var labels []string
	var mc []escaperate.Counts
	for _, p := range data.Month.Series {
		mp = append(mp, point{Label: p.Month.Format("Jan 06"), Rate: p.Counts.Rate()})
		labels = append(labels, p.Month.Format("Jan"))
		mc = append(mc, p.Counts)
	}
	v.MonthChart = rateChart(org+": escape rate per calendar month", mp)
	v.KindChart = kindBars(org+": escapes per month by kind", labels, mc)
	var rp []point
	for _, p := range data.Rolling {
		rp = append(rp, point{Label: render.Date(p.Window.To.AddDate(0, 0, -1)), Rate: p.Counts.Rate()})
	}
	v.Rolling = rateChart(org+": escape rate per 30 days", rp)
	v.Tables = []table{
		reposTable(data, base, q),
		kindsTable(data, base),
		months,
		approversTable(data.Month, base),
	}
	return v
}

// orgTable builds one of the org page's tables by its export name.
func (d *Dashboard) orgTable(data *orgData, base, name string, q url.Values) (table, bool) {
	switch name {
	case "repos":
		q = cloneValues(q)
		q.Set("all", "1")
		return reposTable(data, base, q), true
	case "kinds":
		return kindsTable(data, base), true
	case "months":
		return monthsTable(data.Month, base), true
	case "approvers":
		return approversTable(data.Month, base), true
	case "rolling":
		t := table{Name: "rolling", Title: "Rate per 30 days", Cols: countCols("window_end")}
		for _, p := range data.Rolling {
			t.Rows = append(t.Rows, countRow(render.Date(p.Window.To), p.Counts))
		}
		return t, true
	}
	return table{}, false
}

func (d *Dashboard) orgExport(w http.ResponseWriter, r *http.Request, s Session) {
	org := r.PathValue("org")
	data, ok := d.orgFigures(w, r, s, org)
	if !ok {
		return
	}
	t, ok := d.orgTable(data, "/ui/org/"+url.PathEscape(org), r.PathValue("table"), r.URL.Query())
	if !ok {
		d.fail(w, r, &s, http.StatusNotFound, "no such table")
		return
	}
	serveTable(w, t, r.URL.Query().Get("format"), org+"-"+t.Name)
}

func countCols(first string) []col {
	return []col{{Key: first, Title: strings.ReplaceAll(first, "_", " ")}, {Key: "caught", Title: "caught", Num: true},
		{Key: "overridden", Title: "overridden", Num: true}, {Key: "advisory", Title: "advisory", Num: true}, {Key: "missed", Title: "missed", Num: true},
		{Key: "escaped", Title: "escaped", Num: true}, {Key: "of", Title: "of (caught + missed)", Num: true},
		{Key: "rate", Title: "rate"}, {Key: "interval", Title: "95% interval"}}
}

func countRow(label string, c escaperate.Counts) []cell {
	r := c.Rate()
	return []cell{txt(label), num(c.Caught), num(c.Overridden), num(c.Advisory), num(c.Missed), num(c.Escaped()), num(c.Denominator()),
		txt(render.Percent(r)), txt(render.Interval(r))}
}

func monthsTable(m escaperate.OrgMonthData, base string) table {
	t := table{Name: "months", Title: "Per calendar month (the monthly summary's figures)", Cols: countCols("month"), Export: base + "/export/months"}
	for _, p := range m.Series {
		t.Rows = append(t.Rows, countRow(p.Month.Format("2006-01"), p.Counts))
	}
	return t
}

// kindsTable splits the escapes by kind, each with who owns it.
func kindsTable(data *orgData, base string) table {
	t := table{Name: "kinds", Title: "Escapes by kind and owner", Export: base + "/export/kinds",
		Cols: []col{{Key: "kind", Title: "kind"}, {Key: "owner", Title: "owned by"}, {Key: "window", Title: fmt.Sprintf("last %d days", escaperate.DefaultWindowDays), Num: true},
			{Key: "month", Title: data.Month.Month.Format("January 2006") + " so far", Num: true}, {Key: "rate", Title: "sub-rate (window)"}},
		Note: "Overridden: an approver accepted the risk. Advisory: merged while the check failed, because it is not required. Missed: reached production without any PR check seeing it."}
	c, m := data.Current, data.Month.Total
	t.Rows = [][]cell{
		{txt(store.EscapeOverridden), txt("approvers"), num(c.Overridden), num(m.Overridden), txt(render.XOfN(c.OverrideRate()) + " caught, " + render.Percent(c.OverrideRate()))},
		{txt(store.EscapeAdvisory), txt("repository settings"), num(c.Advisory), num(m.Advisory), txt(render.XOfN(c.AdvisoryRate()) + " caught, " + render.Percent(c.AdvisoryRate()))},
		{txt(store.EscapeMissed), txt("tooling"), num(c.Missed), num(m.Missed), txt(render.XOfN(c.DetectionGap()) + ", " + render.Percent(c.DetectionGap()) + " detection gap")},
	}
	return t
}

func approversTable(m escaperate.OrgMonthData, base string) table {
	t := table{Name: "approvers", Title: "Exceptions this month by approver", Export: base + "/export/approvers",
		Cols: []col{{Key: "approver", Title: "approver"}, {Key: "exceptions", Title: "exceptions", Num: true}}}
	for _, a := range m.ByApprover {
		t.Rows = append(t.Rows, []cell{txt("@" + a.Name), num(a.Count)})
	}
	if len(t.Rows) == 0 {
		t.Note = "No exception was granted this month."
	}
	return t
}

// repoSorts are the repositories table's sort keys; each sorts ascending, ties by name.
var repoSorts = map[string]func(a, b *escaperate.Report) int{
	"repo": func(a, b *escaperate.Report) int {
		return strings.Compare(strings.ToLower(a.Repo), strings.ToLower(b.Repo))
	},
	"rate":    func(a, b *escaperate.Report) int { return a.Current.Rate().Compare(b.Current.Rate()) },
	"escaped": func(a, b *escaperate.Report) int { return cmp.Compare(a.Current.Escaped(), b.Current.Escaped()) },
	"of": func(a, b *escaperate.Report) int {
		return cmp.Compare(a.Current.Denominator(), b.Current.Denominator())
	},
	"open":    func(a, b *escaperate.Report) int { return cmp.Compare(len(a.Exceptions), len(b.Exceptions)) },
	"overdue": func(a, b *escaperate.Report) int { return cmp.Compare(overdue(a), overdue(b)) },
}

func overdue(r *escaperate.Report) int {
	n := 0
	for _, e := range r.Exceptions {
		if e.Overdue {
			n++
		}
	}
	return n
}

// reposTable lists the repositories side by side, filtered by q (part of the name),
// sorted by sort (desc=1 reverses), a page at a time unless all=1.
func reposTable(data *orgData, base string, q url.Values) table {
	sortKey := q.Get("sort")
	less, ok := repoSorts[sortKey]
	if !ok {
		sortKey, less = "escaped", repoSorts["escaped"]
		if !q.Has("sort") {
			q = cloneValues(q)
			q.Set("desc", "1")
		}
	}
	desc := q.Get("desc") == "1"
	filter := strings.ToLower(strings.TrimSpace(q.Get("q")))
	facet := q.Get("facet")
	rows := make([]*escaperate.Report, 0, len(data.Reports)) // pointers: a report is large to swap
	for i := range data.Reports {
		r := &data.Reports[i]
		if (filter == "" || strings.Contains(strings.ToLower(r.Repo), filter)) && (facet == "" || hasFacet(data.Facets[strings.ToLower(r.Repo)], facet)) {
			rows = append(rows, r)
		}
	}
	slices.SortStableFunc(rows, func(a, b *escaperate.Report) int {
		c := less(a, b)
		if desc {
			c = -c
		}
		return cmp.Or(c, strings.Compare(strings.ToLower(a.Repo), strings.ToLower(b.Repo)))
	})
	t := table{Name: "repos", Title: "Repositories", Export: base + "/export/repos?" + url.Values{"q": {q.Get("q")}, "facet": {facet}, "sort": {sortKey}, "desc": {q.Get("desc")}}.Encode(),
		Note: fmt.Sprintf("Rolling %d days to now, as escapegate report counts. \"check required\" is whether a ruleset or branch protection requires the escapegate check on the production branches, as last read from GitHub (at install, when rules change, daily); \"not read\" until then.", escaperate.DefaultWindowDays)}
	head := func(key, title string, n bool) col {
		c := col{Key: key, Title: title, Num: n}
		if _, ok := repoSorts[key]; ok {
			v := url.Values{"sort": {key}, "q": {q.Get("q")}, "facet": {facet}}
			if key == sortKey && !desc {
				v.Set("desc", "1")
			}
			c.SortHref = base + "?" + v.Encode() + "#repos"
			if key == sortKey {
				c.Sorted = map[bool]string{false: "▲", true: "▼"}[desc]
			}
		}
		return c
	}
	t.Cols = []col{head("repo", "repository", false), head("escaped", "escaped", true), head("of", "of", true), head("rate", "rate", false),
		{Key: "interval", Title: "95% interval"}, {Key: "trend", Title: "trend"}, {Key: "previous", Title: "previous window"},
		{Key: "enforcement", Title: "check required"}, head("open", "open exceptions", true), head("overdue", "overdue fix-later", true),
		{Key: "groups", Title: "topics and properties"}}
	from, to := 0, len(rows)
	if q.Get("all") != "1" {
		pg, _ := strconv.Atoi(q.Get("page"))
		pg = max(pg, 1)
		from = min((pg-1)*pageSize, len(rows))
		to = min(from+pageSize, len(rows))
		if from > 0 || to < len(rows) {
			p := &pager{From: from + 1, To: to, Total: len(rows)}
			link := func(n int) string {
				v := cloneValues(q)
				v.Set("page", strconv.Itoa(n))
				return base + "?" + v.Encode() + "#repos"
			}
			if from > 0 {
				p.PrevHref = link(pg - 1)
			}
			if to < len(rows) {
				p.NextHref = link(pg + 1)
			}
			t.Pager = p
		}
	}
	for _, r := range rows[from:to] {
		rate := r.Current.Rate()
		t.Rows = append(t.Rows, []cell{
			{Text: r.Repo, Href: "/ui/repo/" + repoPath(r.Repo)},
			num(rate.X), num(rate.N), txt(render.Percent(rate)), txt(render.Interval(rate)),
			{Text: render.TrendArrow(r.Trend) + " " + string(r.Trend), Value: string(r.Trend)},
			txt(render.XOfN(r.Previous.Rate())),
			enforcementCell(r.Enforcement),
			num(len(r.Exceptions)), num(overdue(r)),
			txt(strings.Join(facetLabels(data.Facets[strings.ToLower(r.Repo)]), " ")),
		})
	}
	if len(rows) == 0 {
		t.Note = "No repository matches."
	}
	return t
}

func repoPath(full string) string {
	o, n, _ := strings.Cut(full, "/")
	return url.PathEscape(o) + "/" + url.PathEscape(n)
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = slices.Clone(v)
	}
	return out
}

// facetLabels names a repository's topics ("topic:NAME") and properties ("NAME=VALUE").
func facetLabels(f Facets) []string {
	var out []string
	for _, t := range f.Topics {
		out = append(out, "topic:"+t)
	}
	keys := make([]string, 0, len(f.Properties))
	for k := range f.Properties {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		out = append(out, k+"="+f.Properties[k])
	}
	return out
}

func hasFacet(f Facets, want string) bool {
	return slices.ContainsFunc(facetLabels(f), func(l string) bool { return strings.EqualFold(l, want) })
}

// facetOptions lists every topic and property value present, for the filter.
func facetOptions(all map[string]Facets) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range all {
		for _, l := range facetLabels(f) {
			if !seen[l] {
				seen[l] = true
				out = append(out, l)
			}
		}
	}
	slices.Sort(out)
	return out
}

// enforcementCell says whether the check is required: "yes", "no: main" (the branches
// that do not require it), or "not read" before GitHub's rules were read.
func enforcementCell(e *store.Enforcement) cell {
	switch {
	case e == nil || len(e.Branches) == 0:
		return cell{Text: "not read", Class: "unknown", Value: "unknown"}
	case e.Required:
		return cell{Text: "yes", Value: "required"}
	}
	return cell{Text: "no: " + strings.Join(e.Missing, ", "), Class: "advisory", Value: "advisory"}
}
