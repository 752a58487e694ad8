package policy

import (
	"context"
	"testing"
)

func BenchmarkParseDesignExample(b *testing.B) {
	data := []byte(designExample)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseFile(OrgFile, data, true); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadUnchanged is the per-event cost of policy when nothing changed:
// two conditional requests answered 304 and a merge, no parse and no store write.
func BenchmarkLoadUnchanged(b *testing.B) {
	fg := newFakeGitHub()
	fg.put("acme/.github", "main", OrgFile, designExample)
	fg.put("acme/widget", "main", RepoFile, "fail_on: medium\nrelease:\n  labels: [ship]\n")
	l := NewLoader(newMemStore(), newClock().now)
	ctx := context.Background()
	if _, err := l.Load(ctx, fg, widget, "main"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Load(ctx, fg, widget, "main"); err != nil {
			b.Fatal(err)
		}
		fg.calls = fg.calls[:0]
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{designExample, "fail_on: low\n", "override:\n  reasons:\n    a: b\n", "- x\n", "a: &a [*a]\n", "release: {labels: [x, y]}\n"} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, org bool) {
		p, err := ParseFile(RepoFile, data, org)
		if err != nil {
			es, ok := err.(Errors)
			if !ok || len(es) == 0 {
				t.Fatalf("error %v is not policy.Errors", err)
			}
			return
		}
		// A file that parses merges without panicking, and its values check out.
		merged, _ := Merge(Default(), p)
		if merged.FailOn.Rank() == 0 || merged.Override.ExpiresAfterDays <= 0 {
			t.Fatalf("invalid merged policy %+v from %q", merged, data)
		}
	})
}
