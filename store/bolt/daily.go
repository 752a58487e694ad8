package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/store"
)

// Daily counts (schema version 4): caught_daily holds, per repository and UTC
// day, how many fingerprints were first caught that day at each severity rank.
// A window's count is the sum of the whole days inside it plus an exact scan of
// caught_by_time for the part days at its two ends, so a report over a million
// findings reads a few hundred small records and at most two days of findings
// instead of every finding in its windows.

const day = 24 * time.Hour

// ranks is the number of severity ranks a daily record counts (0, unknown, to critical).
const ranks = 5

// dayOf is the UTC midnight that starts t's day.
func dayOf(t time.Time) time.Time { return t.UTC().Truncate(day) }

func dailyKey(prefix []byte, d time.Time) []byte {
	return appendTime(append([]byte(nil), prefix...), d)
}

// addDaily adds n to the count of (prefix, day of at, rank).
func addDaily(b *bbolt.Bucket, prefix []byte, at time.Time, rank int, n uint64) error {
	if rank < 0 || rank >= ranks {
		rank = 0
	}
	key := dailyKey(prefix, dayOf(at))
	v := make([]byte, 8*ranks)
	if old := b.Get(key); len(old) == len(v) {
		copy(v, old)
	}
	i := 8 * rank
	binary.BigEndian.PutUint64(v[i:], binary.BigEndian.Uint64(v[i:])+n)
	return b.Put(key, v)
}

// countWindow counts repo's (prefix's) findings in w at or above rank (≥ 1).
func countWindow(byTime, daily *bbolt.Bucket, prefix []byte, w store.Window, rank byte) (int, error) {
	from, to := ts(w.From), ts(w.To)
	if !from.Before(to) {
		return 0, nil
	}
	exact := func(f, t time.Time) (int, error) {
		n := 0
		err := scanWindow(byTime, prefix, store.Window{From: f, To: t}, func(_, v []byte) error {
			if len(v) > 0 && v[0] >= rank {
				n++
			}
			return nil
		})
		return n, err
	}
	d0, d1 := dayOf(from), dayOf(to)
	if d0.Before(from) {
		d0 = d0.Add(day)
	}
	if !d0.Before(d1) { // no whole day inside: count the findings themselves
		return exact(from, to)
	}
	head, err := exact(from, d0)
	if err != nil {
		return 0, err
	}
	tail, err := exact(d1, to)
	if err != nil {
		return 0, err
	}
	n := head + tail
	err = scanWindow(daily, prefix, store.Window{From: d0, To: d1}, func(_, v []byte) error {
		if len(v) != 8*ranks {
			return fmt.Errorf("daily count of %d bytes", len(v))
		}
		for r := int(rank); r < ranks; r++ {
			n += int(binary.BigEndian.Uint64(v[8*r:]))
		}
		return nil
	})
	return n, err
}

// CountCaught counts detections in the window at or above minSeverity.
func (s *Store) CountCaught(ctx context.Context, repo string, w store.Window, minSeverity string) (int, error) {
	n, err := s.CountCaughtWindows(ctx, repo, []store.Window{w}, minSeverity)
	if err != nil {
		return 0, err
	}
	return n[0], nil
}

// CountCaughtWindows counts each window, all in one read transaction.
func (s *Store) CountCaughtWindows(ctx context.Context, repo string, ws []store.Window, minSeverity string) ([]int, error) {
	rank, err := minRank(minSeverity)
	if err != nil {
		return nil, fmt.Errorf("count caught in %s: %w", repo, err)
	}
	out := make([]int, len(ws))
	err = s.view(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bCaughtByTime, bCaughtDaily)
		if err != nil {
			return err
		}
		prefix := repoPrefix(repo)
		for i, w := range ws {
			if out[i], err = countWindow(bs[0], bs[1], prefix, w, rank); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count caught in %s: %w", repo, err)
	}
	return out, nil
}

// minRank is the severity rank a count starts at.
func minRank(minSeverity string) (byte, error) {
	min, err := checks.ParseSeverity(minSeverity)
	if err != nil {
		return 0, err
	}
	return byte(min.Rank()), nil
}

// buildDaily is migration 4: it counts the caught records already stored. A
// caught_by_time key is lower(repo), the separator (which no repository name
// holds, so its first occurrence ends the prefix), the time, the fingerprint.
func buildDaily(tx *bbolt.Tx) error {
	daily, err := tx.CreateBucketIfNotExists(bCaughtDaily)
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bCaughtDaily, err)
	}
	byTime := tx.Bucket(bCaughtByTime)
	if byTime == nil {
		return fmt.Errorf("bucket %s missing", bCaughtByTime)
	}
	// Keys come in order, so one (repo, day) run is counted before it is written.
	var curKey []byte
	var counts [ranks]uint64
	flush := func() error {
		if curKey == nil {
			return nil
		}
		v := make([]byte, 8*ranks)
		for r, n := range counts {
			binary.BigEndian.PutUint64(v[8*r:], n)
		}
		counts = [ranks]uint64{}
		return daily.Put(curKey, v)
	}
	c := byTime.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		i := bytes.IndexByte(k, sep)
		if i < 0 || len(k) < i+1+12 || len(v) == 0 {
			return fmt.Errorf("caught_by_time key or record of unexpected shape")
		}
		prefix := k[:i+1]
		sec := int64(binary.BigEndian.Uint64(k[i+1:]) ^ (1 << 63))
		nsec := int64(binary.BigEndian.Uint32(k[i+9:]))
		key := dailyKey(prefix, dayOf(time.Unix(sec, nsec)))
		if !bytes.Equal(key, curKey) {
			if err := flush(); err != nil {
				return err
			}
			curKey = key
		}
		r := int(v[0])
		if r >= ranks {
			r = 0
		}
		counts[r]++
	}
	return flush()
}
