package gh

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	thirty := 30 * time.Second
	cases := []struct {
		name string
		err  error
		want time.Duration
		ok   bool
	}{
		{"secondary limit", fmt.Errorf("listing files: %w", &github.AbuseRateLimitError{RetryAfter: &thirty}), thirty, true},
		{"primary limit until its reset", &github.RateLimitError{Rate: github.Rate{Reset: github.Timestamp{Time: now.Add(time.Minute)}}}, time.Minute + time.Second, true},
		{"a reset already passed", &github.RateLimitError{Rate: github.Rate{Reset: github.Timestamp{Time: now.Add(-time.Minute)}}}, time.Second, true},
		{"another error", errors.New("502"), 0, false},
		{"nil", nil, 0, false},
	}
	for _, tc := range cases {
		got, ok := RetryAfter(tc.err, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: RetryAfter = %s, %v; want %s, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}
