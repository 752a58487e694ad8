// Package riverinbox is the durable inbox of escapegate replicas on PostgreSQL: each
// verified delivery is a River job, inserted in the same transaction as the delivery's
// mark (so an id is taken once across replicas) and committed before GitHub gets its
// 2xx. River's workers on every replica handle the jobs at least once, retry failures
// with escapegate's backoff, and rescue the jobs of a replica that died. Deliveries of
// one pull request wait for the older ones of that pull request. It offers what
// app/inbox offers on one node; docs/reliability.md compares them.
package riverinbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/app/config"
	"github.com/escapegate/escapegate/app/delivery"
	"github.com/escapegate/escapegate/app/inbox"
	"github.com/escapegate/escapegate/store"
)

// Kind is the River job kind of a webhook delivery.
const Kind = "webhook_delivery"

// Args is a delivery as a River job's arguments.
type Args struct {
	ID      string          `json:"id"`
	Event   string          `json:"event"`
	Key     string          `json:"key,omitempty"`
	Payload json.RawMessage `json:"payload"`
}

// Kind implements river.JobArgs.
func (Args) Kind() string { return Kind }

// Options configures New; zero fields take config.Default's.
type Options struct {
	Pool    *pgxpool.Pool
	Handle  inbox.Handler
	Workers int
	Retry   config.Retry
	Log     zerolog.Logger
	Observe func(inbox.Event)
	// SnoozeWhileOrdered is how long a delivery waits before looking again whether the
	// older deliveries of its pull request are done [200ms].
	SnoozeWhileOrdered time.Duration
}

// Inbox is the River-backed inbox.
type Inbox struct {
	o      Options
	client *river.Client[pgx.Tx]
	closed atomic.Bool
}

// New builds the inbox; Start starts its workers.
func New(o Options) (*Inbox, error) {
	o.Workers = config.Queue{Workers: o.Workers}.OrDefault().Workers
	o.Retry = o.Retry.OrDefault()
	r := o.Retry
	if o.Observe == nil {
		o.Observe = func(inbox.Event) {}
	}
	if o.SnoozeWhileOrdered <= 0 {
		o.SnoozeWhileOrdered = 200 * time.Millisecond
	}
	b := &Inbox{o: o}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &worker{b: b}); err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	client, err := river.NewClient(riverpgxv5.New(o.Pool), &river.Config{
		Queues:      map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: o.Workers}},
		Workers:     workers,
		MaxAttempts: r.MaxAttempts,
		RetryPolicy: retryPolicy{base: r.BaseBackoff, max: r.MaxBackoff},
		// A handler runs at most StuckAfter; a job a dead replica left running is given
		// to another replica after about as long again (River's rescuer looks every 30 s).
		JobTimeout:           r.StuckAfter,
		RescueStuckJobsAfter: r.StuckAfter + min(r.StuckAfter, time.Minute),
		FetchCooldown:        20 * time.Millisecond,
		FetchPollInterval:    200 * time.Millisecond,
		Logger:               slog.New(zerologHandler{o.Log}),
		// Handled deliveries are kept a day for the deliveries command; their marks in
		// the store keep an id from being taken twice for longer.
		CompletedJobRetentionPeriod: 24 * time.Hour,
		DiscardedJobRetentionPeriod: 30 * 24 * time.Hour,
		CancelledJobRetentionPeriod: 30 * 24 * time.Hour,
	})
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	b.client = client
	return b, nil
}

// Start starts the workers (and River's leader election, rescuer and cleaner).
func (b *Inbox) Start(ctx context.Context) error {
	if err := b.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("starting the job queue: %w", err)
	}
	return nil
}

