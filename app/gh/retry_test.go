package gh_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/gh"
)

// fault is how the test server answers a request it is told to fail.
type fault string

const (
	answer500       fault = "500"
	answer502       fault = "502"
	answer503       fault = "503"
	answer504       fault = "504"
	answer503After  fault = "503 with Retry-After: 3"
	answer429After  fault = "429 with Retry-After: 2"
	answer403After  fault = "403 with Retry-After: 2"
	answer403Body   fault = "403 secondary rate limit, no Retry-After"
	answer429Bare   fault = "429, no Retry-After"
	answerPrimary   fault = "403 x-ratelimit-remaining: 0, reset in 2 s"
	answer403       fault = "403 forbidden"
	answer404       fault = "404"
	answer422       fault = "422"
	dropAfterRead   fault = "connection closed after the request was read"
	hangPastTimeout fault = "no answer within the attempt timeout"
	refused         fault = "connection refused"
)

// clock is the test's fixed now, for x-ratelimit-reset.
var clock = time.Unix(1_700_000_000, 0)

// faultServer fails the first n requests as f says, then answers 200 {"ok":true}. It
// records the bodies it received.
type faultServer struct {
	ts     *httptest.Server
	f      fault
	n      int
	hits   atomic.Int64
	mu     sync.Mutex
	bodies []string
}

func newFaultServer(t *testing.T, f fault, n int) *faultServer {
	t.Helper()
	s := &faultServer{f: f, n: n}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.ts.Close)
	return s
}

