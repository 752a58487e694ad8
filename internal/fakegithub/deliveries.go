package fakegithub

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

const docHookDeliveries = "https://docs.github.com/rest/apps/webhooks"

// HookDelivery is one entry of the app's webhook delivery log, as GET
// /app/hook/deliveries lists it, with the payload that was (or would have been) sent.
type HookDelivery struct {
	ID          int64 // 0: assigned by AddHookDelivery
	GUID        string
	DeliveredAt time.Time // zero: now
	Redelivery  bool
	// StatusCode is what the hook answered; 0 for no answer (connection refused, timeout).
	StatusCode     int
	Status         string // "": derived from StatusCode
	Event          string
	Action         string // "": read from Payload
	InstallationID int64  // 0: read from Payload
	RepositoryID   int64  // 0: read from Payload
	Payload        []byte
}

// hooks is the fake's webhook side: the delivery log and where deliveries go.
type hooks struct {
	baseURL string // escapegate's base URL; "" when no hook is configured
	secret  []byte
	client  *http.Client
	log     []*HookDelivery // in the order recorded (ids increasing)
	sending sync.WaitGroup  // redeliveries in flight
}

// SetHook makes the app's webhook point at escapegate's baseURL (HookPath is appended),
// signed with secret: Deliver and redeliveries (POST /app/hook/deliveries/{id}/attempts)
// send there. Unlike GitHub, which gives up after 10 s, the fake waits for the answer.
func (f *Server) SetHook(baseURL string, secret []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hooks.baseURL, f.hooks.secret = baseURL, append([]byte(nil), secret...)
	f.hooks.client = &http.Client{}
}

// AddHookDelivery puts an entry in the delivery log (a delivery that failed while
// escapegate was down, say) without sending anything, and returns its id.
func (f *Server) AddHookDelivery(d HookDelivery) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.recordDelivery(d).ID
}

// HookDeliveries returns the delivery log, newest first, as GitHub lists it.
func (f *Server) HookDeliveries() []HookDelivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]HookDelivery, 0, len(f.hooks.log))
	for i := len(f.hooks.log) - 1; i >= 0; i-- {
		d := *f.hooks.log[i]
		d.Payload = append([]byte(nil), d.Payload...)
		out = append(out, d)
	}
	return out
}

// Deliver sends a signed webhook to the configured hook now, as GitHub does when an
// event happens, and records the attempt in the delivery log whatever the answer. The
// error is non-nil when the hook gave no answer (the entry then has status code 0).
func (f *Server) Deliver(ctx context.Context, event, guid string, payload []byte) (HookDelivery, error) {
	f.mu.Lock()
	base, secret, client := f.hooks.baseURL, f.hooks.secret, f.hooks.client
	f.mu.Unlock()
	if base == "" {
		return HookDelivery{}, fmt.Errorf("fake github: no webhook URL (SetHook)")
	}
	code, err := send(ctx, client, base, secret, event, guid, payload)
	f.mu.Lock()
	defer f.mu.Unlock()
	d := f.recordDelivery(HookDelivery{GUID: guid, StatusCode: code, Event: event, Payload: payload})
	return *d, err
}

// WaitWebhooks blocks until every redelivery requested so far has been sent and recorded.
func (f *Server) WaitWebhooks() { f.hooks.sending.Wait() }

