package recovery_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/app/delivery"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/recovery"
	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/memstore"
)

// fakeApp is the app's side of GitHub in memory: a delivery log (newest first) and
// installations. Redeliver only records the id; tests log the outcome themselves.
type fakeApp struct {
	mu           sync.Mutex
	log          []gh.HookDelivery
	redelivered  []int64
	redeliverErr map[int64]error
	listErr      error
	pagesServed  int
	// onRedeliver, when set, runs as GitHub is asked to redeliver id (the fake's lock held).
	onRedeliver func(ctx context.Context, id int64)

	installs []gh.Installation
	repos    map[int64][]gh.InstallationRepo
	repoErr  map[int64]error
}

func (f *fakeApp) ListHookDeliveries(_ context.Context, cursor string, n int) ([]gh.HookDelivery, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.listErr != nil {
		return nil, "", f.listErr
	}
	f.pagesServed++
	from := 0
	if cursor != "" {
		from, _ = strconv.Atoi(cursor)
	}
	to := min(from+n, len(f.log))
	next := ""
	if to < len(f.log) {
		next = strconv.Itoa(to)
	}
	return append([]gh.HookDelivery(nil), f.log[from:to]...), next, nil
}

func (f *fakeApp) Redeliver(ctx context.Context, id int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.redelivered = append(f.redelivered, id)
	if f.onRedeliver != nil {
		f.onRedeliver(ctx, id)
	}
	return f.redeliverErr[id]
}

func (f *fakeApp) ListInstallations(context.Context) ([]gh.Installation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]gh.Installation(nil), f.installs...), nil
}

func (f *fakeApp) ListInstallationRepositories(_ context.Context, id int64) ([]gh.InstallationRepo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.repoErr[id]; err != nil {
		return nil, err
	}
	return append([]gh.InstallationRepo(nil), f.repos[id]...), nil
}

// add puts an entry at the head of the log (the newest).
func (f *fakeApp) add(d gh.HookDelivery) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append([]gh.HookDelivery{d}, f.log...)
}

func (f *fakeApp) takeRedelivered() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.redelivered
	f.redelivered = nil
	return out
}

var now = time.Date(2026, 6, 10, 12, 0, 0, 0, time.UTC)

// entry is a log entry: id, GUID, how long before now, status code, redelivery.
func entry(id int64, guid string, ago time.Duration, code int, redelivery bool) gh.HookDelivery {
	status := "OK"
	if code < 200 || code > 299 {
		status = "failed to connect to host"
	}
	return gh.HookDelivery{ID: id, GUID: guid, DeliveredAt: now.Add(-ago), Redelivery: redelivery, StatusCode: code,
		Status: status, Event: "pull_request", Action: "opened", InstallationID: 9}
}

type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return nil
}

func newService(t *testing.T, app gh.App, st store.Store, clock func() time.Time, o recovery.Options) (*recovery.Service, *sleeps) {
	t.Helper()
	sl := &sleeps{}
	o.App, o.Store, o.Now, o.Sleep, o.Log = app, st, clock, sl.sleep, zerolog.Nop()
	s, err := recovery.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s, sl
}

