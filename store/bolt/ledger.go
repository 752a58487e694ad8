package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/escapegate/escapegate/store"
)

func normException(e *store.Exception) {
	e.CreatedAt, e.ExpiresAt, e.EndedAt = ts(e.CreatedAt), ts(e.ExpiresAt), ts(e.EndedAt)
	if e.State == "" {
		e.State = store.ExceptionActive
	}
}

func excTimeKey(e store.Exception) []byte {
	return appendUint64(appendTime(repoPrefix(e.Repo), e.CreatedAt), uint64(e.ID))
}

func excPRKey(e store.Exception) []byte {
	return appendUint64(appendTime(appendUint64(repoPrefix(e.Repo), uint64(e.PR)), e.CreatedAt), uint64(e.ID))
}

// AddException assigns the next id; a repeated non-empty DeliveryID returns the
// first exception and false.
func (s *Store) AddException(ctx context.Context, e store.Exception) (store.Exception, bool, error) {
	normException(&e)
	first := false
	var out store.Exception
	// fn may run more than once (see update): it leaves e alone and assigns out and first.
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bExceptions, bExcByDelivery, bExcByTime, bExcByPR)
		if err != nil {
			return err
		}
		var key []byte
		if e.DeliveryID != "" {
			key = []byte(e.DeliveryID)
		}
		out, first, err = insertOnce(bs[0], bs[1], key, "delivery index", "exception", func(seq uint64) (store.Exception, error) {
			rec := e
			rec.ID = int64(seq)
			return rec, s.indexException(bs[2], bs[3], rec, bs[0], u64(seq))
		})
		return err
	})
	if err != nil {
		return store.Exception{}, false, fmt.Errorf("add exception in %s: %w", e.Repo, err)
	}
	return out, first, nil
}

// insertOnce inserts a record once per key of the unique index idx: when idx
// already names a record under key it returns that record and false; otherwise it
// takes primary's next sequence, points idx's key at it and has add build and store
// the record (with any other index entries), returning it and true. A nil key
// always inserts and writes nothing to idx.
func insertOnce[T any](primary, idx *bbolt.Bucket, key []byte, index, what string, add func(seq uint64) (T, error)) (T, bool, error) {
	if key != nil {
		if id := idx.Get(key); id != nil {
			v, err := decodeByID[T](primary, id, index, what)
			return v, false, err
		}
	}
	seq, err := primary.NextSequence()
	if err != nil {
		var zero T
		return zero, true, err
	}
	if key != nil {
		if err := idx.Put(key, u64(seq)); err != nil {
			var zero T
			return zero, true, err
		}
	}
	v, err := add(seq)
	return v, true, err
}

// decodeByID decodes the record primary holds under id, which index names: a
// missing record is an error (the index and the records disagree).
func decodeByID[T any](primary *bbolt.Bucket, id []byte, index, what string) (T, error) {
	var v T
	raw := primary.Get(id)
	if raw == nil {
		return v, fmt.Errorf("%s names missing %s %d", index, what, binary.BigEndian.Uint64(id))
	}
	err := decode(raw, &v)
	return v, err
}

func (s *Store) indexException(byTime, byPR *bbolt.Bucket, e store.Exception, primary *bbolt.Bucket, key []byte) error {
	if err := byTime.Put(excTimeKey(e), nil); err != nil {
		return err
	}
	if err := byPR.Put(excPRKey(e), nil); err != nil {
		return err
	}
	return put(primary, key, e)
}

// UpdateException replaces an existing exception (state, end, revoker ...); the id must exist.
func (s *Store) UpdateException(ctx context.Context, e store.Exception) error {
	normException(&e)
	missing := false
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bExceptions, bExcByDelivery, bExcByTime, bExcByPR)
		if err != nil {
			return err
		}
		key := u64(uint64(e.ID))
		raw := bs[0].Get(key)
		// Not found is a result, not an error: an error would make a batch re-run (see update).
		missing = raw == nil
		if missing {
			return nil
		}
		var old store.Exception
		if err := decode(raw, &old); err != nil {
			return err
		}
		// The indexes follow the record: drop the old entries, write the new ones.
		if err := bs[2].Delete(excTimeKey(old)); err != nil {
			return err
		}
		if err := bs[3].Delete(excPRKey(old)); err != nil {
			return err
		}
		if old.DeliveryID != e.DeliveryID {
			if old.DeliveryID != "" {
				if err := bs[1].Delete([]byte(old.DeliveryID)); err != nil {
					return err
				}
			}
			if e.DeliveryID != "" {
				if err := bs[1].Put([]byte(e.DeliveryID), key); err != nil {
					return err
				}
			}
		}
		return s.indexException(bs[2], bs[3], e, bs[0], key)
	})
	if err == nil && missing {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("update exception %d: %w", e.ID, err)
	}
	return nil
}

