package memstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/escapegate/escapegate/store"
)

// inbox is the memory store's store.Inbox: pending deliveries in the order received and
// dead-lettered ones by id.
type inbox struct {
	pending []store.Delivery
	dead    map[string]store.Delivery
}

func copyDelivery(d store.Delivery) store.Delivery {
	d.Payload = slices.Clone(d.Payload)
	return d
}

func (m *Store) pendingIndex(id string) int {
	return slices.IndexFunc(m.in.pending, func(d store.Delivery) bool { return d.ID == id })
}

// AddDelivery implements store.Inbox.
func (m *Store) AddDelivery(ctx context.Context, d store.Delivery) (bool, error) {
	unlock, err := m.lock(ctx)
	if err != nil {
		return false, fmt.Errorf("add delivery: %w", err)
	}
	defer unlock()
	if m.deliveries[d.ID] {
		old, ok := m.in.dead[d.ID]
		if !ok {
			return false, nil
		}
		delete(m.in.dead, d.ID)
		old.State, old.Attempts, old.NextAt, old.LastError = store.DeliveryPending, 0, time.Time{}, ""
		m.in.pending = append(m.in.pending, old)
		return true, nil
	}
	m.deliveries[d.ID] = true
	d = copyDelivery(d)
	d.State, d.ReceivedAt, d.NextAt = store.DeliveryPending, ts(d.ReceivedAt), ts(d.NextAt)
	m.in.pending = append(m.in.pending, d)
	return true, nil
}

// PendingDeliveries implements store.Inbox.
func (m *Store) PendingDeliveries(ctx context.Context, n int) ([]store.Delivery, error) {
	unlock, err := m.rlock(ctx)
	if err != nil {
		return nil, fmt.Errorf("pending deliveries: %w", err)
	}
	defer unlock()
	var out []store.Delivery
	for _, d := range m.in.pending[:min(n, len(m.in.pending))] {
		out = append(out, copyDelivery(d))
	}
	return out, nil
}

// GetDelivery implements store.Inbox.
func (m *Store) GetDelivery(ctx context.Context, id string) (store.Delivery, error) {
	unlock, err := m.rlock(ctx)
	if err != nil {
		return store.Delivery{}, fmt.Errorf("get delivery: %w", err)
	}
	defer unlock()
	i := m.pendingIndex(id)
	if i < 0 {
		return store.Delivery{}, fmt.Errorf("get delivery: %s is not pending: %w", id, store.ErrNotFound)
	}
	return copyDelivery(m.in.pending[i]), nil
}

// FinishDelivery implements store.Inbox.
func (m *Store) FinishDelivery(ctx context.Context, ids ...string) error {
	unlock, err := m.lock(ctx)
	if err != nil {
		return fmt.Errorf("finish delivery: %w", err)
	}
	defer unlock()
	done := make(map[string]bool, len(ids))
	for _, id := range ids {
		done[id] = true
	}
	m.in.pending = slices.DeleteFunc(m.in.pending, func(d store.Delivery) bool { return done[d.ID] })
	return nil
}

// FailDelivery implements store.Inbox.
func (m *Store) FailDelivery(ctx context.Context, id string, attempts int, next time.Time, lastError string, dead bool) error {
	unlock, err := m.lock(ctx)
	if err != nil {
		return fmt.Errorf("fail delivery: %w", err)
	}
	defer unlock()
	i := m.pendingIndex(id)
	if i < 0 {
		return fmt.Errorf("fail delivery: %s is not pending: %w", id, store.ErrNotFound)
	}
	d := m.in.pending[i]
	d.Attempts, d.NextAt, d.LastError = attempts, ts(next), lastError
	if !dead {
		m.in.pending[i] = d
		return nil
	}
	d.State = store.DeliveryDead
	m.in.pending = slices.Delete(m.in.pending, i, i+1)
	m.in.dead[id] = d
	return nil
}

// ListDeliveries implements store.Inbox.
func (m *Store) ListDeliveries(ctx context.Context, state string, n int) ([]store.Delivery, error) {
	unlock, err := m.rlock(ctx)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	defer unlock()
	var out []store.Delivery
	if state == "" || state == store.DeliveryPending {
		for _, d := range m.in.pending {
			out = append(out, copyDelivery(d))
		}
	}
	if state == "" || state == store.DeliveryDead {
		ids := make([]string, 0, len(m.in.dead))
		for id := range m.in.dead {
			ids = append(ids, id)
		}
		slices.Sort(ids) // the bolt backend lists by id
		for _, id := range ids {
			out = append(out, copyDelivery(m.in.dead[id]))
		}
	}
	return out[:min(n, len(out))], nil
}

// RetryDelivery implements store.Inbox.
func (m *Store) RetryDelivery(ctx context.Context, id string) error {
	unlock, err := m.lock(ctx)
	if err != nil {
		return fmt.Errorf("retry delivery: %w", err)
	}
	defer unlock()
	d, ok := m.in.dead[id]
	if !ok {
		return fmt.Errorf("retry delivery: no dead-lettered delivery %s: %w", id, store.ErrNotFound)
	}
	delete(m.in.dead, id)
	d.State, d.Attempts, d.NextAt, d.LastError = store.DeliveryPending, 0, time.Time{}, ""
	m.in.pending = append(m.in.pending, d)
	return nil
}

// DropDelivery implements store.Inbox.
func (m *Store) DropDelivery(ctx context.Context, id string) error {
	unlock, err := m.lock(ctx)
	if err != nil {
		return fmt.Errorf("drop delivery: %w", err)
	}
	defer unlock()
	if _, ok := m.in.dead[id]; ok {
		delete(m.in.dead, id)
		return nil
	}
	i := m.pendingIndex(id)
	if i < 0 {
		return fmt.Errorf("drop delivery: no delivery %s in the inbox: %w", id, store.ErrNotFound)
	}
	m.in.pending = slices.Delete(m.in.pending, i, i+1)
	return nil
}

// CountDeliveries implements store.Inbox.
func (m *Store) CountDeliveries(ctx context.Context) (map[string]int, error) {
	unlock, err := m.rlock(ctx)
	if err != nil {
		return nil, fmt.Errorf("count deliveries: %w", err)
	}
	defer unlock()
	return map[string]int{store.DeliveryPending: len(m.in.pending), store.DeliveryDead: len(m.in.dead)}, nil
}
