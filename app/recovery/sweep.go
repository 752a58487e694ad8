package recovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/escapegate/escapegate/app/delivery"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/store"
)

const (
	// stateKey is the store setting that keeps the sweep's high-water mark and attempts.
	stateKey = "recovery/sweep"
	// overlap is how far before the mark a sweep lists again: GitHub logs an attempt when
	// it ends (up to its 10 s timeout later), with the time it started.
	overlap = 5 * time.Minute
	// MaxAttempts is how many redeliveries of one delivery the sweep asks for at most
	// (the first, and two more if GitHub logs them as failed too).
	MaxAttempts = 3
	// pageSize is the largest page of the delivery log GitHub serves.
	pageSize = 100
	// maxPages bounds one sweep's listing (100,000 deliveries).
	maxPages = 1000
	// maxTries bounds the attempts kept in the state.
	maxTries = 10000
)

// Why a failed delivery is not redelivered.
const (
	SkipDeliveredLater = "delivered_later" // a later attempt (or an earlier one) of the GUID succeeded
	SkipSeen           = "seen"            // the store has processed the GUID
	SkipEvent          = "event"           // an event escapegate does not handle
	SkipPending        = "pending"         // redelivery requested; GitHub has not logged its outcome yet
	SkipAttempts       = "attempts"        // MaxAttempts redeliveries asked for already
	SkipBound          = "bound"           // beyond MaxPerRun: left for the next sweep
	SkipRateLimited    = "rate_limited"    // GitHub's rate limit stopped the sweep: left for the next
)

// state is what a sweep leaves for the next.
type state struct {
	// Mark is the newest delivered_at that a sweep has fully considered; the next lists
	// back to it (less overlap), never past the window.
	Mark time.Time `json:"mark"`
	// Tries are the redeliveries this sweep asked for, by GUID, kept for the window.
	Tries map[string]try `json:"tries,omitempty"`
}

type try struct {
	Attempts int       `json:"attempts"`
	Last     time.Time `json:"last"`
}

// SweepResult says what one sweep did.
type SweepResult struct {
	Listed      int            // log entries listed
	Failed      int            // GUIDs with a failed attempt listed
	Redelivered []string       // GUIDs whose redelivery was requested
	Errors      int            // redelivery requests GitHub refused
	Skipped     map[string]int // failed GUIDs not redelivered, by reason (Skip*)
	From, Mark  time.Time      // what was listed back to; the high-water mark left
}

// candidate is a failed GUID to redeliver.
type candidate struct {
	guid   string
	latest gh.HookDelivery // its newest listed attempt: the one asked to be redelivered
	first  time.Time       // its oldest listed attempt
}

// Sweep lists the delivery log back to the high-water mark and asks GitHub to redeliver
// every failed delivery that the store has not processed, oldest first, at most
// MaxPerRun, Pace apart. It does not claim a slot (TrySweep does).
func (s *Service) Sweep(ctx context.Context) (SweepResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	res, err := s.sweep(ctx)
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	s.metrics.sweeps.WithLabelValues(outcome).Inc()
	if err == nil {
		s.metrics.lastSweep.SetToCurrentTime()
	}
	return res, err
}

