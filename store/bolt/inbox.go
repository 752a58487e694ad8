package bolt

import (
	"context"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/escapegate/escapegate/store"
)

// The inbox (version 3): pending deliveries in the order received, an index by id,
// and dead-lettered ones apart so that the pending scan never reads them.
var (
	bInbox     = []byte("inbox")       // be64(seq) -> JSON delivery (pending)
	bInboxByID = []byte("inbox_by_id") // delivery id -> be64(seq)
	bInboxDead = []byte("inbox_dead")  // delivery id -> JSON delivery (dead)
)

// AddDelivery implements store.Inbox.
func (s *Store) AddDelivery(ctx context.Context, d store.Delivery) (bool, error) {
	var added bool
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		added = false
		bs, err := s.buckets(tx, bDeliveries, bInbox, bInboxByID, bInboxDead)
		if err != nil {
			return err
		}
		marks, inbox, byID, dead := bs[0], bs[1], bs[2], bs[3]
		id := []byte(d.ID)
		if marks.Get(id) != nil {
			raw := dead.Get(id)
			if raw == nil {
				return nil
			}
			var old store.Delivery
			if err := decode(raw, &old); err != nil {
				return err
			}
			old.State, old.Attempts, old.NextAt, old.LastError = store.DeliveryPending, 0, time.Time{}, ""
			if err := dead.Delete(id); err != nil {
				return err
			}
			added = true
			return s.putPending(inbox, byID, old)
		}
		if err := marks.Put(id, appendTime(nil, ts(d.ReceivedAt))); err != nil {
			return err
		}
		d.State, d.ReceivedAt, d.NextAt = store.DeliveryPending, ts(d.ReceivedAt), ts(d.NextAt)
		added = true
		return s.putPending(inbox, byID, d)
	})
	if err != nil {
		return false, fmt.Errorf("add delivery %s: %w", d.ID, err)
	}
	return added, nil
}

func (s *Store) putPending(inbox, byID *bbolt.Bucket, d store.Delivery) error {
	seq, err := inbox.NextSequence()
	if err != nil {
		return err
	}
	if err := put(inbox, u64(seq), d); err != nil {
		return err
	}
	return byID.Put([]byte(d.ID), u64(seq))
}

// PendingDeliveries implements store.Inbox.
func (s *Store) PendingDeliveries(ctx context.Context, n int) ([]store.Delivery, error) {
	var out []store.Delivery
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bInbox)
		if err != nil {
			return err
		}
		c := bs[0].Cursor()
		for k, v := c.First(); k != nil && len(out) < n; k, v = c.Next() {
			var d store.Delivery
			if err := decode(v, &d); err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pending deliveries: %w", err)
	}
	return out, nil
}

// GetDelivery implements store.Inbox.
func (s *Store) GetDelivery(ctx context.Context, id string) (store.Delivery, error) {
	var d store.Delivery
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bInbox, bInboxByID)
		if err != nil {
			return err
		}
		seq := bs[1].Get([]byte(id))
		if seq == nil {
			return fmt.Errorf("delivery %s is not pending: %w", id, store.ErrNotFound)
		}
		return decode(bs[0].Get(seq), &d)
	})
	if err != nil {
		return store.Delivery{}, fmt.Errorf("get delivery %s: %w", id, err)
	}
	return d, nil
}

// FinishDelivery implements store.Inbox.
func (s *Store) FinishDelivery(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bInbox, bInboxByID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if seq := bs[1].Get([]byte(id)); seq != nil {
				if err := bs[0].Delete(append([]byte(nil), seq...)); err != nil {
					return err
				}
			}
			if err := bs[1].Delete([]byte(id)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("finish %d deliveries (%s, ...): %w", len(ids), ids[0], err)
	}
	return nil
}

// FailDelivery implements store.Inbox.
func (s *Store) FailDelivery(ctx context.Context, id string, attempts int, next time.Time, lastError string, dead bool) error {
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bInbox, bInboxByID, bInboxDead)
		if err != nil {
			return err
		}
		inbox, byID, deadB := bs[0], bs[1], bs[2]
		seq := byID.Get([]byte(id))
		if seq == nil {
			return fmt.Errorf("delivery %s is not pending: %w", id, store.ErrNotFound)
		}
		seq = append([]byte(nil), seq...)
		var d store.Delivery
		if err := decode(inbox.Get(seq), &d); err != nil {
			return err
		}
		d.Attempts, d.NextAt, d.LastError = attempts, ts(next), lastError
		if !dead {
			return put(inbox, seq, d)
		}
		d.State = store.DeliveryDead
		if err := inbox.Delete(seq); err != nil {
			return err
		}
		if err := byID.Delete([]byte(id)); err != nil {
			return err
		}
		return put(deadB, []byte(id), d)
	})
	if err != nil {
		return fmt.Errorf("fail delivery %s: %w", id, err)
	}
	return nil
}

// ListDeliveries implements store.Inbox.
func (s *Store) ListDeliveries(ctx context.Context, state string, n int) ([]store.Delivery, error) {
	var out []store.Delivery
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bInbox, bInboxDead)
		if err != nil {
			return err
		}
		for i, st := range []string{store.DeliveryPending, store.DeliveryDead} {
			if state != "" && state != st {
				continue
			}
			err := bs[i].ForEach(func(_, v []byte) error {
				if len(out) >= n {
					return nil
				}
				var d store.Delivery
				if err := decode(v, &d); err != nil {
					return err
				}
				out = append(out, d)
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return out, nil
}

// RetryDelivery implements store.Inbox.
func (s *Store) RetryDelivery(ctx context.Context, id string) error {
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bInbox, bInboxByID, bInboxDead)
		if err != nil {
			return err
		}
		raw := bs[2].Get([]byte(id))
		if raw == nil {
			return fmt.Errorf("no dead-lettered delivery %s: %w", id, store.ErrNotFound)
		}
		var d store.Delivery
		if err := decode(raw, &d); err != nil {
			return err
		}
		d.State, d.Attempts, d.NextAt, d.LastError = store.DeliveryPending, 0, time.Time{}, ""
		if err := bs[2].Delete([]byte(id)); err != nil {
			return err
		}
		return s.putPending(bs[0], bs[1], d)
	})
	if err != nil {
		return fmt.Errorf("retry delivery %s: %w", id, err)
	}
	return nil
}

// DropDelivery implements store.Inbox.
func (s *Store) DropDelivery(ctx context.Context, id string) error {
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bInbox, bInboxByID, bInboxDead)
		if err != nil {
			return err
		}
		if bs[2].Get([]byte(id)) != nil {
			return bs[2].Delete([]byte(id))
		}
		seq := bs[1].Get([]byte(id))
		if seq == nil {
			return fmt.Errorf("no delivery %s in the inbox: %w", id, store.ErrNotFound)
		}
		if err := bs[0].Delete(append([]byte(nil), seq...)); err != nil {
			return err
		}
		return bs[1].Delete([]byte(id))
	})
	if err != nil {
		return fmt.Errorf("drop delivery %s: %w", id, err)
	}
	return nil
}

// CountDeliveries implements store.Inbox.
func (s *Store) CountDeliveries(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bInbox, bInboxDead)
		if err != nil {
			return err
		}
		out[store.DeliveryPending] = bs[0].Stats().KeyN
		out[store.DeliveryDead] = bs[1].Stats().KeyN
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count deliveries: %w", err)
	}
	return out, nil
}
