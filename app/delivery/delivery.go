// Package delivery carries, in a context, what the inbox knows of the webhook delivery
// being handled: which attempt this is. The domain uses it to make GitHub writes
// idempotent only when they may have happened before (a retry), so a first attempt
// spends no extra API call looking for its own earlier work.
package delivery

import "context"

type attemptKey struct{}

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
