package escaperate

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

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

// ForRepo computes `escapegate report` for a repository over a window such as "90d",
// counting critical risks.
func ForRepo(ctx context.Context, st store.Store, repo, window string, now time.Time) (Report, error) {
	if repo == "" || !strings.Contains(repo, "/") {
		return Report{}, fmt.Errorf("--repo OWNER/NAME is required")
	}
	days, err := ParseWindow(window)
	if err != nil {
		return Report{}, err
	}
	r, err := Compute(ctx, st, repo, now.UTC(), days, checks.SeverityCritical)
	if err != nil {
		return Report{}, fmt.Errorf("computing the escape rate of %s: %w", repo, err)
	}
	return r, nil
}