// send posts one signed delivery and returns the status code, 0 with the error when
// there was no answer.
func send(ctx context.Context, client *http.Client, base string, secret []byte, event, guid string, payload []byte) (int, error) {
	req, err := NewWebhookRequest(ctx, base, secret, event, guid, payload)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("delivering %s: %w", event, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// recordDelivery completes d (id, time, status text, what the payload names) and
// appends it to the log; the caller holds f.mu.
func (f *Server) recordDelivery(d HookDelivery) *HookDelivery {
	if d.ID == 0 {
		f.lastID++
		d.ID = f.lastID
	} else if d.ID > f.lastID {
		f.lastID = d.ID
	}
	if d.DeliveredAt.IsZero() {
		d.DeliveredAt = f.now()
	}
	d.DeliveredAt = d.DeliveredAt.UTC().Truncate(time.Second)
	if d.Status == "" {
		d.Status = statusText(d.StatusCode)
	}
	var env struct {
		Action       string `json:"action"`
		Installation struct {
			ID int64 `json:"id"`
		} `json:"installation"`
		Repository struct {
			ID int64 `json:"id"`
		} `json:"repository"`
	}
	_ = json.Unmarshal(d.Payload, &env)
	if d.Action == "" {
		d.Action = env.Action
	}
	if d.InstallationID == 0 {
		d.InstallationID = env.Installation.ID
	}
	if d.RepositoryID == 0 {
		d.RepositoryID = env.Repository.ID
	}
	d.Payload = append([]byte(nil), d.Payload...)
	f.hooks.log = append(f.hooks.log, &d)
	// GitHub lists by id, newest first; keep the log ordered even when tests chose ids.
	sort.SliceStable(f.hooks.log, func(i, j int) bool { return f.hooks.log[i].ID < f.hooks.log[j].ID })
	return &d
}

func statusText(code int) string {
	switch {
	case code == 0:
		return "failed to connect to host"
	case code >= 200 && code < 300:
		return "OK"
	default:
		return fmt.Sprintf("Invalid HTTP Response: %d", code)
	}
}

func (d *HookDelivery) json() map[string]any {
	opt := func(v int64) any {
		if v == 0 {
			return nil
		}
		return v
	}
	var action any
	if d.Action != "" {
		action = d.Action
	}
	return map[string]any{
		"id": d.ID, "guid": d.GUID, "delivered_at": d.DeliveredAt.UTC().Format(time.RFC3339), "redelivery": d.Redelivery,
		"duration": 0.05, "status": d.Status, "status_code": d.StatusCode, "event": d.Event, "action": action,
		"installation_id": opt(d.InstallationID), "repository_id": opt(d.RepositoryID),
	}
}

// listHookDeliveries serves GET /app/hook/deliveries: newest first, per_page at most 100,
// cursor pagination through the Link header (cursor=v1_<id of the next page's first entry>).
func (f *Server) listHookDeliveries(c *call) {
	if !f.appJWT(c) {
		return
	}
	q := c.r.URL.Query()
	per, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || per <= 0 {
		per = 30
	}
	if per > 100 {
		per = 100
	}
	from := int64(-1)
	if cur := q.Get("cursor"); cur != "" {
		n, err := strconv.ParseInt(strings.TrimPrefix(cur, "v1_"), 10, 64)
		if err != nil || !strings.HasPrefix(cur, "v1_") {
			writeValidation(c.w, docHookDeliveries+"#list-deliveries-for-an-app-webhook",
				[]fieldError{{Resource: "HookDelivery", Field: "cursor", Code: "invalid"}})
			return
		}
		from = n
	}
	out := []map[string]any{}
	var next int64
	for i := len(f.hooks.log) - 1; i >= 0; i-- {
		d := f.hooks.log[i]
		if from >= 0 && d.ID > from {
			continue
		}
		if len(out) == per {
			next = d.ID
			break
		}
		out = append(out, d.json())
	}
	if next != 0 {
		u := url.URL{Scheme: "http", Host: c.r.Host, Path: c.r.URL.Path}
		qq := url.Values{}
		qq.Set("per_page", strconv.Itoa(per))
		qq.Set("cursor", fmt.Sprintf("v1_%d", next))
		u.RawQuery = qq.Encode()
		c.w.Header().Set("Link", fmt.Sprintf("<%s>; rel=\"next\"", u.String()))
	}
	writeJSON(c.w, http.StatusOK, out)
}

// redeliverHook serves POST /app/hook/deliveries/{delivery_id}/attempts: 202 at once,
// then (as GitHub does, a moment later) the stored payload is sent again, signed, with
// the same GUID, and recorded as a new entry with redelivery true.
func (f *Server) redeliverHook(c *call) {
	if !f.appJWT(c) {
		return
	}
	doc := docHookDeliveries + "#redeliver-a-delivery-for-an-app-webhook"
	id, err := strconv.ParseInt(c.segs[3], 10, 64)
	if err != nil {
		writeNotFound(c.w, doc)
		return
	}
	var d *HookDelivery
	for _, x := range f.hooks.log {
		if x.ID == id {
			d = x
		}
	}
	if d == nil {
		writeNotFound(c.w, doc)
		return
	}
	if f.hooks.baseURL == "" {
		writeValidation(c.w, doc, []fieldError{{Resource: "Hook", Field: "url", Code: "missing", Message: "the app has no webhook URL"}})
		return
	}
	base, secret, client := f.hooks.baseURL, f.hooks.secret, f.hooks.client
	event, guid, payload := d.Event, d.GUID, append([]byte(nil), d.Payload...)
	f.hooks.sending.Add(1)
	go func() {
		defer f.hooks.sending.Done()
		code, _ := send(context.Background(), client, base, secret, event, guid, payload)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.recordDelivery(HookDelivery{GUID: guid, Redelivery: true, StatusCode: code, Event: event, Payload: payload})
	}()
	writeJSON(c.w, http.StatusAccepted, map[string]any{})
}
