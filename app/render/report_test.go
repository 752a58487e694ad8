package render_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/escaperate"
	"github.com/escapegate/escapegate/app/render"
	"github.com/escapegate/escapegate/store"
)

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *render.UpdateGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got\n%s", name, got)
	}
}

var now = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func d(m time.Month, day int) time.Time { return time.Date(2026, m, day, 10, 0, 0, 0, time.UTC) }

// base is a report of acme/payments as Compute shapes it, without counts.
func base() escaperate.Report {
	r := escaperate.Report{
		Repo: "acme/payments", DefaultBranch: "main", Now: now, WindowDays: 90, MinSeverity: "critical",
		Since:          time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC),
		Window:         store.Window{From: now.AddDate(0, 0, -90), To: now},
		PreviousWindow: store.Window{From: now.AddDate(0, 0, -180), To: now.AddDate(0, 0, -90)},
		Trend:          escaperate.TrendNone,
	}
	for i := 5; i >= 0; i-- {
		r.Series = append(r.Series, escaperate.Point{Window: store.Window{From: now.AddDate(0, 0, -30*(i+1)), To: now.AddDate(0, 0, -30*i)}})
	}
	return r
}

func withSeries(r escaperate.Report, cs ...escaperate.Counts) escaperate.Report {
	for i, c := range cs {
		r.Series[i].Counts = c
	}
	return r
}

// threeKinds mirrors EXAMPLES §4: 3 of 41, up from 1 of 37.
func threeKinds() (escaperate.Report, []store.Escape) {
	r := base()
	r.Current = escaperate.Counts{Caught: 40, Overridden: 1, Advisory: 1, Missed: 1}
	r.Previous = escaperate.Counts{Caught: 37, Overridden: 1}
	r.Trend = escaperate.TrendUp
	r = withSeries(r,
		escaperate.Counts{Caught: 12}, escaperate.Counts{Caught: 22, Overridden: 1}, escaperate.Counts{Caught: 47, Advisory: 1},
		escaperate.Counts{Caught: 13}, escaperate.Counts{Caught: 33, Overridden: 1}, escaperate.Counts{Caught: 40, Overridden: 1, Advisory: 1, Missed: 1})
	r.Escapes = []store.Escape{
		{ID: 1, Kind: store.EscapeMissed, Rule: "aws-access-token", Path: "deploy/terraform.tfvars", Redacted: "AKIA… (16–31 chars)", SHA: "aa", DetectedAt: d(9, 14)},
		{ID: 2, Kind: store.EscapeOverridden, Rule: "github-pat", Path: "config/.env.production", Redacted: "ghp_… (32–63 chars)", PR: 7, ExceptionID: 14, Approver: "sec-lead", Reason: "fix_later", DetectedAt: d(10, 20)},
		{ID: 3, Kind: store.EscapeAdvisory, Rule: "slack-bot-token", Path: "scripts/notify|old.py", Redacted: "xoxb-… (32–63 chars)", PR: 7, DetectedAt: d(10, 21)},
	}
	r.Exceptions = []escaperate.OpenException{
		{Exception: store.Exception{ID: 14, PR: 7, Approver: "sec-lead", Reason: "fix_later", State: store.ExceptionMerged, CreatedAt: d(10, 20), ExpiresAt: d(11, 20)}, Overdue: true},
		{Exception: store.Exception{ID: 15, PR: 9, Approver: "alice", State: store.ExceptionActive, CreatedAt: d(11, 25), ExpiresAt: d(12, 25)}},
	}
	return r, r.Escapes[1:]
}

