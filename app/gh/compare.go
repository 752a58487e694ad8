package gh

import (
	"context"
	"fmt"

	"github.com/google/go-github/v62/github"
)

// MaxCompareCommits is the most commit SHAs Compare lists: a merge queue's group
// holds a few pull requests' commits, far fewer; past it the oldest are kept.
const MaxCompareCommits = 1000

// Comparison is base...head as GitHub compares it: the files changed and the commits
// it holds.
type Comparison struct {
	Files []File
	// Commits are the SHAs of the commits in base...head, oldest first, at most
	// MaxCompareCommits.
	Commits []string
}

// Compare lists base...head's files (as CompareCommits does) and its commits. GitHub
// lists the files on the first pages and the commits on every page (per_page each),
// so the pages are followed until both are exhausted; past MaxPullFiles files it
// returns what it has with ErrTooManyFiles.
func (c *client) Compare(ctx context.Context, r Repo, base, head string) (Comparison, error) {
	op := fmt.Sprintf("compare %s...%s", base, head)
	opts := &github.ListOptions{PerPage: perPage}
	var out Comparison
	for {
		cmp, resp, err := c.gh.Repositories.CompareCommits(ctx, r.Owner, r.Name, base, head, opts)
		if err != nil {
			return Comparison{}, wrap(err, op, r)
		}
		for _, f := range cmp.Files {
			out.Files = append(out.Files, fileFrom(f))
		}
		for _, cm := range cmp.Commits {
			if len(out.Commits) < MaxCompareCommits && cm.GetSHA() != "" {
				out.Commits = append(out.Commits, cm.GetSHA())
			}
		}
		if len(out.Files) > MaxPullFiles {
			out.Files = out.Files[:MaxPullFiles]
			return out, fmt.Errorf("%s %s: %w", op, r, ErrTooManyFiles)
		}
		if resp.NextPage == 0 || (len(cmp.Files) == 0 && len(cmp.Commits) == 0) || len(out.Commits) >= MaxCompareCommits {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}
