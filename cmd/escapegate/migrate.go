package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/app/config"
	"github.com/escapegate/escapegate/app/server"
	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/open"
)

// openStore opens the configured store, saying what to do when serve holds a bbolt file.
func openStore(ctx context.Context, cfg config.Config) (store.Store, error) {
	st, err := open.Open(ctx, cfg.Store)
	if err != nil {
		// The driver's error may quote the DSN: its passwords are taken out. Only the
		// lock is kept as a cause (report asks a running serve when it sees it); the
		// driver's own error, which may hold the DSN, is not wrapped.
		return nil, scrubbedError{msg: fmt.Sprintf("opening store %s: %s", redactDSN(cfg.Store), scrubDSN(err.Error(), cfg.Store)), locked: errors.Is(err, store.ErrLocked)}
	}
	return st, nil
}

// scrubbedError is a store error whose text had its DSN passwords taken out.
type scrubbedError struct {
	msg    string
	locked bool
}

func (e scrubbedError) Error() string { return e.msg }

func (e scrubbedError) Unwrap() error {
	if e.locked {
		return store.ErrLocked
	}
	return nil
}

// fingerprintKeyOptions: fingerprint_key, fingerprint_key_path, else a file next to the
// bbolt store (<db>.fingerprint-key); PostgreSQL has no default and refuses to start.
func fingerprintKeyOptions(cfg config.Config, log zerolog.Logger) server.KeyOptions {
	o := server.KeyOptions{Key: cfg.FingerprintKey, Path: cfg.FingerprintKeyPath, Log: log}
	if kind, target, err := open.Parse(cfg.Store); err == nil && kind == open.Bolt {
		o.DefaultPath = target + ".fingerprint-key"
	}
	return o
}

func loadConfig(path string) (config.Config, error) {
	cfg, err := config.Load(path, nil)
	if err != nil {
		return config.Config{}, err
	}
	return cfg, nil
}

func runMigrate(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "server configuration file (YAML)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, "escapegate migrate:", err)
		return 2
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "escapegate migrate:", err)
		return 1
	}
	defer st.Close()
	before, err := st.SchemaVersion(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "escapegate migrate:", err)
		return 1
	}
	if err := st.Migrate(ctx); err != nil {
		fmt.Fprintln(stderr, "escapegate migrate:", err)
		return 1
	}
	fmt.Fprintf(stdout, "store schema: version %d → %d (this build writes %d)\n", before, store.SchemaVersion, store.SchemaVersion)
	return 0
}