// TestSweepDecisions is which failed deliveries one sweep redelivers, and why not the others.
func TestSweepDecisions(t *testing.T) {
	h, m := time.Hour, time.Minute
	tests := []struct {
		name    string
		log     []gh.HookDelivery // oldest first
		seen    []string
		mark    time.Duration // a previous sweep's mark, this long before now (0: none)
		max     int
		events  []string
		want    []int64 // log ids redelivered, in order
		skipped map[string]int
		failed  int
	}{
		{name: "failed and unseen", log: []gh.HookDelivery{entry(1, "a", h, 0, false), entry(2, "b", 50*m, 502, false), entry(3, "c", 40*m, 202, false)},
			want: []int64{1, 2}, failed: 2},
		{name: "failed but seen", log: []gh.HookDelivery{entry(1, "a", h, 0, false), entry(2, "b", 50*m, 503, false)}, seen: []string{"a"},
			want: []int64{2}, skipped: map[string]int{recovery.SkipSeen: 1}, failed: 2},
		{name: "failed then redelivered OK", log: []gh.HookDelivery{entry(1, "a", h, 0, false), entry(2, "a", 30*m, 202, true)},
			skipped: map[string]int{recovery.SkipDeliveredLater: 1}, failed: 1},
		{name: "failed, redelivered and failed again: the newest attempt is asked for",
			log:  []gh.HookDelivery{entry(1, "a", h, 0, false), entry(2, "a", 30*m, 502, true)},
			want: []int64{2}, failed: 1},
		{name: "a client error fails too", log: []gh.HookDelivery{entry(1, "a", h, 401, false)}, want: []int64{1}, failed: 1},
		{name: "older than the high-water mark", log: []gh.HookDelivery{entry(1, "a", 3*h, 0, false), entry(2, "b", h, 0, false)}, mark: 2 * h,
			want: []int64{2}, failed: 1},
		{name: "just before the mark: within the overlap", log: []gh.HookDelivery{entry(1, "a", 2*h+2*m, 0, false)}, mark: 2 * h,
			want: []int64{1}, failed: 1},
		{name: "older than the window", log: []gh.HookDelivery{entry(1, "a", 73*h, 0, false), entry(2, "b", 71*h, 0, false)},
			want: []int64{2}, failed: 1},
		{name: "more than the bound: the oldest first",
			log: []gh.HookDelivery{entry(1, "a", 4*h, 0, false), entry(2, "b", 3*h, 0, false), entry(3, "c", 2*h, 502, false), entry(4, "d", h, 0, false)},
			max: 2, want: []int64{1, 2}, skipped: map[string]int{recovery.SkipBound: 2}, failed: 4},
		{name: "an event escapegate does not handle", log: []gh.HookDelivery{entry(1, "a", h, 0, false)}, events: []string{"push"},
			skipped: map[string]int{recovery.SkipEvent: 1}, failed: 1},
		{name: "nothing failed", log: []gh.HookDelivery{entry(1, "a", h, 202, false), entry(2, "b", 30*m, 200, false)}},
		{name: "empty log"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := &fakeApp{}
			for _, d := range tc.log {
				app.add(d)
			}
			st := memstore.New()
			ctx := context.Background()
			for _, g := range tc.seen {
				if _, err := st.MarkDelivery(ctx, g, now); err != nil {
					t.Fatal(err)
				}
			}
			if tc.mark != 0 {
				if err := st.PutSetting(ctx, "recovery/sweep", []byte(fmt.Sprintf(`{"mark":%q}`, now.Add(-tc.mark).Format(time.RFC3339)))); err != nil {
					t.Fatal(err)
				}
			}
			s, sl := newService(t, app, st, func() time.Time { return now }, recovery.Options{MaxPerRun: tc.max, Events: tc.events})
			res, err := s.Sweep(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := app.takeRedelivered(); !slices.Equal(got, tc.want) {
				t.Errorf("redelivered %v, want %v", got, tc.want)
			}
			if len(res.Redelivered) != len(tc.want) || res.Failed != tc.failed {
				t.Errorf("result = %+v", res)
			}
			if tc.skipped == nil {
				tc.skipped = map[string]int{}
			}
			if fmt.Sprint(res.Skipped) != fmt.Sprint(tc.skipped) {
				t.Errorf("skipped %v, want %v", res.Skipped, tc.skipped)
			}
			// Paced: one wait of Pace between two redeliveries.
			if n := max(len(tc.want)-1, 0); len(sl.d) != n || (n > 0 && sl.d[0] != 200*time.Millisecond) {
				t.Errorf("waits %v, want %d of 200ms", sl.d, n)
			}
		})
	}
}

