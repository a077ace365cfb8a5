package kpi

import (
	"cmp"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/flywheel-metrics/flywheel"
)

// none marks an unknown (or not yet happened) instant in the engine's int64
// Unix-nanosecond clock.
const none = math.MinInt64

// forever is the end of an interval that has not ended (an open incident).
const forever = math.MaxInt64

// ns is t in the engine's clock. A time outside the valid years (a store
// written before they were checked may hold one) is clamped to the range
// first: UnixNano of a year past 2262 overflows.
func ns(t time.Time) int64 {
	if t.IsZero() {
		return none
	}
	return flywheel.ClampTime(t).UnixNano()
}

// beforeAt returns t's instant when it happened before at, else none: as of
// at, a time after at inside an event has not happened yet.
func beforeAt(t time.Time, at int64) int64 { return nsBefore(ns(t), at) }

// nsBefore is beforeAt of an instant already in Unix nanoseconds (or none).
func nsBefore(v, at int64) int64 {
	if v == none || v >= at {
		return none
	}
	return v
}

// before is nsBefore as of the engine's evaluation time.
func (e *engine) before(v int64) int64 { return nsBefore(v, e.at) }

func seconds(d int64) float64 { return float64(d) / 1e9 }

// dep is one counting deployment as of at (40 bytes).
type dep struct {
	d   *flywheel.Deployment
	j   int32 // its index in the Input, for its commit list
	fin int64
	// end is the finish of the rollback that failed it, or, once incidents are
	// attributed to it, the latest resolution among them; none when neither.
	end    int64
	svc    int32
	failed bool
	rework bool
	flags  uint8
}

// Flags of a deployment record.
const (
	shippedAny   = 1 << iota // it shipped at least one PR
	attributedTo             // at least one incident is attributed to it
	openAttrib               // at least one of those is open
)

// recovery returns the deployment's recovery time in seconds and
// whether it has one.
func (d *dep) recovery() (float64, bool) {
	if !d.failed || d.flags&openAttrib != 0 || d.end == none {
		return 0, false
	}
	return seconds(d.end - d.fin), true
}

// Flags of a change record.
const (
	hasLead        = 1 << iota // a first commit time, so a lead time
	fallbackMapped             // shipped by the time fallback
)

// chg is one merged PR as of at (24 bytes: there are a million of them).
// Whatever else it needs is derived from the input when needed.
type chg struct {
	merged int64
	idx    int32 // index into the Input's changes
	dep    int32 // shipping deployment (index into e.deps), or -1
	svc    int32
	cls    Class
	flags  uint8
}

func (e *engine) change(r *chg) *change { return &e.in.chgs[r.idx] }

// deployed returns when the PR was deployed, or none.
func (e *engine) deployed(r *chg) int64 {
	if r.dep < 0 {
		return none
	}
	return e.deps[r.dep].fin
}

// lead returns a deployed PR's lead time in nanoseconds (so that sums are
// exact and order-independent) and whether it has one.
func (e *engine) lead(r *chg) (int64, bool) {
	if r.flags&hasLead == 0 {
		return 0, false
	}
	return e.deployed(r) - e.change(r).first, true
}

// stages returns a deployed PR's four lead-time stages, each
// clipped at 0, and which it has: coding needs the first commit and the opening,
// pickup and review a first review (before at). They are derived when needed
// rather than stored, to keep a million PRs small.
func (e *engine) stages(r *chg) (st [4]float64, has [4]bool) {
	c := e.change(r)
	first, opened, review := e.before(c.first), e.before(c.opened), e.before(c.review)
	if first != none && opened != none {
		st[0], has[0] = clip(seconds(opened-first)), true
	}
	if review != none && opened != none {
		st[1], has[1] = clip(seconds(review-opened)), true
	}
	if review != none {
		st[2], has[2] = clip(seconds(r.merged-review)), true
	}
	st[3], has[3] = clip(seconds(e.deployed(r)-r.merged)), true
	return st, has
}

// inc is one incident triggered before at.
type inc struct {
	i       *flywheel.Incident
	svc     int32
	urg     int32
	trig    int64
	ack     int64 // none: not acknowledged as of at
	res     int64 // none: open as of at
	started int64 // explicit, else the finish of its rule-1 deployment, else none
	dep     int32 // attributed deployment, or -1
	named   int32 // the stored deployment (Input index) its caused-by names, counting or not, or -1
	by      attrRule
	why     unattributed // when dep < 0
	from    startFrom
}

