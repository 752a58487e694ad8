package render

import (
	"fmt"
	"strings"
)

// RefusalComment is the comment posted when an override label is removed
// because its sender may not accept risks; why is the recorded reason (for
// example "not an approver"), shown at the end, and may be empty.
func RefusalComment(sender, label, repo string, help OverrideHelp, why string) string {
	if label == "" {
		label = DefaultLabel
	}
	var b strings.Builder
	fmt.Fprintf(&b, "@%s, %s was removed: only %s may accept risks", strings.TrimPrefix(sender, "@"), codeSpan(label), whoMayPlural(repo, help))
	if repo != "" {
		fmt.Fprintf(&b, " in %s", codeSpan(repo))
	}
	if !help.AllowAuthor {
		b.WriteString(", and not on their own pull requests")
	}
	b.WriteString(". This attempt was recorded")
	if why = strings.TrimSuffix(strings.TrimSpace(oneLine(why)), "."); why != "" {
		fmt.Fprintf(&b, " (%s)", cell(why))
	}
	b.WriteString(".")
	return b.String()
}

// whoMayPlural is whoMay for a sentence about everyone who qualifies.
func whoMayPlural(repo string, h OverrideHelp) string {
	var who []string
	if len(h.Teams) > 0 {
		who = append(who, "active members of "+teamList(h.Teams))
	}
	if h.Permission != "" {
		who = append(who, fmt.Sprintf("users with %s permission on the repository", cell(h.Permission)))
	}
	if len(who) == 0 {
		return "approvers named in the organization's policy (none are configured)"
	}
	return joinWord(who, "or")
}

// InProgress is the title and summary of a check run while its scan runs.
func InProgress() (title, summary string) {
	return "Scanning for secrets and overbroad agent permissions",
		"escapegate is scanning the lines this pull request adds for secrets and overbroad AI-agent permissions. " +
			"This check completes in a moment; it fails if a risk at or above the policy's `fail_on` is added."
}
