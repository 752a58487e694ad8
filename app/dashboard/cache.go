package dashboard

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/escapegate/escapegate/app/escaperate"
	"github.com/escapegate/escapegate/store"
)

// readConcurrency bounds the repositories read at once, as escaperate.OrgMonth does.
const readConcurrency = 8

// orgData is one org's figures at one moment: the monthly summary's data for the
// current month (escaperate.OrgMonth) and every repository's report
// (escaperate.Compute, what `escapegate report` prints), so that the dashboard shows
// the same numbers as both.
type orgData struct {
	At      time.Time
	Inst    store.Installation
	Month   escaperate.OrgMonthData
	Reports []escaperate.Report // by repository name
	byRepo  map[string]int      // lower-case name → index in Reports

	// Rolling sums the repositories' 30-day series, aligned from the newest window.
	Rolling []escaperate.Point
	// Current and Previous sum the repositories' rolling windows.
	Current, Previous escaperate.Counts
	Built             time.Duration
	// Facets are the repositories' topics and custom properties (lower-case name), when
	// GitHub could be asked; FacetErr says why not.
	Facets   map[string]Facets
	FacetErr string
}

// cache keeps each org's figures for refresh; a stale entry is served while one
// refresh runs in the background, so that only the very first view of an org waits.
type cache struct {
	st      store.Store
	facets  func(ctx context.Context, inst store.Installation) (map[string]Facets, error)
	refresh time.Duration
	now     func() time.Time
	log     zerolog.Logger

	mu      sync.Mutex
	entries map[int64]*entry
}

type entry struct {
	data     *orgData
	building chan struct{} // closed when the build in progress ends; nil when none
	err      error
}

func newCache(st store.Store, facets func(context.Context, store.Installation) (map[string]Facets, error), refresh time.Duration, now func() time.Time, log zerolog.Logger) *cache {
	return &cache{st: st, facets: facets, refresh: refresh, now: now, log: log, entries: map[int64]*entry{}}
}

// get returns inst's figures, building them when there are none yet.
func (c *cache) get(ctx context.Context, inst store.Installation) (*orgData, error) {
	c.mu.Lock()
	e := c.entries[inst.ID]
	if e == nil {
		e = &entry{}
		c.entries[inst.ID] = e
	}
	if e.data != nil {
		if c.now().Sub(e.data.At) >= c.refresh && e.building == nil {
			c.startLocked(inst, e)
		}
		d := e.data
		c.mu.Unlock()
		return d, nil
	}
	if e.building == nil {
		c.startLocked(inst, e)
	}
	wait := e.building
	c.mu.Unlock()
	select {
	case <-wait:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.data == nil {
		return nil, e.err
	}
	return e.data, nil
}

// peek returns inst's figures when some were computed (starting a refresh when they
// are stale), without waiting for a first computation: nil then.
func (c *cache) peek(inst store.Installation) *orgData {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[inst.ID]
	if e == nil || e.data == nil {
		return nil
	}
	if c.now().Sub(e.data.At) >= c.refresh && e.building == nil {
		c.startLocked(inst, e)
	}
	return e.data
}

// startLocked builds in the background (the caller holds c.mu): a page that asked for
// it may go away without cancelling the build the next one needs.
func (c *cache) startLocked(inst store.Installation, e *entry) {
	done := make(chan struct{})
	e.building = done
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		d, err := build(ctx, c.st, inst, c.now().UTC())
		if err != nil {
			c.log.Warn().Err(err).Int64("installation", inst.ID).Msg("dashboard: computing the org's figures failed")
		} else if c.facets != nil {
			// Filters only: without them the figures are whole, so a GitHub error is shown, not fatal.
			if d.Facets, err = c.facets(ctx, inst); err != nil {
				c.log.Warn().Err(err).Int64("installation", inst.ID).Msg("dashboard: reading repository topics and properties failed")
				d.FacetErr, err = "GitHub did not list the repositories' topics and properties", nil
			}
		}
		c.mu.Lock()
		if err == nil {
			e.data = d
		}
		e.err, e.building = err, nil
		c.mu.Unlock()
		close(done)
	}()
}

// build computes an org's figures with the report's and the summary's own code.
func build(ctx context.Context, st store.Store, inst store.Installation, now time.Time) (*orgData, error) {
	t0 := time.Now()
	month, err := escaperate.OrgMonth(ctx, st, inst.ID, now, escaperate.DefaultWindowDays, escaperate.DefaultSeverity)
	if err != nil {
		return nil, err
	}
	repos, err := st.ListRepositories(ctx, inst.ID)
	if err != nil {
		return nil, fmt.Errorf("list repositories of installation %d: %w", inst.ID, err)
	}
	repos = slices.DeleteFunc(repos, func(r store.Repository) bool { return !r.RemovedAt.IsZero() && !r.RemovedAt.After(now) })
	reports := make([]escaperate.Report, len(repos))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(readConcurrency)
	for i, rp := range repos {
		g.Go(func() error {
			var err error
			reports[i], err = escaperate.ForRepo(gctx, st, rp.FullName, "", now)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	slices.SortFunc(reports, func(a, b escaperate.Report) int {
		return cmp.Compare(strings.ToLower(a.Repo), strings.ToLower(b.Repo))
	})
	d := &orgData{At: now, Inst: inst, Month: month, Reports: reports, byRepo: make(map[string]int, len(reports))}
	for i, r := range reports {
		d.byRepo[strings.ToLower(r.Repo)] = i
		d.Current = d.Current.Add(r.Current)
		d.Previous = d.Previous.Add(r.Previous)
		d.addSeries(r.Series)
	}
	d.Built = time.Since(t0)
	return d, nil
}

// addSeries adds one repository's 30-day windows to the org's, newest aligned with
// newest (a repository installed later has fewer windows); the org's windows are the
// unclamped ones, ending now.
func (d *orgData) addSeries(s []escaperate.Point) {
	if len(d.Rolling) == 0 {
		for i := escaperate.SeriesWindows - 1; i >= 0; i-- {
			to := d.At.Add(-time.Duration(i*escaperate.SeriesDays) * 24 * time.Hour)
			d.Rolling = append(d.Rolling, escaperate.Point{Window: store.Window{From: to.Add(-escaperate.SeriesDays * 24 * time.Hour), To: to}})
		}
	}
	off := len(d.Rolling) - len(s)
	for i, p := range s {
		if off+i >= 0 {
			d.Rolling[off+i].Counts = d.Rolling[off+i].Counts.Add(p.Counts)
		}
	}
}

// report returns one repository's report from the org's figures.
func (d *orgData) report(repo string) (escaperate.Report, bool) {
	i, ok := d.byRepo[strings.ToLower(repo)]
	if !ok {
		return escaperate.Report{}, false
	}
	return d.Reports[i], true
}
