package gh_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/internal/fakegithub"
)

// bearer authenticates as the app with a placeholder JWT (the fake takes any without a key).
type bearer struct{}

func (bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer app-jwt")
	return http.DefaultTransport.RoundTrip(r)
}

// appSetup returns an App on the fake: app requests with a JWT, installation requests
// with an installation token asked of the fake, as go-githubapp does.
func appSetup(t *testing.T) (*fakegithub.Server, gh.App) {
	t.Helper()
	f := fakegithub.New()
	t.Cleanup(f.Close)
	app, err := github.NewClient(&http.Client{Transport: bearer{}}).WithEnterpriseURLs(f.URL(), f.URL())
	if err != nil {
		t.Fatal(err)
	}
	inst := func(id int64) (*github.Client, error) {
		tok, _, err := app.Apps.CreateInstallationToken(context.Background(), id, nil)
		if err != nil {
			return nil, err
		}
		return github.NewClient(nil).WithAuthToken(tok.GetToken()).WithEnterpriseURLs(f.URL(), f.URL())
	}
	t.Cleanup(func() { validateTranscript(t, f) })
	return f, gh.NewApp(app, inst, gh.WithSleep(func(context.Context, time.Duration) error { return nil }))
}

func TestListHookDeliveriesPages(t *testing.T) {
	f, app := appSetup(t)
	at := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	for i := range 250 {
		code := 202
		if i%50 == 7 {
			code = 0
		}
		f.AddHookDelivery(fakegithub.HookDelivery{GUID: fmt.Sprintf("g-%03d", i), DeliveredAt: at.Add(time.Duration(i) * time.Second),
			StatusCode: code, Event: "pull_request", Redelivery: i == 249,
			Payload: []byte(`{"action":"opened","installation":{"id":9},"repository":{"id":42}}`)})
	}
	ctx := context.Background()
	var all []gh.HookDelivery
	var sizes []int
	cursor := ""
	for {
		ds, next, err := app.ListHookDeliveries(ctx, cursor, 100)
		if err != nil {
			t.Fatal(err)
		}
		all, sizes = append(all, ds...), append(sizes, len(ds))
		if next == "" {
			break
		}
		cursor = next
	}
	if fmt.Sprint(sizes) != "[100 100 50]" || len(all) != 250 {
		t.Fatalf("pages = %v", sizes)
	}
	first := all[0]
	want := gh.HookDelivery{ID: first.ID, GUID: "g-249", DeliveredAt: at.Add(249 * time.Second), Redelivery: true, StatusCode: 202,
		Status: "OK", Event: "pull_request", Action: "opened", InstallationID: 9, RepositoryID: 42}
	if first != want || !first.OK() {
		t.Errorf("newest = %+v\nwant %+v", first, want)
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID >= all[i-1].ID {
			t.Fatalf("not newest first at %d: %d after %d", i, all[i].ID, all[i-1].ID)
		}
	}
	if d := all[249-57]; d.GUID != "g-057" || d.StatusCode != 0 || d.OK() || d.Status != "failed to connect to host" {
		t.Errorf("failed entry = %+v", d)
	}
}

func TestRedeliver(t *testing.T) {
	f, app := appSetup(t)
	var got atomic.Value
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		got.Store(r.Header.Get("X-GitHub-Delivery"))
		w.WriteHeader(http.StatusAccepted)
	}))
	defer hook.Close()
	f.SetHook(hook.URL, []byte("s"))
	id := f.AddHookDelivery(fakegithub.HookDelivery{GUID: "g-1", StatusCode: 502, Event: "push", Payload: []byte(`{}`)})
	ctx := context.Background()
	if err := app.Redeliver(ctx, id); err != nil {
		t.Fatalf("Redeliver (GitHub answers 202): %v", err)
	}
	f.WaitWebhooks()
	if got.Load() != "g-1" {
		t.Errorf("hook got delivery %v, want g-1", got.Load())
	}
	if log := f.HookDeliveries(); len(log) != 2 || !log[0].Redelivery || log[0].GUID != "g-1" || log[0].StatusCode != 202 {
		t.Errorf("log = %+v", log)
	}
	if err := app.Redeliver(ctx, 99999); !errors.Is(err, gh.ErrNotFound) {
		t.Errorf("Redeliver of an unknown id: %v, want ErrNotFound", err)
	}
	f.InjectFault(fakegithub.Fault{Path: "/app/hook/deliveries", Kind: fakegithub.ServerError, Times: 5})
	if err := app.Redeliver(ctx, id); err == nil {
		t.Error("Redeliver through server errors: no error")
	}
}

func TestListInstallationsAndRepositories(t *testing.T) {
	f, app := appSetup(t)
	for i := range 130 {
		f.AddInstallation(int64(1000+i), fmt.Sprintf("org%03d/app", i))
	}
	f.SetInstallationAccount(1001, "octo", "User")
	f.SuspendInstallation(1002, true)
	var repos []string
	for i := range 120 {
		repos = append(repos, fmt.Sprintf("org000/r%03d", i))
	}
	f.AddInstallation(1000, repos...)
	ctx := context.Background()
	is, err := app.ListInstallations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(is) != 130 || is[0].ID != 1000 || is[0].Account != "org000" || is[0].AccountType != "Organization" || is[0].CreatedAt.IsZero() {
		t.Fatalf("installations = %d, first %+v", len(is), is[0])
	}
	if is[1].Account != "octo" || is[1].AccountType != "User" || is[1].Suspended || !is[2].Suspended {
		t.Errorf("installations 1, 2 = %+v %+v", is[1], is[2])
	}
	rs, err := app.ListInstallationRepositories(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 121 || rs[0].FullName != "org000/app" || rs[0].DefaultBranch != "main" || rs[0].ID == 0 {
		t.Errorf("repositories = %d, first %+v", len(rs), rs[0])
	}
	if _, err := app.ListInstallationRepositories(ctx, 1002); err == nil {
		t.Error("repositories of a suspended installation: no error")
	}
}

// TestRedeliverRateLimited: a rate limit longer than the client waits out reaches the
// caller as one (IsRateLimit), so that the sweep stops rather than spend more.
func TestRedeliverRateLimited(t *testing.T) {
	f, app := appSetup(t)
	id := f.AddHookDelivery(fakegithub.HookDelivery{GUID: "g-1", StatusCode: 502, Event: "push", Payload: []byte(`{}`)})
	for _, kind := range []fakegithub.FaultKind{fakegithub.PrimaryRateLimit, fakegithub.SecondaryRateLimit} {
		f.InjectFault(fakegithub.Fault{Path: "/app/hook/deliveries", Kind: kind, Wait: time.Hour})
		err := app.Redeliver(context.Background(), id)
		if err == nil || !gh.IsRateLimit(err) {
			t.Errorf("fault %v: %v, want a rate limit", kind, err)
		}
	}
	if gh.IsRateLimit(errors.New("boom")) || gh.IsRateLimit(nil) {
		t.Error("IsRateLimit of other errors")
	}
}
