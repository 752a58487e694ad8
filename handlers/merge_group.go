package handlers

import (
	"context"
	"fmt"

	"github.com/google/go-github/v62/github"
	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/app/gate"
)

// MergeGroup handles merge_group: checks_requested checks the queue's group commit;
// destroyed (merged, invalidated, dequeued) leaves nothing to do.
type MergeGroup struct{ Deps }

// Handles implements githubapp.EventHandler.
func (h *MergeGroup) Handles() []string { return []string{"merge_group"} }

// mergeGroupEvent is the part of a merge_group payload the check needs.
type mergeGroupEvent struct {
	Action       string             `json:"action"`
	Reason       string             `json:"reason"` // destroyed: merged, invalidated, dequeued
	Installation struct{ ID int64 } `json:"installation"`
	Repository   *github.Repository `json:"repository"`
	MergeGroup   *struct {
		HeadSHA string `json:"head_sha"`
		HeadRef string `json:"head_ref"`
		BaseSHA string `json:"base_sha"`
		BaseRef string `json:"base_ref"`
	} `json:"merge_group"`
}

// Handle implements githubapp.EventHandler.
func (h *MergeGroup) Handle(ctx context.Context, _, _ string, payload []byte) error {
	var ev mergeGroupEvent
	if err := decode(payload, &ev); err != nil {
		return err
	}
	log := zerolog.Ctx(ctx)
	if ev.Action != "checks_requested" {
		if ev.MergeGroup != nil {
			log.Info().Str("reason", ev.Reason).Str("sha", ev.MergeGroup.HeadSHA).Msg("merge group ended; nothing to do")
		}
		return nil
	}
	if ev.MergeGroup == nil || ev.MergeGroup.HeadSHA == "" {
		return fmt.Errorf("merge_group payload has no head_sha")
	}
	r, err := repoOf(ev.Repository)
	if err != nil {
		return err
	}
	mg := ev.MergeGroup
	_, err = h.Gate.CheckMergeGroup(ctx, gate.MergeGroup{
		Installation: ev.Installation.ID, Repo: r, RepoID: ev.Repository.GetID(), DefaultBranch: ev.Repository.GetDefaultBranch(),
		HeadSHA: mg.HeadSHA, HeadRef: mg.HeadRef, BaseSHA: mg.BaseSHA, BaseRef: mg.BaseRef,
	})
	return err
}

// mergeGroupOrderKey orders the groups of one merge queue ("owner/name@queue:<base
// ref>"): each group is built on the one ahead of it, and its check reads the ledger
