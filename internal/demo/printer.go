package demo

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/escapegate/escapegate/app/escaperate"
	"github.com/escapegate/escapegate/app/render"
)

// printer writes what escapegate posted to the fake GitHub in readable form.
type printer struct {
	w   io.Writer
	h   *Harness
	n   int
	err error
}

func (p *printer) step(what string) {
	p.n++
	fmt.Fprintf(p.w, "\n━━ %d. %s\n", p.n, what)
}

func (p *printer) send(ctx context.Context, event string, payload []byte) error {
	status, err := p.h.Send(ctx, event, payload)
	if err != nil {
		return err
	}
	fmt.Fprintf(p.w, "   webhook %s → escapegate answered %d\n", event, status)
	if status >= 300 {
		return fmt.Errorf("escapegate refused the %s webhook with %d", event, status)
	}
	return nil
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = pre + l
	}
	return strings.Join(lines, "\n")
}

// checkRuns prints the newest escapegate check run on sha.
func (p *printer) checkRuns(sha string) {
	runs := p.h.GitHub.CheckRuns(repoName)
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		if r.HeadSHA != sha {
			continue
		}
		fmt.Fprintf(p.w, "   check run %q: %s / %s\n   title: %s\n", r.Name, r.Status, r.Conclusion, r.Title)
		for _, a := range r.Annotations {
			fmt.Fprintf(p.w, "   annotation %s:%d [%s] %s\n", a.Path, a.StartLine, a.Level, firstLine(a.Message))
		}
		return
	}
	fmt.Fprintf(p.w, "   (no check run on %s)\n", sha[:7])
	p.err = fmt.Errorf("no check run on %s", sha[:7])
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func (p *printer) comments(n int) {
	cs := p.h.GitHub.Comments(repoName, n)
	if len(cs) == 0 {
		fmt.Fprintf(p.w, "   (no comments on #%d)\n", n)
		return
	}
	for _, c := range cs {
		fmt.Fprintf(p.w, "   comment %d on #%d by %s:\n%s\n", c.ID, n, c.Author, indent(c.Body, "   │ "))
	}
}

func (p *printer) labels(n int) {
	fmt.Fprintf(p.w, "   labels on #%d now: %v\n", n, p.h.GitHub.Labels(repoName, n))
}

func (p *printer) report(ctx context.Context) error {
	r, err := escaperate.ForRepo(ctx, p.h.Store, repoName, "90d", time.Now())
	if err != nil {
		return err
	}
	body, _, err := render.ReportAs(r, "text")
	if err != nil {
		return err
	}
	fmt.Fprintln(p.w, indent(string(body), "   "))
	return nil
}

func (p *printer) summary(ctx context.Context, month time.Time) error {
	out, err := p.h.Server.Summaries().RunOne(ctx, inst, month, false)
	if err != nil {
		return fmt.Errorf("monthly summary: %w", err)
	}
	fmt.Fprintf(p.w, "   summary %s: %s\n", out.Title, out.Status)
	for _, is := range p.h.GitHub.Issues(reports.FullName) {
		fmt.Fprintf(p.w, "   issue #%d in %s: %s\n%s\n", is.Number, reports.FullName, is.Title, indent(is.Body, "   │ "))
	}
	return nil
}

// lastRunID is the id of the newest escapegate check run on sha (0 when there is none).
func (p *printer) lastRunID(sha string) int64 {
	runs := p.h.GitHub.CheckRuns(repoName)
	for i := len(runs) - 1; i >= 0; i-- {
		if runs[i].HeadSHA == sha {
			return runs[i].ID
		}
	}
	return 0
}

// newComments prints the last k comments on #n.
func (p *printer) newComments(n, k int) {
	cs := p.h.GitHub.Comments(repoName, n)
	for _, c := range cs[max(0, len(cs)-k):] {
		fmt.Fprintf(p.w, "   comment %d on #%d by %s:\n%s\n", c.ID, n, c.Author, indent(c.Body, "   │ "))
	}
}

// issues prints the issues of repo.
func (p *printer) issues(repo string) {
	for _, is := range p.h.GitHub.Issues(repo) {
		fmt.Fprintf(p.w, "   issue #%d in %s, assigned to %v: %s\n%s\n", is.Number, repo, is.Assignees, is.Title, indent(is.Body, "   │ "))
	}
}
