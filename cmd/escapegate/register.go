package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"gopkg.in/yaml.v3"
)

// manifestConversion is GitHub's answer to POST /app-manifests/{code}/conversions.
type manifestConversion struct {
	ID            int64  `json:"id"`
	Slug          string `json:"slug"`
	HTMLURL       string `json:"html_url"`
	ClientID      string `json:"client_id"`
	ClientSecret  string `json:"client_secret"`
	WebhookSecret string `json:"webhook_secret"`
	PEM           string `json:"pem"`
}

// loadManifest reads app.yml and points its webhook and redirect at this deployment.
func loadManifest(path, publicURL, redirect string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading manifest: %w", err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if publicURL != "" {
		m["hook_attributes"] = map[string]any{"url": strings.TrimRight(publicURL, "/") + "/api/github/hook", "active": true}
		// The dashboard's GitHub sign-in returns here (GitHub accepts only listed callbacks).
		m["callback_urls"] = []any{strings.TrimRight(publicURL, "/") + "/ui/auth/callback"}
	}
	m["redirect_url"] = redirect
	return m, nil
}

var registerPage = template.Must(template.New("p").Parse(`<!doctype html><html><body>
<p>Creating the escapegate GitHub App{{if .Org}} for the organization <b>{{.Org}}</b>{{end}}.</p>
<form id="f" method="post" action="{{.Action}}"><input type="hidden" name="manifest" value="{{.Manifest}}">
<button type="submit">Create the GitHub App on GitHub</button></form>
<script>document.getElementById("f").submit()</script></body></html>`))

func runRegister(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("register", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "server configuration file (YAML); web_url, v3_api_url and public_url are read from it")
	manifestPath := fs.String("manifest", "app.yml", "the GitHub App manifest")
	org := fs.String("org", "", "create the app owned by this organization (default: your user)")
	listen := fs.String("listen", "127.0.0.1:8765", "local address for the manifest flow's redirect")
	out := fs.String("out", "escapegate-app.yml", "where to write the credentials (mode 0600)")
	timeout := fs.Duration("timeout", 10*time.Minute, "how long to wait for GitHub's redirect")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, "escapegate register:", err)
		return 2
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(stderr, "escapegate register:", err)
		return 1
	}
	redirect := "http://" + ln.Addr().String() + "/callback"
	manifest, err := loadManifest(*manifestPath, cfg.PublicURL, redirect)
	if err != nil {
		fmt.Fprintln(stderr, "escapegate register:", err)
		return 2
	}
	raw, _ := json.Marshal(manifest)
	// state ties GitHub's redirect to this run: a page the operator visits meanwhile
	// cannot make escapegate exchange (and save) a code of its own app.
	state, err := randomState()
	if err != nil {
		fmt.Fprintln(stderr, "escapegate register:", err)
		return 1
	}
	action := strings.TrimRight(cfg.GitHub.WebURL, "/") + "/settings/apps/new"
	if *org != "" {
		action = strings.TrimRight(cfg.GitHub.WebURL, "/") + "/organizations/" + url.PathEscape(*org) + "/settings/apps/new"
	}
	action += "?state=" + url.QueryEscape(state)
	done := make(chan error, 1)
	var exchanged atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		_ = registerPage.Execute(w, map[string]string{"Action": action, "Manifest": string(raw), "Org": *org})
	})
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		got := r.URL.Query().Get("state")
		if subtle.ConstantTimeCompare([]byte(got), []byte(state)) != 1 {
			http.Error(w, "this redirect does not carry the state escapegate register sent: nothing exchanged", http.StatusBadRequest)
			return
		}
		// The code is exchanged once: a second redirect (even with the state) is refused.
		if !exchanged.CompareAndSwap(false, true) {
			http.Error(w, "the manifest code was already exchanged", http.StatusConflict)
			return
		}
		conv, err := convertManifest(r.Context(), http.DefaultClient, cfg.GitHub.V3APIURL, r.URL.Query().Get("code"))
		if err == nil {
			err = writeCredentials(*out, cfg.GitHub.WebURL, cfg.GitHub.V3APIURL, conv)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			done <- err
			return
		}
		fmt.Fprintf(w, "escapegate app %s created (id %d). Credentials saved to %s. Install it: %s/installations/new\n", conv.Slug, conv.ID, *out, conv.HTMLURL)
		fmt.Fprintf(stdout, "created GitHub App %q (id %d); credentials in %s\ninstall it on your org: %s/installations/new\n", conv.Slug, conv.ID, *out, conv.HTMLURL)
		done <- nil
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	// Shut down gracefully: the browser gets the callback's answer before the listener closes.
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	fmt.Fprintf(stdout, "open http://%s/ in a browser signed in to GitHub to create the app\n", ln.Addr())
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	select {
	case err := <-done:
		if err != nil {
			fmt.Fprintln(stderr, "escapegate register:", err)
			return 1
		}
		return 0
	case <-ctx.Done():
		fmt.Fprintln(stderr, "escapegate register: no redirect from GitHub before the timeout")
		return 1
	}
}

// convertManifest exchanges the one-time code for the app's credentials.
func convertManifest(ctx context.Context, hc *http.Client, apiURL, code string) (manifestConversion, error) {
	if code == "" {
		return manifestConversion{}, errors.New("GitHub's redirect carried no code")
	}
	u := strings.TrimRight(apiURL, "/") + "/app-manifests/" + url.PathEscape(code) + "/conversions"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return manifestConversion{}, err
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	resp, err := hc.Do(req)
	if err != nil {
		return manifestConversion{}, fmt.Errorf("converting manifest code: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return manifestConversion{}, fmt.Errorf("converting manifest code: GitHub answered %s", resp.Status)
	}
	var c manifestConversion
	if err := json.Unmarshal(body, &c); err != nil {
		return manifestConversion{}, fmt.Errorf("decoding manifest conversion: %w", err)
	}
	if c.ID == 0 || c.PEM == "" || c.WebhookSecret == "" {
		return manifestConversion{}, errors.New("GitHub's manifest conversion lacks the app id, key or webhook secret")
	}
	return c, nil
}

// writeCredentials saves a config fragment that serve reads with --config (mode 0600: it holds the key).
func writeCredentials(path, webURL, apiURL string, c manifestConversion) error {
	doc := map[string]any{"github": map[string]any{
		"web_url": webURL, "v3_api_url": apiURL,
		"app":   map[string]any{"integration_id": c.ID, "private_key": c.PEM, "webhook_secret": c.WebhookSecret},
		"oauth": map[string]any{"client_id": c.ClientID, "client_secret": c.ClientSecret},
	}}
	data, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	// A new 0600 file renamed into place: an existing file (whatever its mode) is
	// replaced, never written through with its old permissions.
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("saving credentials: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("saving credentials: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("saving credentials: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("saving credentials: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("saving credentials: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("saving credentials: %w", err)
	}
	return nil
}

// randomState is the manifest flow's state: 32 random bytes, hex.
func randomState() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating state: %w", err)
	}
	return hex.EncodeToString(b), nil
}
