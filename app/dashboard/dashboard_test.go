package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/dashboard"
	"github.com/escapegate/escapegate/app/escaperate"
	"github.com/escapegate/escapegate/app/escaperate/escaperatetest"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/policy"
	"github.com/escapegate/escapegate/app/render"
	"github.com/escapegate/escapegate/app/server"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/memstore"
)

const (
	clientID     = "Iv1.test"
	clientSecret = "test-client-secret"
)

// env is a dashboard on a seeded store, signing in through the fake GitHub.
type env struct {
	url string
	gh  *fakegithub.Server
	st  store.Store
	now time.Time
}

var testEnd = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func newEnv(t testing.TB, shape escaperatetest.OrgShape, st store.Store, opts ...func(*dashboard.Options)) *env {
	t.Helper()
	ctx := context.Background()
	if st == nil {
		st = memstore.New()
	}
	if err := escaperatetest.SeedOrg(ctx, st, shape); err != nil {
		t.Fatal(err)
	}
	f := fakegithub.New()
	t.Cleanup(f.Close)
	f.SetOAuthClient(clientID, clientSecret)
	f.AddTeamMember(shape.Account, "security", "sec-lead", "active")
	f.AddTeamMember(shape.Account, "security", "newbie", "pending")
	var names []string
	for r := range shape.Repos {
		names = append(names, fmt.Sprintf("%s/repo-%04d", shape.Account, r))
	}
	f.AddInstallation(shape.InstallationID, names...)
	clients, err := server.PlainClients(f.URL())
	if err != nil {
		t.Fatal(err)
	}
	limits, facets, err := server.PlainDashboardGitHub(f.URL())
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(nil)
	base := "http://" + hs.Listener.Addr().String()
	o := dashboard.Options{Store: st, Clients: clients, Teams: []string{"security"},
		ClientID: clientID, ClientSecret: clientSecret, WebURL: strings.TrimRight(f.URL(), "/"), APIURL: f.URL(),
		BaseURL: base, SessionKey: []byte("a test session key of 32 bytes!"), Now: func() time.Time { return testEnd }, RepoFacets: facets, RateLimits: limits}
	for _, fn := range opts {
		fn(&o)
	}
	d, err := dashboard.New(o)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(dashboard.Prefix, d.Handler())
	hs.Config.Handler = mux
	hs.Start()
	t.Cleanup(hs.Close)
	return &env{url: base, gh: f, st: st, now: testEnd}
}

// signIn walks the OAuth flow as login (the fake GitHub's signed-in web user) and
// returns the browser-like client and the page it ended on.
func (e *env) signIn(t testing.TB, login, next string) (*http.Client, *http.Response, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	e.gh.SetWebUser(login)
	resp, err := c.Get(e.url + "/ui/auth/start?next=" + url.QueryEscape(next))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return c, resp, string(body)
}

