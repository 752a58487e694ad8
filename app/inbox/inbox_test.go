package inbox

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/delivery"
	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/memstore"
)

// recorder is a handler that fails each delivery a set number of times and records
// every attempt (delivery id and attempt number) and the most that ran at once per key.
type recorder struct {
	mu       sync.Mutex
	failures map[string]int // id → attempts that fail before one succeeds (-1: always)
	attempts []string
	running  map[string]int
	maxRun   map[string]int
	handled  map[string]int
	hold     time.Duration
	panicOn  string
	err      error
}

func newRecorder() *recorder {
	return &recorder{failures: map[string]int{}, running: map[string]int{}, maxRun: map[string]int{}, handled: map[string]int{}}
}

func (r *recorder) handle(ctx context.Context, d store.Delivery) error {
	n := delivery.Attempt(ctx)
	r.mu.Lock()
	r.attempts = append(r.attempts, fmt.Sprintf("%s#%d", d.ID, n))
	r.running[d.Key]++
	r.maxRun[d.Key] = max(r.maxRun[d.Key], r.running[d.Key])
	fail := r.failures[d.ID]
	r.mu.Unlock()
	time.Sleep(r.hold)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running[d.Key]--
	if d.ID == r.panicOn && n == 1 {
		panic("boom")
	}
	if fail < 0 || n <= fail {
		if r.err != nil {
			return r.err
		}
		return fmt.Errorf("GitHub answered 502 (attempt %d)", n)
	}
	r.handled[d.ID]++
	return nil
}

func newInbox(t *testing.T, st store.Inbox, r *recorder, edit func(*Options)) *Inbox {
	t.Helper()
	o := Options{Store: st, Handle: r.handle, Workers: 4, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
	if edit != nil {
		edit(&o)
	}
	b := New(o)
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Shutdown(context.Background()) })
	return b
}

func accept(t *testing.T, b *Inbox, id, key string) {
	t.Helper()
	if _, err := b.Accept(context.Background(), store.Delivery{ID: id, Event: "pull_request", Key: key, Payload: []byte(`{}`)}); err != nil {
		t.Fatalf("accept %s: %v", id, err)
	}
}

func wait(t *testing.T, b *Inbox) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Wait(ctx); err != nil {
		t.Fatalf("inbox did not drain: %v (%+v)", err, b.Stats())
	}
}

func TestRetriesUntilHandled(t *testing.T) {
	cases := []struct {
		name        string
		failures    int
		maxAttempts int
		wantAttempt []string
		wantDead    bool
	}{
		{"handled at once", 0, 10, []string{"d#1"}, false},
		{"two failures then handled", 2, 10, []string{"d#1", "d#2", "d#3"}, false},
		{"dead-lettered after its attempts", -1, 3, []string{"d#1", "d#2", "d#3"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := memstore.New()
			r := newRecorder()
			r.failures["d"] = tc.failures
			b := newInbox(t, st, r, func(o *Options) { o.MaxAttempts = tc.maxAttempts })
			accept(t, b, "d", "acme/app#1")
			wait(t, b)
			if !slices.Equal(r.attempts, tc.wantAttempt) {
				t.Fatalf("attempts %v, want %v", r.attempts, tc.wantAttempt)
			}
			dead, _ := st.ListDeliveries(context.Background(), store.DeliveryDead, 10)
			pending, _ := st.ListDeliveries(context.Background(), store.DeliveryPending, 10)
			if tc.wantDead != (len(dead) == 1) || len(pending) != 0 {
				t.Fatalf("dead %v pending %v", dead, pending)
			}
			if tc.wantDead && dead[0].Attempts != tc.maxAttempts {
				t.Fatalf("dead letter records %d attempts", dead[0].Attempts)
			}
			if added, _ := b.Accept(context.Background(), store.Delivery{ID: "d", Event: "pull_request"}); added != tc.wantDead {
				t.Fatalf("a redelivery was accepted = %v; only a dead letter comes back", added)
			}
		})
	}
}

func TestDeadLetterRequeuedByHand(t *testing.T) {
	st := memstore.New()
	r := newRecorder()
	r.failures["d"] = 2
	b := newInbox(t, st, r, func(o *Options) { o.MaxAttempts = 2 })
	accept(t, b, "d", "")
	wait(t, b)
	if n, _ := st.CountDeliveries(context.Background()); n[store.DeliveryDead] != 1 {
		t.Fatalf("counts %v", n)
	}
	r.mu.Lock()
	r.failures["d"] = 0 // what failed is mended; the operator retries it
	r.mu.Unlock()
	if err := b.Requeue(context.Background(), "d"); err != nil {
		t.Fatal(err)
	}
	wait(t, b)
	if r.handled["d"] != 1 {
		t.Fatalf("requeued dead letter handled %d times (attempts %v)", r.handled["d"], r.attempts)
	}
	if err := b.Requeue(context.Background(), "d"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("requeue of a handled delivery: %v", err)
	}
}