func (s *Service) sweep(ctx context.Context) (SweepResult, error) {
	now := s.now()
	st, err := s.loadState(ctx)
	if err != nil {
		return SweepResult{}, err
	}
	res := SweepResult{Skipped: map[string]int{}, From: now.Add(-s.o.Window)}
	if m := st.Mark.Add(-overlap); m.After(res.From) {
		res.From = m
	}
	entries, err := s.list(ctx, res.From)
	res.Listed = len(entries)
	s.metrics.listed.Add(float64(len(entries)))
	if err != nil {
		return res, err
	}
	todo, mark, err := s.plan(ctx, entries, st, now, &res)
	if err != nil {
		return res, err
	}
	done := 0
	for i, c := range todo {
		if i > 0 {
			if err := s.o.Sleep(ctx, s.o.Pace); err != nil {
				break
			}
		}
		t := st.Tries[c.guid]
		log := s.o.Log.With().Str("delivery", c.guid).Int64("log_id", c.latest.ID).Str("event", c.latest.Event).
			Str("action", c.latest.Action).Int64("installation", c.latest.InstallationID).
			Time("delivered_at", c.latest.DeliveredAt).Int("status_code", c.latest.StatusCode).Int("attempt", t.Attempts+1).Logger()
		// Recorded before it is asked for (GitHub may redeliver before the call returns): the
		// handler of a re-requested check takes its payload for days old, not for now.
		if err := s.o.Store.PutSetting(ctx, delivery.RedeliveryKey(c.guid), []byte(c.first.UTC().Format(time.RFC3339))); err != nil {
			if ctx.Err() == nil {
				log.Warn().Err(err).Int("left", len(todo)-i).Msg("redelivery not recorded: redeliveries left for the next sweep")
			}
			break
		}
		err := s.o.App.Redeliver(ctx, c.latest.ID)
		if err != nil && (ctx.Err() != nil || gh.IsRateLimit(err)) {
			// Not attempted: this one and the rest wait for the next sweep.
			if ctx.Err() == nil {
				log.Warn().Err(err).Int("left", len(todo)-i).Msg("rate limited: redeliveries left for the next sweep")
				res.Skipped[SkipRateLimited] += len(todo) - i
				s.metrics.skipped.WithLabelValues(SkipRateLimited).Add(float64(len(todo) - i))
			}
			break
		}
		done = i + 1
		t.Attempts++
		t.Last = s.now()
		st.Tries[c.guid] = t
		if err != nil {
			res.Errors++
			s.metrics.redeliveries.WithLabelValues("error").Inc()
			log.Warn().Err(err).Msg("redelivery of a failed delivery refused")
			continue
		}
		res.Redelivered = append(res.Redelivered, c.guid)
		s.metrics.redeliveries.WithLabelValues("requested").Inc()
		log.Info().Str("status", c.latest.Status).Msg("failed delivery redelivered")
	}
	// What was not attempted is swept again next time: the mark stays before it.
	mark = before(mark, todo[done:])
	if !mark.IsZero() {
		st.Mark = mark
	}
	res.Mark = st.Mark
	for _, g := range st.prune(now.Add(-s.o.Window)) {
		// GitHub no longer redelivers it: its record goes too (a leftover only costs a key).
		_ = s.o.Store.DeleteSetting(context.WithoutCancel(ctx), delivery.RedeliveryKey(g))
	}
	// Saved even when ctx ended: the attempts asked for are recorded.
	if err := s.saveState(context.WithoutCancel(ctx), st); err != nil {
		return res, err
	}
	s.o.Log.Info().Int("listed", res.Listed).Int("failed", res.Failed).Int("redelivered", len(res.Redelivered)).
		Int("errors", res.Errors).Interface("skipped", res.Skipped).Time("from", res.From).Time("mark", res.Mark).
		Msg("delivery recovery sweep")
	return res, ctx.Err()
}

// list reads the log, newest first, until an entry older than from (or the last page).
func (s *Service) list(ctx context.Context, from time.Time) ([]gh.HookDelivery, error) {
	var out []gh.HookDelivery
	cursor := ""
	for range maxPages {
		ds, next, err := s.o.App.ListHookDeliveries(ctx, cursor, pageSize)
		if err != nil {
			return out, fmt.Errorf("listing webhook deliveries: %w", err)
		}
		for _, d := range ds {
			if d.DeliveredAt.Before(from) {
				return out, nil
			}
			out = append(out, d)
		}
		if next == "" {
			return out, nil
		}
		cursor = next
	}
	s.o.Log.Warn().Int("listed", len(out)).Time("from", from).Msg("delivery log listing stopped at its page bound")
	return out, nil
}

