package fakegithub_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/escapegate/escapegate/internal/fakegithub"
)

// list GETs a path and decodes the JSON array it answers.
func list(t *testing.T, f *fakegithub.Server, path, auth string) (int, http.Header, []map[string]any) {
	t.Helper()
	req, err := http.NewRequest("GET", strings.TrimSuffix(f.URL(), "/")+path, nil)
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
	var out []map[string]any
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, resp.Header, out
}

// hookRecorder is escapegate's webhook endpoint as far as the fake can tell.
type hookRecorder struct {
	mu     sync.Mutex
	status int
	got    []*http.Request
	bodies [][]byte
}

func (h *hookRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got, h.bodies = append(h.got, r), append(h.bodies, b)
	w.WriteHeader(h.status)
}

func (h *hookRecorder) requests() ([]*http.Request, [][]byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*http.Request(nil), h.got...), append([][]byte(nil), h.bodies...)
}

func TestHookDeliveryLog(t *testing.T) {
	f := fakegithub.New()
	defer f.Close()
	at := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	var ids []int64
	for i, code := range []int{202, 0, 502, 202, 503} {
		ids = append(ids, f.AddHookDelivery(fakegithub.HookDelivery{
			GUID: "g-" + string(rune('a'+i)), DeliveredAt: at.Add(time.Duration(i) * time.Minute), StatusCode: code,
			Event: "pull_request", Payload: []byte(`{"action":"opened","installation":{"id":9},"repository":{"id":42}}`),
		}))
	}
	if code, _, _ := list(t, f, "/app/hook/deliveries", ""); code != 401 {
		t.Errorf("without the app's JWT: %d, want 401", code)
	}
	code, h, page := list(t, f, "/app/hook/deliveries?per_page=2", "Bearer x")
	if code != 200 || len(page) != 2 {
		t.Fatalf("first page: %d, %d entries", code, len(page))
	}
	if page[0]["guid"] != "g-e" || page[1]["guid"] != "g-d" {
		t.Errorf("first page is not newest first: %v", page)
	}
	e := page[0]
	if e["status_code"] != float64(503) || e["status"] != "Invalid HTTP Response: 503" || e["redelivery"] != false ||
		e["event"] != "pull_request" || e["action"] != "opened" || e["installation_id"] != float64(9) || e["repository_id"] != float64(42) ||
		e["delivered_at"] != "2026-05-04T10:04:00Z" || e["id"] != float64(ids[4]) {
		t.Errorf("entry = %v", e)
	}
	var guids []string
	for _, d := range page {
		guids = append(guids, d["guid"].(string))
	}
	// Follow the Link header's cursor to the end.
	for link := h.Get("Link"); link != ""; {
		u, _, ok := strings.Cut(strings.TrimPrefix(link, "<"), ">")
		if !ok || !strings.Contains(link, `rel="next"`) || !strings.Contains(u, "cursor=v1_") {
			t.Fatalf("Link = %q", link)
		}
		path := u[strings.Index(u, "/app/"):]
		code, h, page = list(t, f, path, "Bearer x")
		if code != 200 {
			t.Fatalf("GET %s = %d", path, code)
		}
		for _, d := range page {
			guids = append(guids, d["guid"].(string))
		}
		link = h.Get("Link")
	}
	if strings.Join(guids, ",") != "g-e,g-d,g-c,g-b,g-a" {
		t.Errorf("all pages = %v", guids)
	}
	if code, _, _ := do(t, f, "GET", "/app/hook/deliveries?cursor=zz", "Bearer x", ""); code != 422 {
		t.Errorf("bad cursor: %d, want 422", code)
	}
	if got := f.HookDeliveries(); len(got) != 5 || got[0].GUID != "g-e" || got[3].Status != "failed to connect to host" {
		t.Errorf("HookDeliveries = %+v", got)
	}
}

