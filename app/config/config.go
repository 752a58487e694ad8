// Package config reads the server configuration (DESIGN §5): a YAML file whose
// every key can also come from an ESCAPEGATE_* environment variable, the
// environment winning over the file. The github block is go-githubapp's own Config.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"gopkg.in/yaml.v3"

	"github.com/escapegate/escapegate/checks"
)

// Config is the whole server configuration.
type Config struct {
	Listen    string           `yaml:"listen"`
	PublicURL string           `yaml:"public_url"`
	GitHub    githubapp.Config `yaml:"github"`
	// PrivateKeyPath is github.app.private_key_path: a PEM file read when private_key is empty.
	PrivateKeyPath string `yaml:"-"`
	Store          string `yaml:"store"`
	FingerprintKey string `yaml:"fingerprint_key"`
	// FingerprintKeyPath is a file holding the fingerprint key (mode 0600 or stricter).
	FingerprintKeyPath string `yaml:"fingerprint_key_path"`
	LogLevel           string `yaml:"log_level"`
	Queue              Queue  `yaml:"queue"`
	// PolicyTTL is how long an org or repository policy is used before it is re-validated
	// with a conditional request; pushes to a default branch that touch it invalidate it sooner.
	PolicyTTL time.Duration `yaml:"policy_ttl"`
	// InstallPace spaces the checks of a new installation's open pull requests, so that
	// installing on a large org does not spend the rate limit in one burst.
	InstallPace time.Duration `yaml:"install_pace"`
	// Retry says how the inbox retries a delivery whose handling failed.
	Retry Retry `yaml:"retry"`
	// Recovery sweeps the app's delivery log for failed deliveries and reconciles the
	// installations with GitHub's list.
	Recovery Recovery `yaml:"recovery"`
	// UI is the read-only dashboard at /ui (GitHub sign-in with github.oauth's client).
	UI UI `yaml:"ui"`
}

// UI configures the dashboard. Sign-in uses the app's own OAuth client
// (github.oauth.client_id and client_secret, which register saves).
type UI struct {
	// Enabled serves /ui; false answers 404 there.
	Enabled bool `yaml:"enabled"`
	// Teams, comma-separated team slugs, replace the org policy's override.approvers.teams
	// as who may see an org's dashboard; empty: the policy's approver teams.
	Teams string `yaml:"teams"`
	// SessionKey (or the file SessionKeyPath, mode 0600) signs session cookies; neither:
	// a key derived from the fingerprint key (also kept outside the store).
	SessionKey     string `yaml:"session_key"`
	SessionKeyPath string `yaml:"session_key_path"`
	// SessionTTL is how long a sign-in lasts; team membership is checked again after it.
	SessionTTL time.Duration `yaml:"session_ttl"`
	// Refresh is how old the org pages' data may be before it is computed again (in the
	// background: pages never wait for it once it exists).
	Refresh time.Duration `yaml:"refresh"`
}

