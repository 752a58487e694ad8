package server

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/escapegate/escapegate/store"
)

// CLIHeader must be set on the loopback API's writes: a browser on the host cannot send
// it to another origin without a preflight that this server never answers, so a page
// the operator visits cannot retry or drop deliveries.
const CLIHeader = "X-Escapegate-Cli"

// loopbackOnly serves next only to the operator on this host: a loopback peer, no
// proxy in between (behind a proxy or sidecar every request is loopback), a Host that
// names this host (a DNS-rebound name reaches loopback too), and CLIHeader on writes.
func loopbackOnly(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() || proxied(r) || !loopbackHost(r.Host) {
			http.Error(w, "this endpoint answers the local operator only (loopback, no proxy, Host localhost)", http.StatusForbidden)
			return
		}
		if r.Method != http.MethodGet && r.Header.Get(CLIHeader) == "" {
			http.Error(w, "writes need the "+CLIHeader+" header (the escapegate command sends it)", http.StatusForbidden)
			return
		}
		next(w, r)
	}
}

func loopbackHost(hostport string) bool {
	h := hostport
	if x, _, err := net.SplitHostPort(hostport); err == nil {
		h = x
	}
	h = strings.Trim(h, "[]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// DeliveryView is a delivery as `escapegate deliveries` lists it: no payload.
type DeliveryView struct {
	ID         string    `json:"id"`
	Event      string    `json:"event"`
	State      string    `json:"state"`
	Attempts   int       `json:"attempts"`
	LastError  string    `json:"last_error,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
	NextAt     time.Time `json:"next_at,omitzero"`
}

// Views strips deliveries to what is listed.
func Views(ds []store.Delivery) []DeliveryView {
	out := make([]DeliveryView, 0, len(ds))
	for _, d := range ds {
		out = append(out, DeliveryView{ID: d.ID, Event: d.Event, State: d.State, Attempts: d.Attempts, LastError: d.LastError, ReceivedAt: d.ReceivedAt, NextAt: d.NextAt})
	}
	return out
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) {
	if s.inbox == nil {
		http.Error(w, "this store keeps no inbox", http.StatusNotFound)
		return
	}
	n, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if n <= 0 {
		n = 1000
	}
	list, err := s.inbox.List(r.Context(), r.URL.Query().Get("state"), n)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(Views(list))
}

func (s *Server) changeDelivery(w http.ResponseWriter, r *http.Request) {
	if s.inbox == nil {
		http.Error(w, "this store keeps no inbox", http.StatusNotFound)
		return
	}
	id := r.PathValue("id")
	var err error
	switch r.PathValue("action") {
	case "retry":
		err = s.inbox.Requeue(r.Context(), id)
	case "drop":
		err = s.inbox.Drop(r.Context(), id)
	default:
		http.Error(w, "want retry or drop", http.StatusNotFound)
		return
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		http.Error(w, err.Error(), http.StatusNotFound)
	case err != nil:
		http.Error(w, err.Error(), http.StatusConflict)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}
