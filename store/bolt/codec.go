package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/store"
)

// Caught records are the bulk of the data (a report may read 100k of them), so
// they get a compact binary form instead of JSON: decoding is about ten times
// cheaper. Layout: severity rank (read by CountCaught without decoding), format
// byte, then repo, fingerprint, rule, severity, path, sha as uvarint-length
// strings, pr as a varint, and the time as Unix seconds (varint) and nanoseconds (uvarint).
const caughtFormat = 1

func encodeCaught(c store.Caught) []byte {
	b := make([]byte, 0, 2+len(c.Repo)+len(c.Fingerprint)+len(c.Rule)+len(c.Severity)+len(c.Path)+len(c.SHA)+32)
	b = append(b, byte(checks.Severity(c.Severity).Rank()), caughtFormat)
	for _, s := range []string{c.Repo, c.Fingerprint, c.Rule, c.Severity, c.Path, c.SHA} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendVarint(b, int64(c.PR))
	b = binary.AppendVarint(b, c.At.Unix())
	return binary.AppendUvarint(b, uint64(c.At.Nanosecond()))
}

var errShortCaught = errors.New("truncated caught record")

// caughtDecoder decodes caught records, sharing the strings that repeat from one
// record to the next (repository, rule, severity, path, commit) within one listing.
type caughtDecoder struct{ strs map[string]string }

// maxInterned bounds the table when values do not repeat (every commit distinct).
const maxInterned = 1024

func newCaughtDecoder() *caughtDecoder { return &caughtDecoder{strs: make(map[string]string)} }

func (d *caughtDecoder) str(b []byte, intern bool) (string, []byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return "", nil, errShortCaught
	}
	raw, rest := b[k:k+int(n)], b[k+int(n):]
	if !intern {
		return string(raw), rest, nil
	}
	if s, ok := d.strs[string(raw)]; ok { // no allocation for the lookup
		return s, rest, nil
	}
	s := string(raw)
	if len(d.strs) < maxInterned {
		d.strs[s] = s
	}
	return s, rest, nil
}

func (d *caughtDecoder) decode(v []byte) (store.Caught, error) {
	var c store.Caught
	if len(v) < 2 || v[1] != caughtFormat {
		return c, fmt.Errorf("caught record: unknown format")
	}
	b := v[2:]
	var err error
	fields := []struct {
		dst    *string
		intern bool
	}{{&c.Repo, true}, {&c.Fingerprint, false}, {&c.Rule, true}, {&c.Severity, true}, {&c.Path, true}, {&c.SHA, true}}
	for _, f := range fields {
		if *f.dst, b, err = d.str(b, f.intern); err != nil {
			return c, err
		}
	}
	pr, k := binary.Varint(b)
	if k <= 0 {
		return c, errShortCaught
	}
	b = b[k:]
	sec, k := binary.Varint(b)
	if k <= 0 {
		return c, errShortCaught
	}
	b = b[k:]
	nsec, k := binary.Uvarint(b)
	if k <= 0 {
		return c, errShortCaught
	}
	c.PR = int(pr)
	c.At = time.Unix(sec, int64(nsec)).UTC()
	return c, nil
}
