package main

import (
	"bufio"
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/internal/fakegithub/apivalidate"
	"github.com/escapegate/escapegate/internal/testenv"
)

// registerRun starts `escapegate register` against the fake GitHub (web and API) and
// returns its local page's URL, the credentials path and a channel with its exit code.
func registerRun(t *testing.T, f *fakegithub.Server) (page, out string, code <-chan int) {
	t.Helper()
	dir := t.TempDir()
	base := strings.TrimRight(f.URL(), "/")
	cfg := writeTemp(t, "config.yml", "public_url: https://escapegate.example.com\ngithub:\n  web_url: "+base+"\n  v3_api_url: "+base+"/api/v3/\n")
	out = filepath.Join(dir, "escapegate-app.yml")
	// An existing world-readable credentials file: it must be replaced by a 0600 one.
	if err := os.WriteFile(out, []byte("old: credentials\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(out, 0o644)
	pr, pw := io.Pipe()
	ch := make(chan int, 1)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() {
		ch <- run(ctx, []string{"register", "--config", cfg, "--manifest", filepath.Join(testenv.RepoRoot(), "app.yml"),
			"--org", "acme", "--listen", "127.0.0.1:0", "--out", out, "--timeout", "30s"}, strings.NewReader(""), pw, io.Discard)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	re := regexp.MustCompile(`open (http://\S+/) in a browser`)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			page = m[1]
			break
		}
	}
	if page == "" {
		t.Fatal("register printed no page address")
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	return page, out, ch
}

func conversions(f *fakegithub.Server) []fakegithub.Request {
	var out []fakegithub.Request
	for _, r := range f.Requests() {
		if strings.Contains(r.Path, "/app-manifests/") {
			out = append(out, r)
		}
	}
	return out
}

func checkCredentials(t *testing.T, f *fakegithub.Server, out string) {
	t.Helper()
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials file mode %04o, want 0600 (it replaced a 0644 one)", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(out)
	apps := f.ManifestApps()
	if len(apps) != 1 {
		t.Fatalf("apps created: %d, want 1", len(apps))
	}
	if !strings.Contains(string(data), apps[0].WebhookSecret) || !strings.Contains(string(data), "BEGIN RSA PRIVATE KEY") || strings.Contains(string(data), "old: credentials") {
		t.Errorf("credentials file does not hold the new app's credentials:\n%s", data)
	}
	if apps[0].Org != "acme" || apps[0].Manifest["redirect_url"] == nil {
		t.Errorf("app %+v", apps[0])
	}
	if len(conversions(f)) != 1 {
		t.Errorf("conversions asked for: %d, want 1", len(conversions(f)))
	}
	if d := testenv.SharedDir(); d != "" {
		v, err := apivalidate.Load(context.Background(), filepath.Join(d, "fixtures", "openapi", "api.github.com.2022-07.json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range v.ValidateAll(context.Background(), conversions(f)) {
			t.Errorf("API description: %s", p)
		}
	}
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 10 * time.Second}

// TestRegisterStateAndOneExchange walks the manifest flow by hand: a callback without
// the state (or with another) is refused with 400 and nothing is exchanged; the real
// one is exchanged once; a replay is refused.
func TestRegisterStateAndOneExchange(t *testing.T) {
	f := fakegithub.New()
	defer f.Close()
	page, out, code := registerRun(t, f)
	resp, err := noRedirect.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	action := html.UnescapeString(regexp.MustCompile(`action="([^"]+)"`).FindStringSubmatch(string(body))[1])
	manifest := html.UnescapeString(regexp.MustCompile(`name="manifest" value="([^"]*)"`).FindStringSubmatch(string(body))[1])
	au, _ := url.Parse(action)
	if len(au.Query().Get("state")) < 32 {
		t.Fatalf("the form's action %q carries no state", action)
	}
	resp, err = noRedirect.PostForm(action, url.Values{"manifest": {manifest}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Query().Get("code") == "" {
		t.Fatalf("fake GitHub answered %s, Location %q", resp.Status, loc)
	}
	cb := func(q url.Values) int {
		u := *loc
		u.RawQuery = q.Encode()
		r, err := noRedirect.Get(u.String())
		if err != nil {
			return 0 // register has finished and closed its listener
		}
		r.Body.Close()
		return r.StatusCode
	}
	// An attacker's page sends the operator's browser to /callback with its own code.
	for _, q := range []url.Values{
		{"code": {loc.Query().Get("code")}},
		{"code": {loc.Query().Get("code")}, "state": {"0000"}},
		{"code": {"attackers-code"}, "state": {strings.Repeat("a", 64)}},
	} {
		if st := cb(q); st != http.StatusBadRequest {
			t.Errorf("callback %v: %d, want 400", q, st)
		}
	}
	if n := len(conversions(f)); n != 0 {
		t.Fatalf("%d conversions asked for before a callback with the state", n)
	}
	if st := cb(loc.Query()); st != http.StatusOK {
		t.Fatalf("the real callback: %d", st)
	}
	if st := cb(loc.Query()); st != http.StatusConflict && st != 0 {
		t.Errorf("a replayed callback: %d, want 409 (or register gone)", st)
	}
	if c := <-code; c != 0 {
		t.Fatalf("register exited %d", c)
	}
	checkCredentials(t, f, out)
}

// chromium finds Debian's chromium (CI installs it); the test skips when it is absent.
func chromium(t *testing.T) string {
	t.Helper()
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	if os.Getenv("ESCAPEGATE_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("chromium is not installed and ESCAPEGATE_REQUIRE_CHROMIUM=1")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium)")
	return ""
}

// TestRegisterInHeadlessChromium clicks the page through in a real browser: the page's
// form posts the manifest to the (fake) GitHub, which redirects back to /callback with
// the code and the state; the credentials land in a 0600 file.
func TestRegisterInHeadlessChromium(t *testing.T) {
	bin := chromium(t)
	f := fakegithub.New()
	defer f.Close()
	page, out, code := registerRun(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
		"--no-default-browser-check", "--user-data-dir="+t.TempDir(), "--virtual-time-budget=10000", "--dump-dom", page)
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, dom)
	}
	if !strings.Contains(string(dom), "Credentials saved to") {
		t.Errorf("the browser ended on:\n%s", dom)
	}
	select {
	case c := <-code:
		if c != 0 {
			t.Fatalf("register exited %d", c)
		}
	case <-ctx.Done():
		t.Fatal("register did not finish")
	}
	checkCredentials(t, f, out)
}
