package bolt

import (
	"context"

	bbolt "go.etcd.io/bbolt"

	"github.com/escapegate/escapegate/store"
)

// MigrateTo brings s to schema version v only, as a build of that version would.
func MigrateTo(ctx context.Context, s *Store, v int) error { return s.migrateTo(ctx, v) }

// RecordCaughtV3 records a detection as a schema version 3 build did: no daily count.
func RecordCaughtV3(s *Store, c store.Caught) error {
	c.At = ts(c.At)
	return s.db.Update(func(tx *bbolt.Tx) error {
		prefix := repoPrefix(c.Repo)
		key := append(append([]byte(nil), prefix...), c.Fingerprint...)
		if tx.Bucket(bCaught).Get(key) != nil {
			return nil
		}
		tkey := append(appendTime(prefix, c.At), c.Fingerprint...)
		if err := tx.Bucket(bCaughtByTime).Put(tkey, encodeCaught(c)); err != nil {
			return err
		}
		return tx.Bucket(bCaught).Put(key, tkey)
	})
}