// Accept commits the delivery's mark and its job in one transaction. A known id adds
// nothing and returns false, except that a dead-lettered one is retried.
func (b *Inbox) Accept(ctx context.Context, d store.Delivery) (bool, error) {
	if b.closed.Load() {
		return false, inbox.ErrClosed
	}
	if d.ReceivedAt.IsZero() {
		d.ReceivedAt = time.Now()
	}
	payload := json.RawMessage(d.Payload)
	if !json.Valid(payload) {
		return false, errors.New("delivery payload is not JSON")
	}
	var added bool
	err := pgx.BeginFunc(ctx, b.o.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO deliveries (id, at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, d.ID, d.ReceivedAt.UTC())
		if err != nil {
			return fmt.Errorf("marking delivery %s: %w", d.ID, err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		if _, err := b.client.InsertTx(ctx, tx, Args{ID: d.ID, Event: d.Event, Key: d.Key, Payload: payload}, nil); err != nil {
			return fmt.Errorf("queueing delivery %s: %w", d.ID, err)
		}
		added = true
		return nil
	})
	if err != nil {
		return false, err
	}
	if added {
		b.o.Observe(inbox.Event{Kind: "accepted", Event: d.Event})
		return true, nil
	}
	// Seen before: GitHub's redelivery of a dead letter, asked for by hand, retries it.
	job, err := b.find(ctx, d.ID)
	if err == nil && isDead(job.State) {
		if _, err := b.client.JobRetry(ctx, job.ID); err != nil {
			return false, fmt.Errorf("retrying delivery %s: %w", d.ID, err)
		}
		return true, nil
	}
	b.o.Observe(inbox.Event{Kind: "duplicate", Event: d.Event})
	return false, nil
}

func isDead(s rivertype.JobState) bool {
	return s == rivertype.JobStateDiscarded || s == rivertype.JobStateCancelled
}

// find returns the job of a delivery id.
func (b *Inbox) find(ctx context.Context, id string) (*rivertype.JobRow, error) {
	res, err := b.client.JobList(ctx, river.NewJobListParams().Kinds(Kind).
		Where("args->>'id' = @id", river.NamedArgs{"id": id}).First(1))
	if err != nil {
		return nil, fmt.Errorf("finding delivery %s: %w", id, err)
	}
	if len(res.Jobs) == 0 {
		return nil, fmt.Errorf("no delivery %s in the job queue: %w", id, store.ErrNotFound)
	}
	return res.Jobs[0], nil
}

var (
	pendingStates = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled, rivertype.JobStatePending}
	deadStates    = []rivertype.JobState{rivertype.JobStateDiscarded, rivertype.JobStateCancelled}
)

// List lists deliveries that are pending or dead ("" for both), up to n.
func (b *Inbox) List(ctx context.Context, state string, n int) ([]store.Delivery, error) {
	var states []rivertype.JobState
	switch state {
	case store.DeliveryPending:
		states = pendingStates
	case store.DeliveryDead:
		states = deadStates
	default:
		states = append(append(states, pendingStates...), deadStates...)
	}
	res, err := b.client.JobList(ctx, river.NewJobListParams().Kinds(Kind).States(states...).First(min(n, 10000)))
	if err != nil {
		return nil, fmt.Errorf("listing deliveries: %w", err)
	}
	out := make([]store.Delivery, 0, len(res.Jobs))
	for _, j := range res.Jobs {
		out = append(out, fromJob(j))
	}
	return out, nil
}

func fromJob(j *rivertype.JobRow) store.Delivery {
	var a Args
	_ = json.Unmarshal(j.EncodedArgs, &a)
	d := store.Delivery{ID: a.ID, Event: a.Event, Key: a.Key, Payload: a.Payload, State: store.DeliveryPending,
		Attempts: len(j.Errors), NextAt: j.ScheduledAt, ReceivedAt: j.CreatedAt}
	if isDead(j.State) {
		d.State = store.DeliveryDead
	}
	if len(j.Errors) > 0 {
		d.LastError = j.Errors[len(j.Errors)-1].Error
	}
	return d
}

// Count counts the deliveries by state.
func (b *Inbox) Count(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	var pending, dead int
	err := b.o.Pool.QueryRow(ctx, `SELECT
		count(*) FILTER (WHERE state IN ('available','running','retryable','scheduled','pending')),
		count(*) FILTER (WHERE state IN ('discarded','cancelled'))
		FROM river_job WHERE kind = $1`, Kind).Scan(&pending, &dead)
	if err != nil {
		return nil, fmt.Errorf("counting deliveries: %w", err)
	}
	out[store.DeliveryPending], out[store.DeliveryDead] = pending, dead
	return out, nil
}

