package checks

import (
	"strings"
	"testing"
)

func TestScrubValues(t *testing.T) {
	tok := "ghp_" + "Ee4dUi6Jo8Kp1Lq3Mr5Ns7Ot9Pu0Qv2Rw4Sx"
	for _, tc := range []struct{ in, want string }{
		{`line 3: ` + "`override.expires_after_days`" + `: "` + tok + `" is not a whole number`, `line 3: ` + "`override.expires_after_days`" + `: "… (32–63 chars)" is not a whole number`},
		{`line 1: "highest" is not a severity`, `line 1: "highest" is not a severity`},
		{`line 2: "release/*" is fine, "30d" too, "5m"`, `line 2: "release/*" is fine, "30d" too, "5m"`},
		{`"AKIAZ3MSJV4WWNKWW5FG" is not a team`, `"… (16–31 chars)" is not a team`},
		{`"hunter2pass" is not a duration`, `"… (8–15 chars)" is not a duration`},
	} {
		got := ScrubQuoted(tc.in)
		if got != tc.want {
			t.Errorf("ScrubQuoted(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
		if strings.Contains(got, tok) {
			t.Errorf("token kept: %q", got)
		}
	}
}