func (s *faultServer) serve(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.bodies = append(s.bodies, string(b))
	s.mu.Unlock()
	if int(s.hits.Add(1)) > s.n {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
		return
	}
	msg := func(status int, body string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
	switch s.f {
	case answer500, answer502, answer503, answer504, answer404, answer422, answer403:
		var code int
		fmt.Sscan(string(s.f), &code)
		msg(code, `{"message":"failed"}`)
	case answer503After:
		w.Header().Set("Retry-After", "3")
		msg(503, `{"message":"unavailable"}`)
	case answer429After:
		w.Header().Set("Retry-After", "2")
		msg(429, `{"message":"You have exceeded a secondary rate limit."}`)
	case answer403After:
		w.Header().Set("Retry-After", "2")
		msg(403, `{"message":"You have exceeded a secondary rate limit."}`)
	case answer403Body:
		msg(403, `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}`)
	case answer429Bare:
		msg(429, `{"message":"Too many requests"}`)
	case answerPrimary:
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", fmt.Sprint(clock.Unix()+2))
		msg(403, `{"message":"API rate limit exceeded"}`)
	case dropAfterRead:
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	case hangPastTimeout:
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}
}

// countingTransport counts the attempts that reach the network.
type countingTransport struct {
	base http.RoundTripper
	n    atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(r)
}

// testPolicy is the default policy without jitter, waits recorded instead of slept.
func testPolicy(s *sleeps) gh.RetryPolicy {
	p := gh.DefaultRetryPolicy()
	p.Jitter = 0
	p.Sleep = s.sleep
	p.Now = func() time.Time { return clock }
	return p
}

// send makes one request through a RetryTransport with policy p and returns the final
// status (0 for an error) and body.
func send(t *testing.T, p gh.RetryPolicy, method, url string) (int, string, int64, error) {
	t.Helper()
	base := &countingTransport{base: http.DefaultTransport.(*http.Transport).Clone()}
	c := &http.Client{Transport: gh.NewRetryTransport(base, p)}
	var body io.Reader
	if method != http.MethodGet && method != http.MethodHead && method != http.MethodDelete {
		body = strings.NewReader(`{"name":"escapegate"}`)
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", base.n.Load(), err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), base.n.Load(), nil
}

// closedURL is the address of a server that is no longer listening.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String() + "/repos/o/r"
	l.Close()
	return u
}

// TestRetryRules is the retry table: each fault, failing once, for each method, is
// retried or not, with the wait it calls for.
func TestRetryRules(t *testing.T) {
	methods := []string{"GET", "HEAD", "PUT", "PATCH", "DELETE", "POST"}
	tests := []struct {
		f fault
		// retried: which methods are sent again; wait: the one wait expected then.
		replayable, post bool
		wait             time.Duration
	}{
		{answer500, true, false, 500 * time.Millisecond},
		{answer502, true, false, 500 * time.Millisecond},
		{answer503, true, false, 500 * time.Millisecond},
		{answer504, true, false, 500 * time.Millisecond},
		{answer503After, true, false, 3 * time.Second},
		{answer429After, true, true, 2 * time.Second},
		{answer403After, true, true, 2 * time.Second},
		{answer403Body, true, true, 2 * time.Second}, // SecondaryWait is 2 s here
		{answer429Bare, true, true, 2 * time.Second},
		{answerPrimary, true, true, 3 * time.Second}, // the reset, plus a second
		{answer403, false, false, 0},
		{answer404, false, false, 0},
		{answer422, false, false, 0},
		{dropAfterRead, true, false, 500 * time.Millisecond},
		{hangPastTimeout, true, false, 500 * time.Millisecond},
		{refused, true, true, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		for _, m := range methods {
			retried := tt.replayable
			if m == "POST" {
				retried = tt.post
			}
			if m == "HEAD" && tt.f == answer403Body {
				retried = false // a HEAD answer has no body to name the limit
			}
			t.Run(string(tt.f)+"/"+m, func(t *testing.T) {
				s := &sleeps{}
				p := testPolicy(s)
				p.SecondaryWait = 2 * time.Second
				p.AttemptTimeout = 0
				if tt.f == hangPastTimeout {
					p.AttemptTimeout = 100 * time.Millisecond
				}
				var url string
				if tt.f == refused {
					url = closedURL(t)
					p.MaxRetries = 1 // nothing ever listens: one retry, then the error
				} else {
					url = newFaultServer(t, tt.f, 1).ts.URL + "/repos/o/r"
				}
				status, _, attempts, err := send(t, p, m, url)
				waits := s.all()
				switch {
				case tt.f == refused:
					if err == nil {
						t.Fatalf("no error from a refused connection")
					}
					if want := map[bool]int64{true: 2, false: 1}[retried]; attempts != want {
						t.Fatalf("%d attempts, want %d", attempts, want)
					}
				case retried:
					if err != nil || status != 200 || attempts != 2 {
						t.Fatalf("status %d, %d attempts, err %v; want 200 after one retry", status, attempts, err)
					}
				default:
					if attempts != 1 {
						t.Fatalf("%d attempts, want 1 (not retried)", attempts)
					}
					if err == nil && status == 200 {
						t.Fatalf("status 200: the fault was retried")
					}
				}
				if !retried {
					if len(waits) != 0 {
						t.Fatalf("waited %v without retrying", waits)
					}
					return
				}
				if len(waits) != 1 || waits[0] != tt.wait {
					t.Fatalf("waits %v, want [%s]", waits, tt.wait)
				}
			})
		}
	}
}

// TestRetryBackoffAndBudget: a fault that does not go away is retried with doubling
// waits until MaxRetries or the budget runs out, and the last answer is returned whole.
func TestRetryBackoffAndBudget(t *testing.T) {
	tests := []struct {
		name      string
		f         fault
		budget    time.Duration
		retries   int
		wantWaits []time.Duration
	}{
		{"retries run out", answer502, 30 * time.Second, 4, []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second}},
		{"budget runs out", answer500, 2 * time.Second, 10, []time.Duration{500 * time.Millisecond, time.Second}},
		{"capped at MaxDelay", answer503, time.Minute, 6, []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}},
		{"rate limit within budget", answer429After, 5 * time.Second, 10, []time.Duration{2 * time.Second, 2 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sleeps{}
			p := testPolicy(s)
			p.Budget, p.MaxRetries = tt.budget, tt.retries
			srv := newFaultServer(t, tt.f, 100)
			status, body, attempts, err := send(t, p, "GET", srv.ts.URL+"/x")
			if err != nil {
				t.Fatal(err)
			}
			if status == 200 || !strings.Contains(body, "message") {
				t.Fatalf("final answer %d %q, want the last fault's answer", status, body)
			}
			if got := s.all(); fmt.Sprint(got) != fmt.Sprint(tt.wantWaits) {
				t.Fatalf("waits %v, want %v", got, tt.wantWaits)
			}
			if attempts != int64(len(tt.wantWaits)+1) {
				t.Fatalf("%d attempts, want %d", attempts, len(tt.wantWaits)+1)
			}
		})
	}
}