// TestSweepAcrossRuns: what one sweep leaves for the next (the mark, the bound's
// remainder, retries of redeliveries that failed, at most MaxAttempts), and that a
// second sweep of an unchanged log asks for nothing.
func TestSweepAcrossRuns(t *testing.T) {
	app := &fakeApp{}
	for i := range 5 {
		app.add(entry(int64(i+1), fmt.Sprintf("g%d", i+1), time.Duration(50-i)*time.Minute, 0, false))
	}
	app.add(entry(6, "ok", 10*time.Minute, 202, false))
	st := memstore.New()
	clock := now
	s, _ := newService(t, app, st, func() time.Time { return clock }, recovery.Options{MaxPerRun: 3})
	ctx := context.Background()
	sweep := func(want ...int64) recovery.SweepResult {
		t.Helper()
		res, err := s.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := app.takeRedelivered(); !slices.Equal(got, want) {
			t.Fatalf("redelivered %v, want %v (result %+v)", got, want, res)
		}
		return res
	}
	res := sweep(1, 2, 3)
	if !res.Mark.Equal(now.Add(-47*time.Minute - time.Second)) {
		t.Errorf("mark after a bounded sweep = %v, want just before g4's attempt", res.Mark)
	}
	// GitHub has not logged the three redeliveries yet: they are pending, g4 and g5 go now.
	clock = now.Add(5 * time.Minute)
	res = sweep(4, 5)
	if res.Skipped[recovery.SkipPending] != 3 || !res.Mark.Equal(now.Add(-10*time.Minute)) {
		t.Errorf("second sweep = %+v", res)
	}
	// GitHub logs the outcomes: g1 delivered, g2 failed again, g3 handled (the store saw it).
	app.add(entry(7, "g1", -6*time.Minute, 202, true))
	app.add(entry(8, "g2", -6*time.Minute, 503, true))
	if _, err := st.MarkDelivery(ctx, "g3", now); err != nil {
		t.Fatal(err)
	}
	clock = now.Add(10 * time.Minute)
	res = sweep(8) // g1's entries listed are all OK now; g3's are older than the mark
	if res.Failed != 1 || len(res.Skipped) != 0 {
		t.Errorf("third sweep = %+v", res)
	}
	// g2 keeps failing: two more attempts, then no more.
	for i, at := range []time.Duration{11, 16, 21} {
		app.add(entry(int64(9+i), "g2", -at*time.Minute, 503, true))
		clock = now.Add((at + 1) * time.Minute)
		if i < 1 {
			sweep(int64(9 + i))
		} else {
			res = sweep()
			if res.Skipped[recovery.SkipAttempts] != 1 {
				t.Errorf("after %d attempts: %+v", recovery.MaxAttempts, res)
			}
		}
	}
	// An unchanged log, swept again: nothing.
	sweep()
	sweep()
}

// TestSweepRecordsRedeliveries: the store knows a delivery is a redelivery before GitHub
// is asked for it (the handler may run before the request returns), and forgets it once
// the delivery is out of the window GitHub redelivers from.
func TestSweepRecordsRedeliveries(t *testing.T) {
	app := &fakeApp{}
	app.add(entry(1, "g1", 50*time.Minute, 0, false))
	st := memstore.New()
	ctx := context.Background()
	recorded := map[int64]bool{}
	app.onRedeliver = func(ctx context.Context, id int64) {
		_, err := st.GetSetting(ctx, delivery.RedeliveryKey("g1"))
		recorded[id] = err == nil
	}
	clock := now
	s, _ := newService(t, app, st, func() time.Time { return clock }, recovery.Options{Window: 72 * time.Hour})
	if res, err := s.Sweep(ctx); err != nil || len(res.Redelivered) != 1 {
		t.Fatalf("sweep = %+v, %v", res, err)
	}
	if !recorded[1] {
		t.Fatal("g1 was not recorded as a redelivery before GitHub was asked for it")
	}
	clock = now.Add(73 * time.Hour)
	if _, err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetSetting(ctx, delivery.RedeliveryKey("g1")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("g1's record after the window: %v, want it gone", err)
	}
}

// TestSweepListsBackToTheMarkOnly: a sweep after a sweep reads one page, not the window.
func TestSweepListsBackToTheMarkOnly(t *testing.T) {
	app := &fakeApp{}
	for i := range 1000 {
		app.add(entry(int64(i+1), fmt.Sprintf("g%d", i), time.Duration(1000-i)*time.Minute, 202, false))
	}
	st := memstore.New()
	clock := now
	s, _ := newService(t, app, st, func() time.Time { return clock }, recovery.Options{})
	ctx := context.Background()
	res, err := s.Sweep(ctx)
	if err != nil || res.Listed != 1000 || app.pagesServed != 10 {
		t.Fatalf("first sweep: %+v, %v, %d pages", res, err, app.pagesServed)
	}
	app.add(entry(1001, "new", -time.Minute, 0, false))
	clock = now.Add(2 * time.Minute)
	app.pagesServed = 0
	res, err = s.Sweep(ctx)
	if err != nil || app.pagesServed != 1 || len(res.Redelivered) != 1 || res.Listed > 10 {
		t.Fatalf("second sweep: %+v, %v, %d pages", res, err, app.pagesServed)
	}
}