func hundreds() (escaperate.Report, []store.Escape) {
	r := base()
	kinds := []string{store.EscapeOverridden, store.EscapeAdvisory, store.EscapeMissed}
	for i := range 400 {
		e := store.Escape{ID: int64(i + 1), Kind: kinds[i%3], Rule: fmt.Sprintf("rule-%02d", i%17),
			Path: fmt.Sprintf("services/svc-%03d/%s/config.env", i, strings.Repeat("deep/", i%40)), Redacted: "sk_live_… (32–63 chars)",
			PR: 100 + i, Approver: "sec-lead", Reason: "used_in_tests", DetectedAt: d(9, 1).Add(time.Duration(i) * time.Hour)}
		r.Escapes = append(r.Escapes, e)
		switch e.Kind {
		case store.EscapeOverridden:
			r.Current.Overridden++
		case store.EscapeAdvisory:
			r.Current.Advisory++
		default:
			r.Current.Missed++
		}
	}
	r.Current.Caught = 1200
	r.Previous = escaperate.Counts{Caught: 900, Overridden: 90}
	r.Trend = escaperate.TrendUp
	for i := range 200 {
		r.Exceptions = append(r.Exceptions, escaperate.OpenException{Exception: store.Exception{ID: int64(i + 1), PR: 100 + i, Approver: "sec-lead",
			Reason: "fix_later", State: store.ExceptionMerged, ExpiresAt: d(11, 1)}, Overdue: true})
	}
	return withSeries(r, escaperate.Counts{Caught: 100, Missed: 20}), r.Escapes[:300]
}

func TestReleaseComment(t *testing.T) {
	noData := base()
	clean := base()
	clean.Current = escaperate.Counts{Caught: 12}
	clean.Previous = escaperate.Counts{Caught: 9}
	clean.Trend = escaperate.TrendFlat
	clean = withSeries(clean, escaperate.Counts{}, escaperate.Counts{Caught: 4}, escaperate.Counts{Caught: 5}, escaperate.Counts{}, escaperate.Counts{Caught: 7}, escaperate.Counts{Caught: 5})
	kinds, kindsCarried := threeKinds()
	many, manyCarried := hundreds()

	tests := []struct {
		name     string
		r        escaperate.Report
		carried  []store.Escape
		previous string
		contains []string
	}{
		{"release_no_data.md", noData, nil, "v0.1.0", []string{"No critical risks caught yet", "since 2026-01-05"}},
		{"release_clean.md", clean, nil, "v1.0.0", []string{"**0 of 12 critical risks reached production in the last 90 days (0.0%, 95% CI 0.0–24.2%)**", "carries no escaped"}},
		{"release_three_kinds.md", kinds, kindsCarried, "v2.3.0", []string{
			"**3 of 41 critical risks reached production in the last 90 days (7.3%, 95% CI 2.5–19.4%)**, up from 1 of 37 (2.7%)",
			"override rate 1 of 40 caught, 2.5%", "detection gap 1 of 41, 2.4%", "overdue since 2026-11-20",
			"xychart-beta", `scripts/notify\|old.py`, "**This release carries 2 escaped critical risks** (merged since `v2.3.0`)"}},
		{"release_hundreds.md", many, manyCarried, "v9.0.0", []string{"and 300 more: run `escapegate report --repo acme/payments`", "and 280 more", "and 170 more"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render.ReleaseComment(tt.r, tt.carried, tt.previous)
			if !strings.HasPrefix(got, render.ReleaseMarker+"\n") {
				t.Errorf("comment does not start with the marker")
			}
			if len(got) > render.MaxChars {
				t.Errorf("comment is %d bytes, limit %d", len(got), render.MaxChars)
			}
			for _, s := range tt.contains {
				if !strings.Contains(got, s) {
					t.Errorf("comment lacks %q", s)
				}
			}
			golden(t, tt.name, got)
		})
	}
}

// TestReleaseCommentFits pushes far past the defaults: the lists shrink until the body fits.
func TestReleaseCommentFits(t *testing.T) {
	r := base()
	r.Current = escaperate.Counts{Caught: 1, Missed: 20000}
	for range 20000 {
		r.Escapes = append(r.Escapes, store.Escape{Kind: store.EscapeMissed, Rule: strings.Repeat("r", 300), Path: strings.Repeat("p/", 300), Redacted: "… (64+ chars)", DetectedAt: d(10, 1)})
	}
	got := render.ReleaseComment(r, r.Escapes, "v1")
	if len(got) > render.MaxChars {
		t.Fatalf("comment is %d bytes, limit %d", len(got), render.MaxChars)
	}
	if !strings.Contains(got, "more: run `escapegate report --repo acme/payments`") {
		t.Errorf("comment does not summarise the rest")
	}
}

