package bolt

import (
	"encoding/binary"
	"strings"
	"time"
)

// Keys are built so that bbolt's byte order is the order the queries need:
// lower(repo), a 0x00 separator (never part of a repository name, so "a/b"
// is not a prefix of "a/bc"), then big-endian fields.

const sep = 0x00

// repoPrefix is lower(repo) followed by the separator.
func repoPrefix(repo string) []byte {
	k := make([]byte, 0, len(repo)+1+24)
	k = append(k, strings.ToLower(repo)...)
	return append(k, sep)
}

// appendTime encodes t as 12 bytes that sort like time: Unix seconds with the
// sign bit flipped (so the zero time.Time, year 1, sorts first) and nanoseconds.
func appendTime(k []byte, t time.Time) []byte {
	k = binary.BigEndian.AppendUint64(k, uint64(t.Unix())^(1<<63))
	return binary.BigEndian.AppendUint32(k, uint32(t.Nanosecond()))
}

func appendUint64(k []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(k, v) }

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// windowBounds returns the first key of the window and the key bound that
// the scan stops before, for keys laid out as prefix + time + anything.
func windowBounds(prefix []byte, from, to time.Time) (start, stop []byte) {
	start = appendTime(append([]byte(nil), prefix...), from)
	stop = appendTime(append([]byte(nil), prefix...), to)
	return start, stop
}
