package flywheel

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Day is 24 hours; windows and `d` durations use it (a month is 30 days in the
// DORA levels).
const Day = 24 * time.Hour

// Window is a named look-back period such as "30d": KPIs are computed over
// [at − Duration, at).
type Window struct {
	Name     string
	Duration time.Duration
}

// ParseDuration reads "30d", "72h", "90m", "1w" or any time.ParseDuration string;
// "d" is 24h and "w" 7 days.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	for suffix, unit := range map[string]time.Duration{"d": Day, "w": 7 * Day} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.ParseFloat(n, 64)
			if err != nil || v <= 0 {
				return 0, fmt.Errorf("invalid duration %q: want a positive number followed by a unit such as 30d or 72h", s)
			}
			return time.Duration(v * float64(unit)), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("invalid duration %q: want a positive number followed by a unit such as 30d or 72h", s)
	}
	return d, nil
}

// ParseWindow reads a window name such as "30d".
func ParseWindow(s string) (Window, error) {
	d, err := ParseDuration(s)
	if err != nil {
		return Window{}, err
	}
	return Window{Name: strings.TrimSpace(s), Duration: d}, nil
}

// Start is the first instant of the window ending at at.
func (w Window) Start(at time.Time) time.Time { return at.Add(-w.Duration) }

// Days is the window's length in days (possibly fractional).
func (w Window) Days() float64 { return w.Duration.Hours() / 24 }