func TestRedeliverAndDeliver(t *testing.T) {
	f := fakegithub.New()
	defer f.Close()
	rec := &hookRecorder{status: 202}
	hook := httptest.NewServer(rec)
	defer hook.Close()
	payload := []byte(`{"action":"synchronize","installation":{"id":9},"repository":{"id":42}}`)
	id := f.AddHookDelivery(fakegithub.HookDelivery{GUID: "g-1", StatusCode: 0, Event: "pull_request", Payload: payload})

	if code, _, m := do(t, f, "POST", "/app/hook/deliveries/1234/attempts", "Bearer x", ""); code != 404 {
		t.Errorf("unknown delivery: %d %v, want 404", code, m)
	}
	if code, _, _ := do(t, f, "POST", "/app/hook/deliveries/"+itoa(id)+"/attempts", "Bearer x", ""); code != 422 {
		t.Errorf("without a webhook URL: %d, want 422", code)
	}
	f.SetHook(hook.URL, []byte("s3cret"))
	if code, _, _ := do(t, f, "POST", "/app/hook/deliveries/"+itoa(id)+"/attempts", "", ""); code != 401 {
		t.Errorf("without the app's JWT: %d, want 401", code)
	}
	if code, _, _ := do(t, f, "POST", "/app/hook/deliveries/"+itoa(id)+"/attempts", "Bearer x", ""); code != 202 {
		t.Fatalf("redeliver: %d, want 202", code)
	}
	f.WaitWebhooks()
	reqs, bodies := rec.requests()
	if len(reqs) != 1 {
		t.Fatalf("hook got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.URL.Path != fakegithub.HookPath || r.Header.Get("X-GitHub-Delivery") != "g-1" || r.Header.Get("X-GitHub-Event") != "pull_request" ||
		r.Header.Get("X-Hub-Signature-256") != fakegithub.Sign([]byte("s3cret"), payload) || string(bodies[0]) != string(payload) {
		t.Errorf("redelivery = %s %v %s", r.URL.Path, r.Header, bodies[0])
	}
	log := f.HookDeliveries()
	if len(log) != 2 || log[0].GUID != "g-1" || !log[0].Redelivery || log[0].StatusCode != 202 || log[0].Status != "OK" || log[0].ID <= id {
		t.Errorf("log after the redelivery = %+v", log)
	}

	// The webhook sender records what it sends, whatever the answer.
	rec.mu.Lock()
	rec.status = 503
	rec.mu.Unlock()
	d, err := f.Deliver(context.Background(), "push", "g-2", []byte(`{"installation":{"id":9},"repository":{"id":43}}`))
	if err != nil || d.StatusCode != 503 || d.Redelivery || d.InstallationID != 9 || d.RepositoryID != 43 || d.Action != "" {
		t.Errorf("Deliver = %+v, %v", d, err)
	}
	hook.Close()
	d, err = f.Deliver(context.Background(), "push", "g-3", []byte(`{}`))
	if err == nil || d.StatusCode != 0 || d.Status != "failed to connect to host" {
		t.Errorf("Deliver to a closed hook = %+v, %v", d, err)
	}
	if code, _, _ := do(t, f, "POST", "/app/hook/deliveries/"+itoa(d.ID)+"/attempts", "Bearer x", ""); code != 202 {
		t.Fatalf("redeliver to a closed hook: %d, want 202 (GitHub accepts, then fails to deliver)", code)
	}
	f.WaitWebhooks()
	if log := f.HookDeliveries(); len(log) != 5 || log[0].GUID != "g-3" || !log[0].Redelivery || log[0].StatusCode != 0 {
		t.Errorf("log = %+v", log)
	}
}

func TestInstallationsList(t *testing.T) {
	f := fakegithub.New()
	defer f.Close()
	f.AddInstallation(7, "acme/app", "acme/web")
	f.AddInstallation(3, "octo/dots")
	f.SetInstallationAccount(3, "octo", "User")
	f.AddInstallation(12, "beta/app")
	f.SuspendInstallation(12, true)

	if code, _, _ := list(t, f, "/app/installations", ""); code != 401 {
		t.Errorf("without the app's JWT: %d, want 401", code)
	}
	code, h, page := list(t, f, "/app/installations?per_page=2", "Bearer x")
	if code != 200 || len(page) != 2 || !strings.Contains(h.Get("Link"), `rel="next"`) {
		t.Fatalf("first page: %d %v %q", code, page, h.Get("Link"))
	}
	acct := func(m map[string]any) string {
		a, _ := m["account"].(map[string]any)
		return a["login"].(string) + "/" + a["type"].(string)
	}
	if page[0]["id"] != float64(3) || acct(page[0]) != "octo/User" || page[0]["suspended_at"] != nil ||
		page[1]["id"] != float64(7) || acct(page[1]) != "acme/Organization" {
		t.Errorf("first page = %v", page)
	}
	_, _, page = list(t, f, "/app/installations?per_page=2&page=2", "Bearer x")
	if len(page) != 1 || page[0]["id"] != float64(12) || page[0]["suspended_at"] == nil {
		t.Errorf("second page = %v", page)
	}
	if code, _, _ := do(t, f, "POST", "/app/installations/12/access_tokens", "Bearer x", ""); code != 403 {
		t.Errorf("token of a suspended installation: %d, want 403", code)
	}

	f.RemoveInstallationRepos(7, "ACME/web")
	_, _, m := do(t, f, "POST", "/app/installations/7/access_tokens", "Bearer x", "")
	_, _, repos := do(t, f, "GET", "/installation/repositories", "token "+m["token"].(string), "")
	if repos["total_count"] != float64(1) {
		t.Errorf("repositories after a removal = %v", repos)
	}
	f.RemoveInstallation(3)
	if _, _, page = list(t, f, "/app/installations", "Bearer x"); len(page) != 2 {
		t.Errorf("after an uninstall: %v", page)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