// attrRule is the rule that attributed an incident to a deployment.
type attrRule uint8

const (
	byNone     attrRule = iota
	byCausedBy          // it names the deployment in a caused-by line
	byWindow            // the latest deployment of its service before its impact start
)

// unattributed says why an incident is attributed to no deployment.
type unattributed uint8

const (
	whyAttributed      unattributed = iota
	whyNotCaused                    // caused-by: none
	whyNoDeploy                     // no counting deployment of its service in the attribution window
	whyUrgency                      // its urgency is not one attributed by time
	whyNamesNothing                 // its caused-by names nothing stored, and rule 2 found nothing
	whyNamesUncounted               // its caused-by names a deployment that does not count, and rule 2 found nothing
	whyNamesUndeployed              // its caused-by names a PR that no counting deployment shipped, and rule 2 found nothing
)

// startFrom says where an incident's impact start came from.
type startFrom uint8

const (
	startUnknown  startFrom = iota
	startExplicit           // an impact-start line (or started_at)
	startCausedBy           // the finish of the deployment its caused-by names
)

// engine holds one computation's working state.
type engine struct {
	opts Options
	at   int64
	in   *Input

	svcIdx   map[string]int32
	svcNames []string
	urgIdx   map[string]int32
	urgNames []string

	deps    []dep // counting deployments, ordered by finish then id
	depsSvc [][]int32
	chgs    []chg // merged PRs
	incs    []inc // ordered by trigger then id

	// everCounting[s] says whether service s has a counting deployment before at.
	everCounting []bool

	// own finds the earliest counting deployment whose own sha a sha is,
	// ids every deployment finished before at by id (one record per
	// id). Commit lists have no index: they are scanned in deployment order for
	// the shas asked of them (inLists, scanLists), which keeps their memory small.
	own, ids *strIndex
	countIdx []int32 // input index → deps index, or -1 (-2: not before at, or a duplicate)

	quality []DataQuality // per service

	// tr is nil but when explaining (Input.run).
	tr *trace
}

// trace is what Explain needs to know of the decisions of one run and Compute
// does not: which rollback failed a deployment and why a deployment is rework.
// It is kept apart so that Compute's records stay as small as they are.
type trace struct {
	// rolledBackBy[i] is the rollback that failed deployment i, or -1.
	rolledBackBy []int32
	// rework[i] holds the reasons deployment i is rework (reworkRollback, …).
	rework []uint8
	// nonCounting are the Input's deployments finished before at (one per id)
	// that do not count.
	nonCounting []int32
}

// Reasons a deployment is rework.
const (
	reworkRollback = 1 << iota // it is a rollback
	reworkFix                  // it shipped a PR of the fix class
	reworkIncident             // it finished while an incident of its service was open
)

// newTrace starts the trace of a run whose deployments are loaded.
func newTrace(e *engine) *trace {
	t := &trace{rolledBackBy: make([]int32, len(e.deps)), rework: make([]uint8, len(e.deps))}
	for i := range t.rolledBackBy {
		t.rolledBackBy[i] = -1
	}
	for j, c := range e.countIdx {
		if c == -1 {
			t.nonCounting = append(t.nonCounting, int32(j))
		}
	}
	return t
}

// inLists returns, for each distinct sha of the sealed indexes packed and odd,
// the first counting deployment whose commit list holds it, or -1 (the
// first deployment whose commit list contains it ships it): one pass over the
// lists in deployment order, a lookup per listed sha. A packed sha can only
// equal a packed one, as their strings are equal only then.
func (e *engine) inLists(packed *shaIndex, odd *strIndex) (firstPacked, firstOdd []int32) {
	minus := func(n int) []int32 {
		s := make([]int32, n)
		for k := range s {
			s[k] = -1
		}
		return s
	}
	firstPacked, firstOdd = minus(len(packed.ents)), minus(len(odd.ents))
	if len(packed.ents)+len(odd.ents) == 0 {
		return firstPacked, firstOdd
	}
	for i := range e.deps {
		shas, others := e.in.list(e.deps[i].j)
		for k := 0; k < len(shas); k += shaBytes {
			if x := packed.index([shaBytes]byte(shas[k : k+shaBytes])); x >= 0 && firstPacked[x] < 0 {
				firstPacked[x] = int32(i)
			}
		}
		for _, sha := range others {
			if x := odd.index(sha); x >= 0 && firstOdd[x] < 0 {
				firstOdd[x] = int32(i)
			}
		}
	}
	return firstPacked, firstOdd
}

