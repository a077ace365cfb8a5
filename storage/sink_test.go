package storage_test

import (
	"github.com/flywheel-metrics/flywheel/collector"
	"github.com/flywheel-metrics/flywheel/storage"
)

// The store is the collectors' sink; storage itself must not import collector.
var _ collector.Sink = (*storage.Store)(nil)
