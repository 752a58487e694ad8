package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/escapegate/escapegate/app/recovery"
	"github.com/escapegate/escapegate/store"
)

// maxListed bounds the deliveries one operations table lists.
const maxListed = 200

type opsView struct {
	Counts map[string]int
	Tables []table
}

func (d *Dashboard) opsPage(w http.ResponseWriter, r *http.Request, s Session) {
	org := r.PathValue("org")
	v, ok := d.opsFigures(w, r, s, org)
	if !ok {
		return
	}
	d.render(w, r, http.StatusOK, "ops", page{Title: org + " · operations", Session: &s, Org: org, AsOf: d.now(), Data: v})
}

// opsFigures reads the inbox (dead letters and retries), the recovery sweep's
// redeliveries and the installation's rate limit. The inbox is the server's, shared by
// every org it serves: deliveries carry no org until they are decoded.
func (d *Dashboard) opsFigures(w http.ResponseWriter, r *http.Request, s Session, org string) (opsView, bool) {
	if !s.canSee(org) {
		d.fail(w, r, &s, http.StatusForbidden, fmt.Sprintf("@%s may not see %s's operations.", s.Login, org))
		return opsView{}, false
	}
	ctx := r.Context()
	inst, err := d.installation(ctx, org)
	if err != nil {
		d.fail(w, r, &s, http.StatusNotFound, "escapegate has no installation for "+org+".")
		return opsView{}, false
	}
	base := "/ui/org/" + url.PathEscape(org) + "/ops"
	var v opsView
	dead := table{Name: "dead", Title: "Dead-lettered deliveries", Export: base + "/dead",
		Note: "Retry or drop them with escapegate deliveries retry (or drop) ID on the server's host."}
	retried := table{Name: "retried", Title: "Deliveries waiting for another attempt", Export: base + "/retried"}
	for _, t := range []*table{&dead, &retried} {
		t.Cols = []col{{Key: "id", Title: "delivery"}, {Key: "event", Title: "event"}, {Key: "attempts", Title: "failed attempts", Num: true},
			{Key: "received", Title: "received"}, {Key: "next", Title: "next attempt"}, {Key: "error", Title: "last error"}}
	}
	if d.o.Inbox == nil {
		dead.Note, retried.Note = "This store keeps no inbox.", ""
	} else {
		if v.Counts, err = d.o.Inbox.CountDeliveries(ctx); err != nil {
			return d.opsFailed(w, r, s, err)
		}
		for _, t := range []struct {
			t     *table
			state string
		}{{&dead, store.DeliveryDead}, {&retried, store.DeliveryPending}} {
			ds, err := d.o.Inbox.ListDeliveries(ctx, t.state, maxListed)
			if err != nil {
				return d.opsFailed(w, r, s, err)
			}
			for _, x := range ds {
				if t.state == store.DeliveryPending && x.Attempts == 0 {
					continue // not failed yet: simply waiting for a worker
				}
				next := "—"
				if t.state == store.DeliveryPending && !x.NextAt.IsZero() {
					next = stamp(x.NextAt)
				}
				t.t.Rows = append(t.t.Rows, []cell{{Text: x.ID, Class: "code"}, txt(x.Event), num(x.Attempts), txt(stamp(x.ReceivedAt)), txt(next), txt(dash(x.LastError))})
			}
		}
	}
	rec := table{Name: "recovered", Title: "Redeliveries the recovery sweep asked GitHub for", Export: base + "/recovered",
		Cols: []col{{Key: "guid", Title: "delivery"}, {Key: "asked", Title: "times asked", Num: true}, {Key: "last", Title: "last asked"}, {Key: "recovered", Title: "handled since"}},
		Note: "Deliveries that failed on GitHub's side (escapegate down, a 5xx, a timeout) within the sweep's window."}
	reds, mark, err := recovery.Redeliveries(ctx, d.o.Store)
	if err != nil {
		return d.opsFailed(w, r, s, err)
	}
	if !mark.IsZero() {
		rec.Note += " The last sweep looked up to " + stamp(mark) + "."
	}
	for i, x := range reds {
		if i == maxListed {
			break
		}
		rec.Rows = append(rec.Rows, []cell{{Text: x.GUID, Class: "code"}, num(x.Attempts), txt(stamp(x.Last)), {Text: yesNo(x.Recovered), Value: x.Recovered}})
	}
	rl := table{Name: "ratelimit", Title: "REST rate limit of the installation", Export: base + "/ratelimit",
		Cols: []col{{Key: "installation", Title: "installation", Num: true}, {Key: "limit", Title: "limit", Num: true}, {Key: "remaining", Title: "remaining", Num: true},
			{Key: "headroom", Title: "headroom"}, {Key: "reset", Title: "resets"}}}
	if d.o.RateLimits == nil {
		rl.Note = "Not available with this GitHub client."
	} else {
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		lim, err := d.o.RateLimits(lctx, inst.ID)
		cancel()
		if err != nil {
			d.o.Log.Warn().Err(err).Int64("installation", inst.ID).Msg("dashboard: reading the rate limit failed")
			rl.Note = "GitHub did not answer GET /rate_limit: " + err.Error()
		} else {
			head := "—"
			if lim.Limit > 0 {
				head = fmt.Sprintf("%.0f%%", 100*float64(lim.Remaining)/float64(lim.Limit))
			}
			rl.Rows = [][]cell{{num(int(inst.ID)), num(lim.Limit), num(lim.Remaining), txt(head), txt(stamp(lim.Reset))}}
		}
	}
	for _, t := range []*table{&dead, &retried, &rec} {
		if len(t.Rows) == 0 && d.o.Inbox != nil {
			t.Note = strings.TrimSpace("None. " + map[bool]string{true: "", false: t.Note}[t == &retried])
		}
	}
	v.Tables = []table{dead, retried, rec, rl}
	return v, true
}

func (d *Dashboard) opsFailed(w http.ResponseWriter, r *http.Request, s Session, err error) (opsView, bool) {
	d.o.Log.Error().Err(err).Msg("dashboard: operations page failed")
	d.fail(w, r, &s, http.StatusInternalServerError, "The inbox could not be read; see the server's log.")
	return opsView{}, false
}

func (d *Dashboard) opsExport(w http.ResponseWriter, r *http.Request, s Session) {
	org := r.PathValue("org")
	v, ok := d.opsFigures(w, r, s, org)
	if !ok {
		return
	}
	for _, t := range v.Tables {
		if t.Name == r.PathValue("table") {
			serveTable(w, t, r.URL.Query().Get("format"), org+"-"+t.Name)
			return
		}
	}
	d.fail(w, r, &s, http.StatusNotFound, "no such table")
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func cutRepo(full string) (owner, name string, ok bool) { return strings.Cut(full, "/") }
func equalFold(a, b string) bool                        { return strings.EqualFold(a, b) }
func trimSlash(s string) string                         { return strings.TrimRight(s, "/") }
