// Package recovery makes escapegate whole again after what GitHub will not repeat.
//
// GitHub never retries a webhook delivery that failed on its side (escapegate down, a
// 5xx, a timeout): it stays failed in the app's delivery log. The sweep lists that log
// back to the last sweep's high-water mark and asks GitHub to redeliver each failed
// delivery the store has not processed, once, bounded and paced.
//
// Installations are otherwise known only from installation events. The reconcile lists
// the app's installations and their repositories and brings the store's records in
// line: new installations and repositories are recorded, repositories no longer listed
// are marked removed, installations GitHub no longer lists are marked deleted.
//
// Both run at start and then on their own interval (Loop); with several replicas, one
// runs each time slot, through a claim in the store.
package recovery

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/app/config"
	"github.com/escapegate/escapegate/app/gate"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/store"
)

// Options configures New. Zero Window, MaxPerRun and Pace take config.Default's values;
// a zero Interval or InstallationsInterval turns that job off in Loop.
type Options struct {
	App   gh.App
	Store store.Store
	// Gate records installations and repositories (the same rules as installation
	// events); the reconcile needs it, the sweep does not.
	Gate *gate.Service
	Log  zerolog.Logger
	Now  func() time.Time
	// Sleep waits between redeliveries and between installations (tests skip the wait).
	Sleep func(context.Context, time.Duration) error

	// Interval is how often the delivery log is swept.
	Interval time.Duration
	// Window is how far back a sweep looks at most: GitHub keeps deliveries 3 days on
	// hosted GitHub, 7 on GitHub Enterprise Server.
	Window time.Duration
	// MaxPerRun bounds the redeliveries one sweep asks for; the rest wait for the next.
	MaxPerRun int
	// Pace spaces redeliveries (and installations in a reconcile) for GitHub's rate limits.
	Pace time.Duration
	// InstallationsInterval is how often installations are reconciled with GitHub's list.
	InstallationsInterval time.Duration
	// ExpiryInterval is how often the open pull requests whose exception expired are
	// checked again (they fail, and say why, without waiting for a push); 0 turns it off.
	ExpiryInterval time.Duration
	// Events, when not nil, limits redelivery to these event types (the ones escapegate
	// handles); GitHub answers the rest with nothing to do anyway.
	Events []string
}

// Service runs the sweep and the reconcile. Create it with New.
type Service struct {
	o       Options
	metrics *Metrics
	events  map[string]bool
	mu      sync.Mutex // one sweep and one reconcile at a time in this process
	recMu   sync.Mutex
}

// New checks the options and fills defaults.
func New(o Options) (*Service, error) {
	if o.App == nil || o.Store == nil {
		return nil, errors.New("recovery: GitHub app access and a store are required")
	}
	d := config.Default().Recovery
	if o.Window <= 0 {
		o.Window = d.Window
	}
	if o.MaxPerRun <= 0 {
		o.MaxPerRun = d.MaxPerRun
	}
	if o.Pace <= 0 {
		o.Pace = d.Pace
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	s := &Service{o: o, metrics: NewMetrics()}
	if o.Events != nil {
		s.events = map[string]bool{}
		for _, e := range o.Events {
			s.events[e] = true
		}
	}
	return s, nil
}

// Metrics returns the service's Prometheus series (server registers them).
func (s *Service) Metrics() *Metrics { return s.metrics }

func (s *Service) now() time.Time { return s.o.Now().UTC() }

// Loop sweeps and reconciles at start and then every interval until ctx ends. Each run
// first claims its time slot in the store, so that of several replicas one runs it.
func (s *Service) Loop(ctx context.Context) {
	var wg sync.WaitGroup
	run := func(every time.Duration, name string, fn func(context.Context) error) {
		if every <= 0 {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				if err := fn(ctx); err != nil && ctx.Err() == nil {
					s.o.Log.Error().Err(err).Msg(name)
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}()
	}
	run(s.o.InstallationsInterval, "installations reconcile", func(ctx context.Context) error {
		_, _, err := s.TryReconcile(ctx)
		return err
	})
	run(s.o.Interval, "delivery recovery sweep", func(ctx context.Context) error {
		_, _, err := s.TrySweep(ctx)
		return err
	})
	run(s.o.ExpiryInterval, "expired exceptions", func(ctx context.Context) error {
		_, _, err := s.TryExpire(ctx)
		return err
	})
	wg.Wait()
}

// TrySweep sweeps unless another replica holds this time slot's claim (ran is false).
func (s *Service) TrySweep(ctx context.Context) (res SweepResult, ran bool, err error) {
	ok, err := s.claim(ctx, "sweep", s.o.Interval)
	if err != nil || !ok {
		if err == nil {
			s.metrics.sweeps.WithLabelValues("skipped").Inc()
		}
		return SweepResult{}, false, err
	}
	res, err = s.Sweep(ctx)
	return res, true, err
}

// TryReconcile reconciles unless another replica holds this time slot's claim.
func (s *Service) TryReconcile(ctx context.Context) (res ReconcileResult, ran bool, err error) {
	ok, err := s.claim(ctx, "installations", s.o.InstallationsInterval)
	if err != nil || !ok {
		if err == nil {
			s.metrics.reconciles.WithLabelValues("skipped").Inc()
		}
		return ReconcileResult{}, false, err
	}
	res, err = s.Reconcile(ctx)
	return res, true, err
}

// TryExpire checks again the open pull requests whose exception expired and keeps merged
// "fix later" exceptions tracked (issue opened, reminder before the deadline), unless
// another replica holds this time slot's claim.
func (s *Service) TryExpire(ctx context.Context) (checked int, ran bool, err error) {
	if s.o.Gate == nil {
		return 0, false, nil
	}
	ok, err := s.claim(ctx, "expiry", s.o.ExpiryInterval)
	if err != nil || !ok {
		return 0, false, err
	}
	checked, err = s.o.Gate.RecheckExpired(ctx)
	if checked > 0 {
		s.o.Log.Info().Int("pull_requests", checked).Msg("checks of pull requests whose exception expired posted again")
	}
	opened, reminded, ferr := s.o.Gate.TrackFixLater(ctx)
	if opened+reminded > 0 {
		s.o.Log.Info().Int("opened", opened).Int("reminded", reminded).Msg("fix-later issues tracked")
	}
	return checked, true, errors.Join(err, ferr)
}

// claim takes the store's claim on job's current time slot (ClaimOnce on a key per
// slot) and drops the one of two slots back, which nobody will ask for again.
func (s *Service) claim(ctx context.Context, job string, slot time.Duration) (bool, error) {
	if slot <= 0 {
		slot = time.Minute
	}
	now := s.now()
	start := now.Truncate(slot)
	key := func(t time.Time) string { return fmt.Sprintf("recovery/%s/slot/%d", job, t.Unix()) }
	ok, err := s.o.Store.ClaimOnce(ctx, key(start), []byte(now.Format(time.RFC3339Nano)))
	if err != nil {
		return false, fmt.Errorf("claiming the %s slot: %w", job, err)
	}
	if ok {
		_ = s.o.Store.DeleteSetting(ctx, key(start.Add(-2*slot)))
	}
	return ok, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