// firstOwn returns the earliest counting deployment of sha.
func (e *engine) firstOwn(sha string) (int32, bool) {
	return e.own.find(sha)
}

func (e *engine) service(name string) int32 {
	if i, ok := e.svcIdx[name]; ok {
		return i
	}
	i := int32(len(e.svcNames))
	e.svcIdx[name] = i
	e.svcNames = append(e.svcNames, name)
	e.quality = append(e.quality, DataQuality{})
	return i
}

func (e *engine) urgency(name string) int32 {
	if name == "" {
		name = flywheel.UrgencyUnknown
	}
	if i, ok := e.urgIdx[name]; ok {
		return i
	}
	i := int32(len(e.urgNames))
	e.urgIdx[name] = i
	e.urgNames = append(e.urgNames, name)
	return i
}

// withDefaults fills zero options with DefaultOptions' values.
func withDefaults(o Options) Options {
	d := DefaultOptions()
	if o.ProductionEnvironment == nil {
		o.ProductionEnvironment = d.ProductionEnvironment
	}
	if o.AttributionWindow <= 0 {
		o.AttributionWindow = d.AttributionWindow
	}
	if o.ImpactWindow <= 0 {
		o.ImpactWindow = d.ImpactWindow
	}
	if o.Thresholds == (Thresholds{}) {
		o.Thresholds = d.Thresholds
	}
	c := o.Classification
	if c.Fix.Labels == nil && c.Fix.Types == nil && c.TuneUp.Labels == nil && c.TuneUp.Types == nil &&
		c.Innovation.Labels == nil && c.Innovation.Types == nil && c.TuneUpPaths == nil {
		o.Classification = d.Classification
	}
	return o
}

// Compute evaluates every KPI of docs/kpis.md as of at: the report for
// every window of opts.Windows and every tune-up initiative, and the
// all-history figures of History. It is pure and deterministic: the result does
// not depend on the order of the input events. Ids are expected to be unique per
// kind (the store and flywheel.DecodeEvents guarantee it); duplicate deployment
// ids are nevertheless reduced to one record, chosen by content. Zero fields of
// opts take DefaultOptions' values. Its working state points into ev's deployments
// (but for their packed commit lists) and incidents rather than copying them (ev
// must not change during the call);
// callers that read a store scan into an Input instead, which never holds whole
// PRs (docs/benchmarks.md).
func Compute(ev flywheel.Events, at time.Time, opts Options) Result {
	in := newInput(opts, false)
	in.deps, in.incs = ev.Deployments, ev.Incidents
	in.lists = make([]commitList, len(ev.Deployments))
	for i := range ev.Deployments {
		in.lists[i] = in.addList(ev.Deployments[i].Commits)
	}
	in.chgs = make([]change, 0, len(ev.Changes))
	for i := range ev.Changes {
		in.AddChange(&ev.Changes[i])
	}
	return in.Compute(at)
}

// Compute is the package's Compute over the Input's events. It does not change
// the Input.
func (in *Input) Compute(at time.Time) Result {
	e := in.attributed(at)
	// the sha and id indexes are done with: let the garbage collector have them
	e.own, e.ids, e.countIdx = nil, nil, nil

	res := Result{
		Report: Report{At: at.UTC(), Windows: map[string]WindowReport{}},
	}
	// the longest window first, so that the sample buffer is allocated once;
	// stored in the configured order (the last of a repeated name wins)
	ws := e.opts.Windows
	order := make([]int, len(ws))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(ws[b].Duration, ws[a].Duration) })
	var smp [2]samples
	reports := make([]WindowReport, len(ws))
	for _, i := range order {
		reports[i] = e.window(ws[i], &smp[0])
	}
	for i, w := range ws {
		res.Report.Windows[w.Name] = reports[i]
	}
	res.Report.TuneUpImpact = e.impacts(&smp)
	res.History = e.history()
	return res
}

// attributed returns the engine as of at with every deployment, PR and
// incident loaded, PRs mapped to deployments, incidents attributed and
// failures marked: all the windows read.
func (in *Input) attributed(at time.Time) *engine { return in.run(at, false) }

