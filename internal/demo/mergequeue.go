package demo

import (
	"context"
	"fmt"
	"strings"

	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/internal/fakegithub/events"
)

// mergeQueue puts PR #1 (clean since its fix) and PR #2 (accepted under an exception)
// into main's merge queue. GitHub builds a group commit per entry, each on the one
// ahead of it, and asks for the required checks on it (merge_group checks_requested):
// escapegate checks what the group adds to main, carrying the exceptions of the pull
// requests in the group.
func mergeQueue(ctx context.Context, p *printer, pr1Files, pr2Files []fakegithub.PullFile, pr1Contents map[string][]byte) error {
	f := p.h.GitHub
	base := sha('0')
	groups := []struct {
		pr     int
		head   string
		files  []fakegithub.PullFile
		commit []string
	}{
		{pr: 1, head: sha('q'), files: pr1Files, commit: []string{sha('b'), sha('q')}},
		{pr: 2, head: sha('w'), files: append(append([]fakegithub.PullFile(nil), pr1Files...), pr2Files...), commit: []string{sha('b'), sha('q'), sha('c'), sha('w')}},
	}
	for _, g := range groups {
		f.SetCompare(repoName, base, g.head, g.files)
		f.SetCompareCommits(repoName, base, g.head, g.commit...)
		for path, data := range pr1Contents {
			f.SetFile(repoName, g.head, path, data)
		}
	}
	p.step("PR #1 and PR #2 enter main's merge queue; GitHub builds a group commit for each, #2's on top of #1's")
	for _, g := range groups {
		ev := events.Group{HeadSHA: g.head, BaseSHA: base, Base: "main", PR: g.pr}
		fmt.Fprintf(p.w, "   merge group %s\n", strings.TrimPrefix(ev.HeadRef(), "refs/heads/"))
		if err := p.send(ctx, "merge_group", events.MergeGroup(inst, payments, "checks_requested", "", ev, "github-merge-queue[bot]")); err != nil {
			return err
		}
		p.checkRuns(g.head)
		p.summaryNote(g.head)
	}
	return nil
}

// summaryNote prints the first paragraph of the newest escapegate check run's summary on sha.
func (p *printer) summaryNote(sha string) {
	runs := p.h.GitHub.CheckRuns(repoName)
	for i := len(runs) - 1; i >= 0; i-- {
		if runs[i].HeadSHA == sha {
			note, _, _ := strings.Cut(runs[i].Summary, "\n\n")
			fmt.Fprintf(p.w, "   summary: %s\n", note)
			return
		}
	}
}
