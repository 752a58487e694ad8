// Package inbox is the durable inbox of a single escapegate process: a verified
// delivery is committed to the store before GitHub gets its 2xx, then handled at least
// once by a pool of workers, and removed only after its handler succeeded. Payloads stay
// on disk until a worker takes the delivery (memory holds a small entry per delivery, so
// a burst is bounded by MaxPending and MaxBytes on disk), and handled deliveries are
// removed from the store in groups, one commit for all that finished meanwhile. A failed
// attempt is retried with exponential backoff and jitter (longer when GitHub asked to
// wait); after MaxAttempts or MaxAge the delivery is dead-lettered, to be listed,
// retried or dropped by hand. Deliveries that share a key (one pull request) are
// handled one at a time, in the order received. See docs/reliability.md.
package inbox

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/app/config"
	"github.com/escapegate/escapegate/app/delivery"
	"github.com/escapegate/escapegate/store"
)

// ErrFull is returned by Accept when the inbox holds its maximum: the webhook is
// answered 503 and GitHub's delivery log keeps it for a redelivery.
var ErrFull = errors.New("inbox: full")

// ErrClosed is returned by Accept once shutdown began.
var ErrClosed = errors.New("inbox: shutting down")

// Handler handles one delivery; ctx carries the attempt number (app/delivery).
type Handler func(ctx context.Context, d store.Delivery) error

// Options configures New. Zero values take config.Default's queue and retry settings.
type Options struct {
	Store   store.Inbox
	Handle  Handler
	Workers int
	// MaxPending and MaxBytes bound what waits or runs (on disk), by count and by
	// payload bytes; Accept refuses more with ErrFull.
	MaxPending  int
	MaxBytes    int64
	MaxAttempts int           // attempts before a delivery is dead-lettered
	MaxAge      time.Duration // a delivery older than this is dead-lettered at its next failure
	BaseBackoff time.Duration // the wait after a first failure, doubling after each
	MaxBackoff  time.Duration
	// RetryAfter reads a wait that the error itself asks for (GitHub's rate limits).
	RetryAfter func(err error, now time.Time) (time.Duration, bool)
	Now        func() time.Time
	Jitter     func() float64 // in [0, 1); [math/rand]
	Log        zerolog.Logger
	Observe    func(event Event) // metrics; nil ignores
}

// Event is what Observe is told.
type Event struct {
	Kind     string // accepted, duplicate, handled, retried, dead
	Event    string // the webhook event type
	Attempts int
	Took     time.Duration
}

// defaults fills what the caller left zero from config.Default, the one place where
// defaults are written.
func (o *Options) defaults() {
	q := config.Queue{Size: o.MaxPending, Workers: o.Workers, MaxBytes: o.MaxBytes}.OrDefault()
	o.MaxPending, o.Workers, o.MaxBytes = q.Size, q.Workers, q.MaxBytes
	r := config.Retry{MaxAttempts: o.MaxAttempts, MaxAge: o.MaxAge, BaseBackoff: o.BaseBackoff, MaxBackoff: o.MaxBackoff}.OrDefault()
	o.MaxAttempts, o.MaxAge, o.BaseBackoff, o.MaxBackoff = r.MaxAttempts, r.MaxAge, r.BaseBackoff, r.MaxBackoff
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Jitter == nil {
		o.Jitter = rand.Float64
	}
	if o.Observe == nil {
		o.Observe = func(Event) {}
	}
}

// Inbox dispatches the store's pending deliveries to workers. Create it with New, load
// what an earlier process left with Start, and stop it with Shutdown.
type Inbox struct {
	o Options

	mu       sync.Mutex
	changed  *sync.Cond        // broadcast on every change of pending or inflight
	pending  []*entry          // in the order received
	byID     map[string]*entry // pending by delivery id
	bytes    int64
	inflight int
	closed   bool
	started  bool

	// handled are entries whose handler succeeded, waiting for the finisher to remove
	// them from the store; they stay in pending (done) until it did.
	handled []*entry

	wake     chan struct{}
	finish   chan struct{} // pokes the finisher
	quit     chan struct{} // closed once the workers stopped: the finisher's last flush
	quitOnce sync.Once
	work     chan *entry
	stop     context.CancelFunc
	done     sync.WaitGroup
	finished sync.WaitGroup // the finisher
}