// TestSweepErrors: a listing error changes nothing; a refused redelivery is counted, and
// the others still go.
func TestSweepErrors(t *testing.T) {
	app := &fakeApp{listErr: errors.New("github: 500")}
	app.add(entry(1, "a", time.Hour, 0, false))
	app.add(entry(2, "b", 30*time.Minute, 0, false))
	st := memstore.New()
	s, _ := newService(t, app, st, func() time.Time { return now }, recovery.Options{})
	ctx := context.Background()
	if _, err := s.Sweep(ctx); err == nil {
		t.Fatal("a listing error was not reported")
	}
	if _, err := st.GetSetting(ctx, "recovery/sweep"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("state written after a listing error: %v", err)
	}
	app.listErr = nil
	app.redeliverErr = map[int64]error{1: errors.New("422 too old")}
	res, err := s.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := app.takeRedelivered(); !slices.Equal(got, []int64{1, 2}) || res.Errors != 1 || !slices.Equal(res.Redelivered, []string{"b"}) {
		t.Errorf("redelivered %v, result %+v", got, res)
	}
	got := counters(t, s.Metrics())
	want := map[string]float64{
		`escapegate_recovery_redeliveries_total{outcome="error"}`:     1,
		`escapegate_recovery_redeliveries_total{outcome="requested"}`: 1,
		`escapegate_recovery_sweeps_total{outcome="error"}`:           1,
		`escapegate_recovery_sweeps_total{outcome="ok"}`:              1,
		`escapegate_recovery_deliveries_listed_total`:                 2,
		`escapegate_recovery_failed_deliveries_total`:                 2,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

// counters gathers the metrics' counters and gauges as "name{label="value"}" -> value.
func counters(t *testing.T, m *recovery.Metrics) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			key := mf.GetName()
			var ls []string
			for _, l := range mt.GetLabel() {
				ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			if len(ls) > 0 {
				key += "{" + strings.Join(ls, ",") + "}"
			}
			switch {
			case mt.Counter != nil:
				out[key] = mt.GetCounter().GetValue()
			case mt.Gauge != nil:
				out[key] = mt.GetGauge().GetValue()
			}
		}
	}
	return out
}

// TestOneReplicaPerSlot: of replicas sweeping in the same time slot, one sweeps.
func TestOneReplicaPerSlot(t *testing.T) {
	app := &fakeApp{}
	app.add(entry(1, "a", time.Hour, 0, false))
	st := memstore.New()
	clock := now
	var ran int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 4 {
		s, _ := newService(t, app, st, func() time.Time { return clock }, recovery.Options{Interval: 5 * time.Minute})
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ok, err := s.TrySweep(context.Background())
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				ran++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ran != 1 || len(app.takeRedelivered()) != 1 {
		t.Fatalf("%d replicas swept, want 1", ran)
	}
	s, _ := newService(t, app, st, func() time.Time { return clock.Add(5 * time.Minute) }, recovery.Options{Interval: 5 * time.Minute})
	if _, ok, err := s.TrySweep(context.Background()); err != nil || !ok {
		t.Errorf("the next slot: ran %v, %v", ok, err)
	}
}

// TestSweepStopsAtARateLimit: the redeliveries a rate limit stopped go at the next sweep.
func TestSweepStopsAtARateLimit(t *testing.T) {
	app := &fakeApp{redeliverErr: map[int64]error{2: fmt.Errorf("redeliver: %w", &github.RateLimitError{Message: "API rate limit exceeded"})}}
	for i := range 3 {
		app.add(entry(int64(i+1), fmt.Sprintf("g%d", i+1), time.Duration(30-i)*time.Minute, 0, false))
	}
	st := memstore.New()
	clock := now
	s, _ := newService(t, app, st, func() time.Time { return clock }, recovery.Options{})
	ctx := context.Background()
	res, err := s.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := app.takeRedelivered(); !slices.Equal(got, []int64{1, 2}) || res.Skipped[recovery.SkipRateLimited] != 2 ||
		res.Errors != 0 || !res.Mark.Before(now.Add(-29*time.Minute)) {
		t.Fatalf("rate-limited sweep: asked %v, result %+v", got, res)
	}
	app.redeliverErr = nil
	clock = now.Add(time.Minute)
	if _, err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if got := app.takeRedelivered(); !slices.Equal(got, []int64{2, 3}) {
		t.Errorf("next sweep asked %v, want [2 3]", got)
	}
	if got := counters(t, s.Metrics())[`escapegate_recovery_skipped_total{reason="rate_limited"}`]; got != 2 {
		t.Errorf("rate_limited = %v", got)
	}
}