func TestPermanentErrorIsDeadAtOnce(t *testing.T) {
	st := memstore.New()
	r := newRecorder()
	r.failures["d"] = -1
	r.err = Permanent(errors.New("payload does not decode"))
	b := newInbox(t, st, r, nil)
	accept(t, b, "d", "")
	wait(t, b)
	if len(r.attempts) != 1 {
		t.Fatalf("attempts %v, want one", r.attempts)
	}
	if dead, _ := st.ListDeliveries(context.Background(), store.DeliveryDead, 10); len(dead) != 1 {
		t.Fatal("a permanent failure was not dead-lettered")
	}
}

func TestPanicIsAFailedAttempt(t *testing.T) {
	r := newRecorder()
	r.panicOn = "d"
	b := newInbox(t, memstore.New(), r, nil)
	accept(t, b, "d", "")
	wait(t, b)
	if r.handled["d"] != 1 || len(r.attempts) != 2 {
		t.Fatalf("attempts %v handled %d", r.attempts, r.handled["d"])
	}
}

// TestKeyOrder: deliveries of one pull request run one at a time in the order received,
// even when an earlier one is waiting out a backoff; other keys do not wait.
func TestKeyOrder(t *testing.T) {
	r := newRecorder()
	r.hold = 2 * time.Millisecond
	r.failures["a1"] = 2 // a2 and a3 must wait for a1's retries
	b := newInbox(t, memstore.New(), r, func(o *Options) { o.Workers = 8 })
	for i := 1; i <= 3; i++ {
		for _, k := range []string{"a", "b", "c"} {
			accept(t, b, fmt.Sprintf("%s%d", k, i), "acme/app#"+k)
		}
	}
	wait(t, b)
	var a []string
	for _, at := range r.attempts {
		if at[0] == 'a' {
			a = append(a, at)
		}
	}
	if want := []string{"a1#1", "a1#2", "a1#3", "a2#1", "a3#1"}; !slices.Equal(a, want) {
		t.Fatalf("key a ran %v, want %v", a, want)
	}
	for k, n := range r.maxRun {
		if n != 1 {
			t.Errorf("key %s had %d deliveries running at once", k, n)
		}
	}
	if len(r.handled) != 9 {
		t.Fatalf("handled %d of 9", len(r.handled))
	}
}

// TestUnkeyedRunInParallel: deliveries without a key do not wait for each other.
func TestUnkeyedRunInParallel(t *testing.T) {
	r := newRecorder()
	r.hold = 20 * time.Millisecond
	b := newInbox(t, memstore.New(), r, func(o *Options) { o.Workers = 4 })
	for i := range 4 {
		accept(t, b, fmt.Sprint(i), "")
	}
	wait(t, b)
	if r.maxRun[""] < 2 {
		t.Fatalf("at most %d unkeyed deliveries ran at once", r.maxRun[""])
	}
}

