package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/store/memstore"
)

// recording is a handler that logs through its context and fails while told to.
type recording struct {
	mu    sync.Mutex
	calls int
	fail  error
}

func (r *recording) Handles() []string { return []string{"pull_request"} }

func (r *recording) Handle(ctx context.Context, _, _ string, _ []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	zerolog.Ctx(ctx).Info().Msg("handled")
	return r.fail
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestPerDeliveryLogsWhatTheDeliveryIsAbout(t *testing.T) {
	payload := []byte(`{"action":"opened","installation":{"id":9},"repository":{"full_name":"acme/app"},"pull_request":{"number":7}}`)
	var logs lockedBuffer
	inner := &recording{}
	h := perDelivery{inner: inner, d: Deps{Store: memstore.New(), Log: zerolog.New(&logs)}}
	if err := h.Handle(context.Background(), "pull_request", "d-1", payload); err != nil {
		t.Fatal(err)
	}
	inner.fail = errors.New("GitHub answered 502")
	if err := h.Handle(context.Background(), "pull_request", "d-1", payload); err == nil || inner.calls != 2 {
		t.Fatalf("the handler's error is returned as is: %v (calls %d)", err, inner.calls)
	}
	first := strings.SplitN(logs.String(), "\n", 2)[0]
	var line map[string]any
	if err := json.Unmarshal([]byte(first), &line); err != nil {
		t.Fatalf("log line %q: %v", first, err)
	}
	for k, want := range map[string]any{"delivery": "d-1", "event": "pull_request", "action": "opened", "installation": 9.0, "repo": "acme/app", "pr": 7.0, "message": "handled"} {
		if line[k] != want {
			t.Errorf("log line %s = %v, want %v (%s)", k, line[k], want, first)
		}
	}
}

func TestOrderKey(t *testing.T) {
	cases := []struct {
		event, payload, want string
	}{
		{"pull_request", `{"number":7,"repository":{"full_name":"Acme/App"}}`, "acme/app#7"},
		{"pull_request", `{"repository":{"full_name":"acme/app"}}`, ""},
		{"pull_request", `not json`, ""},
		{"push", `{"number":7,"repository":{"full_name":"acme/app"}}`, ""},
	}
	for _, tc := range cases {
		if got := OrderKey(tc.event, []byte(tc.payload)); got != tc.want {
			t.Errorf("OrderKey(%s, %s) = %q, want %q", tc.event, tc.payload, got, tc.want)
		}
	}
}

// TestIntake: one decode checks a delivery before it is stored and gives its order key.
func TestIntake(t *testing.T) {
	cases := []struct {
		event, payload, key string
		ok                  bool
	}{
		{"pull_request", `{"number":7,"repository":{"full_name":"Acme/App"},"installation":{"id":3}}`, "acme/app#7", true},
		{"push", `{"repository":{"full_name":"acme/app"},"installation":{"id":3}}`, "", true},
		{"pull_request", `{"number":7,"repository":{"full_name":"acme/app"}}`, "", false},
		{"pull_request", `{"number":7,"installation":{"id":0}}`, "", false},
		{"pull_request", `not json`, "", false},
	}
	for _, tc := range cases {
		key, err := Intake(tc.event, []byte(tc.payload))
		if key != tc.key || (err == nil) != tc.ok {
			t.Errorf("Intake(%s, %s) = %q, %v; want %q, ok %v", tc.event, tc.payload, key, err, tc.key, tc.ok)
		}
	}
}

// TestAllWrapsEveryHandler: every handler All returns is de-duplicated, so no event
// family can be added without it.
func TestAllWrapsEveryHandler(t *testing.T) {
	for _, h := range All(Deps{}) {
		if _, ok := h.(perDelivery); !ok {
			t.Errorf("%T (%v) is not wrapped", h, h.Handles())
		}
	}
}