func TestTextAndJSON(t *testing.T) {
	r, _ := threeKinds()
	text := render.Text(r)
	flat := strings.Join(strings.Fields(text), " ") // the columns' padding is tabwriter's business
	for _, s := range []string{"escape rate 3 of 41 7.3%, 95% CI 2.5–19.4%", "override rate 1 of 40 2.5%, 95% CI 0.4–12.9%",
		"detection gap 1 of 41 2.4%, 95% CI 0.4–12.6%", "previous 90 days 1 of 37 2.7%, trend up", "open exceptions: 2 (1 overdue)"} {
		if !strings.Contains(flat, s) {
			t.Errorf("text lacks %q:\n%s", s, text)
		}
	}
	golden(t, "text_three_kinds.txt", text)

	data, err := render.JSON(base())
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Current struct {
			Rate struct {
				N     int      `json:"n"`
				Value *float64 `json:"value"`
			} `json:"rate"`
		} `json:"current"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got.Current.Rate.N != 0 || got.Current.Rate.Value != nil {
		t.Errorf("no data must give a null rate, got %s", data)
	}
	data, err = render.JSON(r)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "json_three_kinds.json", string(data))
}

func TestMonthlySummary(t *testing.T) {
	month := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	data := escaperate.OrgMonthData{
		Org: "acme", Month: month, WindowDays: 90, MinSeverity: "critical",
		Total: escaperate.Counts{Caught: 203, Overridden: 4, Advisory: 3, Missed: 2}, Previous: escaperate.Counts{Caught: 170, Overridden: 6, Advisory: 3, Missed: 2},
		Trend: escaperate.TrendDown,
	}
	for i := range 300 {
		row := escaperate.RepoRow{Repo: fmt.Sprintf("acme/service-%03d", i), Trend: escaperate.TrendFlat}
		switch {
		case i < 5:
			row.Rolling = escaperate.Counts{Caught: 40 - i, Overridden: 3 - i%3, Advisory: 1, Missed: i % 2}
			row.Month = escaperate.Counts{Caught: 20, Overridden: 1 + i%2}
			row.Trend = escaperate.TrendUp
		case i < 250:
			row.Rolling = escaperate.Counts{Caught: 1 + i%9}
		}
		data.Repos = append(data.Repos, row)
	}
	for i := range 12 {
		data.Series = append(data.Series, escaperate.MonthPoint{Month: month.AddDate(0, i-11, 0), Counts: escaperate.Counts{Caught: 150 + i, Overridden: i % 4, Missed: 1}})
	}
	data.ByApprover = []escaperate.Tally{{Name: "sec-lead", Count: 5}, {Name: "alice", Count: 2}}
	data.ByReason = []escaperate.Tally{{Name: "fix_later", Count: 4}, {Name: "", Count: 2}, {Name: "false_positive", Count: 1}}
	data.Overdue = []store.Exception{{ID: 14, Repo: "acme/service-000", PR: 7, Approver: "sec-lead", Reason: "fix_later", ExpiresAt: d(11, 20)}}
	data.Advisory = []escaperate.Tally{{Name: "acme/service-000", Count: 1}, {Name: "acme/service-001", Count: 1}}
	for i := range 14 {
		data.TopRules = append(data.TopRules, escaperate.Tally{Name: fmt.Sprintf("rule-%02d", i), Count: 14 - i})
	}

	title, body := render.MonthlySummary(data)
	if title != "escapegate summary — acme — 2026-11" {
		t.Errorf("title %q", title)
	}
	if len(body) > render.MaxChars {
		t.Errorf("body is %d bytes, limit %d", len(body), render.MaxChars)
	}
	for _, s := range []string{
		"**acme: 9 of 205 critical risks reached production in November 2026 (4.4%, 95% CI 2.3–8.1%)**, down from 6.4% in October.",
		"3 repositories account for 5 of the 9.",
		"and 200 more repositories: 0 with escapes, 150 clean",
		"| 4 others | 10 |",
	} {
		if !strings.Contains(body, s) {
			t.Errorf("body lacks %q", s)
		}
	}
	golden(t, "monthly_300_repos.md", body)
}