type entry struct {
	d store.Delivery // without its payload, which is read from the store when it runs
	// size is the payload's length, counted against MaxBytes.
	size    int64
	running bool
	// done: handled, its removal from the store not yet committed; it blocks nothing.
	done bool
	// resumed: loaded at start, so an earlier process may have been handling it when it
	// stopped; its next attempt counts as a retry (see app/delivery).
	resumed bool
}

// New returns an inbox that is not yet running.
func New(o Options) *Inbox {
	o.defaults()
	b := &Inbox{o: o, byID: map[string]*entry{}, wake: make(chan struct{}, 1), finish: make(chan struct{}, 1), quit: make(chan struct{}), work: make(chan *entry)}
	b.changed = sync.NewCond(&b.mu)
	return b
}

// Start loads the deliveries an earlier process left pending and starts the workers.
func (b *Inbox) Start(ctx context.Context) error {
	left, err := b.o.Store.PendingDeliveries(ctx, 1<<30)
	if err != nil {
		return fmt.Errorf("loading the inbox: %w", err)
	}
	b.mu.Lock()
	if b.started {
		b.mu.Unlock()
		return errors.New("inbox: started twice")
	}
	b.started = true
	for _, d := range left {
		e := newEntry(d)
		e.resumed = true
		b.add(e)
	}
	resumed := len(left)
	b.mu.Unlock()
	if resumed > 0 {
		b.o.Log.Info().Int("deliveries", resumed).Msg("resuming deliveries accepted before the last stop")
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b.stop = cancel
	for range b.o.Workers {
		b.done.Add(1)
		go b.worker(runCtx)
	}
	b.done.Add(1)
	go b.dispatch(runCtx)
	b.finished.Add(1)
	go b.finisher(context.WithoutCancel(ctx))
	return nil
}

// newEntry is d's entry in memory: everything but the payload.
func newEntry(d store.Delivery) *entry {
	e := &entry{d: d, size: int64(len(d.Payload))}
	e.d.Payload = nil
	return e
}

// Accept commits a delivery before its webhook is answered. It returns false for a
// delivery id seen before (GitHub's redelivery of one handled or still pending).
func (b *Inbox) Accept(ctx context.Context, d store.Delivery) (bool, error) {
	b.mu.Lock()
	switch {
	case b.closed:
		b.mu.Unlock()
		return false, ErrClosed
	case len(b.pending) >= b.o.MaxPending || b.bytes+int64(len(d.Payload)) > b.o.MaxBytes:
		b.mu.Unlock()
		return false, ErrFull
	}
	b.mu.Unlock()
	if d.ReceivedAt.IsZero() {
		d.ReceivedAt = b.o.Now()
	}
	added, err := b.o.Store.AddDelivery(ctx, d)
	if err != nil {
		return false, err
	}
	if !added {
		b.o.Observe(Event{Kind: "duplicate", Event: d.Event})
		return false, nil
	}
	b.mu.Lock()
	if !b.has(d.ID) {
		// A dead letter made pending again comes back with its stored payload; the
		// redelivered one is the same bytes (the signature covered them).
		d.State, d.Attempts, d.NextAt, d.LastError = store.DeliveryPending, 0, time.Time{}, ""
		e := newEntry(d)
		b.add(e)
		b.changed.Broadcast()
	}
	b.mu.Unlock()
	b.o.Observe(Event{Kind: "accepted", Event: d.Event})
	b.poke()
	return true, nil
}

// Requeue makes a dead-lettered delivery pending again (escapegate deliveries retry).
func (b *Inbox) Requeue(ctx context.Context, id string) error {
	if err := b.o.Store.RetryDelivery(ctx, id); err != nil {
		return err
	}
	d, err := b.o.Store.GetDelivery(ctx, id)
	if err != nil {
		return fmt.Errorf("reading the inbox: %w", err)
	}
	b.mu.Lock()
	if !b.has(id) {
		e := newEntry(d)
		b.add(e)
		b.changed.Broadcast()
	}
	b.mu.Unlock()
	b.poke()
	return nil
}

// Drop removes a delivery that is not running, pending or dead-lettered (escapegate
// deliveries drop); its mark stays, so GitHub's copy stays ignored.
func (b *Inbox) Drop(ctx context.Context, id string) error {
	b.mu.Lock()
	for i, e := range b.pending {
		if e.d.ID != id {
			continue
		}
		if e.running {
			b.mu.Unlock()
			return fmt.Errorf("delivery %s is running: drop it once its attempt ended", id)
		}
		if e.done {
			break // handled: the finisher removes it
		}
		b.pending = append(b.pending[:i], b.pending[i+1:]...)
		delete(b.byID, id)
		b.bytes -= e.size
		b.changed.Broadcast()
		break
	}
	b.mu.Unlock()
	return b.o.Store.DropDelivery(ctx, id)
}

// has reports whether id is pending in memory; b.mu is held.
func (b *Inbox) has(id string) bool {
	_, ok := b.byID[id]
	return ok
}

// add appends e to pending; b.mu is held.
func (b *Inbox) add(e *entry) {
	b.pending = append(b.pending, e)
	b.byID[e.d.ID] = e
	b.bytes += e.size
}

func (b *Inbox) poke() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// dispatch hands due deliveries to idle workers, keeping each key's order, until ctx ends.
func (b *Inbox) dispatch(ctx context.Context) {
	defer b.done.Done()
	for {
		e, wait := b.next()
		if e != nil {
			select {
			case b.work <- e:
				continue
			case <-ctx.Done():
				b.unclaim(e)
				return
			}
		}
		var timer *time.Timer
		var due <-chan time.Time
		if wait > 0 {
			timer = time.NewTimer(wait)
			due = timer.C
		}
		select {
		case <-ctx.Done():
		case <-b.wake:
		case <-due:
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// next claims the first due delivery whose key is free, or says how long until one
// may be due (0: nothing is waiting on a clock).
func (b *Inbox) next() (*entry, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.inflight >= b.o.Workers {
		return nil, 0
	}
	now := b.o.Now()
	blocked := map[string]bool{}
	var wait time.Duration
	for _, e := range b.pending {
		if e.done {
			continue
		}
		k := e.d.Key
		if k != "" && blocked[k] {
			continue
		}
		if k != "" {
			blocked[k] = true // later deliveries of this key wait for this one
		}
		if e.running {
			continue
		}
		if d := e.d.NextAt.Sub(now); d > 0 {
			if wait == 0 || d < wait {
				wait = d
			}
			continue
		}
		e.running = true
		b.inflight++
		return e, 0
	}
	return nil, wait
}

func (b *Inbox) unclaim(e *entry) {
	b.mu.Lock()
	e.running = false
	b.inflight--
	b.changed.Broadcast()
	b.mu.Unlock()
}

func (b *Inbox) worker(ctx context.Context) {
	defer b.done.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-b.work:
			b.run(ctx, e)
		}
	}
}

// run handles one attempt and records its outcome.
func (b *Inbox) run(ctx context.Context, e *entry) {
	d := e.d
	attempt := d.Attempts + 1
	seen := attempt
	if e.resumed && seen == 1 {
		seen = 2 // the process that accepted it may have done part of the work
	}
	start := b.o.Now()
	full, err := b.o.Store.GetDelivery(ctx, d.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Gone from the store (dropped by hand in the meantime): nothing to handle.
		b.o.Log.Warn().Str("delivery", d.ID).Msg("delivery no longer in the store; passed over")
		b.remove(e)
		b.poke()
		return
	case err == nil:
		err = b.call(delivery.WithAttempt(ctx, seen), full)
	default:
		err = fmt.Errorf("reading the delivery's payload: %w", err)
	}
	now := b.o.Now()
	log := b.o.Log.With().Str("delivery", d.ID).Str("event", d.Event).Int("attempt", attempt).Logger()
	var recordErr error
	switch {
	case err == nil:
		b.o.Observe(Event{Kind: "handled", Event: d.Event, Attempts: attempt, Took: now.Sub(start)})
		b.handledOK(e)
	case ctx.Err() != nil:
		// Shutting down mid-attempt: the delivery stays pending for the next start.
		b.unclaim(e)
		return
	default:
		dead := attempt >= b.o.MaxAttempts || now.Sub(d.ReceivedAt) >= b.o.MaxAge || errors.Is(err, ErrPermanent)
		next := now.Add(b.backoff(attempt, err, now))
		recordErr = b.o.Store.FailDelivery(context.WithoutCancel(ctx), d.ID, attempt, next, err.Error(), dead)
		if dead {
			log.Error().Err(err).Msg("delivery dead-lettered: list it with `escapegate deliveries`")
			b.o.Observe(Event{Kind: "dead", Event: d.Event, Attempts: attempt})
			b.remove(e)
		} else {
			log.Warn().Err(err).Time("next_attempt", next).Msg("delivery failed; it will be retried")
			b.o.Observe(Event{Kind: "retried", Event: d.Event, Attempts: attempt})
			b.mu.Lock()
			e.d.Attempts, e.d.NextAt, e.d.LastError = attempt, next, err.Error()
			e.running = false
			b.inflight--
			b.changed.Broadcast()
			b.mu.Unlock()
		}
	}
	if recordErr != nil {
		log.Error().Err(recordErr).Msg("recording a delivery's outcome failed; it will run again at the next start")
	}
	b.poke()
}

// call runs the handler, turning a panic into a failed attempt.
func (b *Inbox) call(ctx context.Context, d store.Delivery) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panicked: %v", r)
		}
	}()
	return b.o.Handle(ctx, d)
}

