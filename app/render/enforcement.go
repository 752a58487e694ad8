package render

import (
	"fmt"
	"strings"

	"github.com/escapegate/escapegate/app/escaperate"
	"github.com/escapegate/escapegate/store"
)

// Enforcement says in a line what GitHub requires of the check called name.
func Enforcement(e store.Enforcement, name string) string {
	switch {
	case len(e.Branches) == 0:
		return "no production branch to read"
	case e.Required:
		return fmt.Sprintf("required on %s (%s)", strings.Join(e.Branches, ", "), strings.Join(e.Via, "; "))
	case e.OtherApp:
		return fmt.Sprintf("not required on %s: a rule requires a check named %q, but from another app", strings.Join(e.Missing, ", "), name)
	}
	return fmt.Sprintf("not required on %s: no ruleset or branch protection requires the %q check", strings.Join(e.Missing, ", "), name)
}

// Coverage is how many repositories require the check: "enforced on 41 of 57
// repositories; advisory on: a, b; not read yet: c".
func Coverage(c escaperate.Coverage) string {
	var b strings.Builder
	fmt.Fprintf(&b, "enforced on %d of %d repositories", c.Enforced, c.Total)
	if len(c.Advisory) > 0 {
		fmt.Fprintf(&b, "; advisory on: %s", listSome(c.Advisory, 20))
	}
	if len(c.Unknown) > 0 {
		fmt.Fprintf(&b, "; not read yet: %s", listSome(c.Unknown, 20))
	}
	return b.String()
}

// listSome joins up to n names and says how many more there are.
func listSome(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}

// writeEnforcement says whether the check blocks a failing merge, once GitHub's rules
// were read (nothing is said before: not read is not the same as not required).
func writeEnforcement(b *strings.Builder, r escaperate.Report) {
	e := r.Enforcement
	if e == nil || len(e.Branches) == 0 {
		return
	}
	if e.Required {
		fmt.Fprintf(b, "\nThe `escapegate` check is required on %s (%s): a failing pull request cannot merge without an exception.\n",
			codeList(e.Branches), shortCell(strings.Join(e.Via, "; ")))
		return
	}
	fmt.Fprintf(b, "\n**The `escapegate` check is not required on %s**: a failing pull request can merge, and each such merge is an advisory escape. ",
		codeList(e.Missing))
	if e.OtherApp {
		b.WriteString("A rule there requires a check of that name from another app, which this app's check does not satisfy.\n")
		return
	}
	b.WriteString("Make it a required status check in a ruleset or the branch protection.\n")
}

// codeList writes names as code, joined.
func codeList(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = code(n)
	}
	return strings.Join(out, ", ")
}