func get(t testing.TB, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var small = escaperatetest.OrgShape{InstallationID: 3, Account: "acme", Repos: 12, CaughtPerRepo: 40, EscapeEvery: 7, MissedPerRepo: 2,
	Span: 300 * 24 * time.Hour, End: testEnd}

func TestSignInCookiesAndRefusals(t *testing.T) {
	e := newEnv(t, small, nil)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	// Without a session, everything but the login page sends the browser to it.
	for _, p := range []string{"/ui/", "/ui/org/acme", "/ui/org/acme/ops", "/ui/repo/acme/repo-0001", "/ui/org/acme/export/repos?format=csv", "/ui/repo/acme/repo-0001/export/escapes"} {
		resp, err := noRedirect.Get(e.url + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/ui/login?next=") {
			t.Errorf("%s without a session: %s %s", p, resp.Status, resp.Header.Get("Location"))
		}
	}

	// An active member of the approver team gets a signed, HttpOnly, SameSite=Lax cookie.
	c, resp, body := e.signIn(t, "sec-lead", "/ui/org/acme")
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/ui/org/acme" || !strings.Contains(body, `id="org-rate"`) {
		t.Fatalf("approver ended on %s %s", resp.Status, resp.Request.URL)
	}
	u, _ := url.Parse(e.url + "/ui/")
	var session *http.Cookie
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "escapegate_session" {
			session = ck
		}
	}
	if session == nil {
		t.Fatal("no session cookie")
	}
	if got := resp.Request.Response; got != nil {
		for _, sc := range got.Cookies() {
			if sc.Name == "escapegate_session" && (!sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/ui/" || sc.MaxAge <= 0) {
				t.Errorf("session cookie attributes: %+v", sc)
			}
		}
	}
	if resp.Header.Get("Content-Security-Policy") == "" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers: %v", resp.Header)
	}

	// A pending member and a non-member are refused, with no session.
	for _, who := range []string{"newbie", "bob"} {
		c, resp, body := e.signIn(t, who, "/ui/org/acme")
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "is not an active member") {
			t.Errorf("%s: %s", who, resp.Status)
		}
		if st, _ := get(t, c, e.url+"/ui/org/acme"); st != http.StatusOK {
			t.Errorf("%s after the refusal: %d", who, st)
		} else if _, b := get(t, c, e.url+"/ui/org/acme"); strings.Contains(b, `id="org-rate"`) {
			t.Errorf("%s sees the org page", who)
		}
	}

	// A callback whose state is not this browser's is refused before any exchange.
	before := len(e.gh.Requests())
	jar, _ := cookiejar.New(nil)
	cb := &http.Client{Jar: jar}
	if st, _ := get(t, cb, e.url+"/ui/auth/callback?code=x&state=attacker"); st != http.StatusBadRequest {
		t.Errorf("callback with a foreign state: %d", st)
	}
	for _, r := range e.gh.Requests()[before:] {
		if strings.Contains(r.Path, "access_token") {
			t.Error("a code was exchanged for a foreign state")
		}
	}
	// The session never opens another org.
	if st, _ := get(t, c, e.url+"/ui/org/other"); st != http.StatusForbidden {
		t.Errorf("another org: %d", st)
	}
	if st, _ := get(t, c, e.url+"/ui/repo/other/repo"); st != http.StatusForbidden {
		t.Errorf("another org's repository: %d", st)
	}
}

type exportRows struct {
	Table string           `json:"table"`
	Rows  []map[string]any `json:"rows"`
}

func export(t *testing.T, c *http.Client, u string) exportRows {
	t.Helper()
	st, body := get(t, c, u)
	if st != http.StatusOK {
		t.Fatalf("%s: %d %s", u, st, body)
	}
	var out exportRows
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatalf("%s: %v", u, err)
	}
	return out
}