// TestResumesAfterRestart: what one process accepted and did not handle, the next
// process's inbox handles from the store.
func TestResumesAfterRestart(t *testing.T) {
	st := memstore.New()
	first := New(Options{Store: st, Handle: newRecorder().handle}) // never started: it dies before handling
	for _, id := range []string{"x", "y"} {
		if _, err := first.Accept(context.Background(), store.Delivery{ID: id, Event: "push", Payload: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	r := newRecorder()
	b := newInbox(t, st, r, nil)
	wait(t, b)
	if r.handled["x"] != 1 || r.handled["y"] != 1 {
		t.Fatalf("after a restart handled %v", r.handled)
	}
	// The earlier process may have been handling them: the handler is told it is a retry.
	slices.Sort(r.attempts)
	if want := []string{"x#2", "y#2"}; !slices.Equal(r.attempts, want) {
		t.Fatalf("attempts after a restart %v, want %v", r.attempts, want)
	}
}

func TestFullAndClosed(t *testing.T) {
	r := newRecorder()
	r.hold = 50 * time.Millisecond
	b := newInbox(t, memstore.New(), r, func(o *Options) { o.MaxPending = 2; o.Workers = 1 })
	accept(t, b, "1", "")
	accept(t, b, "2", "")
	if _, err := b.Accept(context.Background(), store.Delivery{ID: "3", Event: "push"}); !errors.Is(err, ErrFull) {
		t.Fatalf("third delivery: %v, want ErrFull", err)
	}
	big := New(Options{Store: memstore.New(), Handle: r.handle, MaxBytes: 10})
	if _, err := big.Accept(context.Background(), store.Delivery{ID: "b", Payload: make([]byte, 11)}); !errors.Is(err, ErrFull) {
		t.Fatalf("over the byte bound: %v, want ErrFull", err)
	}
	if err := b.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Accept(context.Background(), store.Delivery{ID: "4", Event: "push"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("after shutdown: %v, want ErrClosed", err)
	}
}

func TestBackoff(t *testing.T) {
	b := New(Options{Store: memstore.New(), BaseBackoff: time.Second, MaxBackoff: time.Minute, Jitter: func() float64 { return 0.5 },
		RetryAfter: func(err error, _ time.Time) (time.Duration, bool) {
			switch {
			case err != nil && err.Error() == "rate limited":
				return 10 * time.Minute, true
			case err != nil && err.Error() == "slow down":
				return time.Second, true // shorter than the backoff: the backoff wins
			}
			return 0, false
		}})
	cases := []struct {
		attempt int
		err     error
		want    time.Duration
	}{
		{1, errors.New("502"), 1250 * time.Millisecond},
		{2, errors.New("502"), 2500 * time.Millisecond},
		{4, errors.New("502"), 10 * time.Second},
		{20, errors.New("502"), 75 * time.Second}, // capped at a minute, plus jitter
		{1, errors.New("slow down"), 1250 * time.Millisecond},
		{1, errors.New("rate limited"), time.Minute}, // GitHub's wait, capped at MaxBackoff
	}
	for _, tc := range cases {
		if got := b.backoff(tc.attempt, tc.err, time.Now()); got != tc.want {
			t.Errorf("backoff(%d, %v) = %s, want %s", tc.attempt, tc.err, got, tc.want)
		}
	}
}

func TestDrop(t *testing.T) {
	st := memstore.New()
	first := New(Options{Store: st, Handle: newRecorder().handle})
	for _, id := range []string{"keep", "drop"} {
		if _, err := first.Accept(context.Background(), store.Delivery{ID: id, Event: "push", Payload: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := first.Drop(context.Background(), "drop"); err != nil {
		t.Fatal(err)
	}
	if err := first.Drop(context.Background(), "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("dropping an unknown delivery: %v", err)
	}
	r := newRecorder()
	b := newInbox(t, st, r, nil)
	wait(t, b)
	if r.handled["keep"] != 1 || r.handled["drop"] != 0 {
		t.Fatalf("handled %v", r.handled)
	}
	if added, _ := b.Accept(context.Background(), store.Delivery{ID: "drop", Event: "push"}); added {
		t.Fatal("a dropped delivery came back")
	}
}

// TestPayloadsStayOnDisk: what waits in memory is an entry without its payload (a burst
// is bounded by MaxPending and MaxBytes on disk, not by memory), the handler still gets
// the payload as it was accepted, and a handled delivery leaves the store.
func TestPayloadsStayOnDisk(t *testing.T) {
	st := memstore.New()
	got := map[string]string{}
	var mu sync.Mutex
	release := make(chan struct{})
	b := New(Options{Store: st, Workers: 1, Handle: func(_ context.Context, d store.Delivery) error {
		<-release
		mu.Lock()
		got[d.ID] = string(d.Payload)
		mu.Unlock()
		return nil
	}})
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Shutdown(context.Background()) })
	for i := range 5 {
		id := fmt.Sprintf("d-%d", i)
		if _, err := b.Accept(context.Background(), store.Delivery{ID: id, Event: "push", Payload: []byte(`{"n":` + fmt.Sprint(i) + `}`)}); err != nil {
			t.Fatal(err)
		}
	}
	b.mu.Lock()
	for _, e := range b.pending {
		if e.d.Payload != nil || e.size == 0 {
			t.Errorf("%s held in memory with %d payload bytes (size %d)", e.d.ID, len(e.d.Payload), e.size)
		}
	}
	if b.bytes != 5*int64(len(`{"n":0}`)) {
		t.Errorf("bytes counted %d", b.bytes)
	}
	b.mu.Unlock()
	close(release)
	if err := b.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if id := fmt.Sprintf("d-%d", i); got[id] != `{"n":`+fmt.Sprint(i)+`}` {
			t.Errorf("%s handled with payload %q", id, got[id])
		}
	}
	if left, err := st.PendingDeliveries(context.Background(), 10); err != nil || len(left) != 0 {
		t.Errorf("left in the store after Wait: %d, %v", len(left), err)
	}
	if s := b.Stats(); s.Pending != 0 || s.Bytes != 0 {
		t.Errorf("stats after Wait: %+v", s)
	}
}
