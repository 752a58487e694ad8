package recovery

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/escapegate/escapegate/store"
)

// Redelivery is a failed delivery that the sweep asked GitHub to redeliver: how many
// times, the last time, and whether it has been handled since (the store marks it).
type Redelivery struct {
	GUID      string    `json:"guid"`
	Attempts  int       `json:"attempts"`
	Last      time.Time `json:"last"`
	Recovered bool      `json:"recovered"`
}

// Redeliveries lists the redeliveries the sweep asked for within its window, newest
// first (the dashboard's operations page shows them), and the sweep's mark.
func Redeliveries(ctx context.Context, st store.Store) ([]Redelivery, time.Time, error) {
	raw, err := st.GetSetting(ctx, stateKey)
	if errors.Is(err, store.ErrNotFound) {
		return nil, time.Time{}, nil
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("reading the sweep's state: %w", err)
	}
	var s state
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, time.Time{}, fmt.Errorf("reading the sweep's state: %w", err)
	}
	out := make([]Redelivery, 0, len(s.Tries))
	for g, t := range s.Tries {
		seen, err := st.DeliverySeen(ctx, g)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("delivery %s: %w", g, err)
		}
		out = append(out, Redelivery{GUID: g, Attempts: t.Attempts, Last: t.Last, Recovered: seen})
	}
	slices.SortFunc(out, func(a, b Redelivery) int { return cmp.Or(b.Last.Compare(a.Last), cmp.Compare(a.GUID, b.GUID)) })
	return out, s.Mark, nil
}
