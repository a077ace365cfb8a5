package kpi

import (
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/flywheel-metrics/flywheel"
)

// Input is the engine's own copy of a set of events, built one event at a time
// (it is a flywheel.EventSink, so a store can scan into it) and computed as of
// any number of evaluation times. A PR is reduced at once to what the KPIs read:
// its class, its four times, service, repo and merge sha; its title,
// labels and paths are dropped, the labels kept only when they name a tune-up
// initiative. A full recompute over a million stored PRs therefore never
// holds a million whole records (the 512 MiB budget of docs/benchmarks.md).
//
// A deployment's commit list is kept packed: a sha of 40 lowercase hex digits
// in 20 bytes, where a string takes 56 (header and bytes). Lists hold every
// commit of a range, so with merge commits they are several times as long as
// the PRs are many, and they were the part of the input that grew fastest.
//
// An Input is not safe for concurrent use while events are added; Compute only
// reads it, so several computations may share one.
type Input struct {
	opts Options // with defaults
	cls  *Classifier
	// initiativeLabels are the labels of opts.TuneUps, for labelled below.
	initiativeLabels []string
	// clone: the strings kept of a deployment (id and sha) are copied,
	// because a store's strings share memory with what the Input drops (its
	// commit list). Compute over whole records in memory has no need to.
	clone bool

	deps []flywheel.Deployment // their Commits are in lists, not here
	// lists[i] is deps[i]'s commit list: shas packed in one chunk of packed
	// (chunks are never copied to grow), any other sha in odd.
	lists  []commitList
	packed [][]byte
	odd    []string

	chgs []change
	// names are the services and repos of chgs ("" first), nameIdx their index.
	names   []string
	nameIdx map[string]int32
	// oddMerges are the merge shas that do not pack (change.odd).
	oddMerges []string
	// pullRepos[i], when not 0, is the index in names of R for a PR chgs[i]
	// whose id "R#N" names another repo than its own (an imported PR without
	// repo, say). Such ids are rare: the slice stays nil until the first.
	pullRepos []int32

	incs []flywheel.Incident
	// detail is nil but in an Input made by NewExplainInput.
	detail *details
	// labelled holds, by index into chgs, the labels of the PRs that carry an
	// initiative's label: the only labels tune-up impact reads after
	// classification.
	labelled map[int32][]string
}

// change is one PR as the engine needs it: 72 bytes, not the 256 of a
// flywheel.Change and its strings. Times are Unix nanoseconds, none when
// unknown; service and repo index Input.names; the merge sha is packed, or
// oddMerges[odd], or none (shaKind). num is N of an id "owner/repo#N" (0 for
// any other id), all a caused-by naming the PR needs: the id itself is not
// kept, and num fits in what would be padding.
type change struct {
	first, opened, review, merged int64
	svc, repo                     int32
	odd                           int32
	num                           uint32
	sha                           [shaBytes]byte
	shaKind                       uint8
	cls                           Class
	by                            ClassBy // in what was padding: still 72 bytes
}

// details are what Explain lists of a PR and Compute never reads, by index
// into Input.chgs.
type details struct {
	ids, titles []string
}

// change.shaKind values.
const (
	noSHA uint8 = iota
	packedSHA
	oddSHA
)

// commitList locates a deployment's commit list: n packed shas of chunk
// packed[chunk] from byte off, oddN strings of odd from oddOff. known is false
// for a deployment without a list (nil Commits: the time fallback),
// true for a known empty one.
type commitList struct {
	chunk, off, n, oddOff, oddN int32
	known                       bool
}

// len is the number of shas listed.
func (l *commitList) len() int { return int(l.n + l.oddN) }

// shaLen is the length of a packed sha's hex form, shaBytes its packed one.
const (
	shaLen   = 40
	shaBytes = shaLen / 2
)

// maxShaChunk is the largest chunk of Input.packed; chunks grow from 1 KiB so
// that a small Input stays small.
const maxShaChunk = 1 << 20

// packSha appends the 20 bytes of sha to dst if sha round-trips through them —
// 40 lowercase hex digits, as Git and GitHub write them — and reports whether it
// did. Any other string is kept as it is, so that shas compare exactly as
// strings, whatever their form.
func packSha(dst []byte, sha string) ([]byte, bool) {
	if len(sha) != shaLen {
		return dst, false
	}
	n := len(dst)
	for i := 0; i < shaLen; i += 2 {
		hi, lo := unhex(sha[i]), unhex(sha[i+1])
		if hi|lo > 0xf {
			return dst[:n], false
		}
		dst = append(dst, hi<<4|lo)
	}
	return dst, true
}

