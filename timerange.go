package flywheel

import "time"

// The years an event time may fall in. The KPI engine keeps times as int64
// Unix nanoseconds, which reach only from 1678 to 2262; the range sits well
// inside, so that sums and differences of times cannot overflow either.
const (
	EarliestYear = 1970
	LatestYear   = 2199
)

// TimeInRange reports whether t is unknown (zero) or falls in the years
// EarliestYear to LatestYear (UTC).
func TimeInRange(t time.Time) bool {
	if t.IsZero() {
		return true
	}
	y := t.UTC().Year()
	return y >= EarliestYear && y <= LatestYear
}

// ClampTime moves a known time outside the valid years to the nearest edge of
// the range: the start of EarliestYear or the start of the year after
// LatestYear. A zero time stays zero.
func ClampTime(t time.Time) time.Time {
	switch {
	case t.IsZero() || TimeInRange(t):
		return t
	case t.UTC().Year() < EarliestYear:
		return time.Date(EarliestYear, 1, 1, 0, 0, 0, 0, time.UTC)
	default:
		return time.Date(LatestYear+1, 1, 1, 0, 0, 0, 0, time.UTC)
	}
}

// TimeRangeText words the valid range for errors and logs.
const TimeRangeText = "years 1970 to 2199 (UTC)"

// OutOfRangeTime returns the name of the first time of d outside the valid
// years (as the neutral format names it), or "".
func (d *Deployment) OutOfRangeTime() string {
	return firstOutOfRange("finished_at", d.FinishedAt)
}

// OutOfRangeTime returns the name of the first time of c outside the valid
// years, or "".
func (c *Change) OutOfRangeTime() string {
	return firstOutOfRange("first_commit_at", c.FirstCommitAt, "opened_at", c.OpenedAt,
		"first_review_at", c.FirstReviewAt, "merged_at", c.MergedAt)
}

// OutOfRangeTime returns the name of the first time of x outside the valid
// years, or "".
func (x *Incident) OutOfRangeTime() string {
	return firstOutOfRange("started_at", x.StartedAt, "triggered_at", x.TriggeredAt,
		"acknowledged_at", x.AcknowledgedAt, "resolved_at", x.ResolvedAt)
}

func firstOutOfRange(named ...any) string {
	for i := 0; i+1 < len(named); i += 2 {
		if !TimeInRange(named[i+1].(time.Time)) {
			return named[i].(string)
		}
	}
	return ""
}
