package checks

import (
	"regexp"
	"strconv"
	"strings"
)

// quotedValue is a Go-quoted value in a message ("ghp_…" is not a whole number).
var quotedValue = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// plainValue is what a policy value that is safe to quote back looks like: short, no
// upper case, and letters with digits only as a number with a unit (30d, 5m).
var plainValue = regexp.MustCompile(`^(?:[a-z_./*:@ -]{0,24}|[0-9]{1,12}[a-z]{0,3}|[a-z_./*-]{1,16}[0-9]{0,2})$`)

// ScrubValues is ScrubQuoted of each message.
func ScrubValues(msgs []string) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = ScrubQuoted(m)
	}
	return out
}

// ScrubQuoted replaces each quoted value of a message that could be a secret (a token
// put where a policy or configuration value belongs) with its redacted form, so that an
// error posted on a check run or printed in a log never quotes one back.
func ScrubQuoted(m string) string {
	return quotedValue.ReplaceAllStringFunc(m, func(q string) string {
		v, err := strconv.Unquote(q)
		if err != nil {
			v = strings.Trim(q, `"`)
		}
		if plainValue.MatchString(v) {
			return q
		}
		return `"` + Redact(v) + `"`
	})
}
