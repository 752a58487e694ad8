package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/escapegate/escapegate/store"
)

// inboxOf returns s's inbox, skipping the test for a store that has none (PostgreSQL
// hands deliveries to its job queue instead).
func inboxOf(t *testing.T, s store.Store) store.Inbox {
	t.Helper()
	in, ok := s.(store.Inbox)
	if !ok {
		t.Skipf("%T keeps no inbox (its deliveries go to a job queue)", s)
	}
	return in
}

func delivery(id string, at time.Time) store.Delivery {
	return store.Delivery{ID: id, Event: "pull_request", Payload: []byte(`{"n":"` + id + `"}`), Key: "acme/app#1", ReceivedAt: at}
}

func ids(ds []store.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

func testInbox(t *testing.T, s store.Store) {
	in := inboxOf(t, s)
	ctx := context.Background()
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for i, id := range []string{"d-1", "d-2", "d-3"} {
		added, err := in.AddDelivery(ctx, delivery(id, t0.Add(time.Duration(i)*time.Second)))
		if err != nil || !added {
			t.Fatalf("AddDelivery(%s) = %v, %v", id, added, err)
		}
	}
	if added, err := in.AddDelivery(ctx, delivery("d-2", t0)); err != nil || added {
		t.Fatalf("AddDelivery of a known id = %v, %v; want false", added, err)
	}
	if first, err := s.MarkDelivery(ctx, "d-1", t0); err != nil || first {
		t.Fatalf("an added delivery is marked: MarkDelivery = %v, %v", first, err)
	}
	got, err := in.PendingDeliveries(ctx, 10)
	if err != nil || fmt.Sprint(ids(got)) != "[d-1 d-2 d-3]" {
		t.Fatalf("PendingDeliveries = %v, %v; want d-1 d-2 d-3 in order", ids(got), err)
	}
	if string(got[0].Payload) != `{"n":"d-1"}` || got[0].Event != "pull_request" || got[0].Key != "acme/app#1" || got[0].State != store.DeliveryPending || !got[0].ReceivedAt.Equal(t0) {
		t.Fatalf("delivery read back as %+v", got[0])
	}
	if got, _ := in.PendingDeliveries(ctx, 2); len(got) != 2 {
		t.Fatalf("PendingDeliveries(2) gave %d", len(got))
	}

	// A failed attempt stays pending with its error and next time; a dead one moves out.
	next := t0.Add(time.Minute)
	if err := in.FailDelivery(ctx, "d-1", 1, next, "GitHub answered 502", false); err != nil {
		t.Fatal(err)
	}
	got, _ = in.PendingDeliveries(ctx, 10)
	if got[0].ID != "d-1" || got[0].Attempts != 1 || !got[0].NextAt.Equal(next) || got[0].LastError != "GitHub answered 502" {
		t.Fatalf("after a failed attempt: %+v", got[0])
	}
	if err := in.FailDelivery(ctx, "d-2", 10, next, "gave up", true); err != nil {
		t.Fatal(err)
	}
	if got, _ := in.PendingDeliveries(ctx, 10); fmt.Sprint(ids(got)) != "[d-1 d-3]" {
		t.Fatalf("pending after dead-lettering d-2: %v", ids(got))
	}
	dead, err := in.ListDeliveries(ctx, store.DeliveryDead, 10)
	if err != nil || len(dead) != 1 || dead[0].ID != "d-2" || dead[0].State != store.DeliveryDead || dead[0].Attempts != 10 || dead[0].LastError != "gave up" {
		t.Fatalf("dead letters = %+v, %v", dead, err)
	}
	counts, err := in.CountDeliveries(ctx)
	if err != nil || counts[store.DeliveryPending] != 2 || counts[store.DeliveryDead] != 1 {
		t.Fatalf("CountDeliveries = %v, %v", counts, err)
	}
	if all, _ := in.ListDeliveries(ctx, "", 10); len(all) != 3 {
		t.Fatalf("ListDeliveries(all) = %v", ids(all))
	}

	// GitHub's redelivery of a dead-lettered id, asked for by hand, makes it pending again.
	if added, err := in.AddDelivery(ctx, delivery("d-2", t0)); err != nil || !added {
		t.Fatalf("redelivery of a dead letter = %v, %v; want it pending again", added, err)
	}
	got, _ = in.PendingDeliveries(ctx, 10)
	if fmt.Sprint(ids(got)) != "[d-1 d-3 d-2]" || got[2].Attempts != 0 || got[2].LastError != "" {
		t.Fatalf("pending after the redelivery: %+v", got)
	}
	if err := in.FailDelivery(ctx, "d-2", 3, next, "again", true); err != nil {
		t.Fatal(err)
	}
	if err := in.RetryDelivery(ctx, "d-2"); err != nil {
		t.Fatal(err)
	}
	if err := in.RetryDelivery(ctx, "d-2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("retrying a pending delivery: %v, want ErrNotFound", err)
	}

	// A pending delivery is read back whole by id; one that is not pending is not found.
	if d, err := in.GetDelivery(ctx, "d-1"); err != nil || d.ID != "d-1" || string(d.Payload) != `{"n":"d-1"}` || d.Attempts != 1 || d.Key != "acme/app#1" {
		t.Fatalf("GetDelivery(d-1) = %+v, %v", d, err)
	}
	if _, err := in.GetDelivery(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetDelivery of an unknown id: %v, want ErrNotFound", err)
	}

	// Finished and dropped deliveries are gone; their marks stay.
	if err := in.FinishDelivery(ctx, "d-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := in.GetDelivery(ctx, "d-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetDelivery of a finished delivery: %v, want ErrNotFound", err)
	}
	if err := in.DropDelivery(ctx, "d-3"); err != nil {
		t.Fatal(err)
	}
	if err := in.DropDelivery(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("dropping an unknown delivery: %v", err)
	}
	if err := in.FailDelivery(ctx, "d-1", 2, next, "x", false); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("failing a finished delivery: %v, want ErrNotFound", err)
	}
	if got, _ := in.PendingDeliveries(ctx, 10); fmt.Sprint(ids(got)) != "[d-2]" {
		t.Fatalf("pending at the end: %v", ids(got))
	}
	for _, id := range []string{"d-1", "d-3"} {
		if added, err := in.AddDelivery(ctx, delivery(id, t0)); err != nil || added {
			t.Fatalf("%s came back: %v, %v", id, added, err)
		}
	}
}