// GetException returns an exception by id.
func (s *Store) GetException(ctx context.Context, id int64) (store.Exception, error) {
	var e store.Exception
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bExceptions)
		if err != nil {
			return err
		}
		raw := bs[0].Get(u64(uint64(id)))
		if raw == nil {
			return store.ErrNotFound
		}
		return decode(raw, &e)
	})
	if err != nil {
		return store.Exception{}, fmt.Errorf("get exception %d: %w", id, err)
	}
	return e, nil
}

// ListExceptions lists a repository's exceptions created in the window (of one
// PR when pr > 0), oldest first.
func (s *Store) ListExceptions(ctx context.Context, repo string, pr int, w store.Window) ([]store.Exception, error) {
	var out []store.Exception
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bExceptions, bExcByTime, bExcByPR)
		if err != nil {
			return err
		}
		out, err = listExceptions(bs[0], bs[1], bs[2], repo, pr, w)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list exceptions in %s: %w", repo, err)
	}
	return out, nil
}

func listExceptions(primary, byTime, byPR *bbolt.Bucket, repo string, pr int, w store.Window) ([]store.Exception, error) {
	var out []store.Exception
	idx, prefix := byTime, repoPrefix(repo)
	if pr > 0 {
		idx, prefix = byPR, appendUint64(prefix, uint64(pr))
	}
	err := scanWindow(idx, prefix, w, func(k, _ []byte) error {
		e, err := decodeByID[store.Exception](primary, k[len(k)-8:], "index", "exception")
		if err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// AddRefused records a refused override; a repeated non-empty DeliveryID is ignored.
func (s *Store) AddRefused(ctx context.Context, r store.RefusedOverride) (bool, error) {
	r.At = ts(r.At)
	first := false
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bRefused, bRefByDelivery)
		if err != nil {
			return err
		}
		if r.DeliveryID != "" {
			if bs[1].Get([]byte(r.DeliveryID)) != nil {
				first = false
				return nil
			}
			if err := bs[1].Put([]byte(r.DeliveryID), nil); err != nil {
				return err
			}
		}
		first = true
		seq, err := bs[0].NextSequence()
		if err != nil {
			return err
		}
		return put(bs[0], appendUint64(appendTime(repoPrefix(r.Repo), r.At), seq), r)
	})
	if err != nil {
		return false, fmt.Errorf("add refused override in %s: %w", r.Repo, err)
	}
	return first, nil
}

// ListRefused lists refused overrides in the window, oldest first.
func (s *Store) ListRefused(ctx context.Context, repo string, w store.Window) ([]store.RefusedOverride, error) {
	var out []store.RefusedOverride
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bRefused)
		if err != nil {
			return err
		}
		return scanWindow(bs[0], repoPrefix(repo), w, func(_, v []byte) error {
			var r store.RefusedOverride
			if err := decode(v, &r); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list refused overrides in %s: %w", repo, err)
	}
	return out, nil
}

// AddEscape records an escape once per (repo, fingerprint); a repeat returns the first and false.
func (s *Store) AddEscape(ctx context.Context, e store.Escape) (store.Escape, bool, error) {
	e.DetectedAt, e.At = ts(e.DetectedAt), ts(e.At)
	first := false
	var out store.Escape
	// fn may run more than once (see update): it leaves e alone and assigns out and first.
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bEscapes, bEscByFP, bEscByDetected)
		if err != nil {
			return err
		}
		fpKey := append(repoPrefix(e.Repo), e.Fingerprint...)
		out, first, err = insertOnce(bs[0], bs[1], fpKey, "fingerprint index", "escape", func(seq uint64) (store.Escape, error) {
			rec := e
			rec.ID = int64(seq)
			if err := bs[2].Put(appendUint64(appendTime(repoPrefix(rec.Repo), rec.DetectedAt), seq), nil); err != nil {
				return rec, err
			}
			return rec, put(bs[0], u64(seq), rec)
		})
		return err
	})
	if err != nil {
		return store.Escape{}, false, fmt.Errorf("add escape in %s: %w", e.Repo, err)
	}
	return out, first, nil
}

