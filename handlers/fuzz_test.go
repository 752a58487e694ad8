package handlers_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/app/gate"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/handlers"
	"github.com/escapegate/escapegate/internal/fakegithub/events"
	"github.com/escapegate/escapegate/store/memstore"
)

// FuzzWebhook feeds arbitrary payloads to every handler family through the same
// perDelivery wrapper and decode functions serve uses, and to OrderKey: a payload GitHub
// could never send is refused with an error or ignored, never a panic. The gate behind
// them has no GitHub (every client call fails), so what is fuzzed is the decoding.
func FuzzWebhook(f *testing.F) {
	repo := events.Repo{ID: 42, FullName: "acme/app", DefaultBranch: "main"}
	pr := events.PR{Number: 7, Title: "t", Author: "alice", HeadSHA: strings.Repeat("a", 40), HeadRef: "f", BaseSHA: strings.Repeat("b", 40), BaseRef: "main"}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	seeds := map[string][]byte{
		"pull_request":      events.PullRequest(9, repo, "opened", pr, "alice"),
		"check_run":         events.CheckRunRerequested(9, repo, pr, 5, "alice"),
		"push":              events.Push(9, repo, "main", strings.Repeat("1", 40), strings.Repeat("2", 40), []string{"a.go"}, "carol"),
		"installation":      events.InstallationCreated(9, "acme", []events.Repo{repo}, "admin"),
		"release":           events.ReleasePublished(9, repo, "v1", at, "bot"),
		"deployment_status": events.DeploymentStatus(9, repo, "production", "success", strings.Repeat("c", 40), at, "bot"),
	}
	kinds := []string{"pull_request", "check_run", "check_suite", "push", "installation", "installation_repositories", "release", "deployment_status"}
	for i, k := range kinds {
		if p, ok := seeds[k]; ok {
			f.Add(uint8(i), p)
		}
	}
	f.Add(uint8(0), events.Labeled(9, repo, "labeled", pr, "escapegate/accept-risk", "sec-lead"))
	f.Add(uint8(0), []byte(`{"action":"closed","number":1,"pull_request":{"merged":true,"head":{},"base":{}},"repository":{"full_name":"a/b"}}`))
	f.Add(uint8(3), []byte(`{"ref":"refs/heads/main","forced":true,"commits":null}`))

	g, err := gate.New(gate.Options{Store: memstore.New(), FingerprintKey: []byte("fuzz"), Logger: zerolog.Nop(),
		Clients: func(int64) (gh.Client, error) { return nil, errors.New("no GitHub in this fuzz target") }})
	if err != nil {
		f.Fatal(err)
	}
	hs := handlers.All(handlers.Deps{Gate: g, Store: memstore.New(), Log: zerolog.Nop(), InstallPace: time.Nanosecond})
	byEvent := map[string]interface {
		Handle(context.Context, string, string, []byte) error
	}{}
	for _, h := range hs {
		for _, ev := range h.Handles() {
			byEvent[ev] = h
		}
	}
	f.Fuzz(func(t *testing.T, kind uint8, payload []byte) {
		ev := kinds[int(kind)%len(kinds)]
		_ = handlers.OrderKey(ev, payload)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		defer cancel()
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = byEvent[ev].Handle(ctx, ev, "fuzz-delivery", payload)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			buf := make([]byte, 1<<20)
			t.Fatalf("%s handler did not return within 5s of a 5ms deadline:\n%s", ev, buf[:runtime.Stack(buf, true)])
		}
	})
}
