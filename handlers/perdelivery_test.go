package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

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

func TestPerDelivery(t *testing.T) {
	ctx := context.Background()
	payload := []byte(`{"action":"opened","installation":{"id":9},"repository":{"full_name":"acme/app"},"pull_request":{"number":7}}`)
	steps := []struct {
		name      string
		delivery  string
		fail      error
		wantCalls int
		wantErr   bool
	}{
		{"a first delivery runs", "d-1", nil, 1, false},
		{"the same delivery again is ignored", "d-1", nil, 1, false},
		{"a failing delivery runs and reports its error", "d-2", errors.New("GitHub answered 502"), 2, true},
		{"its redelivery runs again", "d-2", nil, 3, false},
		{"and is then done", "d-2", nil, 3, false},
		{"no delivery id: always runs", "", nil, 4, false},
	}
	var logs lockedBuffer
	inner := &recording{}
	d := Deps{Store: memstore.New(), Log: zerolog.New(&logs), Now: func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }}
	h := perDelivery{inner: inner, d: d}
	for _, st := range steps {
		inner.fail = st.fail
		err := h.Handle(ctx, "pull_request", st.delivery, payload)
		if (err != nil) != st.wantErr || inner.calls != st.wantCalls {
			t.Fatalf("%s: err %v, calls %d; want error %v, calls %d", st.name, err, inner.calls, st.wantErr, st.wantCalls)
		}
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

// TestAllWrapsEveryHandler: every handler All returns is de-duplicated, so no event
// family can be added without it.
func TestAllWrapsEveryHandler(t *testing.T) {
	for _, h := range All(Deps{}) {
		if _, ok := h.(perDelivery); !ok {
			t.Errorf("%T (%v) is not wrapped", h, h.Handles())
		}
	}
}
