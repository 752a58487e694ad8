// Package server wires escapegate together: the webhook dispatcher (go-githubapp,
// signature check first), the bounded queue, the domain service, health,
// readiness, metrics and the loopback report endpoint.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/app/config"
	"github.com/escapegate/escapegate/app/dashboard"
	"github.com/escapegate/escapegate/app/escaperate"
	"github.com/escapegate/escapegate/app/gate"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/render"
	"github.com/escapegate/escapegate/app/summary"
	"github.com/escapegate/escapegate/checks/secrets"
	"github.com/escapegate/escapegate/handlers"
	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/postgres"
)

// HookPath is where GitHub delivers webhooks.
const HookPath = "/api/github/hook"

// Options configures New.
type Options struct {
	Store          store.Store
	Clients        gh.Factory
	WebhookSecret  string
	FingerprintKey []byte
	Logger         zerolog.Logger
	Now            func() time.Time
	QueueSize      int
	Workers        int
	// QueueBytes bounds the payload bytes waiting or in progress (default 256 MB).
	QueueBytes int64
	PublicURL  string
	// AppID is the GitHub App's id (github.app.integration_id).
	AppID int64
	// Revoker revokes GitHub tokens a PR adds where the org policy asks for it.
	Revoker     gh.Revoker
	PolicyTTL   time.Duration
	InstallPace time.Duration
	// InProgressAfter is gate.Options.InProgressAfter: how long a scan may take before
	// its check run is created in progress (0: gate.DefaultInProgressAfter).
	InProgressAfter time.Duration
	// Retry says how the durable inbox retries failed deliveries; zero fields take
	// config.Default's.
	Retry config.Retry
	// Secrets is a compiled engine of the default secret rules to share (nil: compile
	// one); tests and the demo start many servers in one process.
	Secrets *secrets.Engine
	// UI, when set, serves the dashboard at /ui/ (app/dashboard); the server fills its
	// store, clients, policy loader, inbox, clock and logger.
	UI *dashboard.Options
}

// Server is a wired escapegate.
type Server struct {
	gate    *gate.Service
	clients gh.Factory
	store   store.Store
	intake  intake
	inbox   deliveryInbox // nil when the store has none
	metrics *metrics
	log     zerolog.Logger
	handler http.Handler
	size    int

	mu       sync.Mutex
	problems map[string]string // readiness details that are not fatal (e.g. a summary repository missing)

	summaries *summary.Service
}