func (b *Inbox) remove(e *entry) {
	b.mu.Lock()
	b.drop(e)
	b.inflight--
	b.changed.Broadcast()
	b.mu.Unlock()
}

// drop takes e out of pending; b.mu is held.
func (b *Inbox) drop(e *entry) {
	for i, x := range b.pending {
		if x == e {
			b.pending = append(b.pending[:i], b.pending[i+1:]...)
			break
		}
	}
	delete(b.byID, e.d.ID)
	b.bytes -= e.size
}

// handledOK hands a handled delivery to the finisher. Its worker is free at once; the
// delivery stays pending (done, blocking no key) until its removal is committed.
func (b *Inbox) handledOK(e *entry) {
	b.mu.Lock()
	e.running, e.done = false, true
	b.inflight--
	b.handled = append(b.handled, e)
	b.changed.Broadcast()
	b.mu.Unlock()
	select {
	case b.finish <- struct{}{}:
	default:
	}
}

// finisher removes handled deliveries from the store, all that finished since its last
// commit in the next one (group commit: while one commit syncs, the next group gathers),
// until the workers stopped (quit) and what they left was removed. A delivery whose
// removal failed stays in the store and runs again, as a retry, at the next start.
func (b *Inbox) finisher(ctx context.Context) {
	defer b.finished.Done()
	for {
		select {
		case <-b.finish:
			b.flush(ctx)
		case <-b.quit:
			b.flush(ctx)
			return
		}
	}
}

