package claim_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/claim"
	"github.com/escapegate/escapegate/store/memstore"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func claimsAt(st *memstore.Store, at time.Time, owner string) claim.Claims {
	return claim.Claims{Store: st, Now: func() time.Time { return at }, StaleAfter: 10 * time.Minute, Owner: owner}
}

// TestAcquire: who may go ahead after a first attempt left its claim in each state, and
// what the taker's lookup starts from (the first attempt's start, kept across takeovers).
func TestAcquire(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		left      func(c claim.Claims, held claim.Held) // what the first attempt did after taking the claim
		after     time.Duration
		wantOK    bool
		wantDone  bool
		wantSince time.Time
	}{
		{"fresh: left to its owner", func(claim.Claims, claim.Held) {}, time.Minute, false, false, time.Time{}},
		{"stale: taken over", func(claim.Claims, claim.Held) {}, 11 * time.Minute, true, false, t0.Add(-claim.LookupMargin)},
		{"released: taken over at once", func(c claim.Claims, h claim.Held) { c.Release(ctx, "k", h.Claim) }, time.Minute, true, false, t0.Add(-claim.LookupMargin)},
		{"done: nothing to do", func(c claim.Claims, h claim.Held) { _ = c.MarkDone(ctx, "k", h.Claim, 7) }, time.Hour, false, true, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := memstore.New()
			first := claimsAt(st, t0, "first")
			held, err := first.Acquire(ctx, "k")
			if err != nil || !held.OK {
				t.Fatalf("first: %+v %v", held, err)
			}
			tt.left(first, held)
			got, err := claimsAt(st, t0.Add(tt.after), "second").Acquire(ctx, "k")
			if err != nil || got.OK != tt.wantOK || got.Done != tt.wantDone || (tt.wantDone && got.Issue != 7) {
				t.Fatalf("second: %+v %v; want ok %v done %v", got, err, tt.wantOK, tt.wantDone)
			}
			if got.OK && (!got.Claim.LookupSince().Equal(tt.wantSince) || got.Claim.Attempt != 2) {
				t.Errorf("taken over: since %v attempt %d; want %v, 2", got.Claim.LookupSince(), got.Claim.Attempt, tt.wantSince)
			}
		})
	}
}

// TestOneTakeover: of runners that all find the claim stale (or released), one takes it.
func TestOneTakeover(t *testing.T) {
	ctx := context.Background()
	for _, release := range []bool{false, true} {
		st := memstore.New()
		held, err := claimsAt(st, t0, "dead").Acquire(ctx, "k")
		if err != nil || !held.OK {
			t.Fatal(held, err)
		}
		if release {
			claimsAt(st, t0, "dead").Release(ctx, "k", held.Claim)
		}
		var mu sync.Mutex
		won := 0
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				h, err := claimsAt(st, t0.Add(time.Hour), string(rune('a'+i))).Acquire(ctx, "k")
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				defer mu.Unlock()
				if h.OK {
					won++
				}
			})
		}
		wg.Wait()
		if won != 1 {
			t.Errorf("released %v: %d runners took the claim over, want 1", release, won)
		}
	}
}

// TestUnreadableClaimLooksEverywhere: a claim that cannot be read is stale and its start
// unknown, so the taker's lookup is unbounded.
func TestUnreadableClaimLooksEverywhere(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	if err := st.PutSetting(ctx, "k", []byte("{")); err != nil {
		t.Fatal(err)
	}
	h, err := claimsAt(st, t0, "x").Acquire(ctx, "k")
	if err != nil || !h.OK || !h.Claim.LookupSince().IsZero() {
		t.Fatalf("%+v %v; want taken over, lookup since the zero time", h, err)
	}
}
