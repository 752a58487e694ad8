package fakegithub

import (
	"sort"
	"strings"
	"time"
)

// PullFile is a changed file of a pull request or a comparison.
type PullFile struct {
	Filename         string
	PreviousFilename string
	Status           string // added, removed, modified, renamed, ...; "" is modified
	Patch            string
	Additions        int
	Deletions        int
}

// Pull is a pull request as the fake stores it.
type Pull struct {
	Number  int // 0: the next free issue number
	Title   string
	Body    string
	Author  string
	State   string // open (default) or closed
	Draft   bool
	Merged  bool
	HeadSHA string
	HeadRef string
	BaseRef string // "": the repository's default branch
	BaseSHA string
	Labels  []string
	Files   []PullFile
	// ChangedFiles is what GitHub reports as changed_files; 0 means len(Files).
	// GitHub lists at most 3,000 files whatever the count.
	ChangedFiles int
	// CreatedAt and UpdatedAt are GitHub's created_at and updated_at; zero: when added
	// (the issue clock, SetIssueClock).
	CreatedAt, UpdatedAt time.Time
}

// Annotation is a check-run annotation as received.
type Annotation struct {
	Path       string
	StartLine  int
	EndLine    int
	Level      string
	Title      string
	Message    string
	RawDetails string
}

// CheckRun is a check run with every annotation appended across its updates.
type CheckRun struct {
	ID          int64
	Name        string
	HeadSHA     string
	ExternalID  string
	DetailsURL  string
	Status      string
	Conclusion  string
	StartedAt   string
	CompletedAt string
	Title       string
	Summary     string
	Text        string
	Annotations []Annotation
	Actions     []Action
	// Requests counts the create and update requests that reached this run.
	Requests int
}

// Comment is an issue or pull request comment.
type Comment struct {
	ID     int64
	Issue  int
	Body   string
	Author string
}

// Issue is an issue (not a pull request).
type Issue struct {
	Number int
	Title  string
	Body   string
	State  string
	Author string
	Labels []string
	// Assignees are the logins the issue is assigned to.
	Assignees []string
	// CreatedAt and UpdatedAt are GitHub's created_at and updated_at; zero: when added
	// or created (the issue clock, SetIssueClock). A comment or a label moves UpdatedAt.
	CreatedAt, UpdatedAt time.Time
	// searchableAfter is the request count from which search finds the issue (SetSearchLag);
	// never: search never finds it.
	searchableAfter int
	neverSearchable bool
}

type repoState struct {
	id            int64
	owner, name   string
	defaultBranch string
	private       bool
	files         map[string]map[string][]byte // ref -> path -> content
	pulls         map[int]*Pull
	issues        map[int]*Issue
	compares      map[string][]PullFile // "base...head"
	perms         map[string]string     // login -> role name
	checkRuns     []*CheckRun
	comments      []*Comment
	lastNumber    int
	required      map[string][]Requirement // branch -> status checks rules and protection require

	compareCommits map[string][]string // "base...head" -> commit SHAs (mergequeue.go)
}

func (r *repoState) fullName() string { return r.owner + "/" + r.name }

func (r *repoState) nextNumber() int {
	r.lastNumber++
	return r.lastNumber
}

// labelsOf returns the labels of issue or pull n, or nil and false when there is no such number.
func (r *repoState) labelsOf(n int) (*[]string, bool) {
	if p, ok := r.pulls[n]; ok {
		return &p.Labels, true
	}
	if i, ok := r.issues[n]; ok {
		return &i.Labels, true
	}
	return nil, false
}

// repo returns the state of full ("owner/name"), creating it (default branch main) when absent.
// The caller holds f.mu.
func (f *Server) repo(full string) *repoState {
	key := strings.ToLower(full)
	if r, ok := f.repos[key]; ok {
		return r
	}
	owner, name, _ := strings.Cut(full, "/")
	f.lastID++
	r := &repoState{
		id: f.lastID, owner: owner, name: name, defaultBranch: "main",
		files: map[string]map[string][]byte{}, pulls: map[int]*Pull{}, issues: map[int]*Issue{},
		compares: map[string][]PullFile{}, perms: map[string]string{},
	}
	f.repos[key] = r
	return r
}

// lookup finds an existing repository; the caller holds f.mu.
func (f *Server) lookup(owner, name string) (*repoState, bool) {
	r, ok := f.repos[strings.ToLower(owner+"/"+name)]
	return r, ok
}

// AddRepo registers a repository ("owner/name") with its default branch ("" keeps main).
func (f *Server) AddRepo(full, defaultBranch string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.repo(full)
	if defaultBranch != "" {
		r.defaultBranch = defaultBranch
	}
}

// SetFile sets a file's content at ref ("" is the default branch).
func (f *Server) SetFile(repo, ref, path string, content []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.repo(repo)
	if ref == "" {
		ref = r.defaultBranch
	}
	if r.files[ref] == nil {
		r.files[ref] = map[string][]byte{}
	}
	r.files[ref][strings.Trim(path, "/")] = append([]byte(nil), content...)
}

// DeleteFile removes a file at ref ("" is the default branch).
func (f *Server) DeleteFile(repo, ref, path string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.repo(repo)
	if ref == "" {
		ref = r.defaultBranch
	}
	delete(r.files[ref], strings.Trim(path, "/"))
}

