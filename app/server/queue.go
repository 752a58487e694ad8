package server

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/palantir/go-githubapp/githubapp"

	"github.com/escapegate/escapegate/handlers"
)

// queue wraps go-githubapp's bounded queue scheduler. It rejects payloads that are
// not JSON or name no installation while the request is still open (a 400 rather
// than a failure nobody sees), and tracks work in flight so shutdown and tests can
// wait for it. A full queue is go-githubapp's ErrCapacityExceeded: a 503.
type queue struct {
	inner   githubapp.Scheduler
	wg      sync.WaitGroup
	metrics *metrics
	// maxBytes bounds the payload bytes waiting or in progress: a count of events alone
	// does not bound memory when payloads range from 5 KB to GitHub's 25 MB.
	maxBytes int64
	bytes    atomic.Int64
}

func newQueue(size, workers int, maxBytes int64, m *metrics, onError githubapp.AsyncErrorCallback) *queue {
	return &queue{
		inner:    githubapp.QueueAsyncScheduler(size, workers, githubapp.WithAsyncErrorCallback(onError)),
		metrics:  m,
		maxBytes: maxBytes,
	}
}

func (q *queue) Schedule(ctx context.Context, d githubapp.Dispatch) error {
	if _, err := handlers.Intake(d.EventType, d.Payload); err != nil {
		return githubapp.ValidationError{EventType: d.EventType, DeliveryID: d.DeliveryID, Cause: err}
	}
	n := int64(len(d.Payload))
	if q.maxBytes > 0 && q.bytes.Add(n) > q.maxBytes {
		q.bytes.Add(-n)
		return githubapp.ErrCapacityExceeded
	}
	q.wg.Add(1)
	q.metrics.queued.Inc()
	d.Handler = &tracked{EventHandler: d.Handler, q: q, n: n}
	if err := q.inner.Schedule(ctx, d); err != nil {
		q.release(n)
		return err
	}
	return nil
}

func (q *queue) release(n int64) {
	q.bytes.Add(-n)
	q.metrics.queued.Dec()
	q.wg.Done()
}

// Wait blocks until every scheduled event has been handled.
func (q *queue) Wait() { q.wg.Wait() }

// Shutdown waits for what is queued until ctx ends. What it holds is in memory only:
// a store without an inbox loses it at a crash.
func (q *queue) Shutdown(ctx context.Context) error {
	done := make(chan struct{})
	go func() { q.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type tracked struct {
	githubapp.EventHandler
	q *queue
	n int64
}

func (t *tracked) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	defer t.q.release(t.n)
	timer := t.q.metrics.startEvent(eventType)
	err := t.EventHandler.Handle(ctx, eventType, deliveryID, payload)
	timer(err)
	return err
}