// TestFiguresEqualReportAndSummary: the dashboard's numbers are `escapegate report
// --format json`'s for each repository and the monthly summary's for the org.
func TestFiguresEqualReportAndSummary(t *testing.T) {
	e := newEnv(t, small, nil)
	ctx := context.Background()
	c, resp, page := e.signIn(t, "sec-lead", "/ui/org/acme")
	if resp.StatusCode != http.StatusOK {
		t.Fatal(resp.Status)
	}
	repos := export(t, c, e.url+"/ui/org/acme/export/repos?format=json")
	if len(repos.Rows) != small.Repos {
		t.Fatalf("%d repository rows, want %d", len(repos.Rows), small.Repos)
	}
	var total escaperate.Counts
	for _, row := range repos.Rows {
		name := row["repo"].(string)
		rep, err := escaperate.ForRepo(ctx, e.st, name, "90d", e.now)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := render.JSON(rep) // what `escapegate report --format json` prints
		if err != nil {
			t.Fatal(err)
		}
		var want struct {
			Current struct {
				Escaped int `json:"escaped"`
				Rate    struct{ X, N int }
			} `json:"current"`
			Trend string `json:"trend"`
			Open  int    `json:"open_exceptions"`
			Over  int    `json:"overdue_exceptions"`
		}
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		if int(row["escaped"].(float64)) != want.Current.Rate.X || int(row["of"].(float64)) != want.Current.Rate.N || row["trend"] != want.Trend ||
			int(row["open"].(float64)) != want.Open || int(row["overdue"].(float64)) != want.Over || row["rate"] != render.Percent(rep.Current.Rate()) {
			t.Errorf("%s: dashboard %v, report %s", name, row, raw)
		}
		total = total.Add(rep.Current)
		esc := export(t, c, e.url+"/ui/repo/"+name+"/export/escapes?format=json")
		if len(esc.Rows) != len(rep.Escapes) {
			t.Errorf("%s: %d escapes listed, report has %d", name, len(esc.Rows), len(rep.Escapes))
		}
	}
	if !strings.Contains(page, `<span class="x-of-n">`+render.XOfN(total.Rate())+`</span>`) {
		t.Errorf("the org headline is not the sum of the reports (%s)", render.XOfN(total.Rate()))
	}

	month, err := escaperate.OrgMonth(ctx, e.st, small.InstallationID, e.now, 90, "critical") // the summary's data
	if err != nil {
		t.Fatal(err)
	}
	months := export(t, c, e.url+"/ui/org/acme/export/months?format=json")
	if len(months.Rows) != len(month.Series) {
		t.Fatalf("%d months, summary has %d", len(months.Rows), len(month.Series))
	}
	for i, p := range month.Series {
		row := months.Rows[i]
		if row["month"] != p.Month.Format("2006-01") || int(row["caught"].(float64)) != p.Counts.Caught || int(row["escaped"].(float64)) != p.Counts.Escaped() ||
			int(row["of"].(float64)) != p.Counts.Denominator() || int(row["missed"].(float64)) != p.Counts.Missed || row["interval"] != render.Interval(p.Counts.Rate()) {
			t.Errorf("month %s: dashboard %v, summary %+v", p.Month.Format("2006-01"), row, p.Counts)
		}
	}
	_, md := render.MonthlySummary(month)
	if last := month.Series[len(month.Series)-1].Counts; !strings.Contains(md, render.XOfN(last.Rate())) {
		t.Errorf("the summary does not show %s", render.XOfN(last.Rate()))
	}
	// CSV of the same table.
	if st, csv := get(t, c, e.url+"/ui/org/acme/export/months?format=csv"); st != http.StatusOK || !strings.HasPrefix(csv, "month,caught,overridden,advisory,missed,escaped,of,rate,interval\n") {
		t.Errorf("CSV: %d %q", st, csv[:min(len(csv), 120)])
	}
}

func TestReposSortFilterPage(t *testing.T) {
	shape := small
	shape.Repos = 130
	e := newEnv(t, shape, nil)
	c, _, _ := e.signIn(t, "sec-lead", "/ui/")
	for _, tc := range []struct {
		query string
		rows  int
		first string
	}{
		{"sort=repo", 100, "acme/repo-0000"},
		{"sort=repo&desc=1", 100, "acme/repo-0129"},
		{"sort=repo&page=2", 30, "acme/repo-0100"},
		{"sort=repo&q=repo-012", 10, "acme/repo-0120"},
	} {
		_, body := get(t, c, e.url+"/ui/org/acme?"+tc.query)
		tbl := body[strings.Index(body, `data-table="repos"`):]
		tbl = tbl[:strings.Index(tbl, "</table>")]
		if n := strings.Count(tbl, "<tr>") - 1; n != tc.rows {
			t.Errorf("%s: %d rows, want %d", tc.query, n, tc.rows)
		}
		if i := strings.Index(tbl, `href="/ui/repo/`); i < 0 || !strings.Contains(tbl[i:i+80], tc.first+"<") && !strings.Contains(tbl[i:i+80], ">"+tc.first) {
			t.Errorf("%s: first row is not %s", tc.query, tc.first)
		}
	}
	if all := export(t, c, e.url+"/ui/org/acme/export/repos?format=json&q=repo-01"); len(all.Rows) != 30 {
		t.Errorf("export of a filter: %d rows, want 30 (every page)", len(all.Rows))
	}
}