// AddPull stores a pull request and returns its number.
func (f *Server) AddPull(repo string, p Pull) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.repo(repo)
	if p.Number <= 0 {
		p.Number = r.nextNumber()
	} else if p.Number > r.lastNumber {
		r.lastNumber = p.Number
	}
	if p.State == "" {
		p.State = "open"
	}
	if p.BaseRef == "" {
		p.BaseRef = r.defaultBranch
	}
	f.stamp(&p.CreatedAt, &p.UpdatedAt)
	if p.Author == "" {
		p.Author = "octocat"
	}
	p.Labels = append([]string(nil), p.Labels...)
	p.Files = append([]PullFile(nil), p.Files...)
	r.pulls[p.Number] = &p
	return p.Number
}

// SetPullFiles replaces the files of pull request n.
func (f *Server) SetPullFiles(repo string, n int, files []PullFile) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := f.repo(repo).pulls[n]; ok {
		p.Files = append([]PullFile(nil), files...)
	}
}

// SetCompare sets the files that base...head compares to.
func (f *Server) SetCompare(repo, base, head string, files []PullFile) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.repo(repo).compares[base+"..."+head] = append([]PullFile(nil), files...)
}

// SetPermission sets a user's role on a repository: admin, maintain, write, triage, read or none.
func (f *Server) SetPermission(repo, user, role string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.repo(repo).perms[strings.ToLower(user)] = role
}

// AddTeamMember puts user in org's team slug with state "active" or "pending".
func (f *Server) AddTeamMember(org, slug, user, state string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := strings.ToLower(org + "/" + slug)
	if f.teams[key] == nil {
		f.teams[key] = map[string]string{}
	}
	f.teams[key][strings.ToLower(user)] = state
}

// AddLabel puts a label on issue or pull request n (when it exists).
func (f *Server) AddLabel(repo string, n int, label string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ls, ok := f.repo(repo).labelsOf(n); ok {
		for _, l := range *ls {
			if l == label {
				return
			}
		}
		*ls = append(*ls, label)
	}
}

// TakeLabel takes a label off issue or pull request n, delivering nothing (as a person
// removing it whose unlabeled event has not arrived yet).
func (f *Server) TakeLabel(repo string, n int, label string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ls, ok := f.repo(repo).labelsOf(n); ok {
		out := (*ls)[:0]
		for _, l := range *ls {
			if l != label {
				out = append(out, l)
			}
		}
		*ls = out
	}
}

// AddIssue stores an issue and returns its number.
func (f *Server) AddIssue(repo string, i Issue) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.repo(repo)
	i.Number = r.nextNumber()
	if i.State == "" {
		i.State = "open"
	}
	if i.Author == "" {
		i.Author = "octocat"
	}
	f.stamp(&i.CreatedAt, &i.UpdatedAt)
	f.indexLater(&i)
	r.issues[i.Number] = &i
	return i.Number
}

// AddComment stores a comment on issue or pull request n and returns its id.
func (f *Server) AddComment(repo string, n int, author, body string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.repo(repo)
	f.lastID++
	r.comments = append(r.comments, &Comment{ID: f.lastID, Issue: n, Body: body, Author: author})
	return f.lastID
}

// CheckRuns returns the repository's check runs in creation order.
func (f *Server) CheckRuns(repo string) []CheckRun {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.repos[strings.ToLower(repo)]
	if !ok {
		return nil
	}
	out := make([]CheckRun, 0, len(r.checkRuns))
	for _, c := range r.checkRuns {
		cp := *c
		cp.Annotations = append([]Annotation(nil), c.Annotations...)
		out = append(out, cp)
	}
	return out
}

// Comments returns the comments on issue or pull request n, oldest first.
func (f *Server) Comments(repo string, n int) []Comment {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.repos[strings.ToLower(repo)]
	if !ok {
		return nil
	}
	var out []Comment
	for _, c := range r.comments {
		if c.Issue == n {
			out = append(out, *c)
		}
	}
	return out
}

// Issues returns the repository's issues (not pull requests) by number.
func (f *Server) Issues(repo string) []Issue {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.repos[strings.ToLower(repo)]
	if !ok {
		return nil
	}
	out := make([]Issue, 0, len(r.issues))
	for _, i := range r.issues {
		cp := *i
		cp.Labels = append([]string(nil), i.Labels...)
		out = append(out, cp)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Number < out[b].Number })
	return out
}

// Labels returns the labels on issue or pull request n.
func (f *Server) Labels(repo string, n int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.repos[strings.ToLower(repo)]
	if !ok {
		return nil
	}
	ls, ok := r.labelsOf(n)
	if !ok {
		return nil
	}
	return append([]string(nil), (*ls)...)
}

// Pull returns pull request n as stored now.
func (f *Server) Pull(repo string, n int) (Pull, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.repos[strings.ToLower(repo)]
	if !ok {
		return Pull{}, false
	}
	p, ok := r.pulls[n]
	if !ok {
		return Pull{}, false
	}
	cp := *p
	cp.Labels = append([]string(nil), p.Labels...)
	cp.Files = append([]PullFile(nil), p.Files...)
	return cp, true
}
