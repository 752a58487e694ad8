package inbox_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/escapegate/escapegate/app/config"
	"github.com/escapegate/escapegate/app/inbox"
	"github.com/escapegate/escapegate/app/inbox/inboxtest"
	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/bolt"
	"github.com/escapegate/escapegate/store/memstore"
)

func local(st store.Inbox, handle inbox.Handler, r config.Retry) inboxtest.Inbox {
	return inbox.New(inbox.Options{Store: st, Handle: handle, MaxAttempts: r.MaxAttempts, MaxAge: r.MaxAge, BaseBackoff: r.BaseBackoff, MaxBackoff: r.MaxBackoff})
}

func TestConformanceMemstore(t *testing.T) {
	inboxtest.Run(t, func(t *testing.T, handle inbox.Handler, r config.Retry) inboxtest.Inbox {
		return local(memstore.New(), handle, r)
	})
}

func TestConformanceBolt(t *testing.T) {
	inboxtest.Run(t, func(t *testing.T, handle inbox.Handler, r config.Retry) inboxtest.Inbox {
		st, err := bolt.Open(filepath.Join(t.TempDir(), "s.db"), bolt.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return local(st, handle, r)
	})
}
