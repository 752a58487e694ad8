package bolt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/escapegate/escapegate/store"
)

// Escapes and exceptions are read by the thousand (a report lists a year of a
// repository's escapes, the monthly summary every repository's), and decoding
// them from JSON was most of that cost. They are written in a compact binary form
// whose first byte, recordBinary, can never start a JSON object ('{'); decode
// still reads the JSON that earlier builds wrote, and migration 4 rewrites it.
// The field lists below must follow the structs: TestRecordCodecCoversEveryField
// fails when a field is added to store.Escape or store.Exception and not here.

const (
	recordBinary    = 0x01
	kindEscape      = 'E'
	kindException   = 'X'
	maxStringFields = 1 << 20 // a bound on a decoded slice's length, against a corrupt count
)

var errShortRecord = errors.New("truncated record")

type recWriter struct{ b []byte }

func (w *recWriter) str(s string) {
	w.b = binary.AppendUvarint(w.b, uint64(len(s)))
	w.b = append(w.b, s...)
}
func (w *recWriter) int(v int64) { w.b = binary.AppendVarint(w.b, v) }
func (w *recWriter) time(t time.Time) {
	w.b = binary.AppendVarint(w.b, t.Unix())
	w.b = binary.AppendUvarint(w.b, uint64(t.Nanosecond()))
}

type recReader struct {
	b   []byte
	err error
}

func (r *recReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errShortRecord
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recReader) int() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errShortRecord
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recReader) str() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if uint64(len(r.b)) < n {
		r.err = errShortRecord
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *recReader) time() time.Time {
	sec := r.int()
	nsec := r.uvarint()
	if r.err != nil {
		return time.Time{}
	}
	if sec == (time.Time{}).Unix() && nsec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

func (r *recReader) done() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%d bytes after the record", len(r.b))
	}
	return r.err
}

func encodeEscape(e store.Escape) []byte {
	w := recWriter{b: make([]byte, 0, 160+len(e.Repo)+len(e.Fingerprint)+len(e.Path))}
	w.b = append(w.b, recordBinary, kindEscape)
	w.int(e.ID)
	for _, s := range []string{e.Repo, e.Fingerprint, e.Kind, e.Rule, e.Severity, e.Path, e.Redacted} {
		w.str(s)
	}
	w.int(int64(e.PR))
	w.str(e.SHA)
	w.int(e.ExceptionID)
	w.str(e.Approver)
	w.str(e.Reason)
	w.time(e.DetectedAt)
	w.time(e.At)
	w.str(e.Enforcement)
	return w.b
}

func decodeEscape(v []byte, e *store.Escape) error {
	r := recReader{b: v[2:]}
	e.ID = r.int()
	e.Repo, e.Fingerprint, e.Kind, e.Rule, e.Severity, e.Path, e.Redacted = r.str(), r.str(), r.str(), r.str(), r.str(), r.str(), r.str()
	e.PR = int(r.int())
	e.SHA = r.str()
	e.ExceptionID = r.int()
	e.Approver, e.Reason = r.str(), r.str()
	e.DetectedAt, e.At = r.time(), r.time()
	e.Enforcement = r.str()
	return r.done()
}

func encodeException(e store.Exception) []byte {
	w := recWriter{b: make([]byte, 0, 200+len(e.Fingerprints)*66)}
	w.b = append(w.b, recordBinary, kindException)
	w.int(e.ID)
	w.str(e.Repo)
	w.int(int64(e.PR))
	for _, s := range []string{e.HeadSHA, e.Approver, e.Reason, e.Label} {
		w.str(s)
	}
	// -1 keeps a nil list apart from an empty one, as JSON's null and [] did.
	if e.Fingerprints == nil {
		w.int(-1)
	} else {
		w.int(int64(len(e.Fingerprints)))
	}
	for _, fp := range e.Fingerprints {
		w.str(fp)
	}
	w.time(e.CreatedAt)
	w.time(e.ExpiresAt)
	w.str(e.State)
	w.str(e.RevokedBy)
	w.time(e.EndedAt)
	w.str(e.DeliveryID)
	w.int(int64(e.Issue))
	w.time(e.RemindedAt)
	w.time(e.RemediatedAt)
	return w.b
}

func decodeException(v []byte, e *store.Exception) error {
	r := recReader{b: v[2:]}
	e.ID = r.int()
	e.Repo = r.str()
	e.PR = int(r.int())
	e.HeadSHA, e.Approver, e.Reason, e.Label = r.str(), r.str(), r.str(), r.str()
	n := r.int()
	switch {
	case r.err != nil:
	case n < -1 || n > maxStringFields || n > int64(len(r.b)):
		r.err = fmt.Errorf("exception with %d fingerprints", n)
	case n >= 0:
		e.Fingerprints = make([]string, n)
		for i := range e.Fingerprints {
			e.Fingerprints[i] = r.str()
		}
	}
	e.CreatedAt, e.ExpiresAt = r.time(), r.time()
	e.State, e.RevokedBy = r.str(), r.str()
	e.EndedAt = r.time()
	e.DeliveryID = r.str()
	e.Issue = int(r.int())
	e.RemindedAt, e.RemediatedAt = r.time(), r.time()
	return r.done()
}

// encodeRecord is the stored form of v: binary for escapes and exceptions, JSON otherwise.
func encodeRecord(v any) ([]byte, bool) {
	switch x := v.(type) {
	case store.Escape:
		return encodeEscape(x), true
	case store.Exception:
		return encodeException(x), true
	}
	return nil, false
}

// decodeRecord decodes a binary record into v; ok is false for JSON.
func decodeRecord(raw []byte, v any) (ok bool, err error) {
	if len(raw) < 2 || raw[0] != recordBinary {
		return false, nil
	}
	switch x := v.(type) {
	case *store.Escape:
		if raw[1] == kindEscape {
			*x = store.Escape{}
			return true, decodeEscape(raw, x)
		}
	case *store.Exception:
		if raw[1] == kindException {
			*x = store.Exception{}
			return true, decodeException(raw, x)
		}
	}
	return true, fmt.Errorf("binary record of kind %q is not a %T", raw[1], v)
}

// recodeRecords is part of migration 4: the escapes, exceptions and pending
// escapes that earlier builds stored as JSON are rewritten in the binary form.
func recodeRecords(tx *bbolt.Tx) error {
	if err := recodeBucket[store.Escape](tx, bEscapes); err != nil {
		return err
	}
	if err := recodeBucket[store.Exception](tx, bExceptions); err != nil {
		return err
	}
	return recodeBucket[store.Escape](tx, bPending)
}

func recodeBucket[T any](tx *bbolt.Tx, name []byte) error {
	b := tx.Bucket(name)
	if b == nil {
		return fmt.Errorf("bucket %s missing", name)
	}
	// Collected first, written after: a Put under a cursor can make it skip keys.
	var keys, vals [][]byte
	err := b.ForEach(func(k, v []byte) error {
		if len(v) > 0 && v[0] == recordBinary {
			return nil
		}
		var x T
		if err := decode(v, &x); err != nil {
			return fmt.Errorf("record %x of %s: %w", k, name, err)
		}
		raw, _ := encodeRecord(x)
		keys, vals = append(keys, bytes.Clone(k)), append(vals, raw)
		return nil
	})
	if err != nil {
		return err
	}
	for i, k := range keys {
		if err := b.Put(k, vals[i]); err != nil {
			return fmt.Errorf("rewrite record of %s: %w", name, err)
		}
	}
	return nil
}