// run is attributed; with trace, it also records the decisions that Explain
// lists and Compute keeps no trace of.
func (in *Input) run(at time.Time, trace bool) *engine {
	e := &engine{
		opts:   in.opts,
		at:     flywheel.ClampTime(at).UnixNano(),
		in:     in,
		svcIdx: map[string]int32{},
		urgIdx: map[string]int32{},
	}
	e.loadDeployments(in.deps)
	if trace {
		e.tr = newTrace(e)
	}
	e.sequences()
	e.loadChanges()
	e.loadIncidents(in.incs)
	e.attribute()
	e.failures()
	return e
}

// depOrder orders the Input's deployments i and j by finish, then id, then
// content (for duplicate ids only) so that every choice below is independent
// of input order.
func (in *Input) depOrder(i, j int32) int {
	a, b := &in.deps[i], &in.deps[j]
	if c := a.FinishedAt.Compare(b.FinishedAt); c != 0 {
		return c
	}
	if c := cmp.Compare(a.ID, b.ID); c != 0 {
		return c
	}
	for _, p := range [][2]string{{a.Status, b.Status}, {a.Environment, b.Environment}, {a.SHA, b.SHA},
		{a.Service, b.Service}, {a.Repo, b.Repo}, {a.CompareStatus, b.CompareStatus}} {
		if c := cmp.Compare(p[0], p[1]); c != 0 {
			return c
		}
	}
	return cmp.Compare(in.lists[i].len(), in.lists[j].len())
}

// importSources are the Deployment.Source values that flywheel import and
// POST /api/v1/events record (cmd/flywheel's flywheel.DecodeEvents calls).
var importSources = [...]string{"import", "api"}

// prodRegexp is the production-environment regex of a deployment: an
// imported deployment's is always production_environment, whatever its repo;
// a collected one's is its repo's own, else the default of the source that
// collected it (a repo found by org discovery has only the defaults), else
// production_environment.
func (e *engine) prodRegexp(repo, source string) *regexp.Regexp {
	if slices.Contains(importSources[:], source) {
		return e.opts.ProductionEnvironment
	}
	if re, ok := e.opts.RepoEnvironments[repo]; ok && re != nil {
		return re
	}
	if re, ok := e.opts.SourceEnvironments[source]; ok && re != nil {
		return re
	}
	return e.opts.ProductionEnvironment
}

// loadDeployments keeps the deployments finished before at, decides which
// count and orders the counting ones by finish then id.
func (e *engine) loadDeployments(in []flywheel.Deployment) {
	n := 0
	for i := range in {
		if beforeAt(in[i].FinishedAt, e.at) != none {
			n++
		}
	}
	e.ids = newStrIndex(n, func(ref int32) string { return in[ref].ID })
	for i := range in {
		if beforeAt(in[i].FinishedAt, e.at) != none {
			e.ids.add(int32(i))
		}
	}
	// a duplicate id: keep the later record by content, whatever the input order
	e.ids.seal(func(kept, later int32) bool { return e.in.depOrder(kept, later) < 0 })
	e.countIdx = make([]int32, len(in))
	for j := range e.countIdx {
		e.countIdx[j] = -2
	}
	for _, en := range e.ids.ents {
		e.countIdx[en.ref] = -1
	}
	type envKey struct{ repo, env, source string }
	prod := map[envKey]bool{}
	counting := make([]int32, 0, len(e.ids.ents))
	for j := range in {
		if e.countIdx[j] == -2 {
			continue
		}
		d := &in[j]
		s := e.service(d.Service)
		k := envKey{d.Repo, d.Environment, d.Source}
		p, ok := prod[k]
		if !ok {
			p = e.prodRegexp(d.Repo, d.Source).MatchString(d.Environment)
			prod[k] = p
		}
		if d.Status != flywheel.StatusSuccess || !p {
			e.quality[s].NonCountingDeploys++
			continue
		}
		counting = append(counting, int32(j))
	}
	slices.SortFunc(counting, e.in.depOrder)
	e.deps = make([]dep, len(counting))
	e.everCounting = make([]bool, len(e.svcNames))
	perSvc := make([]int32, len(e.svcNames))
	for i, j := range counting {
		s := e.svcIdx[in[j].Service]
		e.deps[i] = dep{d: &in[j], j: j, fin: ns(in[j].FinishedAt), svc: s, end: none}
		e.countIdx[j] = int32(i)
		perSvc[s]++
	}
	e.depsSvc = make([][]int32, len(e.svcNames))
	for s, c := range perSvc {
		if c > 0 {
			e.depsSvc[s] = make([]int32, 0, c)
			e.everCounting[s] = true
		}
	}
	for i := range e.deps {
		s := e.deps[i].svc
		e.depsSvc[s] = append(e.depsSvc[s], int32(i))
	}
}

