package gate

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"time"

	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/render"
	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/checks/diff"
)

// revocableRules are the secret rules whose tokens GitHub's revocation API takes:
// classic and fine-grained personal access tokens, OAuth app tokens, GitHub App user
// tokens and refresh tokens (installation tokens, ghs_, expire within the hour).
var revocableRules = map[string]bool{
	"github-pat": true, "github-fine-grained-pat": true, "github-oauth": true,
	"github-app-token": true, "github-refresh-token": true,
}

// revocableToken matches the tokens of those formats in a line.
var revocableToken = regexp.MustCompile(`(?:ghp|gho|ghu|ghr)_[0-9A-Za-z]{36}|github_pat_[0-9A-Za-z_]{82}`)

// revocation is what is kept of a revoked token: never the token.
type revocation struct {
	Rule      string    `json:"rule"`
	Redacted  string    `json:"redacted"`
	Path      string    `json:"path"`
	Line      int       `json:"line"`
	PR        int       `json:"pr"`
	RevokedAt time.Time `json:"revoked_at"`
}

func revocationKey(repo gh.Repo, fingerprint string) string {
	return "revoked/" + strings.ToLower(repo.String()) + "/" + fingerprint
}

// revokeAdded sends the GitHub tokens that the PR adds (findings of a revocable rule on
// an added line of a file's patch) to GitHub's revocation API when the org policy asks
// for it, once per token (by fingerprint: a redelivery or a later push sends nothing
// again), and returns what the check run says of every such token. A failed request
// leaves the tokens unrecorded, so the next check of the PR sends them again; the check
// itself goes on.
func (s *Service) revokeAdded(ctx context.Context, pr PR, files []gh.File, findings []checks.Finding) []render.Revoked {
	if s.revoker == nil {
		return nil
	}
	byPath := map[string]string{}
	for _, f := range files {
		byPath[f.Filename] = f.Patch
	}
	type pending struct {
		f     checks.Finding
		token string
	}
	var send []pending
	var out []render.Revoked
	seen := map[string]bool{}
	for _, f := range findings {
		if !revocableRules[f.Rule] || f.Existing || seen[f.Fingerprint] {
			continue
		}
		seen[f.Fingerprint] = true
		if data, err := s.store.GetSetting(ctx, revocationKey(pr.Repo, f.Fingerprint)); err == nil {
			var rec revocation
			if json.Unmarshal(data, &rec) == nil {
				out = append(out, render.Revoked{Rule: f.Rule, Redacted: f.Redacted, Path: f.Path, Line: f.Line, At: rec.RevokedAt})
			}
			continue
		}
		if tok := s.tokenOf(pr.Repo, f, byPath[f.Path]); tok != "" {
			send = append(send, pending{f: f, token: tok})
		}
	}
	if len(send) == 0 {
		return out
	}
	tokens := make([]string, len(send))
	for i, p := range send {
		tokens[i] = p.token
	}
	log := s.logger(ctx)
	if err := s.revoker.RevokeCredentials(ctx, tokens); err != nil {
		log.Warn().Err(err).Int("tokens", len(tokens)).Msg("GitHub tokens not revoked; the next check of the pull request tries again")
		for _, p := range send {
			out = append(out, render.Revoked{Rule: p.f.Rule, Redacted: p.f.Redacted, Path: p.f.Path, Line: p.f.Line, Failed: true})
		}
		return out
	}
	now := s.now()
	for _, p := range send {
		rec := revocation{Rule: p.f.Rule, Redacted: p.f.Redacted, Path: p.f.Path, Line: p.f.Line, PR: pr.Number, RevokedAt: now}
		data, err := json.Marshal(rec)
		if err == nil {
			_, err = s.store.ClaimOnce(ctx, revocationKey(pr.Repo, p.f.Fingerprint), data)
		}
		if err != nil {
			log.Warn().Err(err).Str("rule", p.f.Rule).Msg("revoked token not recorded")
		}
		out = append(out, render.Revoked{Rule: p.f.Rule, Redacted: p.f.Redacted, Path: p.f.Path, Line: p.f.Line, At: now})
	}
	log.Info().Int("tokens", len(send)).Msg("GitHub tokens added by the pull request revoked")
	return out
}

// tokenOf returns the token of finding f from the added line of its file's patch: the
// token on that line whose fingerprint is the finding's, so that exactly the detected
// value is sent ("" when the file had no patch, such as one scanned whole).
func (s *Service) tokenOf(repo gh.Repo, f checks.Finding, patch string) string {
	if patch == "" || f.Line <= 0 {
		return ""
	}
	added, _, err := diff.ParsePatch(patch)
	if err != nil {
		return ""
	}
	for _, l := range added {
		if l.No != f.Line {
			continue
		}
		for _, tok := range revocableToken.FindAllString(l.Text, -1) {
			if s.fp.Secret(repo.String(), f.Rule, tok) == f.Fingerprint {
				return tok
			}
		}
	}
	return ""
}
