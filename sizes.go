package flywheel

import (
	"fmt"
	"unicode/utf8"
)

// The longest values the neutral format accepts, in bytes. Ids and names are
// keys of the store (whose keys are bounded) and label values of the metrics;
// free text is what people type. Nothing a collector reads comes near them.
const (
	// MaxNameBytes bounds ids, names and other short values: id, service,
	// repo, environment, sha, status, merge_sha, author, urgency, priority,
	// source, and each label and commit.
	MaxNameBytes = 1 << 10
	// MaxTextBytes bounds free text: title, caused_by,
	// impact_start_unparsed, and each path.
	MaxTextBytes = 4 << 10
)

// clipBytes is how much of a value an error or a log message quotes.
const clipBytes = 64

// Clip shortens a value for an error or a log message: its first 64 bytes
// (whole characters), "…" and its length, so that a message never carries a
// whole payload.
func Clip(s string) string {
	if len(s) <= clipBytes {
		return s
	}
	n := clipBytes
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return fmt.Sprintf("%s… (%d bytes)", s[:n], len(s))
}

// sized is one value of a line and its limit.
type sized struct {
	name string
	v    string
	max  int
}

// tooLong returns the reason the first value over its limit makes a line
// bad, or "".
func tooLong(fs ...sized) string {
	for _, f := range fs {
		if len(f.v) > f.max {
			return fmt.Sprintf("field %q: %d bytes, more than the limit of %d (%q)", f.name, len(f.v), f.max, Clip(f.v))
		}
	}
	return ""
}

// listTooLong is tooLong of each element of an optional list.
func listTooLong(name string, l *[]string, max int) string {
	if l == nil {
		return ""
	}
	for i, v := range *l {
		if len(v) > max {
			return fmt.Sprintf("field %q: element %d: %d bytes, more than the limit of %d (%q)", name, i+1, len(v), max, Clip(v))
		}
	}
	return ""
}
