package gh

import (
	"errors"
	"time"

	"github.com/google/go-github/v62/github"
)

// RetryAfter says how long GitHub asked to wait before err's request may be tried
// again: a secondary limit's Retry-After, or an exhausted primary limit's reset.
func RetryAfter(err error, now time.Time) (time.Duration, bool) {
	var ab *github.AbuseRateLimitError
	if errors.As(err, &ab) && ab.RetryAfter != nil {
		return *ab.RetryAfter, true
	}
	var rl *github.RateLimitError
	if errors.As(err, &rl) && !rl.Rate.Reset.IsZero() {
		return max(rl.Rate.Reset.Sub(now), 0) + time.Second, true
	}
	return 0, false
}
