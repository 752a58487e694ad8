package events

import (
	"fmt"

	"github.com/google/go-github/v62/github"
)

// Group describes a merge queue's group in a merge_group event.
type Group struct {
	HeadSHA string
	BaseSHA string
	Base    string // the queue's branch, e.g. main
	PR      int    // the pull request the group was built for (the last of the group)
}

// HeadRef is the group's head ref as GitHub names it:
// refs/heads/gh-readonly-queue/<base>/pr-<number>-<base sha>.
func (g Group) HeadRef() string {
	return fmt.Sprintf("refs/heads/gh-readonly-queue/%s/pr-%d-%s", g.Base, g.PR, g.BaseSHA)
}

// MergeGroup builds a merge_group event: action checks_requested, or destroyed with
// reason (merged, invalidated, dequeued).
func MergeGroup(installation int64, r Repo, action, reason string, g Group, sender string) []byte {
	type group struct {
		*github.MergeGroup
		// GitHub's head_commit is a simple commit (id, tree_id, ...), not go-github's Commit.
		HeadCommit map[string]any `json:"head_commit"`
	}
	mg := &github.MergeGroup{
		HeadSHA: github.String(g.HeadSHA), HeadRef: github.String(g.HeadRef()),
		BaseSHA: github.String(g.BaseSHA), BaseRef: github.String("refs/heads/" + g.Base),
	}
	author := map[string]any{"name": sender, "email": sender + "@users.noreply.github.com"}
	ev := struct {
		github.MergeGroupEvent
		MergeGroup group  `json:"merge_group"`
		Reason     string `json:"reason,omitempty"` // go-github v62 has no field for it
	}{
		MergeGroup: group{MergeGroup: mg, HeadCommit: map[string]any{
			"id": g.HeadSHA, "tree_id": g.HeadSHA, "message": fmt.Sprintf("Merge pull request #%d", g.PR),
			"timestamp": "2024-01-01T00:00:00Z", "author": author, "committer": author,
		}},
		MergeGroupEvent: github.MergeGroupEvent{
			Action: github.String(action),
			Repo:   r.gh(), Org: org(r), Installation: inst(installation), Sender: user(sender),
		},
		Reason: reason,
	}
	return mustJSON(ev)
}
