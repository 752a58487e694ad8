package ghfake

import (
	"context"
	"fmt"
	"slices"

	"github.com/escapegate/escapegate/app/gh"
)

// SetCommits sets the commits (SHAs, oldest first) that the comparison base...head of
// repo holds; Compare reports them with the comparison's files (Compares).
func (f *Client) SetCommits(repo, base, head string, shas ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.compareCommits == nil {
		f.compareCommits = map[Compare][]string{}
	}
	f.compareCommits[Compare{repo, base, head}] = slices.Clone(shas)
}

func (f *Client) Compare(_ context.Context, r gh.Repo, base, head string) (gh.Comparison, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.begin("Compare", r, base, head)
	if err != nil {
		return gh.Comparison{}, err
	}
	k := Compare{r.String(), base, head}
	files, ok := f.Compares[k]
	if !ok {
		return gh.Comparison{}, f.end(i, notFound(fmt.Sprintf("comparison %s %s...%s", r, base, head)))
	}
	out := gh.Comparison{Files: slices.Clone(files), Commits: slices.Clone(f.compareCommits[k])}
	if len(files) > gh.MaxPullFiles {
		out.Files = out.Files[:gh.MaxPullFiles]
		return out, f.end(i, fmt.Errorf("ghfake: comparison %s %s...%s: %w", r, base, head, gh.ErrTooManyFiles))
	}
	return out, nil
}