// sequences finds rollbacks and the failures they cause, and indexes commit
// lists and own shas.
func (e *engine) sequences() {
	type seqKey struct {
		byService bool
		name, env string
	}
	seqIDs := map[seqKey]int32{}
	seq := make([]int32, len(e.deps))
	for i := range e.deps {
		d := e.deps[i].d
		k := seqKey{name: d.Repo, env: d.Environment}
		if d.Repo == "" {
			k = seqKey{byService: true, name: d.Service, env: d.Environment}
		}
		q, ok := seqIDs[k]
		if !ok {
			q = int32(len(seqIDs))
			seqIDs[k] = q
		}
		seq[i] = q
	}
	// first[i] is the first deployment of i's sequence with i's sha: deployments
	// sorted by sequence, sha and order, rather than a map per sequence
	order := make([]int32, len(e.deps))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		if c := cmp.Compare(seq[a], seq[b]); c != 0 {
			return c
		}
		if c := strings.Compare(e.deps[a].d.SHA, e.deps[b].d.SHA); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	first := make([]int32, len(e.deps))
	for k, i := range order {
		if k > 0 {
			if p := order[k-1]; seq[p] == seq[i] && e.deps[p].d.SHA == e.deps[i].d.SHA {
				first[i] = first[p]
				continue
			}
		}
		first[i] = i
	}
	prev := make([]int32, len(seqIDs))
	for q := range prev {
		prev[q] = -1
	}
	for i := range e.deps {
		d := &e.deps[i]
		if pi := prev[seq[i]]; pi >= 0 {
			p := &e.deps[pi]
			// redeploying the previous deployment's own sha is never a rollback;
			// a sha first deployed before the previous one's is
			back := false
			if d.d.SHA != p.d.SHA {
				back = strings.EqualFold(d.d.CompareStatus, "behind") || first[i] < int32(i) && first[i] < first[pi]
			}
			if back {
				d.rework = true
				p.failed = true
				// a deployment has one successor in its sequence, so one rollback fails it
				p.end = d.fin
				if e.tr != nil {
					e.tr.rolledBackBy[pi] = int32(i)
					e.tr.rework[i] |= reworkRollback
				}
			}
		}
		prev[seq[i]] = int32(i)
	}
	e.own = newStrIndex(len(e.deps), func(ref int32) string { return e.deps[ref].d.SHA })
	for i := range e.deps {
		e.own.add(int32(i))
	}
	e.own.seal(nil)
}

// fallback lists of counting deployments without a commit list, in order.
type fallbacks struct {
	byRepo        map[string][]int32
	byServiceBare [][]int32 // deployments without repo, per service
	byService     [][]int32 // all of the service's, for PRs without repo
}

func (e *engine) fallbacks() fallbacks {
	f := fallbacks{byRepo: map[string][]int32{},
		byServiceBare: make([][]int32, len(e.svcNames)), byService: make([][]int32, len(e.svcNames))}
	for i := range e.deps {
		d := &e.deps[i]
		if e.in.lists[d.j].known {
			continue
		}
		if d.d.Repo != "" {
			f.byRepo[d.d.Repo] = append(f.byRepo[d.d.Repo], int32(i))
		} else {
			f.byServiceBare[d.svc] = append(f.byServiceBare[d.svc], int32(i))
		}
		f.byService[d.svc] = append(f.byService[d.svc], int32(i))
	}
	return f
}

// firstAtOrAfter returns the first deployment of list finished at or after t.
func (e *engine) firstAtOrAfter(list []int32, t int64) int32 {
	k := sort.Search(len(list), func(i int) bool { return e.deps[list[i]].fin >= t })
	if k == len(list) {
		return -1
	}
	return list[k]
}

