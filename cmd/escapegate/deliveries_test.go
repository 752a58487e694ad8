package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/app/config"
	"github.com/escapegate/escapegate/app/inbox/riverinbox"
	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/bolt"
	"github.com/escapegate/escapegate/store/postgres"
	"github.com/escapegate/escapegate/store/postgres/pgtest"
)

// TestDeliveriesCommand lists, retries and drops the inbox's deliveries in a bbolt store
// that no serve holds.
func TestDeliveriesCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "escapegate.db")
	st, err := bolt.Open(db, bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"dead-1", "dead-2", "pending-1"} {
		if _, err := st.AddDelivery(ctx, store.Delivery{ID: id, Event: "pull_request", Payload: []byte(`{}`), ReceivedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"dead-1", "dead-2"} {
		if err := st.FailDelivery(ctx, id, 10, time.Now(), "GitHub answered 502", true); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	cfg := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("store: bolt:%s\n", db)), 0o600); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := runCmd(t, "", "deliveries", "--config", cfg, "list", "--state", "dead", "--format", "json")
	if code != 0 {
		t.Fatalf("list: %d %s", code, errOut)
	}
	var listed []struct {
		ID        string `json:"id"`
		State     string `json:"state"`
		LastError string `json:"last_error"`
	}
	if err := json.Unmarshal([]byte(out), &listed); err != nil || len(listed) != 2 || listed[0].State != "dead" || listed[0].LastError == "" {
		t.Fatalf("list --state dead: %v %s", err, out)
	}
	if code, out, _ := runCmd(t, "", "deliveries", "--config", cfg, "list"); code != 0 || !strings.Contains(out, "pending-1") || !strings.Contains(out, "dead-2") {
		t.Fatalf("list (text): %d %s", code, out)
	}
	if code, _, errOut := runCmd(t, "", "deliveries", "--config", cfg, "retry", "dead-1"); code != 0 {
		t.Fatalf("retry: %d %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, "", "deliveries", "--config", cfg, "drop", "dead-2"); code != 0 {
		t.Fatalf("drop: %d %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, "", "deliveries", "--config", cfg, "retry", "nope"); code != 1 || !strings.Contains(errOut, "nope") {
		t.Fatalf("retry of an unknown id: %d %s", code, errOut)
	}
	if code, _, _ := runCmd(t, "", "deliveries", "--config", cfg, "list", "--state", "lost"); code != 2 {
		t.Fatalf("a bad --state is bad input: %d", code)
	}
	st, err = bolt.Open(db, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if n, _ := st.CountDeliveries(ctx); n[store.DeliveryPending] != 2 || n[store.DeliveryDead] != 0 {
		t.Fatalf("after retry and drop: %v, want 2 pending (pending-1 and dead-1) and none dead", n)
	}
}

// TestDeliveriesCommandOnPostgres: on PostgreSQL the deliveries are River's jobs.
func TestDeliveriesCommandOnPostgres(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	ctx := context.Background()
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	q, err := riverinbox.New(riverinbox.Options{Pool: st.Pool(), Log: zerolog.Nop(),
		Retry:  config.Retry{MaxAttempts: 1, BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond},
		Handle: func(context.Context, store.Delivery) error { return errors.New("GitHub answered 502") }})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Accept(ctx, store.Delivery{ID: "pg-dead", Event: "pull_request", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := q.Wait(wctx); err != nil {
		t.Fatal(err)
	}
	if err := q.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "config.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("store: %q\n", dsn)), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCmd(t, "", "deliveries", "--config", cfg, "list", "--state", "dead"); code != 0 || !strings.Contains(out, "pg-dead") || !strings.Contains(out, "502") {
		t.Fatalf("list: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := runCmd(t, "", "deliveries", "--config", cfg, "drop", "pg-dead"); code != 0 {
		t.Fatalf("drop: %d %s", code, errOut)
	}
	if code, out, _ := runCmd(t, "", "deliveries", "--config", cfg, "list"); code != 0 || strings.Contains(out, "pg-dead") {
		t.Fatalf("after drop: %d %s", code, out)
	}
}
