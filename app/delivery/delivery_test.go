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

func TestLate(t *testing.T) {
	bg := context.Background()
	cases := []struct {
		name              string
		ctx               context.Context
		redelivered, late bool
	}{
		{"first attempt", bg, false, false},
		{"retry", WithAttempt(bg, 2), false, true},
		{"redelivery", WithRedelivered(bg), true, true},
		{"redelivery retried", WithAttempt(WithRedelivered(bg), 2), true, true},
	}
	for _, tc := range cases {
		if Redelivered(tc.ctx) != tc.redelivered || Late(tc.ctx) != tc.late {
			t.Errorf("%s: Redelivered = %v, Late = %v", tc.name, Redelivered(tc.ctx), Late(tc.ctx))
		}
	}
}