// TeamList is Teams split at commas, blanks dropped.
func (u UI) TeamList() []string {
	var out []string
	for _, t := range strings.Split(u.Teams, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// Retry bounds the attempts at one delivery: exponential backoff from BaseBackoff,
// doubling up to MaxBackoff (longer when GitHub asks to wait), dead-lettered after
// MaxAttempts or once older than MaxAge.
type Retry struct {
	MaxAttempts int           `yaml:"max_attempts"`
	MaxAge      time.Duration `yaml:"max_age"`
	BaseBackoff time.Duration `yaml:"base_backoff"`
	MaxBackoff  time.Duration `yaml:"max_backoff"`
	// StuckAfter bounds one attempt; on PostgreSQL a delivery that a dead replica left
	// running is given to another replica a minute after it.
	StuckAfter time.Duration `yaml:"stuck_after"`
}

// Recovery configures app/recovery. A zero Interval or InstallationsInterval turns that
// job off.
type Recovery struct {
	// Interval is how often the webhook delivery log is swept for failed deliveries.
	Interval time.Duration `yaml:"interval"`
	// Window is how far back a sweep looks at most: GitHub keeps the log 3 days on
	// hosted GitHub (72h), 7 on GitHub Enterprise Server (168h).
	Window time.Duration `yaml:"window"`
	// MaxPerRun bounds the redeliveries one sweep asks for.
	MaxPerRun int `yaml:"max_per_run"`
	// Pace spaces those redeliveries, and the installations of a reconcile.
	Pace time.Duration `yaml:"pace"`
	// InstallationsInterval is how often installations and their repositories are
	// reconciled with GitHub's list (also at start).
	InstallationsInterval time.Duration `yaml:"installations_interval"`
	// ExpiryInterval is how often open pull requests whose exception expired are checked
	// again, so that they fail without waiting for a push.
	ExpiryInterval time.Duration `yaml:"expiry_interval"`
}

// Queue bounds the webhook work: what the inbox holds (on disk, payloads as stored) by
// count and by bytes; past either it answers 503 rather than growing without end.
type Queue struct {
	Size    int `yaml:"size"`
	Workers int `yaml:"workers"`
	// MaxBytes bounds the payload bytes waiting or in progress, whatever their count.
	MaxBytes int64 `yaml:"max_bytes"`
}

// Default returns the configuration used for keys that neither file nor environment set.
// It is the one place where defaults are written; the server fills what its caller left
// zero from it.
func Default() Config {
	c := Config{
		Listen:      "127.0.0.1:8080",
		Store:       "bolt:escapegate.db",
		LogLevel:    "info",
		Queue:       Queue{Size: 50000, Workers: 32, MaxBytes: 2 << 30}, // on disk (app/inbox): ~0.5 KB of memory per delivery waiting; 32 workers: BENCHMARKS.md
		PolicyTTL:   5 * time.Minute,
		InstallPace: 500 * time.Millisecond,
		Retry:       Retry{MaxAttempts: 10, MaxAge: 24 * time.Hour, BaseBackoff: 2 * time.Second, MaxBackoff: time.Hour, StuckAfter: 15 * time.Minute},
		Recovery: Recovery{Interval: 5 * time.Minute, Window: DeliveryWindow(hostedAPI), MaxPerRun: 100,
			Pace: 200 * time.Millisecond, InstallationsInterval: 24 * time.Hour, ExpiryInterval: 10 * time.Minute},
		UI: UI{Enabled: true, SessionTTL: 8 * time.Hour, Refresh: time.Minute},
	}
	c.GitHub.WebURL = "https://github.com"
	c.GitHub.V3APIURL = hostedAPI
	return c
}

// keys lists every settable key with a pointer getter, so file, environment and
// validation share one table. The environment name is derived from the key path.
func (c *Config) keys() map[string]any {
	return map[string]any{
		"listen":                          &c.Listen,
		"public_url":                      &c.PublicURL,
		"github.web_url":                  &c.GitHub.WebURL,
		"github.v3_api_url":               &c.GitHub.V3APIURL,
		"github.v4_api_url":               &c.GitHub.V4APIURL,
		"github.app.integration_id":       &c.GitHub.App.IntegrationID,
		"github.app.private_key":          &c.GitHub.App.PrivateKey,
		"github.app.private_key_path":     &c.PrivateKeyPath,
		"github.app.webhook_secret":       &c.GitHub.App.WebhookSecret,
		"github.oauth.client_id":          &c.GitHub.OAuth.ClientID,
		"github.oauth.client_secret":      &c.GitHub.OAuth.ClientSecret,
		"store":                           &c.Store,
		"fingerprint_key":                 &c.FingerprintKey,
		"fingerprint_key_path":            &c.FingerprintKeyPath,
		"log_level":                       &c.LogLevel,
		"queue.size":                      &c.Queue.Size,
		"queue.workers":                   &c.Queue.Workers,
		"queue.max_bytes":                 &c.Queue.MaxBytes,
		"policy_ttl":                      &c.PolicyTTL,
		"install_pace":                    &c.InstallPace,
		"retry.max_attempts":              &c.Retry.MaxAttempts,
		"retry.max_age":                   &c.Retry.MaxAge,
		"retry.base_backoff":              &c.Retry.BaseBackoff,
		"retry.max_backoff":               &c.Retry.MaxBackoff,
		"retry.stuck_after":               &c.Retry.StuckAfter,
		"recovery.interval":               &c.Recovery.Interval,
		"recovery.window":                 &c.Recovery.Window,
		"recovery.max_per_run":            &c.Recovery.MaxPerRun,
		"recovery.pace":                   &c.Recovery.Pace,
		"recovery.installations_interval": &c.Recovery.InstallationsInterval,
		"recovery.expiry_interval":        &c.Recovery.ExpiryInterval,
		"ui.enabled":                      &c.UI.Enabled,
		"ui.teams":                        &c.UI.Teams,
		"ui.session_key":                  &c.UI.SessionKey,
		"ui.session_key_path":             &c.UI.SessionKeyPath,
		"ui.session_ttl":                  &c.UI.SessionTTL,
		"ui.refresh":                      &c.UI.Refresh,
	}
}

// EnvName is the environment variable of a key path: github.app.webhook_secret → ESCAPEGATE_GITHUB_APP_WEBHOOK_SECRET.
func EnvName(key string) string {
	return "ESCAPEGATE_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Load reads path (may be "" for environment only) and applies the environment.
func Load(path string, environ func(string) (string, bool)) (Config, error) {
	c := Default()
	c.Recovery.Window = windowUnset // unless set: the configured host's (ghes.go)
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("reading config: %w", err)
		}
		if err := c.parseYAML(path, data); err != nil {
			return Config{}, err
		}
	}
	if environ == nil {
		environ = os.LookupEnv
	}
	keys := c.keys()
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v, ok := environ(EnvName(k))
		if !ok {
			continue
		}
		if err := set(keys[k], v); err != nil {
			return Config{}, fmt.Errorf("environment %s: %w", EnvName(k), err)
		}
	}
	if c.Recovery.Window == windowUnset {
		c.Recovery.Window = DeliveryWindow(c.GitHub.V3APIURL)
	}
	if c.GitHub.App.PrivateKey == "" && c.PrivateKeyPath != "" {
		pem, err := os.ReadFile(c.PrivateKeyPath)
		if err != nil {
			return Config{}, fmt.Errorf("reading github.app.private_key_path: %w", err)
		}
		c.GitHub.App.PrivateKey = string(pem)
	}
	return c, nil
}

