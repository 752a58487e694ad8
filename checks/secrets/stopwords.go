package secrets

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/zricethezav/gitleaks/v8/config"
)

// gitleaks' Allowlist.Validate builds an Aho-Corasick trie of an allowlist's
// stopwords (generic-api-key has about 1,500); on the default rules that is half of
// New's time, more than all of the rules' regexes, for a check that runs only on a
// rule's matches. loadConfig hides each stopword list behind a sentinel word while
// gitleaks translates the config and puts the words back afterwards (lower-cased and
// de-duplicated, as Validate leaves them); the engine checks them with a stopIndex,
// never with Allowlist.ContainsStopWord (whose trie then holds the sentinel only).

const stopSentinel = "\x00escapegate-stopwords-"

// hideStopWords replaces a list of stopwords by a sentinel naming its index in saved.
func hideStopWords(words *[]string, saved *[][]string) {
	if len(*words) == 0 {
		return
	}
	*saved = append(*saved, *words)
	*words = []string{stopSentinel + strconv.Itoa(len(*saved)-1)}
}

// restoreStopWords puts back the stopwords hidden in als.
func restoreStopWords(als []*config.Allowlist, saved [][]string) error {
	for _, a := range als {
		if len(a.StopWords) != 1 || !strings.HasPrefix(a.StopWords[0], stopSentinel) {
			continue
		}
		n, err := strconv.Atoi(strings.TrimPrefix(a.StopWords[0], stopSentinel))
		if err != nil || n < 0 || n >= len(saved) {
			return fmt.Errorf("allowlist %q: stopwords lost", a.Description)
		}
		seen := map[string]bool{}
		var words []string
		for _, w := range saved[n] {
			if w = strings.ToLower(w); !seen[w] {
				seen[w] = true
				words = append(words, w)
			}
		}
		a.StopWords = words
	}
	return nil
}

// stopIndex answers "does s, lower-cased, contain one of the stopwords" (gitleaks'
// ContainsStopWord) by looking up each pair of bytes of s.
type stopIndex struct {
	byPair map[uint16][]string // stopwords of two bytes or more, by their first two
	short  []string            // shorter stopwords
}

func newStopIndex(words []string) *stopIndex {
	x := &stopIndex{byPair: map[uint16][]string{}}
	for _, w := range words {
		if len(w) < 2 {
			x.short = append(x.short, w)
			continue
		}
		k := uint16(w[0])<<8 | uint16(w[1])
		x.byPair[k] = append(x.byPair[k], w)
	}
	return x
}

func (x *stopIndex) contains(s string) bool {
	if s == "" {
		return false // as ContainsStopWord
	}
	s = strings.ToLower(s)
	for _, w := range x.short {
		if strings.Contains(s, w) {
			return true
		}
	}
	for i := 0; i+1 < len(s); i++ {
		for _, w := range x.byPair[uint16(s[i])<<8|uint16(s[i+1])] {
			if strings.HasPrefix(s[i:], w) {
				return true
			}
		}
	}
	return false
}
