package main

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/app/config"
	"github.com/escapegate/escapegate/app/gate"
	"github.com/escapegate/escapegate/app/recovery"
	"github.com/escapegate/escapegate/app/server"
	"github.com/escapegate/escapegate/handlers"
	"github.com/escapegate/escapegate/store"
)

// startRecovery starts the sweep of failed deliveries and the reconcile of installations
// (app/recovery) with serve's settings, its series on /metrics. The loop begins once
// the server listens, so that the first redeliveries find it.
func startRecovery(ctx context.Context, cfg config.Config, st store.Store, srv *server.Server, log zerolog.Logger) error {
	app, err := server.GitHubApp(cfg.GitHub, "escapegate/"+version)
	if err != nil {
		return err
	}
	r := cfg.Recovery
	rec, err := recovery.New(recovery.Options{App: app, Store: st, Gate: srv.Gate(), Log: log,
		Interval: r.Interval, Window: r.Window, MaxPerRun: r.MaxPerRun, Pace: r.Pace,
		InstallationsInterval: r.InstallationsInterval, ExpiryInterval: r.ExpiryInterval, Events: handlers.Events()})
	if err != nil {
		return err
	}
	if err := srv.RegisterMetrics(rec.Metrics().Collectors()...); err != nil {
		return fmt.Errorf("registering the recovery metrics: %w", err)
	}
	go func() {
		waitListening(ctx, cfg.Listen, 30*time.Second)
		rec.Loop(ctx)
	}()
	return nil
}

// waitListening returns once addr accepts connections (or after limit, or when ctx ends).
func waitListening(ctx context.Context, addr string, limit time.Duration) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	target := net.JoinHostPort(host, port)
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if c, err := net.DialTimeout("tcp", target, time.Second); err == nil {
			c.Close()
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// reconcileInstallations brings the store's installations in line with GitHub's list
// once (for `escapegate summary` when the store lacks the org's installation).
func reconcileInstallations(ctx context.Context, cfg config.Config, st store.Store, log zerolog.Logger) error {
	app, err := server.GitHubApp(cfg.GitHub, "escapegate/"+version)
	if err != nil {
		return err
	}
	clients, err := server.AppClients(cfg.GitHub, "escapegate/"+version)
	if err != nil {
		return err
	}
	key, err := server.FingerprintKey(ctx, st, fingerprintKeyOptions(cfg, log))
	if err != nil {
		return err
	}
	g, err := gate.New(gate.Options{Store: st, Clients: clients, FingerprintKey: key, Logger: log})
	if err != nil {
		return err
	}
	rec, err := recovery.New(recovery.Options{App: app, Store: st, Gate: g, Log: log, Pace: cfg.Recovery.Pace})
	if err != nil {
		return err
	}
	_, err = rec.Reconcile(ctx)
	return err
}
