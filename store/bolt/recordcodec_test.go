package bolt

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/escapegate/escapegate/store"
)

// filled sets every field of *p to a distinct non-zero value, so that a field the
// codec forgets cannot survive a round trip.
func filled(t *testing.T, p any) {
	t.Helper()
	v := reflect.ValueOf(p).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(fmt.Sprintf("%s-ü-%d", v.Type().Field(i).Name, i))
		case reflect.Int, reflect.Int64:
			f.SetInt(int64(1000 + i))
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Slice:
			f.Set(reflect.ValueOf([]string{"a", "", "c"}))
		case reflect.Struct:
			if f.Type() != reflect.TypeOf(time.Time{}) {
				t.Fatalf("field %s of unexpected type %s", v.Type().Field(i).Name, f.Type())
			}
			f.Set(reflect.ValueOf(time.Date(2026, 3, 1, 12, i, 0, 123456000, time.UTC)))
		default:
			t.Fatalf("field %s of kind %s: teach the codec and this test", v.Type().Field(i).Name, f.Kind())
		}
	}
}

func roundTrip[T any](t *testing.T, in T) {
	t.Helper()
	raw, ok := encodeRecord(in)
	if !ok {
		t.Fatalf("%T has no binary form", in)
	}
	var out T
	if err := decode(raw, &out); err != nil {
		t.Fatalf("decode %T: %v", in, err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("round trip of %T:\n got %+v\nwant %+v", in, out, in)
	}
	// Every strict prefix is rejected, never misread.
	for n := 0; n < len(raw); n++ {
		var x T
		if err := decode(raw[:n], &x); err == nil {
			t.Errorf("decode of %d of %d bytes of %T: want an error", n, len(raw), in)
		}
	}
	// The JSON that earlier builds stored still decodes to the same record.
	js, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON T
	if err := decode(js, &fromJSON); err != nil || !reflect.DeepEqual(fromJSON, in) {
		t.Errorf("JSON record of %T: %v\n got %+v\nwant %+v", in, err, fromJSON, in)
	}
}

func TestRecordCodecCoversEveryField(t *testing.T) {
	var e store.Escape
	filled(t, &e)
	roundTrip(t, e)
	var x store.Exception
	filled(t, &x)
	roundTrip(t, x)
}

func TestRecordCodecEdges(t *testing.T) {
	roundTrip(t, store.Escape{})
	roundTrip(t, store.Exception{})
	roundTrip(t, store.Exception{Fingerprints: []string{}})
	roundTrip(t, store.Escape{PR: -1, ID: 1 << 62, DetectedAt: time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC)})
	// A record of one kind is not read as the other.
	var x store.Exception
	if err := decode(encodeEscape(store.Escape{Repo: "a/b"}), &x); err == nil {
		t.Errorf("an escape decoded as an exception")
	}
}

// TestMigrationRecodesJSON: a version 3 file's JSON escapes, exceptions and pending
// escapes read the same after migration 4, which stores them in the binary form.
func TestMigrationRecodesJSON(t *testing.T) {
	ctx := t.Context()
	s, err := Open(t.TempDir()+"/e.db", Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.migrateTo(ctx, 3); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	esc := store.Escape{ID: 1, Repo: "acme/web", Fingerprint: "fp", Kind: store.EscapeOverridden, Severity: "critical", DetectedAt: at, At: at.Add(time.Hour)}
	exc := store.Exception{ID: 1, Repo: "acme/web", PR: 3, Approver: "lead", Fingerprints: []string{"fp"}, CreatedAt: at, ExpiresAt: at.AddDate(0, 1, 0), State: store.ExceptionActive, DeliveryID: "d1"}
	pend := store.Escape{Repo: "acme/web", Fingerprint: "fp2", Kind: store.EscapeAdvisory, Severity: "critical", DetectedAt: at}
	// As a version 3 build wrote them: JSON, with their index entries.
	err = s.db.Update(func(tx *bbolt.Tx) error {
		js := func(v any) []byte { b, _ := json.Marshal(v); return b }
		for _, w := range []struct {
			bucket, key, val []byte
		}{
			{bEscapes, u64(1), js(esc)},
			{bEscByFP, append(repoPrefix(esc.Repo), esc.Fingerprint...), u64(1)},
			{bEscByDetected, appendUint64(appendTime(repoPrefix(esc.Repo), esc.DetectedAt), 1), nil},
			{bExceptions, u64(1), js(exc)},
			{bExcByDelivery, []byte("d1"), u64(1)},
			{bExcByTime, excTimeKey(exc), nil},
			{bExcByPR, excPRKey(exc), nil},
			{bPending, appendUint64(repoPrefix(pend.Repo), 1), js(pend)},
			{bPendingByFP, pendingFPKey(pend.Repo, pend.Fingerprint), u64(1)},
		} {
			if err := tx.Bucket(w.bucket).Put(w.key, w.val); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	err = s.db.View(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bEscapes, bExceptions, bPending} {
			_, v := tx.Bucket(b).Cursor().First()
			if len(v) == 0 || v[0] != recordBinary {
				t.Errorf("%s record after migration: %q, want the binary form", b, v)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	gotEsc, err := s.ListEscapes(ctx, "acme/web", store.Window{From: at, To: at.Add(time.Second)})
	if err != nil || !reflect.DeepEqual(gotEsc, []store.Escape{esc}) {
		t.Errorf("escapes after migration: %+v, %v", gotEsc, err)
	}
	if got, err := s.GetException(ctx, 1); err != nil || !reflect.DeepEqual(got, exc) {
		t.Errorf("exception after migration: %+v, %v", got, err)
	}
	if got, err := s.TakePending(ctx, "acme/web"); err != nil || !reflect.DeepEqual(got, []store.Escape{pend}) {
		t.Errorf("pending after migration: %+v, %v", got, err)
	}
}
