package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/escapegate/escapegate/internal/demo"
	"github.com/escapegate/escapegate/internal/fakecreds"
)

// screenshotDir is where the browser tests save their screenshots: $ESCAPEGATE_SCREENSHOTS,
// else a temporary folder (they are never committed).
func screenshotDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("ESCAPEGATE_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// headless runs Debian's chromium once on url with a fresh profile: every run signs in
// anew through the fake GitHub's OAuth pages, as a browser without cookies does.
func headless(t *testing.T, bin, url string, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
		"--no-default-browser-check", "--hide-scrollbars", "--user-data-dir=" + t.TempDir(), "--virtual-time-budget=10000"}, extra...)
	out, err := exec.CommandContext(ctx, bin, append(args, url)...).Output()
	if err != nil {
		t.Fatalf("chromium on %s: %v\n%s", url, err, out)
	}
	return string(out)
}

// TestDashboardInHeadlessChromium signs in to /ui through the fake GitHub's OAuth in a
// real browser: an active member of the policy's approver team sees the org page with
// its chart and the repository page with the demo's escapes; a non-member is refused;
// without a session only the login page is served. Each page's screenshot is saved.
func TestDashboardInHeadlessChromium(t *testing.T) {
	bin := chromium(t)
	ctx := context.Background()
	h, err := demo.NewHarness(ctx, demo.Options{Dir: t.TempDir(), UI: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := demo.Run(ctx, h, &strings.Builder{}); err != nil {
		t.Fatal(err)
	}
	shots := screenshotDir(t)
	start := func(next string) string { return h.URL + "/ui/auth/start?next=" + url.QueryEscape(next) }

	// No session: the org page sends the browser to the login page.
	if dom := headless(t, bin, h.URL+"/ui/org/acme", "--dump-dom"); !strings.Contains(dom, `id="signin"`) || strings.Contains(dom, `id="org-rate"`) {
		t.Errorf("without a session the browser ended on:\n%s", dom)
	}
	headless(t, bin, h.URL+"/ui/org/acme", "--screenshot="+filepath.Join(shots, "login.png"), "--window-size=1280,600")

	h.GitHub.SetWebUser("sec-lead") // an active member of acme/security, the policy's approver team
	org := headless(t, bin, start("/ui/org/acme"), "--dump-dom")
	for _, want := range []string{`id="org-rate"`, `<svg class="chart"`, `class="band"`, "acme/payments", `data-table="repos"`, "@sec-lead"} {
		if !strings.Contains(org, want) {
			t.Errorf("org page lacks %q:\n%s", want, org)
		}
	}
	repo := headless(t, bin, start("/ui/repo/acme/payments"), "--dump-dom")
	for _, want := range []string{`id="repo-rate"`, `data-table="escapes"`, "slack-bot-token", "stripe-access-token", "scripts/notify.py", "billing/charge.rb",
		"overridden", "missed", "fix later", `data-table="exceptions"`, `data-table="refused"`, "@bob"} {
		if !strings.Contains(repo, want) {
			t.Errorf("repository page lacks %q:\n%s", want, repo)
		}
	}
	for _, raw := range demoSecrets() {
		if strings.Contains(org+repo, raw) {
			t.Errorf("a raw secret is on a page")
		}
	}
	for name, next := range map[string]string{"org": "/ui/org/acme", "repo": "/ui/repo/acme/payments", "ops": "/ui/org/acme/ops"} {
		headless(t, bin, start(next), "--screenshot="+filepath.Join(shots, name+".png"), "--window-size=1280,2000")
		if fi, err := os.Stat(filepath.Join(shots, name+".png")); err != nil || fi.Size() == 0 {
			t.Errorf("no screenshot of the %s page: %v", name, err)
		}
	}

	h.GitHub.SetWebUser("bob") // a collaborator, not on the approver team
	refused := headless(t, bin, start("/ui/org/acme"), "--dump-dom")
	if !strings.Contains(refused, "is not an active member") || strings.Contains(refused, `id="org-rate"`) {
		t.Errorf("a non-member's browser ended on:\n%s", refused)
	}
	headless(t, bin, start("/ui/org/acme"), "--screenshot="+filepath.Join(shots, "refused.png"), "--window-size=1280,600")
	t.Logf("screenshots in %s", shots)
}

// demoSecrets are the raw values the demo's PRs and push add.
func demoSecrets() []string {
	return []string{fakecreds.FakeAWSKey(), fakecreds.FakeGitHubPAT(), fakecreds.FakeSlackBotToken(), fakecreds.FakeStripeLiveKey()}
}

// TestDashboardEqualsReportCommand: on the demo's data, the dashboard's repository row
// and escapes are what `escapegate report --format json` prints (here through serve's
// loopback API, since the running server holds the bbolt file).
func TestDashboardEqualsReportCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	h, err := demo.NewHarness(ctx, demo.Options{Dir: dir, UI: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := demo.Run(ctx, h, &strings.Builder{}); err != nil {
		t.Fatal(err)
	}
	h.GitHub.SetWebUser("sec-lead")
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	getJSON := func(path string, v any) {
		t.Helper()
		resp, err := c.Get(h.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s", path, resp.Status)
		}
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	var signedIn struct{ Rows []map[string]any }
	getJSON("/ui/auth/start?next="+url.QueryEscape("/ui/org/acme/export/repos?format=json"), &signedIn)

	u, _ := url.Parse(h.URL)
	cfg := writeTemp(t, "config.yml", "listen: "+u.Host+"\nstore: bolt:"+filepath.Join(dir, "escapegate.db")+"\n")
	var out strings.Builder
	var errOut strings.Builder
	if code := run(ctx, []string{"report", "--config", cfg, "--repo", "acme/payments", "--format", "json"}, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Log(errOut.String())
		t.Fatalf("report exited %d", code)
	}
	var rep struct {
		Current struct {
			Rate struct{ X, N int } `json:"rate"`
		} `json:"current"`
		Trend   string           `json:"trend"`
		Escapes []map[string]any `json:"escapes"`
		Open    int              `json:"open_exceptions"`
	}
	if err := json.Unmarshal([]byte(out.String()), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	var row map[string]any
	for _, r := range signedIn.Rows {
		if r["repo"] == "acme/payments" {
			row = r
		}
	}
	if row == nil || int(row["escaped"].(float64)) != rep.Current.Rate.X || int(row["of"].(float64)) != rep.Current.Rate.N ||
		row["trend"] != rep.Trend || int(row["open"].(float64)) != rep.Open || rep.Current.Rate.N == 0 {
		t.Errorf("dashboard row %v, report %s", row, out.String())
	}
	var esc struct{ Rows []map[string]any }
	getJSON("/ui/repo/acme/payments/export/escapes?format=json", &esc)
	if len(esc.Rows) != len(rep.Escapes) || len(esc.Rows) != 2 {
		t.Fatalf("dashboard lists %d escapes, report %d", len(esc.Rows), len(rep.Escapes))
	}
	for i, e := range rep.Escapes { // the report is oldest first, the dashboard newest first
		d := esc.Rows[len(esc.Rows)-1-i]
		if d["rule"] != e["rule"] || d["kind"] != e["kind"] || d["path"] != e["path"] || d["value"] != e["redacted"] {
			t.Errorf("escape %d: dashboard %v, report %v", i, d, e)
		}
	}
}
