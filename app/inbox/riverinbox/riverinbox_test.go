package riverinbox_test

import (
	"context"
	"testing"

	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/app/config"
	"github.com/escapegate/escapegate/app/inbox"
	"github.com/escapegate/escapegate/app/inbox/inboxtest"
	"github.com/escapegate/escapegate/app/inbox/riverinbox"
	"github.com/escapegate/escapegate/store/postgres"
	"github.com/escapegate/escapegate/store/postgres/pgtest"
)

func TestConformance(t *testing.T) {
	inboxtest.Run(t, func(t *testing.T, handle inbox.Handler, r config.Retry) inboxtest.Inbox {
		st, err := postgres.Open(context.Background(), pgtest.FreshSchema(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if err := st.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		b, err := riverinbox.New(riverinbox.Options{Pool: st.Pool(), Handle: handle, Retry: r, Log: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
}