// ListEscapes lists escapes whose DetectedAt is in the window, oldest first.
func (s *Store) ListEscapes(ctx context.Context, repo string, w store.Window) ([]store.Escape, error) {
	var out []store.Escape
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bEscapes, bEscByDetected)
		if err != nil {
			return err
		}
		out, err = listEscapes(bs[0], bs[1], repo, w)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list escapes in %s: %w", repo, err)
	}
	return out, nil
}

func listEscapes(primary, byDetected *bbolt.Bucket, repo string, w store.Window) ([]store.Escape, error) {
	var out []store.Escape
	err := scanWindow(byDetected, repoPrefix(repo), w, func(k, _ []byte) error {
		e, err := decodeByID[store.Escape](primary, k[len(k)-8:], "index", "escape")
		if err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// ReadLedgers answers every query in one read transaction.
func (s *Store) ReadLedgers(ctx context.Context, qs []store.LedgerQuery, minSeverity string) ([]store.Ledger, error) {
	rank, err := minRank(minSeverity)
	if err != nil {
		return nil, fmt.Errorf("read ledgers: %w", err)
	}
	out := make([]store.Ledger, len(qs))
	err = s.view(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bEscapes, bEscByDetected, bExceptions, bExcByTime, bExcByPR, bCaughtByTime, bCaughtDaily)
		if err != nil {
			return err
		}
		for i, q := range qs {
			if err := ctx.Err(); err != nil {
				return err
			}
			l := &out[i]
			if l.Escapes, err = listEscapes(bs[0], bs[1], q.Repo, q.Escapes); err != nil {
				return fmt.Errorf("list escapes in %s: %w", q.Repo, err)
			}
			if l.Exceptions, err = listExceptions(bs[2], bs[3], bs[4], q.Repo, 0, q.Exceptions); err != nil {
				return fmt.Errorf("list exceptions in %s: %w", q.Repo, err)
			}
			l.Caught = make([]int, len(q.Caught))
			prefix := repoPrefix(q.Repo)
			for j, w := range q.Caught {
				if l.Caught[j], err = countWindow(bs[5], bs[6], prefix, w, rank); err != nil {
					return fmt.Errorf("count caught in %s: %w", q.Repo, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read ledgers: %w", err)
	}
	return out, nil
}

// GetSetting returns a copy of a setting's value.
func (s *Store) GetSetting(ctx context.Context, key string) ([]byte, error) {
	var out []byte
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bSettings)
		if err != nil {
			return err
		}
		v := bs[0].Get([]byte(key))
		if v == nil {
			return store.ErrNotFound
		}
		// bbolt's slices are only valid inside the transaction.
		out = bytes.Clone(v)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("get setting %q: %w", key, err)
	}
	return out, nil
}

// PutSetting sets a setting.
func (s *Store) PutSetting(ctx context.Context, key string, value []byte) error {
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bSettings)
		if err != nil {
			return err
		}
		return bs[0].Put([]byte(key), nonNil(value))
	})
	if err != nil {
		return fmt.Errorf("put setting %q: %w", key, err)
	}
	return nil
}

// ClaimOnce sets key only if absent; bbolt's single writer makes it atomic (a
// batch runs its functions one after another in one transaction).
func (s *Store) ClaimOnce(ctx context.Context, key string, value []byte) (bool, error) {
	won := false
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bSettings)
		if err != nil {
			return err
		}
		if bs[0].Get([]byte(key)) != nil {
			won = false
			return nil
		}
		won = true
		return bs[0].Put([]byte(key), nonNil(value))
	})
	if err != nil {
		return false, fmt.Errorf("claim %q: %w", key, err)
	}
	return won, nil
}

// DeleteSetting removes a setting; deleting an absent key wraps store.ErrNotFound.
func (s *Store) DeleteSetting(ctx context.Context, key string) error {
	missing := false
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bSettings)
		if err != nil {
			return err
		}
		// Not found is a result, not an error: an error would make a batch re-run (see update).
		missing = bs[0].Get([]byte(key)) == nil
		if missing {
			return nil
		}
		return bs[0].Delete([]byte(key))
	})
	if err == nil && missing {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("delete setting %q: %w", key, err)
	}
	return nil
}

// nonNil keeps an empty value distinguishable from an absent key (bbolt stores nil as empty anyway).
func nonNil(v []byte) []byte {
	if v == nil {
		return []byte{}
	}
	return v
}
