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
type caughtDecoder struct {
	strs map[string]string
	// Fingerprints never repeat: they are gathered into one buffer, converted to
	// one string by finish, and sliced, instead of one allocation per record.
	fps   []byte
	fpEnd []int
}

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

// finish sets the fingerprints of out, the records decode returned, in order.
func (d *caughtDecoder) finish(out []store.Caught) {
	all := string(d.fps)
	start := 0
	for i, end := range d.fpEnd {
		out[i].Fingerprint = all[start:end]
		start = end
	}
}

// decode returns a record whose Fingerprint is set by finish.
func (d *caughtDecoder) decode(v []byte) (store.Caught, error) {
	var c store.Caught
	if len(v) < 2 || v[1] != caughtFormat {
		return c, fmt.Errorf("caught record: unknown format")
	}
	b := v[2:]
	var err error
	// Field by field, without a table of pointers: that would move c to the heap.
	if c.Repo, b, err = d.str(b, true); err != nil {
		return c, err
	}
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return c, errShortCaught
	}
	d.fps = append(d.fps, b[k:k+int(n)]...)
	d.fpEnd = append(d.fpEnd, len(d.fps))
	b = b[k+int(n):]
	if c.Rule, b, err = d.str(b, true); err != nil {
		return c, err
	}
	if c.Severity, b, err = d.str(b, true); err != nil {
		return c, err
	}
	if c.Path, b, err = d.str(b, true); err != nil {
		return c, err
	}
	if c.SHA, b, err = d.str(b, true); err != nil {
		return c, err
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
