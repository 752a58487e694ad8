package fakegithub_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"

	"github.com/escapegate/escapegate/internal/fakegithub"
)

func do(t *testing.T, f *fakegithub.Server, method, path, auth, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, strings.TrimSuffix(f.URL(), "/")+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := f.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, resp.Header, m
}

func TestCheckRunValidation(t *testing.T) {
	f := fakegithub.New()
	defer f.Close()
	f.AddRepo("o/r", "")
	ann := func(n int) string {
		a := make([]string, n)
		for i := range a {
			a[i] = `{"path":"a","start_line":1,"end_line":1,"annotation_level":"failure","message":"m"}`
		}
		return strings.Join(a, ",")
	}
	tests := []struct {
		name, body string
		want       int
		field      string
	}{
		{"ok", `{"name":"n","head_sha":"a","output":{"title":"t","summary":"s","annotations":[` + ann(50) + `]}}`, 201, ""},
		{"51 annotations", `{"name":"n","head_sha":"a","output":{"title":"t","summary":"s","annotations":[` + ann(51) + `]}}`, 422, "output.annotations"},
		{"summary too long", `{"name":"n","head_sha":"a","output":{"title":"t","summary":"` + strings.Repeat("é", 65536) + `"}}`, 422, "output.summary"},
		{"summary at the limit", `{"name":"n","head_sha":"a","output":{"title":"t","summary":"` + strings.Repeat("é", 65535) + `"}}`, 201, ""},
		{"no head_sha", `{"name":"n"}`, 422, "head_sha"},
		{"bad conclusion", `{"name":"n","head_sha":"a","conclusion":"passed"}`, 422, "conclusion"},
		{"completed without conclusion", `{"name":"n","head_sha":"a","status":"completed"}`, 422, "conclusion"},
		{"not JSON", `{`, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, m := do(t, f, "POST", "/repos/o/r/check-runs", "", tt.body)
			if code != tt.want {
				t.Fatalf("status %d, want %d (%v)", code, tt.want, m["message"])
			}
			if tt.field != "" && !strings.Contains(fmt.Sprint(m["errors"]), tt.field) {
				t.Errorf("errors %v do not name %s", m["errors"], tt.field)
			}
		})
	}
}

func TestNotFoundShape(t *testing.T) {
	f := fakegithub.New()
	defer f.Close()
	for _, p := range []string{"/repos/o/missing", "/nothing/here", "/orgs/o/teams/t/memberships/u"} {
		code, h, m := do(t, f, "GET", p, "", "")
		if code != 404 || m["message"] != "Not Found" || m["documentation_url"] == nil || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Errorf("GET %s = %d %v", p, code, m)
		}
	}
}

func TestAppAuthentication(t *testing.T) {
	f := fakegithub.New()
	defer f.Close()
	f.AddInstallation(7, "o/r", "o/s")
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f.SetAppKey(&key.PublicKey)
	sign := func(iss string, k *rsa.PrivateKey) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{Issuer: iss, ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Minute))}).SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + s
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	if code, _, _ := do(t, f, "POST", "/app/installations/7/access_tokens", sign("1", other), ""); code != 401 {
		t.Errorf("JWT of another key: %d, want 401", code)
	}
	if code, _, _ := do(t, f, "POST", "/app/installations/7/access_tokens", "", ""); code != 401 {
		t.Errorf("no JWT: %d, want 401", code)
	}
	if code, _, _ := do(t, f, "POST", "/app/installations/8/access_tokens", sign("1", key), ""); code != 404 {
		t.Errorf("unknown installation: %d, want 404", code)
	}
	code, _, m := do(t, f, "POST", "/app/installations/7/access_tokens", sign("1", key), "")
	tok, _ := m["token"].(string)
	if code != 201 || tok == "" || m["expires_at"] == nil {
		t.Fatalf("token: %d %v", code, m)
	}
	if code, _, m := do(t, f, "GET", "/app", sign("1", key), ""); code != 200 || m["slug"] != "escapegate" {
		t.Errorf("GET /app = %d %v", code, m)
	}
	code, _, m = do(t, f, "GET", "/api/v3/installation/repositories", "token "+tok, "")
	if code != 200 || m["total_count"] != float64(2) {
		t.Errorf("installation repositories = %d %v", code, m)
	}
	if code, _, _ := do(t, f, "GET", "/installation/repositories", "token nope", ""); code != 401 {
		t.Errorf("bad token: %d, want 401", code)
	}
}