// New builds the server.
func New(o Options) (*Server, error) {
	if o.WebhookSecret == "" {
		return nil, errors.New("server: a webhook secret is required")
	}
	q := config.Queue{Size: o.QueueSize, Workers: o.Workers, MaxBytes: o.QueueBytes}.OrDefault()
	o.QueueSize, o.Workers, o.QueueBytes = q.Size, q.Workers, q.MaxBytes
	o.Retry = o.Retry.OrDefault()
	if o.Now == nil {
		o.Now = time.Now
	}
	g, err := gate.New(gate.Options{
		Store: o.Store, Clients: o.Clients, FingerprintKey: o.FingerprintKey, Now: o.Now,
		Logger: o.Logger, PublicURL: o.PublicURL, PolicyTTL: o.PolicyTTL, Secrets: o.Secrets, AppID: o.AppID, Revoker: o.Revoker,
		InProgressAfter: o.InProgressAfter,
	})
	if err != nil {
		return nil, err
	}
	g.SetApproverAttempts(o.Retry.MaxAttempts)
	s := &Server{gate: g, clients: o.Clients, store: o.Store, metrics: newMetrics(), log: o.Logger, size: o.QueueSize, problems: map[string]string{}}
	s.metrics.reg.MustRegister(g.Collectors()...)
	s.summaries = &summary.Service{Store: o.Store, Clients: o.Clients, Policy: g.Policy, Problem: s.SetProblem, Log: o.Logger}
	hs := handlers.All(handlers.Deps{Gate: g, Store: o.Store, Log: o.Logger, InstallPace: o.InstallPace, Now: o.Now})
	if pg, ok := o.Store.(*postgres.Store); ok {
		d, err := newRiver(pg.Pool(), hs, o, s.metrics)
		if err != nil {
			return nil, err
		}
		s.intake, s.inbox = d, d.in
	} else if in, ok := o.Store.(store.Inbox); ok {
		d, err := newLocal(in, hs, o, s.metrics)
		if err != nil {
			return nil, err
		}
		s.intake, s.inbox = d, d.in
	} else {
		s.intake = newQueue(o.QueueSize, o.Workers, o.QueueBytes, s.metrics, func(ctx context.Context, d githubapp.Dispatch, err error) {
			s.log.Error().Err(err).Str("event", d.EventType).Str("delivery", d.DeliveryID).Msg("webhook handling failed")
		})
	}
	dispatcher := githubapp.NewEventDispatcher(hs, o.WebhookSecret,
		githubapp.WithScheduler(s.intake),
		githubapp.WithErrorCallback(s.onError),
	)
	mux := http.NewServeMux()
	mux.Handle("POST "+HookPath, requireSHA256(limitBody(dispatcher, MaxPayloadBytes)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /api/report", loopbackOnly(s.reportAPI))
	mux.HandleFunc("GET /api/deliveries", loopbackOnly(s.listDeliveries))
	mux.HandleFunc("POST /api/deliveries/{id}/{action}", loopbackOnly(s.changeDelivery))
	if o.UI != nil {
		if err := s.mountUI(mux, *o.UI, g, o.Now); err != nil {
			return nil, err
		}
	}
	s.handler = s.withLogger(mux)
	return s, nil
}

// MaxPayloadBytes is GitHub's cap on a webhook payload (25 MB); larger bodies are refused
// before they are read into memory.
const MaxPayloadBytes = 25 << 20

// requireSHA256 refuses a delivery without X-Hub-Signature-256 (401) before anything is
// read: go-githubapp's validation (go-github's ValidatePayload) falls back to the SHA-1
// X-Hub-Signature when the SHA-256 header is absent, and escapegate accepts only SHA-256.
func requireSHA256(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Hub-Signature-256") == "" {
			http.Error(w, "missing X-Hub-Signature-256: deliveries must be signed with HMAC-SHA256", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func limitBody(next http.Handler, n int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > n {
			http.Error(w, "webhook payload too large", http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, n)
		next.ServeHTTP(w, r)
	})
}

// Handler is the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Gate is the domain service (for subcommands running in the same process).
func (s *Server) Gate() *gate.Service { return s.gate }

// Summaries is the monthly summary job (serve runs its Loop).
func (s *Server) Summaries() *summary.Service { return s.summaries }

// Wait blocks until every accepted webhook has been handled or dead-lettered (with
// production backoffs that can take hours: it is for tests and the demo).
func (s *Server) Wait() { s.intake.Wait() }

// Shutdown stops taking deliveries (they are answered 503 and stay in GitHub's log) and
// lets the running ones finish until ctx ends; the rest run at the next start.
func (s *Server) Shutdown(ctx context.Context) error { return s.intake.Shutdown(ctx) }

// SetProblem records (or clears, with why == "") a readiness detail.
func (s *Server) SetProblem(key, why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if why == "" {
		delete(s.problems, key)
		return
	}
	s.problems[key] = why
}

func (s *Server) withLogger(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// go-githubapp logs through the request context's zerolog logger.
		next.ServeHTTP(w, r.WithContext(s.log.WithContext(r.Context())))
	})
}

// onError answers refused deliveries: 400 for bad signatures and payloads (nothing is
// stored), 503 when the queue is full (GitHub shows it as failed; redeliver later).
func (s *Server) onError(w http.ResponseWriter, r *http.Request, err error) {
	var ve githubapp.ValidationError
	switch {
	case errors.As(err, &ve):
		s.metrics.rejected.WithLabelValues("invalid").Inc()
		s.log.Warn().Str("event", ve.EventType).Str("delivery", ve.DeliveryID).Err(ve.Cause).Msg("webhook refused")
		status := http.StatusBadRequest
		if strings.Contains(ve.Cause.Error(), "signature") || strings.Contains(ve.Cause.Error(), "HMAC") {
			status = http.StatusUnauthorized
		}
		http.Error(w, "invalid webhook: "+ve.Cause.Error(), status)
	case errors.Is(err, githubapp.ErrCapacityExceeded):
		s.metrics.rejected.WithLabelValues("capacity").Inc()
		w.Header().Set("Retry-After", "30")
		http.Error(w, "escapegate is at capacity; redeliver this event later", http.StatusServiceUnavailable)
	default:
		s.metrics.rejected.WithLabelValues("error").Inc()
		s.log.Error().Err(err).Msg("webhook dispatch failed")
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{}
	ready := true
	if _, err := s.store.SchemaVersion(ctx); err != nil {
		checks["store"] = "unreachable: " + err.Error()
		ready = false
	} else {
		checks["store"] = "ok"
	}
	if s.inbox != nil {
		// Dead letters do not make the server unready (a restart mends nothing), but
		// they are what an operator must look at.
		if n, err := s.inbox.Count(ctx); err != nil {
			checks["deliveries"] = "unreadable: " + err.Error()
		} else if n[store.DeliveryDead] > 0 {
			checks["deliveries"] = fmt.Sprintf("%d dead-lettered, %d pending: run `escapegate deliveries list --state dead`", n[store.DeliveryDead], n[store.DeliveryPending])
		} else {
			checks["deliveries"] = fmt.Sprintf("ok (%d pending)", n[store.DeliveryPending])
		}
	}
	s.mu.Lock()
	for k, v := range s.problems {
		checks[k] = v
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if !ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"ready": ready, "checks": checks})
}

// reportAPI serves `escapegate report` when serve holds the bbolt file (loopbackOnly:
// it is for the operator on the same host, not for the internet).
func (s *Server) reportAPI(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rep, err := escaperate.ForRepo(r.Context(), s.store, q.Get("repo"), q.Get("window"), time.Now())
	var body []byte
	var ctype string
	if err == nil {
		body, ctype, err = render.ReportAs(rep, q.Get("format"))
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", ctype)
	_, _ = w.Write(body)
}

// proxied reports whether a reverse proxy forwarded r: behind a proxy or a mesh sidecar on
// the same host, every request arrives from loopback, the internet's included.
func proxied(r *http.Request) bool {
	for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip", "Via"} {
		if r.Header.Get(h) != "" {
			return true
		}
	}
	return false
}

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }
