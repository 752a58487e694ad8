package server

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/palantir/go-githubapp/githubapp"
)

// queue wraps go-githubapp's bounded queue scheduler. It rejects payloads that are
// not JSON or name no installation while the request is still open (a 400 rather
// than a failure nobody sees), and tracks work in flight so shutdown and tests can
// wait for it. A full queue is go-githubapp's ErrCapacityExceeded: a 503.
type queue struct {
	inner   githubapp.Scheduler
	wg      sync.WaitGroup
	metrics *metrics
}

func newQueue(size, workers int, m *metrics, onError githubapp.AsyncErrorCallback) *queue {
	return &queue{
		inner:   githubapp.QueueAsyncScheduler(size, workers, githubapp.WithAsyncErrorCallback(onError)),
		metrics: m,
	}
}

// envelope is the part of every app webhook that routing needs.
type envelope struct {
	Installation *struct {
		ID int64 `json:"id"`
	} `json:"installation"`
}

func checkEnvelope(payload []byte) error {
	var e envelope
	if err := json.Unmarshal(payload, &e); err != nil {
		return fmt.Errorf("payload is not valid JSON: %w", err)
	}
	if e.Installation == nil || e.Installation.ID <= 0 {
		return fmt.Errorf("payload names no installation (is it a GitHub App webhook?)")
	}
	return nil
}

func (q *queue) Schedule(ctx context.Context, d githubapp.Dispatch) error {
	if err := checkEnvelope(d.Payload); err != nil {
		return githubapp.ValidationError{EventType: d.EventType, DeliveryID: d.DeliveryID, Cause: err}
	}
	q.wg.Add(1)
	q.metrics.queued.Inc()
	d.Handler = &tracked{EventHandler: d.Handler, q: q}
	if err := q.inner.Schedule(ctx, d); err != nil {
		q.metrics.queued.Dec()
		q.wg.Done()
		return err
	}
	return nil
}

// Wait blocks until every scheduled event has been handled.
func (q *queue) Wait() { q.wg.Wait() }

type tracked struct {
	githubapp.EventHandler
	q *queue
}

func (t *tracked) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	defer t.q.wg.Done()
	t.q.metrics.queued.Dec()
	timer := t.q.metrics.startEvent(eventType)
	err := t.EventHandler.Handle(ctx, eventType, deliveryID, payload)
	timer(err)
	return err
}
