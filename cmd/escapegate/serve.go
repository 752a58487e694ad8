package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/app/config"
	"github.com/escapegate/escapegate/app/dashboard"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/server"
)

func newLogger(w io.Writer, level string) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		lvl = zerolog.InfoLevel
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger()
}

// uiOptions configures the dashboard from the ui block (nil when ui.enabled is false):
// sign-in with the app's OAuth client, cookies signed with the session key.
func uiOptions(cfg config.Config, fingerprintKey []byte, log zerolog.Logger) (*dashboard.Options, error) {
	if !cfg.UI.Enabled {
		return nil, nil
	}
	key, err := dashboard.SessionKey(cfg.UI.SessionKey, cfg.UI.SessionKeyPath, fingerprintKey)
	if err != nil {
		return nil, err
	}
	limits, facets, err := server.DashboardGitHub(cfg.GitHub, "escapegate/"+version)
	if err != nil {
		return nil, err
	}
	base := cfg.PublicURL
	if base == "" {
		base = "http://" + cfg.Listen
	}
	if cfg.GitHub.OAuth.ClientID == "" || cfg.GitHub.OAuth.ClientSecret == "" {
		log.Warn().Msg("the dashboard at /ui cannot sign anyone in: github.oauth.client_id and client_secret are not set (escapegate register saves them)")
	}
	return &dashboard.Options{
		Teams: cfg.UI.TeamList(), ClientID: cfg.GitHub.OAuth.ClientID, ClientSecret: cfg.GitHub.OAuth.ClientSecret,
		WebURL: cfg.GitHub.WebURL, APIURL: cfg.GitHub.V3APIURL, BaseURL: base,
		SessionKey: key, SessionTTL: cfg.UI.SessionTTL, Refresh: cfg.UI.Refresh, RateLimits: limits, RepoFacets: facets,
	}, nil
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
	// GitHub's revocation API refuses authenticated requests: a client of its own, no credentials.
	revoker, err := gh.NewRevoker(cfg.GitHub.V3APIURL, &http.Client{Timeout: 30 * time.Second})
	if err != nil {
		fmt.Fprintln(stderr, "escapegate serve:", err)
		return 1
	}
	ui, err := uiOptions(cfg, key, log)
	if err != nil {
		fmt.Fprintln(stderr, "escapegate serve:", err)
		return 1
	}
	srv, err := server.New(server.Options{
		Store: st, Clients: clients, WebhookSecret: cfg.GitHub.App.WebhookSecret, FingerprintKey: key,
		Logger: log, QueueSize: cfg.Queue.Size, Workers: cfg.Queue.Workers, QueueBytes: cfg.Queue.MaxBytes, PublicURL: cfg.PublicURL,
		PolicyTTL: cfg.PolicyTTL, InstallPace: cfg.InstallPace, Retry: cfg.Retry, AppID: cfg.GitHub.App.IntegrationID,
		Revoker: revoker, UI: ui,
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