// unhex is the value of a lowercase hex digit, or 0xff.
func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return 0xff
}

// addList packs a deployment's commit list and returns where it is.
func (in *Input) addList(commits []string) commitList {
	l := commitList{oddOff: int32(len(in.odd)), known: commits != nil}
	if len(commits) == 0 {
		return l
	}
	// room for the whole list in the last chunk: a list is never split
	need := len(commits) * shaBytes
	if len(in.packed) == 0 || cap(in.packed[len(in.packed)-1])-len(in.packed[len(in.packed)-1]) < need {
		size := 1 << 10
		if len(in.packed) > 0 {
			size = min(2*cap(in.packed[len(in.packed)-1]), maxShaChunk)
		}
		in.packed = append(in.packed, make([]byte, 0, max(size, need)))
	}
	l.chunk = int32(len(in.packed) - 1)
	chunk := &in.packed[l.chunk]
	l.off = int32(len(*chunk))
	for _, c := range commits {
		var ok bool
		if *chunk, ok = packSha(*chunk, c); ok {
			l.n++
		} else {
			in.odd = append(in.odd, strings.Clone(c))
			l.oddN++
		}
	}
	return l
}

// list returns deployments[j]'s commit list: its packed shas, 20 bytes each,
// and the others.
func (in *Input) list(j int32) (packed []byte, odd []string) {
	l := &in.lists[j]
	if l.n > 0 {
		packed = in.packed[l.chunk][l.off : l.off+l.n*shaBytes]
	}
	return packed, in.odd[l.oddOff : l.oddOff+l.oddN]
}

// eachListed calls fn with every sha of deployments[j]'s commit list, in no
// particular order. A packed sha is passed as its hex form in buf, overwritten
// for the next: fn must copy a sha it keeps (strings.Clone).
func (in *Input) eachListed(j int32, buf *[shaLen]byte, fn func(sha string)) {
	packed, odd := in.list(j)
	for k := 0; k < len(packed); k += shaBytes {
		hex.Encode(buf[:], packed[k:k+shaBytes])
		fn(unsafe.String(&buf[0], shaLen))
	}
	for _, s := range odd {
		fn(s)
	}
}

// NewInput returns an empty Input for opts; zero fields of opts take
// DefaultOptions' values.
func NewInput(opts Options) *Input { return newInput(opts, true) }

// NewExplainInput is NewInput for Explain: it also keeps every PR's id and
// title, which an explanation lists and a computation never reads (about 60
// more bytes a PR). Compute works on it as on any Input.
func NewExplainInput(opts Options) *Input {
	in := newInput(opts, true)
	in.detail = &details{}
	return in
}

func newInput(opts Options, clone bool) *Input {
	o := withDefaults(opts)
	in := &Input{opts: o, cls: NewClassifier(o.Classification), clone: clone,
		names: []string{""}, nameIdx: map[string]int32{"": 0}}
	for _, t := range o.TuneUps {
		if t.Label != "" {
			in.initiativeLabels = append(in.initiativeLabels, t.Label)
		}
	}
	return in
}

// Add adds every event of ev.
func (in *Input) Add(ev flywheel.Events) { ev.SendTo(in) }

// Grow makes room for that many more events of each kind.
func (in *Input) Grow(deployments, changes, incidents int) {
	in.deps = slices.Grow(in.deps, deployments)
	in.lists = slices.Grow(in.lists, deployments)
	in.chgs = slices.Grow(in.chgs, changes)
	in.incs = slices.Grow(in.incs, incidents)
	if in.detail != nil {
		in.detail.ids = slices.Grow(in.detail.ids, changes)
		in.detail.titles = slices.Grow(in.detail.titles, changes)
	}
}

// AddDeployment adds a copy of d, its commit list packed.
func (in *Input) AddDeployment(d *flywheel.Deployment) {
	in.lists = append(in.lists, in.addList(d.Commits))
	in.deps = append(in.deps, *d)
	c := &in.deps[len(in.deps)-1]
	c.Commits = nil
	// Times outside the valid years are clamped (see ns), here because
	// Explain and Counts read the stored copy.
	c.FinishedAt = flywheel.ClampTime(c.FinishedAt)
	if in.clone {
		c.ID, c.SHA = strings.Clone(c.ID), strings.Clone(c.SHA)
	}
}

// AddIncident adds a copy of x.
func (in *Input) AddIncident(x *flywheel.Incident) {
	in.incs = append(in.incs, *x)
	c := &in.incs[len(in.incs)-1]
	c.StartedAt, c.TriggeredAt = flywheel.ClampTime(c.StartedAt), flywheel.ClampTime(c.TriggeredAt)
	c.AcknowledgedAt, c.ResolvedAt = flywheel.ClampTime(c.AcknowledgedAt), flywheel.ClampTime(c.ResolvedAt)
}

