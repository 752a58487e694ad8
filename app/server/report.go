package server

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/escapegate/escapegate/app/escaperate"
	"github.com/escapegate/escapegate/app/render"
	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/store"
)

// ParseWindow reads a window such as "90d", "12w" or a Go duration ("2160h"); "" is 90 days.
func ParseWindow(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 90, nil
	}
	mult := 0
	switch {
	case strings.HasSuffix(s, "d"):
		mult = 1
	case strings.HasSuffix(s, "w"):
		mult = 7
	}
	if mult > 0 {
		n, err := strconv.Atoi(strings.TrimRight(s, "dw"))
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("window %q: want a positive number of days such as 90d", s)
		}
		return n * mult, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 24*time.Hour {
		return 0, fmt.Errorf("window %q: want a number of days such as 90d", s)
	}
	return int(d / (24 * time.Hour)), nil
}

// RenderReport renders `escapegate report` for a repository: text or JSON.
func RenderReport(ctx context.Context, st store.Store, repo, window, format string, now time.Time) ([]byte, string, error) {
	if repo == "" || !strings.Contains(repo, "/") {
		return nil, "", fmt.Errorf("--repo OWNER/NAME is required")
	}
	days, err := ParseWindow(window)
	if err != nil {
		return nil, "", err
	}
	r, err := escaperate.Compute(ctx, st, repo, now.UTC(), days, checks.SeverityCritical)
	if err != nil {
		return nil, "", fmt.Errorf("computing the escape rate of %s: %w", repo, err)
	}
	switch format {
	case "", "text":
		return []byte(render.Text(r)), "text/plain; charset=utf-8", nil
	case "json":
		b, err := render.JSON(r)
		if err != nil {
			return nil, "", err
		}
		return b, "application/json", nil
	}
	return nil, "", fmt.Errorf("unknown format %q (want text or json)", format)
}
