package postgres

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/escapegate/escapegate/store"
)

// A report may read 100k caught rows, so they are decoded from pgx's raw binary
// values rather than through Scan: the strings that repeat from row to row
// (repository, rule, severity, path, commit) are shared, and the fingerprints,
// which never repeat, are sliced out of one string.

// maxInterned bounds the table when values do not repeat (every commit distinct).
const maxInterned = 1024

// pgEpoch is PostgreSQL's timestamp origin, 2000-01-01 UTC, in Unix seconds.
const pgEpoch = 946684800

type interner map[string]string

func (in interner) str(b []byte) string {
	if s, ok := in[string(b)]; ok { // no allocation for the lookup
		return s
	}
	s := string(b)
	if len(in) < maxInterned {
		in[s] = s
	}
	return s
}

// readCaught reads rows of (repo, fingerprint, rule, severity, path, pr, sha, at).
func readCaught(rows pgx.Rows) ([]store.Caught, error) {
	fds := rows.FieldDescriptions()
	want := []uint32{pgtype.TextOID, pgtype.TextOID, pgtype.TextOID, pgtype.TextOID, pgtype.TextOID, pgtype.Int4OID, pgtype.TextOID, pgtype.TimestamptzOID}
	if len(fds) != len(want) {
		return nil, fmt.Errorf("caught rows have %d columns, want %d", len(fds), len(want))
	}
	for i, fd := range fds {
		// text has the same bytes in both formats; the others must be binary.
		if fd.DataTypeOID != want[i] || (fd.DataTypeOID != pgtype.TextOID && fd.Format != pgx.BinaryFormatCode) {
			return scanCaught(rows)
		}
	}
	in := interner{}
	var out []store.Caught
	var fps []byte
	var fpEnd []int
	for rows.Next() {
		v := rows.RawValues()
		if len(v[5]) != 4 || len(v[7]) != 8 {
			return nil, fmt.Errorf("caught row: unexpected pr or time encoding")
		}
		us := int64(binary.BigEndian.Uint64(v[7]))
		sec, rem := us/1e6, us%1e6
		if rem < 0 {
			sec, rem = sec-1, rem+1e6
		}
		fps = append(fps, v[1]...)
		fpEnd = append(fpEnd, len(fps))
		out = append(out, store.Caught{
			Repo:     in.str(v[0]),
			Rule:     in.str(v[2]),
			Severity: in.str(v[3]),
			Path:     in.str(v[4]),
			PR:       int(int32(binary.BigEndian.Uint32(v[5]))),
			SHA:      in.str(v[6]),
			At:       time.Unix(pgEpoch+sec, rem*1000).UTC(),
		})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	all, start := string(fps), 0
	for i, end := range fpEnd {
		out[i].Fingerprint = all[start:end]
		start = end
	}
	return out, nil
}

// scanCaught is the plain path, for a connection that returns another encoding.
func scanCaught(rows pgx.Rows) ([]store.Caught, error) {
	var out []store.Caught
	for rows.Next() {
		var c store.Caught
		if err := rows.Scan(&c.Repo, &c.Fingerprint, &c.Rule, &c.Severity, &c.Path, &c.PR, &c.SHA, &c.At); err != nil {
			return nil, err
		}
		c.At = c.At.UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}
