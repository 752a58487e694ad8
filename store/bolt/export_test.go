package bolt

import "context"

// MigrateTo brings s to schema version v only, as a build of that version would.
func MigrateTo(ctx context.Context, s *Store, v int) error { return s.migrateTo(ctx, v) }