// Requeue retries a dead-lettered delivery.
func (b *Inbox) Requeue(ctx context.Context, id string) error {
	job, err := b.find(ctx, id)
	if err != nil {
		return err
	}
	if !isDead(job.State) {
		return fmt.Errorf("delivery %s is %s, not dead-lettered: %w", id, job.State, store.ErrNotFound)
	}
	if _, err := b.client.JobRetry(ctx, job.ID); err != nil {
		return fmt.Errorf("retrying delivery %s: %w", id, err)
	}
	return nil
}

// Drop removes a delivery that is not running; its mark stays.
func (b *Inbox) Drop(ctx context.Context, id string) error {
	job, err := b.find(ctx, id)
	if err != nil {
		return err
	}
	if _, err := b.client.JobDelete(ctx, job.ID); err != nil {
		return fmt.Errorf("dropping delivery %s: %w", id, err)
	}
	return nil
}

// Wait blocks until no delivery is pending on any replica, or ctx ends (tests and tools
// with short backoffs).
func (b *Inbox) Wait(ctx context.Context) error {
	for {
		n, err := b.Count(ctx)
		if err != nil {
			return err
		}
		if n[store.DeliveryPending] == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Shutdown stops fetching jobs and lets running ones finish until ctx ends; River
// gives what did not finish to a replica (or this one after a restart).
func (b *Inbox) Shutdown(ctx context.Context) error {
	b.closed.Store(true)
	if err := b.client.Stop(ctx); err != nil {
		return fmt.Errorf("stopping the job queue: %w", err)
	}
	return nil
}

// worker handles delivery jobs.
type worker struct {
	river.WorkerDefaults[Args]
	b *Inbox
}

// Work runs the handler once the older deliveries of the same pull request are done.
func (w *worker) Work(ctx context.Context, job *river.Job[Args]) error {
	b := w.b
	a := job.Args
	if a.Key != "" {
		var older bool
		err := b.o.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM river_job WHERE kind = $1 AND args->>'key' = $2 AND id < $3
			AND state IN ('available','running','retryable','scheduled','pending'))`, Kind, a.Key, job.ID).Scan(&older)
		if err != nil {
			return fmt.Errorf("ordering delivery %s: %w", a.ID, err)
		}
		if older {
			return river.JobSnooze(b.o.SnoozeWhileOrdered)
		}
	}
	start := time.Now()
	d := store.Delivery{ID: a.ID, Event: a.Event, Key: a.Key, Payload: a.Payload, Attempts: job.Attempt - 1, ReceivedAt: job.CreatedAt}
	err := b.o.Handle(delivery.WithAttempt(ctx, job.Attempt), d)
	if err == nil {
		b.o.Observe(inbox.Event{Kind: "handled", Event: a.Event, Attempts: job.Attempt, Took: time.Since(start)})
		return nil
	}
	log := b.o.Log.With().Str("delivery", a.ID).Str("event", a.Event).Int("attempt", job.Attempt).Logger()
	if errors.Is(err, inbox.ErrPermanent) || time.Since(job.CreatedAt) >= b.o.Retry.MaxAge || job.Attempt >= job.MaxAttempts {
		log.Error().Err(err).Msg("delivery dead-lettered: list it with `escapegate deliveries`")
		b.o.Observe(inbox.Event{Kind: "dead", Event: a.Event, Attempts: job.Attempt})
		return river.JobCancel(err)
	}
	log.Warn().Err(err).Msg("delivery failed; it will be retried")
	b.o.Observe(inbox.Event{Kind: "retried", Event: a.Event, Attempts: job.Attempt})
	return err
}

// retryPolicy is escapegate's backoff (inbox.Backoff) for River.
type retryPolicy struct{ base, max time.Duration }

func (p retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(inbox.Backoff(max(len(job.Errors), 1), p.base, p.max, rand.Float64()))
}

// zerologHandler sends River's slog records to escapegate's logger.
type zerologHandler struct{ log zerolog.Logger }

func (h zerologHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h zerologHandler) Handle(_ context.Context, r slog.Record) error {
	ev := h.log.Warn()
	if r.Level >= slog.LevelError {
		ev = h.log.Error()
	}
	r.Attrs(func(a slog.Attr) bool { ev = ev.Str(a.Key, a.Value.String()); return true })
	ev.Str("component", "job queue").Msg(r.Message)
	return nil
}

func (h zerologHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h zerologHandler) WithGroup(string) slog.Handler      { return h }
