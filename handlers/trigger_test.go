package handlers_test

import (
	"testing"
	"time"

	"github.com/escapegate/escapegate/internal/fakegithub/events"
	"github.com/escapegate/escapegate/store"
)

// TestProductionTriggers: with production.trigger release or deployment, a merge does
// not reach production yet; the escape is recorded when the release is published or a
// deployment to a production environment succeeds (and not for other environments).
func TestProductionTriggers(t *testing.T) {
	at := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		policy  string
		ship    func(e *env) (event string, payload []byte)
		notShip func(e *env) (event string, payload []byte)
	}{
		{
			name:   "release",
			policy: "production:\n  trigger: release\n",
			ship: func(e *env) (string, []byte) {
				return "release", events.ReleasePublished(e.inst, e.repo, "v1.2.0", at, "rel-bot")
			},
		},
		{
			name:   "deployment",
			policy: "production:\n  trigger: deployment\n  environments: [production]\n",
			ship: func(e *env) (string, []byte) {
				return "deployment_status", events.DeploymentStatus(e.inst, e.repo, "production", "success", sha("m1"), at, "deployer")
			},
			notShip: func(e *env) (string, []byte) {
				return "deployment_status", events.DeploymentStatus(e.inst, e.repo, "staging", "success", sha("m1"), at, "deployer")
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.h.GitHub.SetFile("acme/.github", "", "escapegate.yml", []byte(tc.policy))
			pr := e.openPR(1, "alice", "m1", envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey()))
			e.merge(pr, "alice")
			if esc := e.escapes(); len(esc) != 0 {
				t.Fatalf("escapes before shipping: %+v", esc)
			}
			if tc.notShip != nil {
				e.send(tc.notShip(e))
				if esc := e.escapes(); len(esc) != 0 {
					t.Fatalf("escapes after a non-production deployment: %+v", esc)
				}
			}
			e.send(tc.ship(e))
			esc := e.escapes()
			if len(esc) != 1 || esc[0].Kind != store.EscapeAdvisory || !esc[0].At.Equal(at) {
				t.Fatalf("escapes after shipping: %+v", esc)
			}
			// Shipping again carries nothing new.
			e.send(tc.ship(e))
			if esc := e.escapes(); len(esc) != 1 {
				t.Fatalf("escapes after shipping twice: %+v", esc)
			}
		})
	}
}
