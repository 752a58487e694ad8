package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/internal/legacy"
)

// Pending escapes, the last release and release comment ids (schema version 2).

func pendingFPKey(repo, fingerprint string) []byte { return append(repoPrefix(repo), fingerprint...) }

// AddPending keeps escapes for repo once per (repo, fingerprint), in one transaction.
func (s *Store) AddPending(ctx context.Context, repo string, escapes []store.Escape) (int, error) {
	norm := make([]store.Escape, len(escapes))
	for i, e := range escapes {
		e.DetectedAt, e.At = ts(e.DetectedAt), ts(e.At)
		norm[i] = e
	}
	var added int
	// fn may run more than once (see update): it leaves norm alone and assigns added.
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bPending, bPendingByFP)
		if err != nil {
			return err
		}
		added, err = addPending(bs[0], bs[1], repo, norm)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("add pending escapes in %s: %w", repo, err)
	}
	return added, nil
}

// addPending appends the escapes whose fingerprint is not pending in repo yet.
func addPending(pending, byFP *bbolt.Bucket, repo string, escapes []store.Escape) (int, error) {
	n := 0
	for _, e := range escapes {
		fpKey := pendingFPKey(repo, e.Fingerprint)
		if byFP.Get(fpKey) != nil {
			continue
		}
		seq, err := pending.NextSequence()
		if err != nil {
			return 0, err
		}
		if err := byFP.Put(fpKey, u64(seq)); err != nil {
			return 0, err
		}
		if err := put(pending, appendUint64(repoPrefix(repo), seq), e); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

// TakePending returns repo's pending escapes in the order they were added and
// removes them in the same transaction.
func (s *Store) TakePending(ctx context.Context, repo string) ([]store.Escape, error) {
	var out []store.Escape
	// fn may run more than once (see update): it assigns out afresh.
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		out = nil
		bs, err := s.buckets(tx, bPending, bPendingByFP)
		if err != nil {
			return err
		}
		prefix := repoPrefix(repo)
		var taken []store.Escape
		var keys [][]byte
		c := bs[0].Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var e store.Escape
			if err := decode(v, &e); err != nil {
				return err
			}
			taken = append(taken, e)
			keys = append(keys, bytes.Clone(k))
		}
		// Deleted after the scan: deleting under a cursor can make it skip keys.
		for i, k := range keys {
			if err := bs[0].Delete(k); err != nil {
				return err
			}
			if err := bs[1].Delete(pendingFPKey(repo, taken[i].Fingerprint)); err != nil {
				return err
			}
		}
		out = taken
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("take pending escapes of %s: %w", repo, err)
	}
	return out, nil
}

// PutLastRelease keeps r unless the release kept was published later.
func (s *Store) PutLastRelease(ctx context.Context, repo string, r store.Release) error {
	r.At = ts(r.At)
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bLastRelease)
		if err != nil {
			return err
		}
		return putLastRelease(bs[0], repo, r)
	})
	if err != nil {
		return fmt.Errorf("put last release of %s: %w", repo, err)
	}
	return nil
}

func putLastRelease(b *bbolt.Bucket, repo string, r store.Release) error {
	key := []byte(strings.ToLower(repo))
	if raw := b.Get(key); raw != nil {
		var kept store.Release
		if err := decode(raw, &kept); err != nil {
			return err
		}
		if kept.At.After(r.At) {
			return nil
		}
	}
	return put(b, key, r)
}

// GetLastRelease returns repo's last release or an error wrapping store.ErrNotFound.
func (s *Store) GetLastRelease(ctx context.Context, repo string) (store.Release, error) {
	var r store.Release
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bLastRelease)
		if err != nil {
			return err
		}
		raw := bs[0].Get([]byte(strings.ToLower(repo)))
		if raw == nil {
			return store.ErrNotFound
		}
		return decode(raw, &r)
	})
	if err != nil {
		return store.Release{}, fmt.Errorf("get last release of %s: %w", repo, err)
	}
	return r, nil
}

func releaseCommentKey(repo string, pr int) []byte {
	return appendUint64(repoPrefix(repo), uint64(pr))
}

// PutReleaseComment remembers the release comment id of a pull request.
func (s *Store) PutReleaseComment(ctx context.Context, repo string, pr int, commentID int64) error {
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bReleaseComments)
		if err != nil {
			return err
		}
		return bs[0].Put(releaseCommentKey(repo, pr), u64(uint64(commentID)))
	})
	if err != nil {
		return fmt.Errorf("put release comment of %s#%d: %w", repo, pr, err)
	}
	return nil
}

// GetReleaseComment returns the release comment id of a pull request.
func (s *Store) GetReleaseComment(ctx context.Context, repo string, pr int) (int64, error) {
	var id int64
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bReleaseComments)
		if err != nil {
			return err
		}
		v := bs[0].Get(releaseCommentKey(repo, pr))
		if v == nil {
			return store.ErrNotFound
		}
		if len(v) != 8 {
			return fmt.Errorf("release comment id of %d bytes", len(v))
		}
		id = int64(binary.BigEndian.Uint64(v))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("get release comment of %s#%d: %w", repo, pr, err)
	}
	return id, nil
}

// moveLegacySettings turns version 1's settings of pending escapes, last
// releases and release comment ids into records and deletes them.
func moveLegacySettings(tx *bbolt.Tx) error {
	settings, pending, byFP := tx.Bucket(bSettings), tx.Bucket(bPending), tx.Bucket(bPendingByFP)
	last, comments := tx.Bucket(bLastRelease), tx.Bucket(bReleaseComments)
	var keys [][]byte
	c := settings.Cursor()
	for _, p := range legacy.Prefixes {
		prefix := []byte(p)
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			keys = append(keys, bytes.Clone(k))
		}
	}
	for _, k := range keys {
		ls, ok, err := legacy.Decode(string(k), settings.Get(k))
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		switch ls.Kind {
		case legacy.KindPending:
			for i := range ls.Pending {
				e := &ls.Pending[i]
				e.DetectedAt, e.At = ts(e.DetectedAt), ts(e.At)
			}
			_, err = addPending(pending, byFP, ls.Repo, ls.Pending)
		case legacy.KindRelease:
			ls.Release.At = ts(ls.Release.At)
			err = putLastRelease(last, ls.Repo, ls.Release)
		case legacy.KindReleaseComment:
			if ls.Comment != 0 {
				err = comments.Put(releaseCommentKey(ls.Repo, ls.PR), u64(uint64(ls.Comment)))
			}
		}
		if err != nil {
			return fmt.Errorf("move setting %q: %w", k, err)
		}
		if err := settings.Delete(k); err != nil {
			return fmt.Errorf("delete setting %q: %w", k, err)
		}
	}
	return nil
}
