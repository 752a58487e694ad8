package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/escapegate/escapegate/app/config"
	"github.com/escapegate/escapegate/app/escaperate"
	"github.com/escapegate/escapegate/app/render"
	"github.com/escapegate/escapegate/app/server"
	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/open"
)

func runReport(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "server configuration file (the same as serve's)")
	repo := fs.String("repo", "", "repository OWNER/NAME")
	window := fs.String("window", "90d", "rolling window, e.g. 90d")
	format := fs.String("format", "text", "text or json")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *repo == "" {
		fmt.Fprintln(stderr, "escapegate report: --repo OWNER/NAME is required")
		return 2
	}
	if _, err := escaperate.ParseWindow(*window); err != nil {
		fmt.Fprintln(stderr, "escapegate report:", err)
		return 2
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, "escapegate report:", err)
		return 2
	}
	st, err := openStoreReadOnly(ctx, cfg)
	if errors.Is(err, store.ErrLocked) {
		// serve holds the bbolt file: ask it over loopback instead.
		body, ferr := reportFromServer(ctx, cfg, *repo, *window, *format)
		if ferr != nil {
			fmt.Fprintf(stderr, "escapegate report: %v\nThe store %s is held by a running `escapegate serve`, and asking it at %s failed: %v\n"+
				"Run report on the host where serve listens, or use a postgres:// store for several processes.\n", err, redactDSN(cfg.Store), cfg.Listen, ferr)
			return 1
		}
		_, _ = stdout.Write(body)
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "escapegate report:", err)
		return 1
	}
	defer st.Close()
	r, err := escaperate.ForRepo(ctx, st, *repo, *window, time.Now())
	var body []byte
	if err == nil {
		body, _, err = render.ReportAs(r, *format)
	}
	if err != nil {
		fmt.Fprintln(stderr, "escapegate report:", err)
		return 1
	}
	_, _ = stdout.Write(body)
	return 0
}

// openStoreReadOnly opens the configured store for reading only (open.OpenReadOnly): a
// report's cost then does not grow with the size of a bbolt file.
func openStoreReadOnly(ctx context.Context, cfg config.Config) (store.Store, error) {
	st, err := open.OpenReadOnly(ctx, cfg.Store)
	if errors.Is(err, store.ErrLocked) {
		return nil, err // a bolt file held by serve: its error names the path, not a DSN
	}
	if err != nil {
		// The driver's error may quote the DSN: its passwords are taken out.
		return nil, fmt.Errorf("opening store %s: %s", redactDSN(cfg.Store), scrubDSN(err.Error(), cfg.Store))
	}
	return st, nil
}

// reportFromServer asks a running serve on its loopback report endpoint.
func reportFromServer(ctx context.Context, cfg config.Config, repo, window, format string) ([]byte, error) {
	return callServer(ctx, cfg, http.MethodGet, "/api/report", url.Values{"repo": {repo}, "window": {window}, "format": {format}})
}

// callServer calls a running serve's loopback API (the operator's commands use it while
// serve holds the bbolt file).
func callServer(ctx context.Context, cfg config.Config, method, path string, q url.Values) ([]byte, error) {
	host := cfg.Listen
	if i := strings.LastIndex(host, ":"); i >= 0 {
		switch h := host[:i]; h {
		case "", "0.0.0.0", "[::]", "::":
			host = "127.0.0.1" + host[i:]
		}
	}
	u := "http://" + host + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set(server.CLIHeader, "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return body, nil
}