func (b *Inbox) flush(ctx context.Context) {
	b.mu.Lock()
	group := b.handled
	b.handled = nil
	b.mu.Unlock()
	if len(group) == 0 {
		return
	}
	ids := make([]string, len(group))
	for i, e := range group {
		ids[i] = e.d.ID
	}
	if err := b.o.Store.FinishDelivery(ctx, ids...); err != nil {
		b.o.Log.Error().Err(err).Int("deliveries", len(ids)).Msg("recording handled deliveries failed; they will run again at the next start")
	}
	b.mu.Lock()
	for _, e := range group {
		b.drop(e)
	}
	b.changed.Broadcast()
	b.mu.Unlock()
}

// backoff is Backoff with the inbox's settings; never shorter than a wait GitHub asked
// for, unless that is longer than MaxBackoff.
func (b *Inbox) backoff(attempt int, err error, now time.Time) time.Duration {
	d := Backoff(attempt, b.o.BaseBackoff, b.o.MaxBackoff, b.o.Jitter())
	if b.o.RetryAfter != nil {
		if w, ok := b.o.RetryAfter(err, now); ok && w > d {
			d = min(w, b.o.MaxBackoff) // GitHub's primary limits reset within the hour
		}
	}
	return d
}

// Backoff is the wait after a failed attempt: base·2^(attempt-1), capped at max, plus
// jitter (in [0, 1)) times half of that, so that deliveries that failed together do
// not come back together.
func Backoff(attempt int, base, max time.Duration, jitter float64) time.Duration {
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return d + time.Duration(jitter*float64(d)/2)
}

