package handlers

import (
	"context"
	"errors"
	"testing"

	"github.com/escapegate/escapegate/app/delivery"
	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/memstore"
)

// settingsDown is a store whose settings cannot be read.
type settingsDown struct{ store.Store }

func (settingsDown) GetSetting(context.Context, string) ([]byte, error) {
	return nil, errors.New("store unavailable")
}

// TestMarkRedelivery: a re-requested check is a redelivery when the recovery sweep
// recorded its delivery id, or when the store cannot say (the PR read is the safe side).
func TestMarkRedelivery(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	if err := st.PutSetting(ctx, delivery.RedeliveryKey("swept"), []byte("2026-11-30T10:00:00Z")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, id string
		st       store.Store
		want     bool
	}{
		{"sent now", "live", st, false},
		{"redelivered by the sweep", "swept", st, true},
		{"store cannot say", "live", settingsDown{st}, true},
		{"no delivery id", "", settingsDown{st}, false},
	} {
		h := &CheckRun{Deps{Store: tc.st}}
		if got := delivery.Redelivered(h.markRedelivery(ctx, tc.id)); got != tc.want {
			t.Errorf("%s: redelivered = %v, want %v", tc.name, got, tc.want)
		}
	}
}
