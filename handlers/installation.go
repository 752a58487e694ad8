package handlers

import (
	"context"

	"github.com/google/go-github/v62/github"

	"github.com/escapegate/escapegate/app/gate"
	"github.com/escapegate/escapegate/store"
)

// Installation handles installation and installation_repositories events.
type Installation struct{ Deps }

// Handles implements githubapp.EventHandler.
func (h *Installation) Handles() []string {
	return []string{"installation", "installation_repositories"}
}

// Handle implements githubapp.EventHandler.
func (h *Installation) Handle(ctx context.Context, eventType, _ string, payload []byte) error {
	if eventType == "installation_repositories" {
		var ev github.InstallationRepositoriesEvent
		if err := decode(payload, &ev); err != nil {
			return err
		}
		id := ev.GetInstallation().GetID()
		switch ev.GetAction() {
		case "added":
			return h.Gate.ReposAdded(ctx, id, installed(ev.RepositoriesAdded), h.InstallPace)
		case "removed":
			var names []string
			for _, r := range ev.RepositoriesRemoved {
				names = append(names, r.GetFullName())
			}
			return h.Gate.ReposRemoved(ctx, names)
		}
		return nil
	}
	var ev github.InstallationEvent
	if err := decode(payload, &ev); err != nil {
		return err
	}
	in := ev.GetInstallation()
	if ev.GetAction() == "created" {
		return h.Gate.Installed(ctx, store.Installation{
			ID: in.GetID(), Account: in.GetAccount().GetLogin(), AccountType: in.GetAccount().GetType(),
		}, installed(ev.Repositories), h.InstallPace)
	}
	return h.Gate.InstallationChanged(ctx, in.GetID(), ev.GetAction())

}

func installed(rs []*github.Repository) []gate.InstalledRepo {
	out := make([]gate.InstalledRepo, 0, len(rs))
	for _, r := range rs {
		out = append(out, gate.InstalledRepo{ID: r.GetID(), FullName: r.GetFullName()})
	}
	return out
}