// parseYAML walks the document so that an unknown key is an error with its line.
func (c *Config) parseYAML(path string, data []byte) error {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, errEOF(err)) {
			return nil
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil
	}
	keys := c.keys()
	var walk func(prefix string, n *yaml.Node) error
	walk = func(prefix string, n *yaml.Node) error {
		if n.Kind != yaml.MappingNode {
			return fmt.Errorf("%s line %d: %s must be a mapping", path, n.Line, strings.TrimSuffix(prefix, "."))
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			full := prefix + k.Value
			if ptr, ok := keys[full]; ok {
				if v.Kind != yaml.ScalarNode {
					return fmt.Errorf("%s line %d: %s must be a single value", path, v.Line, full)
				}
				if err := set(ptr, v.Value); err != nil {
					return fmt.Errorf("%s line %d: %s: %w", path, v.Line, full, err)
				}
				continue
			}
			if v.Kind == yaml.MappingNode && hasPrefix(keys, full+".") {
				if err := walk(full+".", v); err != nil {
					return err
				}
				continue
			}
			return fmt.Errorf("%s line %d: unknown key %q", path, k.Line, full)
		}
		return nil
	}
	return walk("", doc.Content[0])
}

func errEOF(err error) error {
	if err != nil && err.Error() == "EOF" {
		return err
	}
	return errors.New("not eof")
}

