package delivery

import (
	"context"
	"testing"
)

func TestAttempt(t *testing.T) {
	cases := []struct {
		name     string
		ctx      context.Context
		want     int
		retrying bool
	}{
		{"unmarked is the first", context.Background(), 1, false},
		{"first", WithAttempt(context.Background(), 1), 1, false},
		{"third", WithAttempt(context.Background(), 3), 3, true},
		{"nonsense is the first", WithAttempt(context.Background(), -2), 1, false},
	}
	for _, tc := range cases {
		if got := Attempt(tc.ctx); got != tc.want || Retrying(tc.ctx) != tc.retrying {
			t.Errorf("%s: Attempt = %d, Retrying = %v", tc.name, got, Retrying(tc.ctx))
		}
	}
}
