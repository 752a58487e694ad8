package memstore_test

import (
	"testing"

	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/memstore"
	"github.com/escapegate/escapegate/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return memstore.New() })
}
