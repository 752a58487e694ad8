// Package claim lets one of several runners (attempts after a crash, replicas on one
// store) make a visible write to GitHub once: an issue that must exist exactly once.
//
// A claim is a store setting taken with ClaimOnce. Its value records a state
// ("creating", "released", "done"), the owner, the time and the time the first attempt
// began (Since). Since is kept across takeovers and releases: it bounds the
// consistent lookup ("did an earlier attempt already create it?") that the holder
// makes before creating, so that an issue created by an attempt that died before
// recording it is found and not opened again. A "creating" claim older than
// StaleAfter, or a "released" one (its owner failed and said so), is taken over by
// exactly one runner: the takeover is itself a ClaimOnce on a key naming the claim
// taken over, so two runners that both see it takeable cannot both proceed.
package claim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/escapegate/escapegate/store"
)

// Claim states.
const (
	Creating = "creating"
	Released = "released"
	Done     = "done"
)

// LookupMargin is taken off a claim's Since for the lookup of what an earlier attempt
// created: it covers the skew between this server's clock and GitHub's, and GitHub
// keeping times to the second.
const LookupMargin = time.Hour

// Claim is the value kept under a claim's key.
type Claim struct {
	State string    `json:"state"`
	Owner string    `json:"owner"`
	At    time.Time `json:"at"`
	// Since is when the first attempt began (zero in claims written before it was kept: At).
	Since   time.Time `json:"since,omitzero"`
	Attempt int       `json:"attempt"`
	Issue   int       `json:"issue,omitempty"`
}

// unknownStart is the start of a claim taken over from one that could not be read: its
// lookup goes back to before GitHub existed.
var unknownStart = time.Unix(0, 0).UTC()

// LookupSince is the time from which an issue that an attempt on this claim created
// must have been updated: the first attempt's start, less LookupMargin; the zero time
// (look at every issue) when that start is unknown.
func (c Claim) LookupSince() time.Time {
	if s := c.start(); !s.After(unknownStart) {
		return time.Time{}
	}
	return c.start().Add(-LookupMargin)
}

func (c Claim) start() time.Time {
	if !c.Since.IsZero() {
		return c.Since
	}
	return c.At
}

// Claims takes and records claims in a store.
type Claims struct {
	Store      store.Store
	Now        func() time.Time // default time.Now
	StaleAfter time.Duration    // how old a "creating" claim must be to be taken over; must be > 0
	Owner      string           // names this runner in claims; default a random id per Acquire
}

// Held is the result of Acquire.
type Held struct {
	// OK: the caller holds the claim (Claim) and may create.
	OK    bool
	Claim Claim
	// Done: the write was made and recorded (Issue); neither OK nor Done: another
	// runner holds a fresh claim, try again later.
	Done  bool
	Issue int
}

// Acquire takes the claim on key, or takes over a stale or released one.
func (c Claims) Acquire(ctx context.Context, key string) (Held, error) {
	now := c.now()
	mine := Claim{State: Creating, Owner: c.owner(), At: now, Since: now, Attempt: 1}
	ok, err := c.claimOnce(ctx, key, mine)
	if err != nil || ok {
		return Held{OK: ok, Claim: mine}, err
	}
	cur, found, err := c.Read(ctx, key)
	switch {
	case err != nil:
		return Held{}, err
	case !found:
		// Deleted between our ClaimOnce and our read: try once more.
		ok, err := c.claimOnce(ctx, key, mine)
		return Held{OK: ok, Claim: mine}, err
	case cur.State == Done:
		return Held{Done: true, Issue: cur.Issue}, nil
	case cur.State != Released && now.Sub(cur.At) < c.StaleAfter:
		return Held{}, nil
	}
	// Stale (its owner most likely died) or released: exactly one runner wins the
	// takeover of this particular claim (state, attempt, owner and time identify it).
	takeover := fmt.Sprintf("%s/takeover/%s/%d/%s/%d", key, cur.State, cur.Attempt, cur.Owner, cur.At.UnixNano())
	won, err := c.claimOnce(ctx, takeover, mine)
	if err != nil || !won {
		return Held{}, err
	}
	mine.Attempt, mine.Since = cur.Attempt+1, cur.start()
	if mine.Since.IsZero() {
		mine.Since = unknownStart
	}
	if err := c.put(ctx, key, mine); err != nil {
		return Held{}, err
	}
	return Held{OK: true, Claim: mine}, nil
}

// Release gives up a held claim after a failure, so that the next attempt takes it over
// at once instead of waiting for it to go stale; Since is kept, for that attempt's
// lookup (the failed write may have been made). Best effort: a claim not released goes
// stale.
func (c Claims) Release(ctx context.Context, key string, cl Claim) {
	cl.State, cl.At = Released, c.now()
	_ = c.put(context.WithoutCancel(ctx), key, cl)
}

// MarkDone records that the write was made: issue.
func (c Claims) MarkDone(ctx context.Context, key string, cl Claim, issue int) error {
	cl.State, cl.Issue, cl.At = Done, issue, c.now()
	if err := c.put(ctx, key, cl); err != nil {
		return fmt.Errorf("record issue #%d under %s: %w", issue, key, err)
	}
	return nil
}

// Read returns the claim under key; found is false when there is none. An unreadable
// claim reads as a "creating" one of unknown time, which is stale: the lookup before
// creating still prevents a duplicate.
func (c Claims) Read(ctx context.Context, key string) (cl Claim, found bool, err error) {
	v, err := c.Store.GetSetting(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return Claim{}, false, nil
	}
	if err != nil {
		return Claim{}, false, fmt.Errorf("read claim %s: %w", key, err)
	}
	if err := json.Unmarshal(v, &cl); err != nil {
		return Claim{State: Creating}, true, nil
	}
	return cl, true, nil
}

func (c Claims) claimOnce(ctx context.Context, key string, cl Claim) (bool, error) {
	v, err := json.Marshal(cl)
	if err != nil {
		return false, fmt.Errorf("encode claim %s: %w", key, err)
	}
	ok, err := c.Store.ClaimOnce(ctx, key, v)
	if err != nil {
		return false, fmt.Errorf("claim %s: %w", key, err)
	}
	return ok, nil
}

func (c Claims) put(ctx context.Context, key string, cl Claim) error {
	v, err := json.Marshal(cl)
	if err != nil {
		return fmt.Errorf("encode claim %s: %w", key, err)
	}
	if err := c.Store.PutSetting(ctx, key, v); err != nil {
		return fmt.Errorf("write claim %s: %w", key, err)
	}
	return nil
}

func (c Claims) now() time.Time {
	if c.Now != nil {
		return c.Now().UTC()
	}
	return time.Now().UTC()
}

func (c Claims) owner() string {
	if c.Owner != "" {
		return c.Owner
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
