package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/pprof"
	"time"

	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/app/server"
)

func newLogger(w io.Writer, level string) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		lvl = zerolog.InfoLevel
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger()
}

// startCPUProfile profiles the process until the returned stop is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }, nil
}

func runServe(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "server configuration file (YAML); every key may also come from ESCAPEGATE_*")
	cpuProfile := fs.String("cpu-profile", "", "write a CPU profile of the whole run to this `file` (for `go tool pprof`)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "escapegate serve:", err)
			return 1
		}
		defer stop()
	}
	cfg, err := loadConfig(*cfgPath)
	if err == nil {
		err = cfg.ValidateServe()
	}
	if err != nil {
		fmt.Fprintln(stderr, "escapegate serve:", err)
		return 2
	}
	log := newLogger(stderr, cfg.LogLevel)
	st, err := openStore(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "escapegate serve:", err)
		return 1
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		fmt.Fprintln(stderr, "escapegate serve: migrating store:", err)
		return 1
	}
	key, err := server.FingerprintKey(ctx, st, fingerprintKeyOptions(cfg, log))
	if err != nil {
		fmt.Fprintln(stderr, "escapegate serve:", err)
		return 1
	}
	clients, err := server.AppClients(cfg.GitHub, "escapegate/"+version)
	if err != nil {
		fmt.Fprintln(stderr, "escapegate serve:", err)
		return 1
	}
	srv, err := server.New(server.Options{
		Store: st, Clients: clients, WebhookSecret: cfg.GitHub.App.WebhookSecret, FingerprintKey: key,
		Logger: log, QueueSize: cfg.Queue.Size, Workers: cfg.Queue.Workers, QueueBytes: cfg.Queue.MaxBytes, PublicURL: cfg.PublicURL,
		PolicyTTL: cfg.PolicyTTL, InstallPace: cfg.InstallPace, Retry: cfg.Retry,
	})
	if err != nil {
		fmt.Fprintln(stderr, "escapegate serve:", err)
		return 1
	}
	go srv.Summaries().Loop(ctx, time.Hour)
	if err := startRecovery(ctx, cfg, st, srv, log); err != nil {
		fmt.Fprintln(stderr, "escapegate serve:", err)
		return 1
	}
	hs := &http.Server{Addr: cfg.Listen, Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, MaxHeaderBytes: 1 << 20}
	errc := make(chan error, 1)
	go func() { errc <- hs.ListenAndServe() }()
	log.Info().Str("listen", cfg.Listen).Str("store", redactDSN(cfg.Store)).Str("version", version).Msg("escapegate serving")
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(stderr, "escapegate serve:", err)
			return 1
		}
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = hs.Shutdown(shutdown)
	if err := srv.Shutdown(shutdown); err != nil {
		log.Warn().Err(err).Msg("shutdown timed out with webhooks still in progress")
	}
	fmt.Fprintln(stdout, "escapegate stopped")
	_ = os.Stdout.Sync()
	return 0
}
