package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"

	"github.com/escapegate/escapegate/app/config"
	"github.com/escapegate/escapegate/app/inbox"
	"github.com/escapegate/escapegate/app/inbox/riverinbox"
	"github.com/escapegate/escapegate/app/server"
	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/postgres"
)

const deliveriesUsage = `usage: escapegate deliveries [--config F] list [--state dead|pending|all] [--format text|json]
       escapegate deliveries [--config F] retry ID...
       escapegate deliveries [--config F] drop ID...

Lists the webhook deliveries the durable inbox holds (pending: accepted, not yet handled;
dead: gave up after retry.max_attempts), makes dead ones pending again, or drops them.
While serve holds the bbolt store, the command asks it over its loopback API.`

func runDeliveries(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("deliveries", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, deliveriesUsage); fs.PrintDefaults() }
	cfgPath := fs.String("config", "", "server configuration file (the same as serve's)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(code int, err error) int { fmt.Fprintln(stderr, "escapegate deliveries:", err); return code }
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	verb, rest := fs.Arg(0), fs.Args()[1:]
	sub := flag.NewFlagSet("deliveries "+verb, flag.ContinueOnError)
	sub.SetOutput(stderr)
	state := sub.String("state", "all", "with list: dead, pending or all")
	format := sub.String("format", "text", "with list: text or json")
	if err := sub.Parse(rest); err != nil {
		return 2
	}
	switch verb {
	case "list":
		if *state != "all" && *state != store.DeliveryDead && *state != store.DeliveryPending {
			return fail(2, fmt.Errorf("--state %q: want dead, pending or all", *state))
		}
		if *format != "text" && *format != "json" {
			return fail(2, fmt.Errorf("--format %q: want text or json", *format))
		}
	case "retry", "drop":
		if sub.NArg() == 0 {
			return fail(2, fmt.Errorf("%s needs one or more delivery ids", verb))
		}
	default:
		fs.Usage()
		return 2
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return fail(2, err)
	}
	d, closeFn, err := openDeliveries(ctx, cfg)
	if err != nil {
		return fail(1, err)
	}
	defer closeFn()
	if verb == "list" {
		st := *state
		if st == "all" {
			st = ""
		}
		list, err := d.list(ctx, st)
		if err != nil {
			return fail(1, err)
		}
		if *format == "json" {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(list); err != nil {
				return fail(1, err)
			}
			return 0
		}
		printDeliveries(stdout, list)
		return 0
	}
	code := 0
	for _, id := range sub.Args() {
		if err := d.change(ctx, verb, id); err != nil {
			fmt.Fprintf(stderr, "escapegate deliveries: %s %s: %v\n", verb, id, err)
			code = 1
			continue
		}
		fmt.Fprintf(stdout, "%s: %s\n", id, map[string]string{"retry": "pending again", "drop": "dropped"}[verb])
	}
	return code
}

func printDeliveries(w io.Writer, list []server.DeliveryView) {
	if len(list) == 0 {
		fmt.Fprintln(w, "No deliveries in the inbox.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEVENT\tSTATE\tATTEMPTS\tRECEIVED\tLAST ERROR")
	for _, d := range list {
		msg := d.LastError
		if len(msg) > 100 {
			msg = msg[:97] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", d.ID, d.Event, d.State, d.Attempts, d.ReceivedAt.UTC().Format("2006-01-02 15:04:05"), strings.ReplaceAll(msg, "\n", " "))
	}
	_ = tw.Flush()
}

// deliveriesAccess lists and changes deliveries, in the store or through a running serve.
type deliveriesAccess struct {
	list   func(ctx context.Context, state string) ([]server.DeliveryView, error)
	change func(ctx context.Context, verb, id string) error
}

func openDeliveries(ctx context.Context, cfg config.Config) (deliveriesAccess, func(), error) {
	st, err := openStore(ctx, cfg)
	if errors.Is(err, store.ErrLocked) {
		return viaServer(cfg), func() {}, nil
	}
	if err != nil {
		return deliveriesAccess{}, nil, err
	}
	if pg, ok := st.(*postgres.Store); ok {
		// Replicas keep deliveries as jobs of River's queue; this process only reads and
		// changes them (it starts no workers).
		q, err := riverinbox.New(riverinbox.Options{Pool: pg.Pool()})
		if err != nil {
			st.Close()
			return deliveriesAccess{}, nil, err
		}
		return deliveriesAccess{
			list: func(ctx context.Context, state string) ([]server.DeliveryView, error) {
				ds, err := q.List(ctx, state, 10000)
				return server.Views(ds), err
			},
			change: func(ctx context.Context, verb, id string) error {
				if verb == "retry" {
					return q.Requeue(ctx, id)
				}
				return q.Drop(ctx, id)
			},
		}, func() { st.Close() }, nil
	}
	in, ok := st.(store.Inbox)
	if !ok {
		st.Close()
		return deliveriesAccess{}, nil, fmt.Errorf("the store %s keeps no inbox of its own", redactDSN(cfg.Store))
	}
	// The process is not serving: an inbox that is not started changes the store only.
	b := inbox.New(inbox.Options{Store: in})
	return deliveriesAccess{
		list: func(ctx context.Context, state string) ([]server.DeliveryView, error) {
			ds, err := in.ListDeliveries(ctx, state, 1<<20)
			return server.Views(ds), err
		},
		change: func(ctx context.Context, verb, id string) error {
			if verb == "retry" {
				return in.RetryDelivery(ctx, id)
			}
			return b.Drop(ctx, id)
		},
	}, func() { st.Close() }, nil
}

func viaServer(cfg config.Config) deliveriesAccess {
	return deliveriesAccess{
		list: func(ctx context.Context, state string) ([]server.DeliveryView, error) {
			body, err := callServer(ctx, cfg, http.MethodGet, "/api/deliveries", url.Values{"state": {state}})
			if err != nil {
				return nil, fmt.Errorf("the store is held by a running serve, and asking it failed: %w", err)
			}
			var out []server.DeliveryView
			if err := json.Unmarshal(body, &out); err != nil {
				return nil, fmt.Errorf("reading serve's answer: %w", err)
			}
			return out, nil
		},
		change: func(ctx context.Context, verb, id string) error {
			_, err := callServer(ctx, cfg, http.MethodPost, "/api/deliveries/"+url.PathEscape(id)+"/"+verb, nil)
			return err
		},
	}
}
