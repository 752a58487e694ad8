package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/inbox"
	"github.com/escapegate/escapegate/app/inbox/riverinbox"
	"github.com/escapegate/escapegate/app/seal"
	"github.com/escapegate/escapegate/handlers"
	"github.com/escapegate/escapegate/store"
)

// intake is where the dispatcher puts a verified delivery: the durable inbox, or the
// in-memory queue for a store without one.
type intake interface {
	githubapp.Scheduler
	// Wait blocks until every accepted delivery was handled or dead-lettered.
	Wait()
	// Shutdown stops taking deliveries and lets the running ones finish until ctx ends.
	Shutdown(ctx context.Context) error
}

// deliveryInbox is a durable inbox: app/inbox on one node, app/inbox/riverinbox on
// PostgreSQL replicas.
type deliveryInbox interface {
	Accept(ctx context.Context, d store.Delivery) (bool, error)
	Wait(ctx context.Context) error
	Shutdown(ctx context.Context) error
	List(ctx context.Context, state string, n int) ([]store.Delivery, error)
	Count(ctx context.Context) (map[string]int, error)
	Requeue(ctx context.Context, id string) error
	Drop(ctx context.Context, id string) error
}

// durable is the intake on a durable inbox: the delivery is committed before the
// dispatcher answers 2xx and handled by the inbox's workers.
type durable struct {
	in      deliveryInbox
	metrics *metrics
	sealer  *seal.Sealer
}

// router returns the inbox's handler: each delivery to the handler of its event type.
func router(hs []githubapp.EventHandler, m *metrics, sealer *seal.Sealer) inbox.Handler {
	routes := map[string]githubapp.EventHandler{}
	for _, h := range hs {
		for _, ev := range h.Handles() {
			routes[ev] = h
		}
	}
	return func(ctx context.Context, d store.Delivery) error {
		h, ok := routes[d.Event]
		if !ok {
			return nil // an event no handler takes any more (after an upgrade)
		}
		payload, err := sealer.Open(d.Payload, d.ID)
		if err != nil {
			return err
		}
		timer := m.startEvent(d.Event)
		err = h.Handle(ctx, d.Event, d.ID, payload)
		timer(err)
		return err
	}
}

func observe(m *metrics) func(inbox.Event) {
	return func(e inbox.Event) { m.inbox.WithLabelValues(e.Kind).Inc() }
}

// newLocal is the single-node inbox on the store's own inbox (bolt, memstore).
func newLocal(st store.Inbox, hs []githubapp.EventHandler, o Options, m *metrics) (*durable, error) {
	sealer, err := seal.New(o.FingerprintKey, seal.Payloads)
	if err != nil {
		return nil, err
	}
	in := inbox.New(inbox.Options{
		Store: st, Handle: router(hs, m, sealer), Workers: o.Workers, MaxPending: o.QueueSize, MaxBytes: o.QueueBytes,
		MaxAttempts: o.Retry.MaxAttempts, MaxAge: o.Retry.MaxAge, BaseBackoff: o.Retry.BaseBackoff, MaxBackoff: o.Retry.MaxBackoff,
		RetryAfter: gh.RetryAfter, Now: o.Now, Log: o.Logger, Observe: observe(m),
	})
	if err := in.Start(context.Background()); err != nil {
		return nil, err
	}
	m.watchInbox(func() (int, int) { s := in.Stats(); return s.Pending, s.Running }, in.Count)
	return &durable{in: in, metrics: m, sealer: sealer}, nil
}

// newRiver is the replicas' inbox on PostgreSQL's job queue.
func newRiver(pool *pgxpool.Pool, hs []githubapp.EventHandler, o Options, m *metrics) (*durable, error) {
	sealer, err := seal.New(o.FingerprintKey, seal.Payloads)
	if err != nil {
		return nil, err
	}
	in, err := riverinbox.New(riverinbox.Options{Pool: pool, Handle: router(hs, m, sealer), Workers: o.Workers, Retry: o.Retry, Log: o.Logger, Observe: observe(m)})
	if err != nil {
		return nil, err
	}
	if err := in.Start(context.Background()); err != nil {
		return nil, err
	}
	m.watchInbox(nil, in.Count)
	return &durable{in: in, metrics: m, sealer: sealer}, nil
}

// Schedule implements githubapp.Scheduler: it returns once the delivery is on disk.
func (q *durable) Schedule(ctx context.Context, d githubapp.Dispatch) error {
	key, err := handlers.Intake(d.EventType, d.Payload)
	if err != nil {
		return githubapp.ValidationError{EventType: d.EventType, DeliveryID: d.DeliveryID, Cause: err}
	}
	id := d.DeliveryID
	if id == "" {
		id = localID() // GitHub always sends one; a hand-made request may not
	}
	sealed, err := q.sealer.Seal(d.Payload, id)
	if err != nil {
		return err
	}
	_, err = q.in.Accept(ctx, store.Delivery{
		ID: id, Event: d.EventType, Payload: sealed, Key: key, ReceivedAt: time.Now(),
	})
	if errors.Is(err, inbox.ErrFull) || errors.Is(err, inbox.ErrClosed) {
		return githubapp.ErrCapacityExceeded
	}
	return err
}

func (q *durable) Wait() { _ = q.in.Wait(context.Background()) }

func (q *durable) Shutdown(ctx context.Context) error { return q.in.Shutdown(ctx) }

func localID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "local-" + hex.EncodeToString(b)
}
