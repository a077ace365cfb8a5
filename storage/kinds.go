package storage

import (
	"time"

	"github.com/flywheel-metrics/flywheel"
)

// kind describes how one event kind is keyed and encoded; the store's upsert and
// range-scan code is written once over it.
type kind[T any] struct {
	name    flywheel.Kind
	bucket  []byte
	id      func(*T) string
	time    func(*T) time.Time
	service func(*T) string
	repo    func(*T) string // nil: the kind has no repo index
	encode  func([]byte, *T) []byte
	decode  func([]byte, *arena, *T) error
}

var (
	bucketMeta        = []byte("meta")
	bucketDeployments = []byte("deployments")
	bucketChanges     = []byte("changes")
	bucketIncidents   = []byte("incidents")
	bucketCursors     = []byte("cursors")
	bucketValidators  = []byte("validators")
	bucketSnapshots   = []byte("snapshots")

	bucketByTime    = []byte("by_time")
	bucketIDs       = []byte("ids")
	bucketByService = []byte("by_service")
	bucketByRepo    = []byte("by_repo")
	bucketDaily     = []byte("daily")

	keyVersion = []byte("version")
	keyLatest  = []byte("latest")
)

func countKey(k flywheel.Kind) []byte { return []byte("count." + string(k)) }

var deployments = kind[flywheel.Deployment]{
	name:    flywheel.KindDeployment,
	bucket:  bucketDeployments,
	id:      func(v *flywheel.Deployment) string { return v.ID },
	time:    func(v *flywheel.Deployment) time.Time { return v.FinishedAt },
	service: func(v *flywheel.Deployment) string { return v.Service },
	repo:    func(v *flywheel.Deployment) string { return v.Repo },
	encode:  encodeDeployment,
	decode:  decodeDeployment,
}

var changes = kind[flywheel.Change]{
	name:    flywheel.KindChange,
	bucket:  bucketChanges,
	id:      func(v *flywheel.Change) string { return v.ID },
	time:    func(v *flywheel.Change) time.Time { return flywheel.ChangeTime(*v) },
	service: func(v *flywheel.Change) string { return v.Service },
	repo:    func(v *flywheel.Change) string { return v.Repo },
	encode:  encodeChange,
	decode:  decodeChange,
}

// Incidents have no repo, so Query.Repo does not apply to them.
var incidents = kind[flywheel.Incident]{
	name:    flywheel.KindIncident,
	bucket:  bucketIncidents,
	id:      func(v *flywheel.Incident) string { return v.ID },
	time:    func(v *flywheel.Incident) time.Time { return v.TriggeredAt },
	service: func(v *flywheel.Incident) string { return v.Service },
	encode:  encodeIncident,
	decode:  decodeIncident,
}
