package secrets

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/viper"
	"github.com/zricethezav/gitleaks/v8/config"
)

// gitleaksDefaults is gitleaks' default config as gitleaks itself loads it.
func gitleaksDefaults(t *testing.T) config.Config {
	t.Helper()
	v := viper.New()
	v.SetConfigType("toml")
	if err := v.ReadConfig(bytes.NewReader([]byte(config.DefaultConfig))); err != nil {
		t.Fatal(err)
	}
	var vc config.ViperConfig
	if err := v.Unmarshal(&vc); err != nil {
		t.Fatal(err)
	}
	c, err := vc.Translate()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestStopWordsAsGitleaks checks that every rule keeps gitleaks' own stopwords after
// loadConfig hid them from Translate, and that the engine's stopIndex answers as
// gitleaks' ContainsStopWord (its trie) on the stopwords themselves, the samples'
// words and random text.
func TestStopWordsAsGitleaks(t *testing.T) {
	ref := gitleaksDefaults(t)
	e := mustEngine(t, Options{})
	checked := 0
	rng := rand.New(rand.NewPCG(5, 8))
	for i := range e.rules {
		r := &e.rules[i]
		gr, ok := ref.Rules[r.id]
		if !ok || r.source != SourceGitleaks {
			continue
		}
		if len(gr.Allowlists) != len(r.allowlists) {
			t.Fatalf("%s: %d allowlists, gitleaks has %d", r.id, len(r.allowlists), len(gr.Allowlists))
		}
		for j, ga := range gr.Allowlists {
			a := r.allowlists[j]
			if !slices.Equal(sortedCopy(a.StopWords), sortedCopy(ga.StopWords)) {
				t.Errorf("%s allowlist %d: stopwords differ from gitleaks' (%d against %d)", r.id, j, len(a.StopWords), len(ga.StopWords))
				continue
			}
			if len(ga.StopWords) == 0 {
				continue
			}
			x := e.stops[a]
			if x == nil {
				t.Fatalf("%s allowlist %d: no stop index", r.id, j)
			}
			var texts []string
			for _, w := range ga.StopWords {
				texts = append(texts, w, strings.ToUpper(w), "x"+w+"y", w[:len(w)/2], w[1:])
			}
			for range 3000 {
				var b strings.Builder
				for range 1 + rng.IntN(4) {
					w := ga.StopWords[rng.IntN(len(ga.StopWords))]
					if rng.IntN(2) == 0 {
						w = w[rng.IntN(len(w)):]
					}
					b.WriteString(w)
					b.WriteString(string("aZ09_-.é"[rng.IntN(8)]))
				}
				texts = append(texts, b.String())
			}
			for _, s := range texts {
				want, _ := ga.ContainsStopWord(s)
				if got := x.contains(s); got != want {
					t.Errorf("%s: stopword in %q: %v, gitleaks %v", r.id, s, got, want)
				}
				checked++
			}
		}
	}
	if checked == 0 {
		t.Fatal("no rule with stopwords")
	}
	for j, ga := range ref.Allowlists {
		if j >= len(e.globalSets[0]) || !slices.Equal(sortedCopy(e.globalSets[0][j].StopWords), sortedCopy(ga.StopWords)) {
			t.Errorf("global allowlist %d: stopwords differ from gitleaks'", j)
		}
	}
}
