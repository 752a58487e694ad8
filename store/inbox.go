package store

import (
	"context"
	"time"
)

// Delivery states in an inbox.
const (
	DeliveryPending = "pending" // waiting for a worker, or for its next attempt
	DeliveryDead    = "dead"    // gave up after its attempts: listed, retried or dropped by hand
)

// Delivery is a verified webhook delivery kept until its handler succeeded.
type Delivery struct {
	ID         string    `json:"id"` // X-GitHub-Delivery
	Event      string    `json:"event"`
	Payload    []byte    `json:"payload"`
	Key        string    `json:"key"` // deliveries of one key are handled in order, one at a time
	State      string    `json:"state"`
	Attempts   int       `json:"attempts"` // attempts that failed so far
	NextAt     time.Time `json:"next_at"`  // not before this time
	LastError  string    `json:"last_error,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
}

// Inbox keeps deliveries durably between the 2xx and their handler's success. The
// single-node stores (bolt, memstore) implement it; PostgreSQL replicas use a job
// queue instead. Every method is safe for concurrent use.
type Inbox interface {
	// AddDelivery commits d (pending, due at once) and its delivery mark in one
	// transaction, synced to disk before it returns. A delivery id seen before adds
	// nothing and returns false, except that one dead-lettered is pending again
	// (a redelivery asked for by hand is a request to retry).
	AddDelivery(ctx context.Context, d Delivery) (added bool, err error)
	// PendingDeliveries returns up to n pending deliveries in the order received,
	// due or not (the caller keeps per-key order across backoffs).
	PendingDeliveries(ctx context.Context, n int) ([]Delivery, error)
	// GetDelivery returns a pending delivery with its payload (the inbox keeps payloads
	// on disk only, so that a burst is bounded by the disk, not memory); a delivery
	// that is not pending wraps ErrNotFound.
	GetDelivery(ctx context.Context, id string) (Delivery, error)
	// FinishDelivery removes handled deliveries, all in one transaction (one commit
	// for many, so finishing costs no fsync of its own per delivery); their marks
	// stay. An id that is not pending is passed over.
	FinishDelivery(ctx context.Context, ids ...string) error
	// FailDelivery records a failed attempt: the attempt count, the error, and either
	// the time of the next attempt or, when dead, the dead-letter state.
	FailDelivery(ctx context.Context, id string, attempts int, next time.Time, lastError string, dead bool) error
	// ListDeliveries lists the deliveries in a state (all when state is ""), up to n.
	ListDeliveries(ctx context.Context, state string, n int) ([]Delivery, error)
	// RetryDelivery makes a dead-lettered delivery pending again, due at once, with its
	// attempts reset; an unknown id wraps ErrNotFound.
	RetryDelivery(ctx context.Context, id string) error
	// DropDelivery removes a delivery (its mark stays, so GitHub's copy stays ignored);
	// an unknown id wraps ErrNotFound.
	DropDelivery(ctx context.Context, id string) error
	// CountDeliveries counts the deliveries by state.
	CountDeliveries(ctx context.Context) (map[string]int, error)
}
