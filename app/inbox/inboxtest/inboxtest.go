// Package inboxtest is the conformance suite of durable inboxes: the single-node one
// (app/inbox on bolt or memstore) and the replicas' one (app/inbox/riverinbox on
// PostgreSQL) must give the same guarantees.
package inboxtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/config"
	"github.com/escapegate/escapegate/app/delivery"
	"github.com/escapegate/escapegate/app/inbox"
	"github.com/escapegate/escapegate/store"
)

// Inbox is what the suite drives.
type Inbox interface {
	Start(ctx context.Context) error
	Accept(ctx context.Context, d store.Delivery) (bool, error)
	Wait(ctx context.Context) error
	Shutdown(ctx context.Context) error
	List(ctx context.Context, state string, n int) ([]store.Delivery, error)
	Count(ctx context.Context) (map[string]int, error)
	Requeue(ctx context.Context, id string) error
	Drop(ctx context.Context, id string) error
}

// New builds a fresh inbox on a fresh store with the given handler and retry settings.
type New func(t *testing.T, handle inbox.Handler, retry config.Retry) Inbox

// Retry is the suite's retry block: few attempts, millisecond waits.
var Retry = config.Retry{MaxAttempts: 3, MaxAge: time.Hour, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, StuckAfter: time.Minute}

// Run runs the suite.
func Run(t *testing.T, newInbox New) {
	for _, c := range []struct {
		name string
		fn   func(t *testing.T, newInbox New)
	}{
		{"HandledOnce", testHandledOnce},
		{"RetriedThenHandled", testRetried},
		{"DeadLetterListedAndRequeued", testDeadLetter},
		{"OnePullRequestInOrder", testOrder},
		{"Drop", testDrop},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, newInbox) })
	}
}

// recorder fails a delivery's first attempts and records every attempt.
type recorder struct {
	mu       sync.Mutex
	failures map[string]int // id → attempts that fail; -1 always
	attempts []string
	handled  map[string]int
	running  map[string]int
	overlap  bool
}

func newRecorder() *recorder {
	return &recorder{failures: map[string]int{}, handled: map[string]int{}, running: map[string]int{}}
}

func (r *recorder) handle(ctx context.Context, d store.Delivery) error {
	n := delivery.Attempt(ctx)
	r.mu.Lock()
	r.attempts = append(r.attempts, fmt.Sprintf("%s#%d", d.ID, n))
	if d.Key != "" {
		r.running[d.Key]++
		if r.running[d.Key] > 1 {
			r.overlap = true
		}
	}
	fail := r.failures[d.ID]
	r.mu.Unlock()
	time.Sleep(2 * time.Millisecond)
	r.mu.Lock()
	defer r.mu.Unlock()
	if d.Key != "" {
		r.running[d.Key]--
	}
	if fail < 0 || n <= fail {
		return fmt.Errorf("GitHub answered 502 (attempt %d)", n)
	}
	r.handled[d.ID]++
	return nil
}

func (r *recorder) snapshot() ([]string, map[string]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := map[string]int{}
	for k, v := range r.handled {
		h[k] = v
	}
	return slices.Clone(r.attempts), h
}

func start(t *testing.T, newInbox New, r *recorder) Inbox {
	t.Helper()
	b := newInbox(t, r.handle, Retry)
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = b.Shutdown(ctx)
	})
	return b
}

func accept(t *testing.T, b Inbox, id, key string) bool {
	t.Helper()
	added, err := b.Accept(context.Background(), store.Delivery{ID: id, Event: "pull_request", Key: key, Payload: []byte(`{"id":"` + id + `"}`)})
	if err != nil {
		t.Fatalf("accept %s: %v", id, err)
	}
	return added
}

func drain(t *testing.T, b Inbox) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.Wait(ctx); err != nil {
		t.Fatalf("the inbox did not drain: %v", err)
	}
}

