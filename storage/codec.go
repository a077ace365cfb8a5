package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
	"unsafe"

	"github.com/flywheel-metrics/flywheel"
)

// Records are stored in a compact binary form rather than JSON: Events reads
// every record of the store on each KPI computation, and decoding 1.25M JSON
// objects takes several times longer than this (see BenchmarkEvents). Each
// record starts with a format byte so that the layout can evolve.
const recordFormat = 1

// timeKeyLen is the length of an encoded <time> (see the package doc).
const timeKeyLen = 12

// appendTimeKey appends the sortable 12-byte form of t.
func appendTimeKey(b []byte, t time.Time) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(t.Unix())^(1<<63))
	return binary.BigEndian.AppendUint32(b, uint32(t.Nanosecond()))
}

// parseTimeKey is the inverse of appendTimeKey; the result is in UTC.
func parseTimeKey(b []byte) time.Time {
	if len(b) < timeKeyLen {
		return time.Time{}
	}
	sec := int64(binary.BigEndian.Uint64(b) ^ (1 << 63))
	nsec := int64(binary.BigEndian.Uint32(b[8:]))
	t := time.Unix(sec, nsec).UTC()
	return t
}

// appendStrKey appends <str>: a 2-byte length and the bytes.
func appendStrKey(b []byte, s string) []byte {
	if len(s) > math.MaxUint16 {
		s = s[:math.MaxUint16]
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

type encoder struct{ b []byte }

func (e *encoder) str(s string) {
	e.b = binary.AppendUvarint(e.b, uint64(len(s)))
	e.b = append(e.b, s...)
}

// time writes a zero time as one 0 byte, any other instant as 1, seconds and
// nanoseconds; locations are not kept (every time is read back in UTC).
func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.b = append(e.b, 0)
		return
	}
	e.b = append(e.b, 1)
	e.b = binary.AppendVarint(e.b, t.Unix())
	e.b = binary.AppendUvarint(e.b, uint64(t.Nanosecond()))
}

// strs keeps nil and empty apart: a deployment's nil Commits means unknown.
func (e *encoder) strs(ss []string) {
	if ss == nil {
		e.b = append(e.b, 0)
		return
	}
	e.b = binary.AppendUvarint(e.b, uint64(len(ss))+1)
	for _, s := range ss {
		e.str(s)
	}
}

var errCorrupt = errors.New("truncated or corrupt record")

// decoder reads what encoder wrote. in, when set, interns the strings of
// low-cardinality fields (service, repo, status…) so that reading a million
// records does not allocate a million copies of "checkout"; the others are
// copied into the arena.
type decoder struct {
	b   []byte
	err error
	in  *arena
}

// arena is what a bulk read shares across records: the interned strings and
// an arena of immutable string bytes. Copying every id, sha and title into
// shared chunks instead of one allocation each cuts Events' allocations by
// about three quarters; the price is that a string kept alone pins its chunk.
type arena struct {
	intern map[string]string
	chunk  []byte
}

const chunkSize = 64 << 10

func newArena() *arena { return &arena{intern: map[string]string{}} }

// copy returns b as a string whose bytes live in the arena. The arena's bytes
// are never written again once handed out, so the string stays immutable.
func (s *arena) copy(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > 256 {
		return string(b)
	}
	if cap(s.chunk)-len(s.chunk) < len(b) {
		// Chunks grow from 1 KiB so that a small query stays small.
		s.chunk = make([]byte, 0, min(max(2*cap(s.chunk), 1<<10), chunkSize))
	}
	start := len(s.chunk)
	s.chunk = append(s.chunk, b...)
	return unsafe.String(&s.chunk[start], len(b))
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errCorrupt
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) raw() []byte {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}

func (d *decoder) str() string {
	if d.in == nil {
		return string(d.raw())
	}
	return d.in.copy(d.raw())
}

// istr is str, interned.
func (d *decoder) istr() string {
	b := d.raw()
	if len(b) == 0 {
		return ""
	}
	if d.in == nil {
		return string(b)
	}
	if s, ok := d.in.intern[string(b)]; ok { // no allocation: the compiler recognises this lookup
		return s
	}
	s := string(b)
	d.in.intern[s] = s
	return s
}

func (d *decoder) time() time.Time {
	if len(d.b) == 0 {
		d.fail()
		return time.Time{}
	}
	flag := d.b[0]
	d.b = d.b[1:]
	if flag == 0 {
		return time.Time{}
	}
	sec, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return time.Time{}
	}
	d.b = d.b[n:]
	nsec := d.uvarint()
	return time.Unix(sec, int64(nsec)).UTC()
}