// loadChanges maps every PR merged before at to the deployment that shipped it
// and marks what its lead time needs; its class was
// decided when it was added.
func (e *engine) loadChanges() {
	fb := e.fallbacks()
	in := e.in.chgs
	n := 0
	for i := range in {
		if e.before(in[i].merged) != none {
			n++
		}
	}
	e.chgs = make([]chg, 0, n)
	// the merge shas of the PRs merged before at, and the first deployment
	// listing each
	packed := newShaIndex(n, func(ref int32) [shaBytes]byte { return in[ref].sha })
	odd := newStrIndex(0, func(ref int32) string { return e.in.oddMerges[in[ref].odd] })
	for i := range in {
		if c := &in[i]; c.shaKind != noSHA && e.before(c.merged) != none {
			if c.shaKind == packedSHA {
				packed.add(int32(i))
			} else {
				odd.add(int32(i))
			}
		}
	}
	packed.seal(nil)
	odd.seal(nil)
	listedPacked, listedOdd := e.inLists(packed, odd)
	// services by name index, found on first use
	svcOf := make([]int32, len(e.in.names))
	for k := range svcOf {
		svcOf[k] = -1
	}
	for i := range in {
		c := &in[i]
		opened := e.before(c.opened)
		merged := e.before(c.merged)
		if opened == none && merged == none {
			continue // not yet opened as of at (or no time at all)
		}
		s := svcOf[c.svc]
		if s < 0 {
			s = e.service(e.in.names[c.svc])
			svcOf[c.svc] = s
		}
		if merged == none {
			continue
		}
		r := chg{idx: int32(i), svc: s, cls: c.cls, dep: -1, merged: merged}
		switch c.shaKind {
		case packedSHA:
			r.dep = listedPacked[packed.index(c.sha)]
		case oddSHA:
			r.dep = listedOdd[odd.index(e.in.oddMerges[c.odd])]
		}
		if r.dep < 0 {
			var cand int32 = -1
			if c.repo != 0 {
				cand = e.firstAtOrAfter(fb.byRepo[e.in.names[c.repo]], merged)
				if int(s) < len(fb.byServiceBare) {
					if b := e.firstAtOrAfter(fb.byServiceBare[s], merged); b >= 0 && (cand < 0 || b < cand) {
						cand = b
					}
				}
			} else if int(s) < len(fb.byService) {
				cand = e.firstAtOrAfter(fb.byService[s], merged)
			}
			if cand >= 0 {
				r.dep = cand
				r.flags |= fallbackMapped
			}
		}
		if r.dep >= 0 {
			d := &e.deps[r.dep]
			d.flags |= shippedAny
			if r.cls == ClassFix {
				d.rework = true
				if e.tr != nil {
					e.tr.rework[r.dep] |= reworkFix
				}
			}
			if e.before(c.first) != none {
				r.flags |= hasLead
			}
		}
		e.chgs = append(e.chgs, r)
	}
}

func clip(v float64) float64 { return math.Max(v, 0) }

// loadIncidents keeps the incidents triggered before at, with their times as
// of at.
func (e *engine) loadIncidents(in []flywheel.Incident) {
	e.incs = make([]inc, 0, len(in))
	for i := range in {
		x := &in[i]
		trig := beforeAt(x.TriggeredAt, e.at)
		if trig == none {
			continue
		}
		e.incs = append(e.incs, inc{i: x, svc: e.service(x.Service), urg: e.urgency(x.Urgency), trig: trig,
			ack: beforeAt(x.AcknowledgedAt, e.at), res: beforeAt(x.ResolvedAt, e.at),
			started: ns(x.StartedAt), dep: -1, named: -1})
		if !x.StartedAt.IsZero() {
			e.incs[len(e.incs)-1].from = startExplicit
		}
		if x.ImpactStartUnparsed != "" {
			e.quality[e.incs[len(e.incs)-1].svc].ImpactStartUnparsed++
		}
	}
	slices.SortFunc(e.incs, func(a, b inc) int {
		if c := cmp.Compare(a.trig, b.trig); c != 0 {
			return c
		}
		return cmp.Compare(a.i.ID, b.i.ID)
	})
	// services first seen among changes or incidents need their per-service slices
	for len(e.everCounting) < len(e.svcNames) {
		e.everCounting = append(e.everCounting, false)
		e.depsSvc = append(e.depsSvc, nil)
	}
}