func hasPrefix(keys map[string]any, p string) bool {
	for k := range keys {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

func set(ptr any, v string) error {
	switch p := ptr.(type) {
	case *string:
		*p = v
	case *int:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return errors.New(checks.ScrubQuoted(fmt.Sprintf("want a whole number, got %q", v)))
		}
		*p = n
	case *int64:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return errors.New(checks.ScrubQuoted(fmt.Sprintf("want a whole number, got %q", v)))
		}
		*p = n
	case *bool:
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return errors.New(checks.ScrubQuoted(fmt.Sprintf("want true or false, got %q", v)))
		}
		*p = b
	case *time.Duration:
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			return errors.New(checks.ScrubQuoted(fmt.Sprintf("want a duration such as 5m, got %q", v)))
		}
		*p = d
	default:
		return fmt.Errorf("unsupported setting type %v", reflect.TypeOf(ptr))
	}
	return nil
}

// ValidateServe checks what serve needs before it starts, naming every missing key.
func (c Config) ValidateServe() error {
	var missing []string
	if c.GitHub.App.IntegrationID == 0 {
		missing = append(missing, "github.app.integration_id")
	}
	if c.GitHub.App.PrivateKey == "" {
		missing = append(missing, "github.app.private_key (or github.app.private_key_path)")
	}
	if c.GitHub.App.WebhookSecret == "" {
		missing = append(missing, "github.app.webhook_secret")
	}
	if c.Store == "" {
		missing = append(missing, "store")
	}
	if len(missing) > 0 {
		names := make([]string, len(missing))
		for i, m := range missing {
			names[i] = m + " (" + EnvName(strings.Fields(m)[0]) + ")"
		}
		return fmt.Errorf("configuration is missing: %s", strings.Join(names, ", "))
	}
	if c.Queue.Size < 1 || c.Queue.Workers < 1 {
		return fmt.Errorf("queue.size and queue.workers must be at least 1")
	}
	if r := c.Recovery; r.Interval < 0 || r.InstallationsInterval < 0 || r.Pace < 0 {
		return fmt.Errorf("recovery.interval, recovery.installations_interval and recovery.pace may not be negative")
	}
	if c.UI.Enabled && (c.UI.SessionTTL <= 0 || c.UI.Refresh <= 0) {
		return fmt.Errorf("ui.session_ttl and ui.refresh must be positive")
	}
	if r := c.Recovery; r.Interval > 0 && (r.Window <= 0 || r.MaxPerRun < 1) {
		return fmt.Errorf("recovery.window must be positive and recovery.max_per_run at least 1 (or recovery.interval 0 to turn the sweep off)")
	}
	return nil
}

// OrDefault fills the zero (or negative) fields of q from Default's.
func (q Queue) OrDefault() Queue {
	d := Default().Queue
	if q.Size <= 0 {
		q.Size = d.Size
	}
	if q.Workers <= 0 {
		q.Workers = d.Workers
	}
	if q.MaxBytes <= 0 {
		q.MaxBytes = d.MaxBytes
	}
	return q
}

// OrDefault fills the zero (or negative) fields of r from Default's.
func (r Retry) OrDefault() Retry {
	d := Default().Retry
	if r.MaxAttempts <= 0 {
		r.MaxAttempts = d.MaxAttempts
	}
	if r.MaxAge <= 0 {
		r.MaxAge = d.MaxAge
	}
	if r.BaseBackoff <= 0 {
		r.BaseBackoff = d.BaseBackoff
	}
	if r.MaxBackoff <= 0 {
		r.MaxBackoff = d.MaxBackoff
	}
	if r.StuckAfter <= 0 {
		r.StuckAfter = d.StuckAfter
	}
	return r
}
