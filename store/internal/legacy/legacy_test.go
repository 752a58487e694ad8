package legacy

import (
	"reflect"
	"testing"
	"time"

	"github.com/escapegate/escapegate/store"
)

func TestDecode(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)
	cases := []struct {
		name, key, value string
		ok, err          bool
		want             Setting
	}{
		{"not legacy", "policy/acme/web/.github/escapegate.yml", "x", false, false, Setting{}},
		{"summary claim", "summary/1/2026-03", "x", false, false, Setting{}},
		{"pending", "pending/acme/web", `[{"repo":"Acme/Web","fingerprint":"fp1","kind":"advisory","sha":"s","detected_at":"2026-03-01T12:00:00.123456Z","at":"2026-03-01T12:00:00.123456Z"},{"repo":"Acme/Web","fingerprint":"fp2","kind":"missed","sha":"t","detected_at":"0001-01-01T00:00:00Z","at":"0001-01-01T00:00:00Z"}]`,
			true, false, Setting{Kind: KindPending, Repo: "acme/web", Pending: []store.Escape{
				{Repo: "Acme/Web", Fingerprint: "fp1", Kind: "advisory", SHA: "s", DetectedAt: at, At: at},
				{Repo: "Acme/Web", Fingerprint: "fp2", Kind: "missed", SHA: "t"}}}},
		{"pending, empty", "pending/acme/web", `[]`, true, false, Setting{Kind: KindPending, Repo: "acme/web", Pending: []store.Escape{}}},
		{"pending, corrupt", "pending/acme/web", `[{`, true, true, Setting{}},
		{"release", "release/acme/web", `{"tag":"v1.2.0","at":"2026-03-01T12:00:00.123456Z"}`,
			true, false, Setting{Kind: KindRelease, Repo: "acme/web", Release: store.Release{Tag: "v1.2.0", At: at}}},
		{"release, corrupt", "release/acme/web", `"v1"`, true, true, Setting{}},
		{"release comment", "release-comment/acme/web/12", "4567", true, false,
			Setting{Kind: KindReleaseComment, Repo: "acme/web", PR: 12, Comment: 4567}},
		{"release comment, bad id", "release-comment/acme/web/12", "x", true, false, Setting{Kind: KindReleaseComment}},
		{"release comment, bad pr", "release-comment/acme/web/x", "1", true, false, Setting{Kind: KindReleaseComment}},
		{"release comment, no pr", "release-comment/acme", "1", true, false, Setting{Kind: KindReleaseComment}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok, err := Decode(c.key, []byte(c.value))
			if ok != c.ok || (err != nil) != c.err {
				t.Fatalf("Decode(%q) ok=%v err=%v; want ok=%v err=%v", c.key, ok, err, c.ok, c.err)
			}
			if err == nil && !reflect.DeepEqual(got, c.want) {
				t.Errorf("Decode(%q):\n got %+v\nwant %+v", c.key, got, c.want)
			}
		})
	}
}