// testInboxConcurrentAdd: the same delivery arriving on many connections at once is kept once.
func testInboxConcurrentAdd(t *testing.T, s store.Store) {
	in := inboxOf(t, s)
	ctx := context.Background()
	var wg sync.WaitGroup
	var added atomic.Int64
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := in.AddDelivery(ctx, delivery(fmt.Sprintf("d-%d", i%4), time.Now()))
			if err != nil {
				t.Error(err)
			}
			if ok {
				added.Add(1)
			}
		}()
	}
	wg.Wait()
	if added.Load() != 4 {
		t.Fatalf("%d adds won, want 4", added.Load())
	}
	if got, _ := in.PendingDeliveries(ctx, 100); len(got) != 4 {
		t.Fatalf("%d pending, want 4", len(got))
	}
}

// testInboxFinishMany: finishing many deliveries at once removes exactly those (an id that
// is not pending is passed over), in one call.
func testInboxFinishMany(t *testing.T, s store.Store) {
	in := inboxOf(t, s)
	ctx := context.Background()
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for i := range 10 {
		if _, err := in.AddDelivery(ctx, delivery(fmt.Sprintf("m-%d", i), t0)); err != nil {
			t.Fatal(err)
		}
	}
	if err := in.FinishDelivery(ctx, "m-1", "m-3", "m-5", "m-7", "m-9", "unknown"); err != nil {
		t.Fatal(err)
	}
	if err := in.FinishDelivery(ctx); err != nil {
		t.Fatalf("finishing nothing: %v", err)
	}
	got, err := in.PendingDeliveries(ctx, 100)
	if err != nil || fmt.Sprint(ids(got)) != "[m-0 m-2 m-4 m-6 m-8]" {
		t.Fatalf("pending after finishing the odd ones: %v, %v", ids(got), err)
	}
	if added, err := in.AddDelivery(ctx, delivery("m-3", t0)); err != nil || added {
		t.Fatalf("a finished delivery came back: %v, %v", added, err)
	}
}