func (d *decoder) strs(intern bool) []string {
	n := d.uvarint()
	if n == 0 {
		return nil
	}
	n--
	if n > uint64(len(d.b)) { // every string takes at least one byte
		d.fail()
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		if intern {
			ss[i] = d.istr()
		} else {
			ss[i] = d.str()
		}
	}
	return ss
}

func (d *decoder) header() {
	if len(d.b) == 0 || d.b[0] != recordFormat {
		d.fail()
		return
	}
	d.b = d.b[1:]
}

func (d *decoder) done(what string) error {
	if d.err == nil && len(d.b) != 0 {
		d.err = errCorrupt
	}
	if d.err != nil {
		return fmt.Errorf("decode %s: %w", what, d.err)
	}
	return nil
}

func encodeDeployment(b []byte, v *flywheel.Deployment) []byte {
	e := encoder{b: append(b, recordFormat)}
	e.str(v.ID)
	e.str(v.Service)
	e.str(v.Repo)
	e.str(v.Environment)
	e.str(v.SHA)
	e.time(v.FinishedAt)
	e.str(v.Status)
	e.strs(v.Commits)
	e.str(v.CompareStatus)
	e.str(v.Source)
	return e.b
}

func decodeDeployment(b []byte, in *arena, v *flywheel.Deployment) error {
	d := decoder{b: b, in: in}
	d.header()
	v.ID = d.str()
	v.Service = d.istr()
	v.Repo = d.istr()
	v.Environment = d.istr()
	v.SHA = d.str()
	v.FinishedAt = d.time()
	v.Status = d.istr()
	v.Commits = d.strs(false)
	v.CompareStatus = d.istr()
	v.Source = d.istr()
	return d.done("deployment")
}

func encodeChange(b []byte, v *flywheel.Change) []byte {
	e := encoder{b: append(b, recordFormat)}
	e.str(v.ID)
	e.str(v.Service)
	e.str(v.Repo)
	e.str(v.Title)
	e.strs(v.Labels)
	e.str(v.Author)
	e.time(v.FirstCommitAt)
	e.time(v.OpenedAt)
	e.time(v.FirstReviewAt)
	e.time(v.MergedAt)
	e.str(v.MergeSHA)
	e.strs(v.Paths)
	e.str(v.Source)
	return e.b
}

func decodeChange(b []byte, in *arena, v *flywheel.Change) error {
	d := decoder{b: b, in: in}
	d.header()
	v.ID = d.str()
	v.Service = d.istr()
	v.Repo = d.istr()
	v.Title = d.str()
	v.Labels = d.strs(true)
	v.Author = d.istr()
	v.FirstCommitAt = d.time()
	v.OpenedAt = d.time()
	v.FirstReviewAt = d.time()
	v.MergedAt = d.time()
	v.MergeSHA = d.str()
	v.Paths = d.strs(true)
	v.Source = d.istr()
	return d.done("change")
}

func encodeIncident(b []byte, v *flywheel.Incident) []byte {
	e := encoder{b: append(b, recordFormat)}
	e.str(v.ID)
	e.str(v.Service)
	e.str(v.Urgency)
	e.str(v.Priority)
	e.str(v.Title)
	e.time(v.StartedAt)
	e.time(v.TriggeredAt)
	e.time(v.AcknowledgedAt)
	e.time(v.ResolvedAt)
	e.str(v.CausedBy)
	e.str(v.Source)
	if v.ImpactStartUnparsed != "" {
		e.str(v.ImpactStartUnparsed)
	}
	return e.b
}

func decodeIncident(b []byte, in *arena, v *flywheel.Incident) error {
	d := decoder{b: b, in: in}
	d.header()
	v.ID = d.str()
	v.Service = d.istr()
	v.Urgency = d.istr()
	v.Priority = d.istr()
	v.Title = d.str()
	v.StartedAt = d.time()
	v.TriggeredAt = d.time()
	v.AcknowledgedAt = d.time()
	v.ResolvedAt = d.time()
	v.CausedBy = d.str()
	v.Source = d.istr()
	// a trailing optional field: records written before it existed end here
	v.ImpactStartUnparsed = ""
	if len(d.b) > 0 {
		v.ImpactStartUnparsed = d.str()
	}
	return d.done("incident")
}

func encodeValidator(v flywheel.Validator) []byte {
	e := encoder{b: []byte{recordFormat}}
	e.str(v.ETag)
	e.str(v.LastModified)
	return e.b
}

func decodeValidator(key string, b []byte) (flywheel.Validator, error) {
	d := decoder{b: b}
	d.header()
	v := flywheel.Validator{Key: key, ETag: d.str(), LastModified: d.str()}
	return v, d.done("validator " + key)
}
