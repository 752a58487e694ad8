package gh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// RetryPolicy says which failed GitHub requests RetryTransport sends again and how long
// it waits first. A zero field means none (no budget, no jitter, no backoff cap, no
// attempt timeout), except SecondaryWait.
type RetryPolicy struct {
	// MaxRetries bounds the retries of one request.
	MaxRetries int
	// MaxWait is the longest single rate-limit wait slept through; when GitHub asks for
	// longer, its answer goes to the caller (go-github's RateLimitError or AbuseRateLimitError).
	MaxWait time.Duration
	// Budget bounds the sum of the waits of one request: a wait that would go past it is
	// not started, and the last answer or error goes to the caller.
	Budget time.Duration
	// BaseDelay is the backoff before the first retry of a server error or a connection
	// failure; it doubles with each such retry, up to MaxDelay.
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// Jitter lengthens each backoff by a random fraction of itself, at most Jitter
	// (0.5: a backoff d becomes a wait in [d, 1.5d)). Rate-limit waits are GitHub's own and
	// are not jittered.
	Jitter float64
	// SecondaryWait is the wait for a secondary rate limit that names none (no Retry-After):
	// GitHub asks for at least a minute. Zero is one minute.
	SecondaryWait time.Duration
	// AttemptTimeout bounds one attempt: its answer and the reading of its body.
	AttemptTimeout time.Duration
	// Sleep waits for d or until ctx ends; nil sleeps for real.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock used to read x-ratelimit-reset and deadlines; nil is time.Now.
	Now func() time.Time
	// Rand returns a number in [0, 1) for the jitter; nil is math/rand/v2.
	Rand func() float64
}

// DefaultRetryPolicy retries a request at most 4 times within 30 s of waits: backoff from
// 500 ms doubling to 8 s with up to 50% jitter, rate-limit waits of up to 10 s each, and
// 30 s per attempt.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{
		MaxRetries: 4, MaxWait: 10 * time.Second, Budget: 30 * time.Second,
		BaseDelay: 500 * time.Millisecond, MaxDelay: 8 * time.Second, Jitter: 0.5,
		SecondaryWait: time.Minute, AttemptTimeout: 30 * time.Second,
	}
}

// RetryTransport is an http.RoundTripper that sends a GitHub request again when GitHub
// did not carry it out, or when carrying it out twice does no harm:
//
//   - a rate limit, whatever the method, when the wait is short (403 or 429 with
//     Retry-After; x-ratelimit-remaining: 0 until x-ratelimit-reset; a 429, or a 403 whose
//     body says "secondary rate limit", for SecondaryWait): GitHub refused the request;
//   - 500, 502, 503 and 504, connection failures and attempt timeouts, for GET, HEAD,
//     OPTIONS, PUT, PATCH and DELETE (repeating them does no harm), with exponential
//     backoff and jitter (and at least the Retry-After a 503 may send);
//   - for POST, only a connection failure before the request was written (refused, reset
//     or closed while sending it): a POST that GitHub answered 5xx, or that failed after
//     it was sent, may have been carried out and goes to the caller (see MayHaveApplied).
//
// A request whose body cannot be rewound (no GetBody) is never sent again. Every wait
// counts against the policy's Budget and ends before the request's context deadline.
// Retries are logged at info level through the request context's zerolog logger, with
// the method, path, cause and wait: never a header, query or body.
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

