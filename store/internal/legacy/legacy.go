// Package legacy reads what schema version 1 kept as settings and version 2
// keeps as records of their own: the pending escapes, the last release and the
// release comment ids of each repository. The migration of each backend to
// version 2 decodes those settings with Decode, writes the records and deletes
// the settings, in the migrating transaction.
package legacy

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/escapegate/escapegate/store"
)

// The version 1 keys. Repository names in them are lower-cased.
const (
	PendingPrefix        = "pending/"         // pending/<repo>: JSON array of store.Escape
	ReleasePrefix        = "release/"         // release/<repo>: JSON {"tag", "at"}
	ReleaseCommentPrefix = "release-comment/" // release-comment/<repo>/<pr>: decimal comment id
)

// Prefixes are the key prefixes of the settings that version 2 moves.
var Prefixes = []string{PendingPrefix, ReleasePrefix, ReleaseCommentPrefix}

// Kinds of legacy settings.
const (
	KindPending        = "pending"
	KindRelease        = "release"
	KindReleaseComment = "release-comment"
)

// Setting is one decoded legacy setting.
type Setting struct {
	Kind    string
	Repo    string         // as the key names it
	Pending []store.Escape // KindPending, in the order they were added
	Release store.Release  // KindRelease
	PR      int            // KindReleaseComment
	Comment int64          // KindReleaseComment; 0 when the key or the value is not readable
}

// Decode reads the setting key. ok is false when key is not a legacy setting.
// Pending escapes and a release that cannot be decoded are an error (they are
// data); a release comment id that cannot be read decodes with Comment 0, to be
// dropped: version 1 ignored such a value too, and the comment's marker finds
// the comment again.
func Decode(key string, value []byte) (s Setting, ok bool, err error) {
	switch {
	case strings.HasPrefix(key, PendingPrefix):
		s = Setting{Kind: KindPending, Repo: strings.TrimPrefix(key, PendingPrefix)}
		if err := json.Unmarshal(value, &s.Pending); err != nil {
			return s, true, fmt.Errorf("setting %q: decode pending escapes: %w", key, err)
		}
		return s, true, nil
	case strings.HasPrefix(key, ReleasePrefix):
		s = Setting{Kind: KindRelease, Repo: strings.TrimPrefix(key, ReleasePrefix)}
		var r struct {
			Tag string    `json:"tag"`
			At  time.Time `json:"at"`
		}
		if err := json.Unmarshal(value, &r); err != nil {
			return s, true, fmt.Errorf("setting %q: decode last release: %w", key, err)
		}
		s.Release = store.Release{Tag: r.Tag, At: r.At}
		return s, true, nil
	case strings.HasPrefix(key, ReleaseCommentPrefix):
		s = Setting{Kind: KindReleaseComment}
		rest := strings.TrimPrefix(key, ReleaseCommentPrefix)
		i := strings.LastIndexByte(rest, '/')
		if i < 0 {
			return s, true, nil
		}
		pr, perr := strconv.Atoi(rest[i+1:])
		id, ierr := strconv.ParseInt(string(value), 10, 64)
		if perr != nil || ierr != nil || pr <= 0 || id <= 0 {
			return s, true, nil
		}
		s.Repo, s.PR, s.Comment = rest[:i], pr, id
		return s, true, nil
	}
	return Setting{}, false, nil
}
