package gh

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// RetryPolicy says which rate-limit waits RetryTransport sleeps through.
type RetryPolicy struct {
	// MaxWait is the longest wait slept through; a longer one is returned to the caller.
	MaxWait time.Duration
	// MaxRetries bounds the retries of one request.
	MaxRetries int
	// Sleep waits for d or until ctx ends; nil sleeps for real.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock used to read x-ratelimit-reset; nil is time.Now.
	Now func() time.Time
}

// DefaultRetryPolicy waits up to 10 s, at most 3 times per request.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxWait: 10 * time.Second, MaxRetries: 3}
}

// RetryTransport is an http.RoundTripper that retries GitHub's rate-limited answers
// (403/429 with x-ratelimit-remaining: 0, or with retry-after) when the wait is short.
// Otherwise the rate-limited response goes up to go-github, which turns it into a
// RateLimitError or AbuseRateLimitError.
type RetryTransport struct {
	Base   http.RoundTripper
	Policy RetryPolicy
}

// NewRetryTransport wraps base (nil: http.DefaultTransport).
func NewRetryTransport(base http.RoundTripper, p RetryPolicy) *RetryTransport {
	if base == nil {
		base = http.DefaultTransport
	}
	return &RetryTransport{Base: base, Policy: p}
}

// RoundTrip implements http.RoundTripper.
func (t *RetryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		resp, err := t.Base.RoundTrip(req)
		if err != nil || attempt >= t.Policy.MaxRetries {
			return resp, err
		}
		wait, limited := t.rateLimitWait(resp)
		if !limited || wait > t.Policy.MaxWait {
			return resp, nil
		}
		if req.Body != nil && req.GetBody == nil {
			return resp, nil // the body cannot be sent again
		}
		// Drain so the connection is reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if err := t.sleep(req.Context(), wait); err != nil {
			return nil, fmt.Errorf("waiting %s for GitHub's rate limit: %w", wait, err)
		}
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, fmt.Errorf("rewind request body for retry: %w", err)
			}
			req = req.Clone(req.Context())
			req.Body = body
		}
	}
}

func (t *RetryTransport) sleep(ctx context.Context, d time.Duration) error {
	if t.Policy.Sleep != nil {
		return t.Policy.Sleep(ctx, d)
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}

// rateLimitWait reads how long GitHub asks to wait, and whether resp is a rate limit at all.
func (t *RetryTransport) rateLimitWait(resp *http.Response) (time.Duration, bool) {
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return 0, false
	}
	if d, ok := retryAfter(resp.Header); ok {
		return d, true
	}
	if resp.Header.Get("X-Ratelimit-Remaining") == "0" {
		reset, err := strconv.ParseInt(resp.Header.Get("X-Ratelimit-Reset"), 10, 64)
		if err != nil {
			return 0, false
		}
		now := time.Now
		if t.Policy.Now != nil {
			now = t.Policy.Now
		}
		d := time.Unix(reset, 0).Sub(now())
		if d < 0 {
			d = 0
		}
		return d + time.Second, true // the reset is whole seconds: add one so it has passed
	}
	return 0, false
}

// retryAfter reads a Retry-After header given in seconds.
func retryAfter(h http.Header) (time.Duration, bool) {
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}