// plan decides which GUIDs of entries (newest first) to redeliver, oldest first and at
// most MaxPerRun, and the high-water mark to leave: the newest entry listed, or, when
// the bound left some for later, just before the newest attempt of the oldest of them.
func (s *Service) plan(ctx context.Context, entries []gh.HookDelivery, st state, now time.Time, res *SweepResult) ([]candidate, time.Time, error) {
	type guidLog struct {
		ok, failed bool
		latest     *gh.HookDelivery
		first      time.Time
	}
	byGUID := map[string]*guidLog{}
	var order []string
	for i := range entries {
		d := &entries[i]
		g, found := byGUID[d.GUID]
		if !found {
			g = &guidLog{latest: d}
			byGUID[d.GUID] = g
			order = append(order, d.GUID)
		}
		g.ok = g.ok || d.OK()
		g.failed = g.failed || !d.OK()
		g.first = d.DeliveredAt
	}
	skip := func(why string) {
		res.Skipped[why]++
		s.metrics.skipped.WithLabelValues(why).Inc()
	}
	var cands []candidate
	for _, guid := range order {
		g := byGUID[guid]
		if !g.failed {
			continue
		}
		res.Failed++
		if g.ok {
			skip(SkipDeliveredLater)
			continue
		}
		if s.events != nil && !s.events[g.latest.Event] {
			skip(SkipEvent)
			continue
		}
		if t, tried := st.Tries[guid]; tried {
			if t.Attempts >= MaxAttempts {
				skip(SkipAttempts)
				continue
			}
			// Retry only once GitHub has logged our last attempt as failed too: the newest
			// attempt is a redelivery made since (its clock and ours may differ a little).
			if !g.latest.Redelivery || g.latest.DeliveredAt.Before(t.Last.Add(-time.Minute)) {
				skip(SkipPending)
				continue
			}
		}
		seen, err := s.o.Store.DeliverySeen(ctx, guid)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("reading delivery %s: %w", guid, err)
		}
		if seen {
			skip(SkipSeen)
			continue
		}
		cands = append(cands, candidate{guid: guid, latest: *g.latest, first: g.first})
	}
	s.metrics.failed.Add(float64(res.Failed))
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].first.Before(cands[j].first) })
	var mark time.Time
	if len(entries) > 0 {
		mark = entries[0].DeliveredAt
	}
	if len(cands) > s.o.MaxPerRun {
		rest := cands[s.o.MaxPerRun:]
		for range rest {
			skip(SkipBound)
		}
		mark = before(mark, rest)
		cands = cands[:s.o.MaxPerRun]
	}
	if mark.After(now) {
		mark = now
	}
	return cands, mark, nil
}

// before moves mark to just before the newest attempt of each of cs, when that is earlier.
func before(mark time.Time, cs []candidate) time.Time {
	for _, c := range cs {
		if m := c.latest.DeliveredAt.Add(-time.Second); m.Before(mark) {
			mark = m
		}
	}
	return mark
}

func (s *Service) loadState(ctx context.Context) (state, error) {
	st := state{Tries: map[string]try{}}
	raw, err := s.o.Store.GetSetting(ctx, stateKey)
	if errors.Is(err, store.ErrNotFound) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("reading the sweep's state: %w", err)
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		// Start over from the window: the store and the log keep redeliveries single.
		s.o.Log.Warn().Err(err).Msg("unreadable sweep state; sweeping the whole window")
		st = state{}
	}
	if st.Tries == nil {
		st.Tries = map[string]try{}
	}
	return st, nil
}

func (s *Service) saveState(ctx context.Context, st state) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encoding the sweep's state: %w", err)
	}
	if err := s.o.Store.PutSetting(ctx, stateKey, raw); err != nil {
		return fmt.Errorf("saving the sweep's state: %w", err)
	}
	return nil
}

// prune forgets attempts older than the window (GitHub no longer lists them), and the
// oldest beyond maxTries; it returns the GUIDs it forgot.
func (st *state) prune(oldest time.Time) []string {
	var gone []string
	for g, t := range st.Tries {
		if t.Last.Before(oldest) {
			delete(st.Tries, g)
			gone = append(gone, g)
		}
	}
	if len(st.Tries) <= maxTries {
		return gone
	}
	type kv struct {
		g string
		t time.Time
	}
	all := make([]kv, 0, len(st.Tries))
	for g, t := range st.Tries {
		all = append(all, kv{g, t.Last})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].t.Before(all[j].t) })
	for _, x := range all[:len(all)-maxTries] {
		delete(st.Tries, x.g)
		gone = append(gone, x.g)
	}
	return gone
}