// TestRetryJitterBounded: with jitter, each backoff d becomes a wait in [d, d·(1+Jitter)).
func TestRetryJitterBounded(t *testing.T) {
	s := &sleeps{}
	p := testPolicy(s)
	p.Jitter = 0.5
	p.MaxRetries = 4
	srv := newFaultServer(t, answer500, 100)
	for i := 0; i < 20; i++ {
		if _, _, _, err := send(t, p, "GET", srv.ts.URL); err != nil {
			t.Fatal(err)
		}
	}
	waits := s.all()
	if len(waits) != 80 {
		t.Fatalf("%d waits, want 80", len(waits))
	}
	distinct := map[time.Duration]bool{}
	for i, w := range waits {
		d := 500 * time.Millisecond << (i % 4)
		if w < d || w >= d+d/2 {
			t.Errorf("wait %d is %s, outside [%s, %s)", i, w, d, d+d/2)
		}
		distinct[w] = true
	}
	if len(distinct) < 10 {
		t.Errorf("only %d distinct waits in 80: no jitter?", len(distinct))
	}
}

// TestRetryLongWaitsGoToTheCaller: rate limits longer than MaxWait, and the minute GitHub
// asks for after a secondary limit that names no wait, are not slept through.
func TestRetryLongWaitsGoToTheCaller(t *testing.T) {
	for _, f := range []fault{answer403Body, answer429Bare} {
		t.Run(string(f), func(t *testing.T) {
			s := &sleeps{}
			p := testPolicy(s) // SecondaryWait: a minute, MaxWait 10 s
			srv := newFaultServer(t, f, 1)
			status, body, attempts, err := send(t, p, "POST", srv.ts.URL)
			if err != nil || attempts != 1 || len(s.all()) != 0 {
				t.Fatalf("status %d, %d attempts, waits %v, err %v", status, attempts, s.all(), err)
			}
			if !strings.Contains(body, "rate limit") && !strings.Contains(body, "Too many") {
				t.Fatalf("the answer's body was not passed on whole: %q", body)
			}
		})
	}
}

// TestRetryResendsTheBody: a retried request carries its whole body again; one whose body
// cannot be rewound is not retried.
func TestRetryResendsTheBody(t *testing.T) {
	s := &sleeps{}
	srv := newFaultServer(t, answer502, 2)
	status, _, attempts, err := send(t, testPolicy(s), "PATCH", srv.ts.URL)
	if err != nil || status != 200 || attempts != 3 {
		t.Fatalf("status %d, %d attempts, err %v", status, attempts, err)
	}
	for i, b := range srv.bodies {
		if b != `{"name":"escapegate"}` {
			t.Errorf("attempt %d sent body %q", i+1, b)
		}
	}

	srv = newFaultServer(t, answer502, 1)
	req, _ := http.NewRequest("PATCH", srv.ts.URL, io.NopCloser(strings.NewReader("x"))) // no GetBody
	resp, err := (&http.Client{Transport: gh.NewRetryTransport(nil, testPolicy(s))}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 502 || srv.hits.Load() != 1 {
		t.Fatalf("a body that cannot be rewound: status %d after %d requests", resp.StatusCode, srv.hits.Load())
	}
}

// TestRetryStopsBeforeTheDeadline: no wait is started that would end after the request's deadline.
func TestRetryStopsBeforeTheDeadline(t *testing.T) {
	s := &sleeps{}
	p := testPolicy(s)
	p.Now = time.Now
	srv := newFaultServer(t, answer503After, 1) // asks for 3 s
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.ts.URL, nil)
	resp, err := (&http.Client{Transport: gh.NewRetryTransport(nil, p)}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || len(s.all()) != 0 {
		t.Fatalf("status %d, waits %v: want the 503, no wait", resp.StatusCode, s.all())
	}
}

// TestRetryAttemptTimeoutCoversTheBody: the per-attempt timeout ends only once the body is
// closed, so a slow but answered request is read whole.
func TestRetryAttemptTimeoutCoversTheBody(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.(http.Flusher).Flush()
		time.Sleep(20 * time.Millisecond)
		_, _ = w.Write([]byte("whole"))
	}))
	defer ts.Close()
	s := &sleeps{}
	p := testPolicy(s)
	p.AttemptTimeout = 2 * time.Second
	status, body, attempts, err := send(t, p, "GET", ts.URL)
	if err != nil || status != 200 || body != "whole" || attempts != 1 {
		t.Fatalf("status %d body %q attempts %d err %v", status, body, attempts, err)
	}
}
