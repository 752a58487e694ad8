package secrets

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestKWMatcher compares the keyword automaton with a naive search: every occurrence
// of every keyword, overlapping ones included, ASCII case ignored, reported in order of
// their ends; on short texts (one stream), long ones (two, split after a newline), long
// ones without a newline, and with a keyword holding a newline (never split).
func TestKWMatcher(t *testing.T) {
	keywords := []string{"key", "apikey", "api", "ey", "s.", "hvs.", "a3-", "sk", "pass", "password", "é", "x"}
	for _, tc := range []struct {
		name     string
		keywords []string
		alphabet string
		maxLen   int
	}{
		{"short", keywords, "aApPiIkKeEyYsShHvV.3-wWoOrRdDx\n é", 60},
		{"long", keywords, "aApPiIkKeEyYsShHvV.3-wWoOrRdDx\n é", 3 * twoStreams},
		{"long, few newlines", keywords, "aApPiIkKeEyYsShHvV.3-wWoOrRdDx é", 3 * twoStreams},
		{"keyword with a newline", append([]string{"y\nk"}, keywords...), "aApPiIkKeEyYsS\n", 3 * twoStreams},
	} {
		t.Run(tc.name, func(t *testing.T) { checkKWMatcher(t, tc.keywords, []byte(tc.alphabet), tc.maxLen) })
	}
}

func checkKWMatcher(t *testing.T, keywords []string, alphabet []byte, maxLen int) {
	vals := make([][]int32, len(keywords))
	for i := range vals {
		vals[i] = []int32{int32(i)}
	}
	m := newKWMatcher(keywords, vals)
	rng := rand.New(rand.NewPCG(1, 2))
	var held []kwHit
	for range 2000 {
		text := make([]byte, rng.IntN(maxLen))
		for i := range text {
			text[i] = alphabet[rng.IntN(len(alphabet))]
			if rng.IntN(200) == 0 {
				text[i] = '\n' // a few newlines even where the alphabet has none
			}
		}
		type occ struct{ end, kw int }
		var got, want []occ
		m.scan(text, func(end int, vs []int32) {
			if len(got) > 0 && got[len(got)-1].end >= end {
				t.Fatalf("%q: a hit ending at %d after one at %d", text, end, got[len(got)-1].end)
			}
			for _, v := range vs {
				got = append(got, occ{end, int(v)})
			}
		}, &held)
		lower := asciiLower(text)
		for ki, k := range keywords {
			for i := 0; i+len(k) <= len(lower); i++ {
				if string(lower[i:i+len(k)]) == k {
					want = append(want, occ{i + len(k) - 1, ki})
				}
			}
		}
		cmp := func(a, b occ) int {
			if a.end != b.end {
				return a.end - b.end
			}
			return a.kw - b.kw
		}
		slices.SortFunc(got, cmp)
		slices.SortFunc(want, cmp)
		if !slices.Equal(got, want) {
			t.Fatalf("%q: got %v, want %v", text, got, want)
		}
	}
}

func asciiLower(b []byte) []byte {
	out := []byte(strings.Clone(string(b)))
	for i, c := range out {
		if 'A' <= c && c <= 'Z' {
			out[i] = c + 'a' - 'A'
		}
	}
	return out
}

// TestKWMatcherMergesValues checks that a position where several keywords end
// reports each value once.
func TestKWMatcherMergesValues(t *testing.T) {
	m := newKWMatcher([]string{"apikey", "key", "ey"}, [][]int32{{1, 2}, {2, 3}, {3}})
	var got [][]int32
	m.scan([]byte("x APIKEY"), func(end int, vs []int32) { got = append(got, slices.Sorted(slices.Values(vs))) }, new([]kwHit))
	if len(got) != 1 || !slices.Equal(got[0], []int32{1, 2, 3}) {
		t.Fatalf("got %v", got)
	}
}

// BenchmarkKeywordScan: the automaton over Go's sources as one block of 4 MB and as
// 300-byte blocks, walked as one stream (walk) and as two (scan, as the engine does).
func BenchmarkKeywordScan(b *testing.B) {
	e, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	var text []byte
	for _, f := range sourceFiles(b, 4<<20) {
		for _, l := range f.Added {
			text = append(append(text, l.Text...), '\n')
		}
	}
	hits := 0
	count := func(int, []int32) { hits++ }
	var held []kwHit
	for _, block := range []int{len(text), 300} {
		b.Run(fmt.Sprintf("%d-byte blocks, one stream", block), func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				for off := 0; off < len(text); off += block {
					e.keywords.walk(text[off:min(off+block, len(text))], count)
				}
			}
		})
		b.Run(fmt.Sprintf("%d-byte blocks, two streams", block), func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				for off := 0; off < len(text); off += block {
					e.keywords.scan(text[off:min(off+block, len(text))], count, &held)
				}
			}
		})
	}
}
