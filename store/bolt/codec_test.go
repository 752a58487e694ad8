package bolt

import (
	"reflect"
	"testing"
	"time"

	"github.com/escapegate/escapegate/store"
)

func TestCaughtCodec(t *testing.T) {
	cases := []store.Caught{
		{Repo: "Acme/Web", Fingerprint: "f00d", Rule: "aws-access-key", Severity: "critical", Path: "a/b.go", PR: 7, SHA: "abc", At: time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)},
		{Repo: "", Fingerprint: "", Severity: "bogus", PR: -1, At: time.Time{}},
		{Repo: "o/r", Fingerprint: "ü", Severity: "low", At: time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC)},
	}
	d := newCaughtDecoder()
	var got []store.Caught
	for _, c := range cases {
		v := encodeCaught(c)
		x, err := d.decode(v)
		if err != nil {
			t.Fatalf("decode %+v: %v", c, err)
		}
		got = append(got, x)
		// Every strict prefix is rejected, never misread.
		for n := 0; n < len(v); n++ {
			if _, err := newCaughtDecoder().decode(v[:n]); err == nil {
				t.Errorf("decode of %d of %d bytes: want an error", n, len(v))
			}
		}
	}
	d.finish(got)
	if !reflect.DeepEqual(got, cases) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, cases)
	}
	if r := encodeCaught(cases[0])[0]; r != 4 {
		t.Errorf("rank byte of a critical record = %d, want 4", r)
	}
}