// TestRepositoryPermissionApprovers: with the default policy (no approver teams,
// permission admin) a repository admin, who may approve overrides there, opens that
// repository's page, and neither another repository's nor the org's.
func TestRepositoryPermissionApprovers(t *testing.T) {
	e := newEnv(t, small, nil, func(o *dashboard.Options) {
		o.Teams = nil
		o.Policy = func(context.Context, gh.Client, gh.Repo, string) (policy.Result, error) {
			return policy.Result{Policy: policy.Default()}, nil
		}
	})
	e.gh.SetPermission("acme/repo-0003", "admin-al", "admin")
	e.gh.SetPermission("acme/repo-0004", "admin-al", "write")
	c, resp, body := e.signIn(t, "admin-al", "/ui/")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Repositories you may approve overrides in") {
		t.Fatalf("%s:\n%s", resp.Status, body)
	}
	for path, want := range map[string]int{
		"/ui/repo/acme/repo-0003":                http.StatusOK,
		"/ui/repo/acme/repo-0003/export/escapes": http.StatusOK,
		"/ui/repo/acme/repo-0004":                http.StatusForbidden,
		"/ui/org/acme":                           http.StatusForbidden,
		"/ui/org/acme/ops":                       http.StatusForbidden,
		"/ui/org/acme/export/repos":              http.StatusForbidden,
		"/ui/go?repo=acme/repo-0003":             http.StatusOK,
	} {
		if st, _ := get(t, c, e.url+path); st != want {
			t.Errorf("%s: %d, want %d", path, st, want)
		}
	}
	// Where permission approves, whether a user has it is known only per repository:
	// anyone signs in, and each repository page asks GitHub.
	c, _, _ = e.signIn(t, "stranger", "/ui/")
	if st, _ := get(t, c, e.url+"/ui/repo/acme/repo-0003"); st != http.StatusForbidden {
		t.Errorf("a user without permission opened a repository: %d", st)
	}
}

// TestFilterByTopicAndProperty: the repositories table filters by a topic or a custom
// property value that GitHub lists; without the custom-properties permission, by topic.
func TestFilterByTopicAndProperty(t *testing.T) {
	for _, deny := range []bool{false, true} {
		t.Run(fmt.Sprintf("properties denied=%v", deny), func(t *testing.T) {
			shape := small
			e := newEnv(t, shape, nil, func(o *dashboard.Options) { o.Refresh = time.Hour })
			e.gh.SetTopics("acme/repo-0001", "payments")
			e.gh.SetTopics("acme/repo-0002", "payments", "pci")
			e.gh.SetCustomProperty("acme/repo-0003", "tier", "1")
			e.gh.DenyCustomProperties(deny)
			c, _, page := e.signIn(t, "sec-lead", "/ui/org/acme")
			if !strings.Contains(page, `<option value="topic:payments"`) {
				t.Errorf("no topic in the filter")
			}
			if got := strings.Contains(page, `<option value="tier=1"`); got == deny {
				t.Errorf("property in the filter: %v, want %v", got, !deny)
			}
			for facet, want := range map[string]int{"topic:payments": 2, "topic:pci": 1, "tier=1": map[bool]int{false: 1, true: 0}[deny]} {
				rows := export(t, c, e.url+"/ui/org/acme/export/repos?format=json&facet="+url.QueryEscape(facet))
				if len(rows.Rows) != want {
					t.Errorf("%s: %d rows, want %d", facet, len(rows.Rows), want)
				}
			}
		})
	}
}