// AddChange classifies c and keeps what the KPIs read of it.
func (in *Input) AddChange(c *flywheel.Change) {
	r := change{
		first: ns(c.FirstCommitAt), opened: ns(c.OpenedAt), review: ns(c.FirstReviewAt), merged: ns(c.MergedAt),
		svc: in.name(c.Service), repo: in.name(c.Repo),
	}
	r.cls, r.by = in.cls.ClassifyBy(c)
	if in.detail != nil {
		id, title := c.ID, c.Title
		if in.clone {
			id, title = strings.Clone(id), strings.Clone(title)
		}
		in.detail.ids = append(in.detail.ids, id)
		in.detail.titles = append(in.detail.titles, title)
	}
	if c.MergeSHA != "" {
		if _, ok := packSha(r.sha[:0], c.MergeSHA); ok {
			r.shaKind = packedSHA
		} else {
			r.sha, r.shaKind, r.odd = [shaBytes]byte{}, oddSHA, int32(len(in.oddMerges))
			in.oddMerges = append(in.oddMerges, strings.Clone(c.MergeSHA))
		}
	}
	var other int32
	if repo, n, ok := pullID(c.ID); ok {
		r.num = n
		if repo != in.names[r.repo] {
			other = in.name(repo)
			if in.pullRepos == nil {
				in.pullRepos = make([]int32, len(in.chgs), cap(in.chgs))
			}
		}
	}
	if in.pullRepos != nil {
		in.pullRepos = append(in.pullRepos, other)
	}
	in.chgs = append(in.chgs, r)
	for _, l := range c.Labels {
		if slices.ContainsFunc(in.initiativeLabels, func(t string) bool { return strings.EqualFold(t, l) }) {
			if in.labelled == nil {
				in.labelled = map[int32][]string{}
			}
			in.labelled[int32(len(in.chgs)-1)] = slices.Clone(c.Labels)
			break
		}
	}
}

// pullID splits a PR id "owner/repo#N" (N from 1 to 2³²−1) into its repo and
// number.
func pullID(id string) (repo string, n uint32, ok bool) {
	k := strings.LastIndexByte(id, '#')
	if k <= 0 || k == len(id)-1 {
		return "", 0, false
	}
	v, err := strconv.ParseUint(id[k+1:], 10, 32)
	if err != nil || v == 0 {
		return "", 0, false
	}
	return id[:k], uint32(v), true
}

// pullRepo returns the repo of chgs[i]'s id "owner/repo#N".
func (in *Input) pullRepo(i int32) string {
	if in.pullRepos != nil && in.pullRepos[i] != 0 {
		return in.names[in.pullRepos[i]]
	}
	return in.names[in.chgs[i].repo]
}

// name returns the index of a service or repo name in in.names.
func (in *Input) name(s string) int32 {
	if i, ok := in.nameIdx[s]; ok {
		return i
	}
	s = strings.Clone(s)
	i := int32(len(in.names))
	in.names = append(in.names, s)
	in.nameIdx[s] = i
	return i
}

// mergeSHA returns c's merge sha, "" when it has none. A packed one is written
// in buf, overwritten by the next call: the caller copies a sha it keeps.
func (in *Input) mergeSHA(c *change, buf *[shaLen]byte) string {
	switch c.shaKind {
	case packedSHA:
		hex.Encode(buf[:], c.sha[:])
		return unsafe.String(&buf[0], shaLen)
	case oddSHA:
		return in.oddMerges[c.odd]
	}
	return ""
}

// Counts returns the number of events of each kind that had happened before at,
// each by its own clock (a deployment's finish, a PR's opening, an incident's
// trigger); an event without that time counts as having happened.
func (in *Input) Counts(at time.Time) (deployments, changes, incidents int) {
	for i := range in.deps {
		if in.deps[i].FinishedAt.Before(at) {
			deployments++
		}
	}
	t := flywheel.ClampTime(at).UnixNano()
	for i := range in.chgs {
		if in.chgs[i].opened < t {
			changes++
		}
	}
	for i := range in.incs {
		if in.incs[i].TriggeredAt.Before(at) {
			incidents++
		}
	}
	return deployments, changes, incidents
}

// Len returns the number of events of each kind added.
func (in *Input) Len() (deployments, changes, incidents int) {
	return len(in.deps), len(in.chgs), len(in.incs)
}