func testHandledOnce(t *testing.T, newInbox New) {
	r := newRecorder()
	b := start(t, newInbox, r)
	if !accept(t, b, "d-1", "") {
		t.Fatal("a new delivery was not added")
	}
	if accept(t, b, "d-1", "") {
		t.Fatal("the same delivery id was added twice")
	}
	drain(t, b)
	if accept(t, b, "d-1", "") {
		t.Fatal("a handled delivery came back")
	}
	drain(t, b)
	if _, h := r.snapshot(); h["d-1"] != 1 {
		t.Fatalf("handled %d times, want once", h["d-1"])
	}
	if n, err := b.Count(context.Background()); err != nil || n[store.DeliveryPending] != 0 || n[store.DeliveryDead] != 0 {
		t.Fatalf("counts %v, %v", n, err)
	}
}

func testRetried(t *testing.T, newInbox New) {
	r := newRecorder()
	r.failures["d-1"] = 2
	b := start(t, newInbox, r)
	accept(t, b, "d-1", "")
	drain(t, b)
	attempts, h := r.snapshot()
	if h["d-1"] != 1 || !slices.Equal(attempts, []string{"d-1#1", "d-1#2", "d-1#3"}) {
		t.Fatalf("attempts %v handled %v: want three attempts, numbered, the last handled", attempts, h)
	}
}

func testDeadLetter(t *testing.T, newInbox New) {
	r := newRecorder()
	r.failures["d-1"] = -1
	b := start(t, newInbox, r)
	accept(t, b, "d-1", "")
	drain(t, b)
	attempts, _ := r.snapshot()
	if len(attempts) != Retry.MaxAttempts {
		t.Fatalf("attempts %v, want %d then dead", attempts, Retry.MaxAttempts)
	}
	dead, err := b.List(context.Background(), store.DeliveryDead, 10)
	if err != nil || len(dead) != 1 || dead[0].ID != "d-1" || dead[0].Event != "pull_request" || dead[0].LastError == "" {
		t.Fatalf("dead letters %+v, %v", dead, err)
	}
	if n, _ := b.Count(context.Background()); n[store.DeliveryDead] != 1 || n[store.DeliveryPending] != 0 {
		t.Fatalf("counts %v", n)
	}
	r.mu.Lock()
	r.failures["d-1"] = 0
	r.mu.Unlock()
	if err := b.Requeue(context.Background(), "d-1"); err != nil {
		t.Fatal(err)
	}
	drain(t, b)
	if _, h := r.snapshot(); h["d-1"] != 1 {
		t.Fatalf("a requeued dead letter was handled %d times", h["d-1"])
	}
	if err := b.Requeue(context.Background(), "d-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("requeue of a handled delivery: %v, want ErrNotFound", err)
	}
}

func testOrder(t *testing.T, newInbox New) {
	r := newRecorder()
	r.failures["a-1"] = 1 // a-2 and a-3 wait for a-1's retry
	b := start(t, newInbox, r)
	for i := 1; i <= 3; i++ {
		for _, k := range []string{"a", "b"} {
			accept(t, b, fmt.Sprintf("%s-%d", k, i), "acme/app#"+k)
		}
	}
	drain(t, b)
	attempts, h := r.snapshot()
	var a []string
	for _, x := range attempts {
		if x[0] == 'a' {
			a = append(a, x)
		}
	}
	if len(a) != 4 || a[0] != "a-1#1" || a[1] != "a-1#2" || a[2] != "a-2#1" || a[3] != "a-3#1" {
		t.Fatalf("pull request a ran %v, want a-1 twice, then a-2, then a-3", a)
	}
	if r.overlap || len(h) != 6 {
		t.Fatalf("overlap %v, handled %v", r.overlap, h)
	}
}

func testDrop(t *testing.T, newInbox New) {
	r := newRecorder()
	r.failures["d-1"] = -1
	b := start(t, newInbox, r)
	accept(t, b, "d-1", "")
	drain(t, b)
	if err := b.Drop(context.Background(), "d-1"); err != nil {
		t.Fatal(err)
	}
	if n, _ := b.Count(context.Background()); n[store.DeliveryDead] != 0 {
		t.Fatalf("counts after drop %v", n)
	}
	if err := b.Drop(context.Background(), "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("dropping an unknown delivery: %v", err)
	}
	if accept(t, b, "d-1", "") {
		t.Fatal("a dropped delivery came back")
	}
}