func TestTranscript(t *testing.T) {
	f := fakegithub.New()
	defer f.Close()
	f.AddRepo("o/r", "")
	do(t, f, "POST", "/repos/o/r/check-runs", "", `{"name": "n",  "head_sha": "a"}`)
	do(t, f, "DELETE", "/repos/o/r/issues/1/labels/a%2Fb?x=1", "", "")
	do(t, f, "POST", "/repos/o/r/issues", "", "not json")
	var buf bytes.Buffer
	if err := f.WriteTranscript(&buf); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"method":"POST","path":"/repos/o/r/check-runs","body":{"name":"n","head_sha":"a"}}`,
		`{"method":"DELETE","path":"/repos/o/r/issues/1/labels/a%2Fb?x=1","body":null}`,
		`{"method":"POST","path":"/repos/o/r/issues","body":"not json"}`,
	}
	sc := bufio.NewScanner(&buf)
	for i := 0; sc.Scan(); i++ {
		if i >= len(want) || sc.Text() != want[i] {
			t.Errorf("line %d = %s", i, sc.Text())
		}
	}
}

func TestSignAndWebhookRequest(t *testing.T) {
	body := []byte(`{"action":"opened"}`)
	m := hmac.New(sha256.New, []byte("s3cret"))
	m.Write(body)
	want := "sha256=" + hex.EncodeToString(m.Sum(nil))
	if got := fakegithub.Sign([]byte("s3cret"), body); got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
	req, err := fakegithub.NewWebhookRequest(context.Background(), "http://x/", []byte("s3cret"), "pull_request", "d-1", body)
	if err != nil {
		t.Fatal(err)
	}
	if req.URL.String() != "http://x/api/github/hook" || req.Header.Get("X-Hub-Signature-256") != want ||
		req.Header.Get("X-GitHub-Event") != "pull_request" || req.Header.Get("X-GitHub-Delivery") != "d-1" ||
		!strings.HasPrefix(req.Header.Get("User-Agent"), "GitHub-Hookshot/") || req.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request = %s %v", req.URL, req.Header)
	}
}

// TestOddInputs sends malformed paths and bodies: the fake answers each, never panics.
func TestOddInputs(t *testing.T) {
	f := fakegithub.New()
	defer f.Close()
	f.AddPull("o/r", fakegithub.Pull{Title: "t"})
	paths := []string{"/", "/repos", "/repos/o", "/repos/o/r/pulls/x/files", "/repos/o/r/pulls/1/files?page=-3&per_page=0",
		"/repos/o/r/pulls/1/files?page=99999999999999999999", "/repos/o/r/contents/",
		"/repos/o/r/check-runs/x", "/search/issues?q=%22", "/search/issues?q=repo:o/r+%22t", "/app/installations/x/access_tokens",
		"/app/installations?page=-1&per_page=x", "/app/hook/deliveries?cursor=v1_x&per_page=-1", "/app/hook/deliveries/x/attempts", "/app/hook/deliveries/1/attempts"}
	bodies := []string{"", "null", "[]", `{"name":1}`, `{"output":{"annotations":[{}]}}`, `{"title":null}`, `{"body":5}`}
	var wg sync.WaitGroup
	for _, p := range paths {
		for _, m := range []string{"GET", "POST", "PATCH", "DELETE"} {
			for _, b := range bodies {
				wg.Add(1)
				go func() {
					defer wg.Done()
					code, _, _ := do(t, f, m, p, "Bearer x", b)
					if code >= 500 {
						t.Errorf("%s %s %s: %d", m, p, b, code)
					}
				}()
			}
		}
	}
	wg.Wait()
}

func TestListCheckRunsForRef(t *testing.T) {
	f := fakegithub.New()
	defer f.Close()
	f.AddRepo("o/r", "")
	var created []float64
	for _, b := range []string{
		`{"name":"escapegate","head_sha":"a","external_id":"o/r#1","status":"in_progress"}`,
		`{"name":"escapegate","head_sha":"a","external_id":"o/r#1","conclusion":"failure"}`,
		`{"name":"other","head_sha":"a","conclusion":"success"}`,
		`{"name":"escapegate","head_sha":"b","conclusion":"success"}`,
	} {
		code, _, m := do(t, f, "POST", "/repos/o/r/check-runs", "", b)
		if code != 201 {
			t.Fatalf("create: %d %v", code, m)
		}
		created = append(created, m["id"].(float64))
	}
	// ids lists the runs answered as 1, 2, 3 for the first three created.
	ids := func(m map[string]any) []int {
		out := []int{}
		for _, r := range m["check_runs"].([]any) {
			id := r.(map[string]any)["id"].(float64)
			for i, c := range created {
				if c == id {
					out = append(out, i+1)
				}
			}
		}
		return out
	}
	for _, tt := range []struct {
		query string
		want  string
	}{
		{"", "[3 2]"}, // latest by default: the newest run of each name
		{"?check_name=escapegate", "[2]"},
		{"?check_name=escapegate&filter=all", "[2 1]"},
		{"?check_name=escapegate&filter=all&status=in_progress", "[1]"},
		{"?check_name=escapegate&filter=all&per_page=1&page=2", "[1]"},
		{"?app_id=1&check_name=escapegate", "[2]"},
		{"?app_id=2", "[]"},
	} {
		code, _, m := do(t, f, "GET", "/repos/o/r/commits/a/check-runs"+tt.query, "", "")
		if code != 200 || fmt.Sprint(ids(m)) != tt.want {
			t.Errorf("GET check-runs%s = %d %v, want ids %s", tt.query, code, ids(m), tt.want)
		}
	}
	if code, _, _ := do(t, f, "GET", "/repos/o/r/commits/a/check-runs?filter=newest", "", ""); code != 422 {
		t.Errorf("bad filter: %d, want 422", code)
	}
}

func TestFaultKinds(t *testing.T) {
	f := fakegithub.New()
	defer f.Close()
	f.AddRepo("o/r", "")
	for _, tt := range []struct {
		kind   fakegithub.FaultKind
		status int
		header string
	}{
		{fakegithub.ServerError, 500, ""},
		{fakegithub.BadGateway, 502, ""},
		{fakegithub.SecondaryRateLimit, 429, "2"},
		{fakegithub.SecondaryRateLimitForbidden, 403, "2"},
	} {
		f.InjectFault(fakegithub.Fault{Path: "/repos/o/r", Kind: tt.kind, Wait: 2 * time.Second})
		code, h, m := do(t, f, "GET", "/repos/o/r", "", "")
		if code != tt.status || h.Get("Retry-After") != tt.header {
			t.Errorf("fault %d: %d retry-after %q %v", tt.kind, code, h.Get("Retry-After"), m)
		}
		if tt.status == 403 && !strings.Contains(fmt.Sprint(m["message"]), "secondary rate limit") {
			t.Errorf("403 secondary limit says %v", m["message"])
		}
	}
	// Disconnect closes the connection without an answer.
	f.InjectFault(fakegithub.Fault{Method: "GET", Kind: fakegithub.Disconnect})
	req, _ := http.NewRequest("GET", f.URL()+"repos/o/r", nil)
	if resp, err := new(http.Transport).RoundTrip(req); err == nil { // a new connection: not retried by net/http
		resp.Body.Close()
		t.Errorf("Disconnect answered %d", resp.StatusCode)
	}
	// Apply carries the request out, then fails it.
	f.InjectFault(fakegithub.Fault{Method: "POST", Path: "/repos/o/r/check-runs", Kind: fakegithub.BadGateway, Apply: true})
	if code, _, _ := do(t, f, "POST", "/repos/o/r/check-runs", "", `{"name":"n","head_sha":"a"}`); code != 502 {
		t.Errorf("applied fault answered %d", code)
	}
	if n := len(f.CheckRuns("o/r")); n != 1 {
		t.Errorf("%d check runs after an applied fault, want 1", n)
	}
	// ClearFaults forgets the rest.
	f.InjectFault(fakegithub.Fault{Kind: fakegithub.ServerError, Times: 5})
	if n := f.PendingFaults(); n != 5 {
		t.Errorf("PendingFaults = %d, want 5", n)
	}
	f.ClearFaults()
	if code, _, _ := do(t, f, "GET", "/repos/o/r", "", ""); code != 200 {
		t.Errorf("after ClearFaults: %d", code)
	}
}

// TestETagsOnEveryGET: as GitHub does, every GET answer carries an ETag and a request
// with If-None-Match of it is answered 304 without a body, until the resource changes;
// requests are counted by endpoint.
func TestETagsOnEveryGET(t *testing.T) {
	f := fakegithub.New()
	defer f.Close()
	f.AddRepo("acme/app", "main")
	f.AddPull("acme/app", fakegithub.Pull{Number: 7, Author: "a", HeadSHA: strings.Repeat("1", 40), BaseSHA: strings.Repeat("0", 40),
		Files: []fakegithub.PullFile{{Filename: "a.go", Status: "added", Additions: 1, Patch: "@@ -0,0 +1 @@\n+x"}}})
	get := func(path, inm string) (int, string, int) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, strings.TrimSuffix(f.URL(), "/")+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if inm != "" {
			req.Header.Set("If-None-Match", inm)
		}
		resp, err := f.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("ETag"), len(b)
	}
	for _, path := range []string{"/repos/acme/app/pulls/7/files", "/repos/acme/app/pulls/7"} {
		status, etag, n := get(path, "")
		if status != http.StatusOK || etag == "" || n == 0 {
			t.Fatalf("GET %s: %d, ETag %q, %d bytes", path, status, etag, n)
		}
		if status, _, n := get(path, etag); status != http.StatusNotModified || n != 0 {
			t.Errorf("GET %s with If-None-Match %s: %d with %d bytes, want 304 without a body", path, etag, status, n)
		}
		if status, _, _ := get(path, `W/"other"`); status != http.StatusOK {
			t.Errorf("GET %s with another ETag: %d, want 200", path, status)
		}
	}
	_, before, _ := get("/repos/acme/app/pulls/7/files", "")
	f.AddPull("acme/app", fakegithub.Pull{Number: 7, Author: "a", HeadSHA: strings.Repeat("2", 40), BaseSHA: strings.Repeat("0", 40),
		Files: []fakegithub.PullFile{{Filename: "b.go", Status: "added", Additions: 1, Patch: "@@ -0,0 +1 @@\n+y"}}})
	if status, _, _ := get("/repos/acme/app/pulls/7/files", before); status != http.StatusOK {
		t.Errorf("changed files with the old ETag: %d, want 200", status)
	}
	calls := f.CallsByEndpoint()
	if calls["GET /repos/acme/app/pulls/{n}/files"] != 5 || calls["GET /repos/acme/app/pulls/{n}"] != 3 {
		t.Errorf("calls by endpoint %v", calls)
	}
}
