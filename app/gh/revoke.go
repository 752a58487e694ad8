package gh

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-github/v62/github"
)

// MaxRevokePerRequest is how many credentials GitHub's revocation API takes per request.
const MaxRevokePerRequest = 1000

// Revoker sends exposed credentials to GitHub's credential revocation API
// (POST /credentials/revoke). GitHub notifies each credential's owner; a revoked
// credential cannot be restored.
type Revoker interface {
	RevokeCredentials(ctx context.Context, credentials []string) error
}

type revoker struct{ gh *github.Client }

// NewRevoker returns a Revoker for the GitHub at apiURL. The endpoint refuses any
// authenticated request (403), so hc must add no credentials; GitHub allows 60 such
// requests an hour from one address.
func NewRevoker(apiURL string, hc *http.Client) (Revoker, error) {
	c, err := github.NewClient(hc).WithEnterpriseURLs(apiURL, apiURL)
	if err != nil {
		return nil, fmt.Errorf("GitHub client for %s: %w", apiURL, err)
	}
	return revoker{gh: c}, nil
}

func (r revoker) RevokeCredentials(ctx context.Context, credentials []string) error {
	for start := 0; start < len(credentials); start += MaxRevokePerRequest {
		batch := credentials[start:min(start+MaxRevokePerRequest, len(credentials))]
		req, err := r.gh.NewRequest(http.MethodPost, "credentials/revoke", map[string][]string{"credentials": batch})
		if err != nil {
			return fmt.Errorf("revoking %d credentials: %w", len(batch), err)
		}
		// go-github's error names the method, URL, status and GitHub's message, never the body.
		_, err = r.gh.Do(ctx, req, nil)
		var accepted *github.AcceptedError
		if err != nil && !errors.As(err, &accepted) { // GitHub answers 202: revocation is queued
			return wrap(err, fmt.Sprintf("revoking %d credentials", len(batch)), Repo{})
		}
	}
	return nil
}
