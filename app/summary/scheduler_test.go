package summary_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/app/summary"
	"github.com/escapegate/escapegate/store"
)

func TestScheduler(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := seeded(t)
	for _, in := range []store.Installation{
		{ID: 8, Account: "nosummary", CreatedAt: inst.CreatedAt},
		{ID: 9, Account: "paused", Suspended: true, CreatedAt: inst.CreatedAt},
		{ID: 10, Account: "newcomer", CreatedAt: time.Date(2026, 12, 1, 0, 1, 0, 0, time.UTC)},
		{ID: 11, Account: "broken", CreatedAt: inst.CreatedAt},
	} {
		if err := st.PutInstallation(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	c := newFake()
	var asked []int64
	s := &summary.Scheduler{
		Store:  st,
		Runner: summary.Runner{Now: at(t0)},
		Log:    zerolog.Nop(),
		Target: func(_ context.Context, in store.Installation) (summary.Destination, bool, error) {
			asked = append(asked, in.ID)
			switch in.ID {
			case 8:
				return summary.Destination{}, false, nil
			case 11:
				return summary.Destination{}, false, errors.New("policy unreadable")
			}
			return summary.Destination{Client: c, Repo: repo}, true, nil
		},
	}
	ticks := make(chan time.Time)
	done := make(chan error, 1)
	go func() { done <- s.Loop(ctx, ticks) }()
	ticks <- t0.Add(time.Hour)
	ticks <- t0.Add(2 * time.Hour)
	// Loop is sequential: once it takes this third tick, the runs before it are complete.
	ticks <- t0.Add(3 * time.Hour)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Loop returned %v, want context.Canceled", err)
	}
	if c.count(repo) != 1 || c.creates != 1 {
		t.Errorf("%d issues after %d creates over three runs, want 1", c.count(repo), c.creates)
	}
	// Suspended (9) and newer-than-the-month (10) installations are never asked for a target.
	for _, id := range asked {
		if id == 9 || id == 10 {
			t.Errorf("installation %d was asked for a target", id)
		}
	}
	if len(asked) < 9 { // 7, 8, 11 on the first run and at least two ticks
		t.Errorf("asked for %d targets, want at least 9: %v", len(asked), asked)
	}

	if _, err := s.RunDue(context.Background(), t0); err == nil {
		t.Errorf("RunDue hid the failing installation's error")
	}
}