// ErrPermanent marks an error that no retry can mend (a payload that does not
// decode): the delivery is dead-lettered at once.
var ErrPermanent = errors.New("permanent")

// Permanent wraps err as one that no retry can mend.
func Permanent(err error) error { return fmt.Errorf("%w: %w", ErrPermanent, err) }

// Wait blocks until the inbox is empty, every delivery handled or dead-lettered, or
// ctx ends. With production backoffs that can take hours while GitHub is failing: it
// is for tests and tools that set short ones.
func (b *Inbox) Wait(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		b.mu.Lock()
		b.changed.Broadcast()
		b.mu.Unlock()
	})
	defer stop()
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.pending) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		b.changed.Wait()
	}
	return nil
}

// Stats is what the inbox holds now.
type Stats struct {
	Pending, Running int
	Bytes            int64
}

// Stats returns the inbox's current load.
func (b *Inbox) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return Stats{Pending: len(b.pending) - len(b.handled), Running: b.inflight, Bytes: b.bytes}
}

// Shutdown stops accepting, lets running attempts finish until ctx ends, then stops
// the workers; whatever did not finish stays in the store for the next start.
func (b *Inbox) Shutdown(ctx context.Context) error {
	b.mu.Lock()
	b.closed = true
	started := b.started
	b.mu.Unlock()
	if !started {
		return nil
	}
	idle := make(chan struct{})
	go func() {
		b.mu.Lock()
		for b.inflight > 0 {
			b.changed.Wait()
		}
		b.mu.Unlock()
		close(idle)
	}()
	var err error
	select {
	case <-idle:
	case <-ctx.Done():
		err = fmt.Errorf("inbox: %d deliveries still running at shutdown (they run again at the next start): %w", b.Stats().Running, ctx.Err())
	}
	b.stop()
	b.done.Wait()
	b.quitOnce.Do(func() { close(b.quit) })
	b.finished.Wait()
	return err
}

// List lists the deliveries in a state ("" for all), up to n, from the store.
func (b *Inbox) List(ctx context.Context, state string, n int) ([]store.Delivery, error) {
	return b.o.Store.ListDeliveries(ctx, state, n)
}

// Count counts the deliveries by state, from the store.
func (b *Inbox) Count(ctx context.Context) (map[string]int, error) {
	return b.o.Store.CountDeliveries(ctx)
}