// TestOperationsPage: dead-lettered and retried deliveries (never their payloads), the
// recovery sweep's redeliveries, and the installation's rate-limit headroom.
func TestOperationsPage(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	for i, d := range []store.Delivery{
		{ID: "dead-1", Event: "pull_request", Payload: []byte(`{"sealed":"payload"}`), Key: "a"},
		{ID: "retry-1", Event: "push", Payload: []byte(`{}`), Key: "b"},
		{ID: "fresh-1", Event: "push", Payload: []byte(`{}`), Key: "c"},
	} {
		d.ReceivedAt = testEnd.Add(time.Duration(i) * time.Minute)
		if _, err := st.AddDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.FailDelivery(ctx, "dead-1", 10, time.Time{}, "GitHub answered 502 ten times", true); err != nil {
		t.Fatal(err)
	}
	if err := st.FailDelivery(ctx, "retry-1", 2, testEnd.Add(time.Hour), "rate limited", false); err != nil {
		t.Fatal(err)
	}
	// The recovery sweep asked for two redeliveries; one has been handled since.
	if err := st.PutSetting(ctx, "recovery/sweep", []byte(`{"mark":"2026-11-20T11:00:00Z","tries":{"guid-a":{"attempts":1,"last":"2026-11-20T10:00:00Z"},"guid-b":{"attempts":3,"last":"2026-11-20T10:30:00Z"}}}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.MarkDelivery(ctx, "guid-a", testEnd); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, small, st, func(o *dashboard.Options) { o.Inbox = st })
	e.gh.SetRateRemaining(small.InstallationID, 1234)
	c, resp, page := e.signIn(t, "sec-lead", "/ui/org/acme/ops")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "<b>1 dead-lettered</b>") || strings.Contains(page, "sealed") {
		t.Fatalf("%s:\n%s", resp.Status, page)
	}
	for table, want := range map[string][]string{
		"dead":      {"dead-1"},
		"retried":   {"retry-1"}, // fresh-1 has not failed: it is simply waiting
		"recovered": {"guid-b", "guid-a"},
		"ratelimit": {"3"}, // small's installation
	} {
		rows := export(t, c, e.url+"/ui/org/acme/ops/"+table+"?format=json")
		var got []string
		for _, r := range rows.Rows {
			for _, k := range []string{"id", "guid", "installation"} {
				if v, ok := r[k]; ok {
					got = append(got, fmt.Sprint(v))
				}
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: %v, want %v (%v)", table, got, want, rows.Rows)
		}
		if table == "recovered" && (rows.Rows[0]["recovered"] != false || rows.Rows[1]["recovered"] != true) {
			t.Errorf("recovered: %v", rows.Rows)
		}
		if table == "ratelimit" && (rows.Rows[0]["remaining"] != float64(1234) || rows.Rows[0]["headroom"] != "25%") {
			t.Errorf("rate limit: %v", rows.Rows)
		}
	}
}

// TestEnforcementAndRemediationShown: the repositories table says whether the check is
// required as the store last read it ("not read" before that), and a fix-later exception
// whose issue was closed shows as remediated.
func TestEnforcementAndRemediationShown(t *testing.T) {
	st := memstore.New()
	e := newEnv(t, small, st)
	ctx := context.Background()
	setEnf := func(repo string, enf store.Enforcement) {
		rp, err := st.GetRepository(ctx, repo)
		if err != nil {
			t.Fatal(err)
		}
		rp.Enforcement = &enf
		if err := st.PutRepository(ctx, rp); err != nil {
			t.Fatal(err)
		}
	}
	setEnf("acme/repo-0000", store.Enforcement{Required: true, Branches: []string{"main"}, Via: []string{"ruleset #1 of acme"}, CheckedAt: e.now})
	setEnf("acme/repo-0001", store.Enforcement{Branches: []string{"main"}, Missing: []string{"main"}, CheckedAt: e.now})
	fix, _, err := st.AddException(ctx, store.Exception{Repo: "acme/repo-0002", PR: 77, Approver: "sec-lead", Reason: escaperate.ReasonFixLater,
		Fingerprints: []string{"f"}, CreatedAt: e.now.Add(-20 * 24 * time.Hour), ExpiresAt: e.now.Add(-5 * 24 * time.Hour), State: store.ExceptionMerged,
		EndedAt: e.now.Add(-19 * 24 * time.Hour), Issue: 5, RemediatedAt: e.now.Add(-2 * 24 * time.Hour), DeliveryID: "d-fix"})
	if err != nil {
		t.Fatal(err)
	}
	c, resp, _ := e.signIn(t, "sec-lead", "/ui/org/acme")
	if resp.StatusCode != http.StatusOK {
		t.Fatal(resp.Status)
	}
	want := map[string]string{"acme/repo-0000": "required", "acme/repo-0001": "advisory", "acme/repo-0003": "unknown"}
	for _, row := range export(t, c, e.url+"/ui/org/acme/export/repos?format=json").Rows {
		if w, ok := want[row["repo"].(string)]; ok && row["enforcement"] != w {
			t.Errorf("%s: enforcement %v, want %s", row["repo"], row["enforcement"], w)
		}
	}
	_, page := get(t, c, e.url+"/ui/org/acme")
	if !strings.Contains(page, "no: main") {
		t.Error("the org page does not name the branch that does not require the check")
	}
	_, repoPage := get(t, c, e.url+"/ui/repo/acme/repo-0002")
	if !strings.Contains(repoPage, "remediated "+render.Date(fix.RemediatedAt)+" (late)") {
		t.Errorf("the repository page does not show the remediation of exception #%d", fix.ID)
	}
}
