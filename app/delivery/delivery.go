// Package delivery carries, in a context, what the inbox knows of the webhook delivery
// being handled: which attempt this is, and whether it is a redelivery the recovery
// sweep asked GitHub for. The domain uses the attempt to make GitHub writes idempotent
// only when they may have happened before (a retry), so a first attempt spends no extra
// API call looking for its own earlier work; and both to tell a payload sent just now
// from one that may have gone stale since it was first sent.
package delivery

import "context"

type (
	attemptKey     struct{}
	redeliveredKey struct{}
)

// WithAttempt marks ctx as the n-th attempt (1 is the first) at handling a delivery.
func WithAttempt(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, attemptKey{}, n)
}

// Attempt is the attempt ctx was marked with; 1 when it was not marked.
func Attempt(ctx context.Context) int {
	if n, ok := ctx.Value(attemptKey{}).(int); ok && n > 0 {
		return n
	}
	return 1
}

// Retrying reports whether an earlier attempt may already have done part of the work.
func Retrying(ctx context.Context) bool { return Attempt(ctx) > 1 }

// WithRedelivered marks ctx as handling a redelivery of a delivery first sent earlier
// (its payload says how things stood then).
func WithRedelivered(ctx context.Context) context.Context {
	return context.WithValue(ctx, redeliveredKey{}, true)
}

// Redelivered reports whether ctx was marked with WithRedelivered.
func Redelivered(ctx context.Context) bool {
	v, _ := ctx.Value(redeliveredKey{}).(bool)
	return v
}

// Late reports whether the payload being handled may be older than the moment: a retry
// (its backoff may have been long) or a redelivery.
func Late(ctx context.Context) bool { return Retrying(ctx) || Redelivered(ctx) }

// RedeliveryKey is the store setting the recovery sweep writes before it asks GitHub to
// redeliver delivery id (the GUID): a handler whose payload names state that may have
// moved on since it was first sent looks for it.
func RedeliveryKey(id string) string { return "recovery/redelivery/" + id }
