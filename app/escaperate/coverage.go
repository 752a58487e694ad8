package escaperate

import (
	"sort"

	"github.com/escapegate/escapegate/store"
)

// Coverage counts repositories by whether the escapegate check is required on their
// production branches: where it is not, every failing merge is an advisory escape.
type Coverage struct {
	Enforced int `json:"enforced"`
	Total    int `json:"total"`
	// Advisory are the repositories where the check does not block a merge; Unknown
	// those whose rules were not read yet.
	Advisory []string `json:"advisory"`
	Unknown  []string `json:"unknown"`
}

// CoverageOf counts repos by their recorded enforcement; removed repositories are left out.
func CoverageOf(repos []store.Repository) Coverage {
	c := Coverage{Advisory: []string{}, Unknown: []string{}}
	for _, r := range repos {
		if !r.RemovedAt.IsZero() {
			continue
		}
		c.Total++
		switch {
		case r.Enforcement == nil:
			c.Unknown = append(c.Unknown, r.FullName)
		case r.Enforcement.Required:
			c.Enforced++
		default:
			c.Advisory = append(c.Advisory, r.FullName)
		}
	}
	sort.Strings(c.Advisory)
	sort.Strings(c.Unknown)
	return c
}