// replayable reports whether sending a request of this method twice has the effect of sending it once.
func replayable(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// retry is what one answer calls for.
type retry struct {
	again bool
	wait  time.Duration // a rate limit's wait, or the least wait of a backoff (a 503's Retry-After)
	limit bool          // a rate limit: wait exactly, at most MaxWait
	cause string        // for the log
}

// RoundTrip implements http.RoundTripper.
func (t *RetryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	p := t.Policy
	ctx := req.Context()
	rewindable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	var slept time.Duration
	backoffs := 0
	for attempt := 0; ; attempt++ {
		areq := req
		if attempt > 0 && req.Body != nil && req.Body != http.NoBody {
			body, err := req.GetBody()
			if err != nil {
				return nil, fmt.Errorf("rewind request body for retry: %w", err)
			}
			areq = req.Clone(ctx)
			areq.Body = body
		}
		resp, wrote, err := t.attempt(areq)
		r := t.classify(req, resp, err, wrote)
		if !r.again || attempt >= p.MaxRetries || !rewindable {
			return resp, err
		}
		wait := r.wait
		if !r.limit {
			if d := t.backoff(backoffs); d > wait {
				wait = d
			}
			backoffs++
		} else if wait > p.MaxWait {
			return resp, err
		}
		if p.Budget > 0 && slept+wait > p.Budget {
			return resp, err
		}
		if dl, ok := ctx.Deadline(); ok && !t.now().Add(wait).Before(dl) {
			return resp, err
		}
		if resp != nil {
			// Drain so the connection is reused.
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		zerolog.Ctx(ctx).Info().Str("method", req.Method).Str("path", req.URL.Path).Str("cause", r.cause).
			Int("retry", attempt+1).Dur("wait", wait).Msg("GitHub request retried")
		if err := t.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("waiting %s to retry a GitHub request (%s): %w", wait, r.cause, err)
		}
		slept += wait
	}
}

// attempt sends req once, within AttemptTimeout, and reports whether the request was
// written out in full (for a POST only: whether other methods were does not matter).
func (t *RetryTransport) attempt(req *http.Request) (*http.Response, bool, error) {
	ctx := req.Context()
	actx, cancel := ctx, context.CancelFunc(func() {})
	if d := t.Policy.AttemptTimeout; d > 0 {
		actx, cancel = context.WithTimeout(ctx, d)
	}
	var wrote atomic.Bool // set by the transport's writing goroutine
	if !replayable(req.Method) {
		actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
			WroteRequest: func(i httptrace.WroteRequestInfo) {
				if i.Err == nil {
					wrote.Store(true)
				}
			},
		})
	}
	if actx != ctx {
		req = req.WithContext(actx)
	}
	resp, err := t.Base.RoundTrip(req)
	if err != nil {
		timedOut := actx.Err() != nil && ctx.Err() == nil
		cancel()
		if timedOut {
			err = &attemptTimeout{after: t.Policy.AttemptTimeout, err: err}
		}
		return nil, wrote.Load(), err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, wrote.Load(), nil
}

// attemptTimeout is an attempt that GitHub did not answer within AttemptTimeout.
type attemptTimeout struct {
	after time.Duration
	err   error
}

func (e *attemptTimeout) Error() string {
	return fmt.Sprintf("GitHub did not answer within %s: %v", e.after, e.err)
}
func (e *attemptTimeout) Unwrap() error { return e.err }
func (e *attemptTimeout) Timeout() bool { return true }

// cancelOnClose ends an attempt's context once its body has been read and closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// classify says whether the answer (resp or err) to req calls for a retry.
func (t *RetryTransport) classify(req *http.Request, resp *http.Response, err error, wrote bool) retry {
	if err != nil {
		if req.Context().Err() != nil {
			return retry{} // the caller gave up
		}
		var at *attemptTimeout
		cause := "connection failed"
		if errors.As(err, &at) {
			cause = "timeout"
		}
		if replayable(req.Method) || !wrote {
			return retry{again: true, cause: cause}
		}
		return retry{}
	}
	if wait, ok := t.rateLimitWait(resp); ok {
		return retry{again: true, wait: wait, limit: true, cause: fmt.Sprintf("rate limit (%d)", resp.StatusCode)}
	}
	switch resp.StatusCode {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		if !replayable(req.Method) {
			return retry{} // GitHub may have carried it out
		}
		ra, _ := retryAfter(resp.Header)
		return retry{again: true, wait: ra, cause: strconv.Itoa(resp.StatusCode)}
	}
	return retry{}
}

// backoff is the wait before the n-th retry (from 0) of a server error or connection
// failure: BaseDelay doubled n times, at most MaxDelay, lengthened by up to Jitter of itself.
func (t *RetryTransport) backoff(n int) time.Duration {
	p := t.Policy
	d := p.BaseDelay
	for i := 0; i < n && d > 0; i++ {
		if p.MaxDelay > 0 && d >= p.MaxDelay {
			break
		}
		d *= 2
	}
	if p.MaxDelay > 0 && d > p.MaxDelay {
		d = p.MaxDelay
	}
	if p.Jitter > 0 && d > 0 {
		r := rand.Float64
		if p.Rand != nil {
			r = p.Rand
		}
		d += time.Duration(r() * p.Jitter * float64(d))
	}
	return d
}

func (t *RetryTransport) now() time.Time {
	if t.Policy.Now != nil {
		return t.Policy.Now()
	}
	return time.Now()
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
		d := time.Unix(reset, 0).Sub(t.now())
		if d < 0 {
			d = 0
		}
		return d + time.Second, true // the reset is whole seconds: add one so it has passed
	}
	if resp.StatusCode == http.StatusTooManyRequests || saysSecondaryLimit(resp) {
		if d := t.Policy.SecondaryWait; d > 0 {
			return d, true
		}
		return time.Minute, true
	}
	return 0, false
}

// saysSecondaryLimit reports whether a 403's body names a secondary rate limit; the body
// is left readable for the caller.
func saysSecondaryLimit(resp *http.Response) bool {
	if resp.Body == nil {
		return false
	}
	head, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	if err != nil {
		return false
	}
	return strings.Contains(strings.ToLower(string(head)), "secondary rate limit")
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
