package kpi

import (
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/flywheel-metrics/flywheel"
)

// TestChangeRecordSize: the class rule that explanations list lives in what
// was padding, so a PR stays 72 bytes in every Input.
func TestChangeRecordSize(t *testing.T) {
	t.Parallel()
	if n := unsafe.Sizeof(change{}); n != 72 {
		t.Errorf("a PR record is %d bytes, want 72", n)
	}
}

// TestExplainRecomputesReport is the promise of an explanation: a script that
// reads only its JSON can recompute its value, and that value is the report's.
// On random organisations (the oracle's small tricky ones and larger
// synthetic ones), at several evaluation times, it explains every key present
// in the report for every window and group, and every data-quality count,
// then recomputes each value from the items as decoded JSON.
func TestExplainRecomputesReport(t *testing.T) {
	t.Parallel()
	type org struct {
		name   string
		ev     flywheel.Events
		opts   Options
		fields bool // check the .p50, .p90 and .count keys too
	}
	var orgs []org
	for seed := range uint64(24) {
		o := DefaultOptions()
		if seed%2 == 1 {
			o.AttributionUrgencies = []string{"high"}
		}
		orgs = append(orgs, org{fmt.Sprintf("oracle/%d", seed), oracleEvents(seed), o, seed < 4})
	}
	for seed := range uint64(1) {
		o := propertyOptions()
		o.Windows = append(o.Windows, flywheel.Window{Name: "36h", Duration: 36 * time.Hour})
		orgs = append(orgs, org{fmt.Sprintf("gen/%d", seed),
			genEvents(genSize{services: 3, changes: 300, deployments: 80, incidents: 40}, seed+10, at), o, false})
	}
	ats := []time.Time{at, at.Add(-100 * time.Hour), at.Add(-40*flywheel.Day + 7*time.Hour + 30*time.Second)}
	checked := map[string]int{}
	for _, o := range orgs {
		in := NewExplainInput(o.opts)
		in.Add(o.ev)
		for _, atX := range ats {
			rep := decode(t, mustJSON(t, in.Compute(atX)))
			x, err := in.Explainer(atX)
			if err != nil {
				t.Fatal(err)
			}
			services := x.Services()
			seen := map[string][]any{}
			for _, w := range o.opts.Windows {
				wr, _ := at2(rep, "report", "windows", w.Name).(map[string]any)
				for _, g := range append([]string{""}, services...) {
					var kpis any
					if g == "" {
						kpis = wr["all"]
					} else {
						kpis = at2(wr, "services", g)
					}
					present := leaves(kpis, "")
					for _, key := range allKeys(x) {
						if !o.fields && (strings.HasSuffix(key, ".p50") || strings.HasSuffix(key, ".p90") || strings.HasSuffix(key, "s.count")) {
							continue // the fields of {p50, p90, count} objects: on a few organisations
						}
						where := fmt.Sprintf("%s at %s, %s, group %q, %s", o.name, atX.Format(time.RFC3339), w.Name, g, key)
						doc := explainJSON(t, x, ExplainQuery{KPI: key, Window: w.Name, Service: g}, seen)
						want, ok := present[key]
						if !ok {
							if doc["value"] != nil {
								t.Errorf("%s: absent from the report, explained as %v", where, doc["value"])
							}
							continue
						}
						checkItems(t, where, doc)
						if got, rec := canon(t, doc["value"]), canon(t, recompute(t, doc)); got != canon(t, want) || rec != got {
							t.Errorf("%s:\n report     %s\n explained  %s\n recomputed %s", where, canon(t, want), got, rec)
						}
						checked[strings.SplitN(key, ".", 2)[0]]++
					}
				}
			}
			// data-quality counts: all history, per service and summed
			hist, _ := at2(rep, "history", "services").(map[string]any)
			for _, g := range append([]string{""}, services...) {
				for _, key := range qualityKeys {
					want := 0.0
					for s, h := range hist {
						if g == "" || s == g {
							want += at2(h, "quality", key).(float64)
						}
					}
					where := fmt.Sprintf("%s at %s, group %q, %s", o.name, atX.Format(time.RFC3339), g, key)
					doc := explainJSON(t, x, ExplainQuery{KPI: key, Service: g}, seen)
					checkItems(t, where, doc)
					if got, rec := canon(t, doc["value"]), canon(t, recompute(t, doc)); got != canon(t, want) || rec != got {
						t.Errorf("%s: history %v, explained %s, recomputed %s", where, want, got, rec)
					}
					if want > 0 {
						checked[key]++
					}
				}
			}
		}
	}
	// every kind of key met data somewhere
	for _, k := range append([]string{"deployments", "deployment_frequency_per_day", "deployment_days_ratio", "lead_time_seconds",
		"lead_time_stage_seconds", "failed_deployments", "change_failure_ratio", "failed_deployment_recovery_seconds",
		"rework_deployments", "rework_ratio", "incidents", "changes_by_class", "tune_up_share", "dora_level"}, qualityKeys[:]...) {
		if checked[k] == 0 && k != "impact_start_unparsed" {
			t.Errorf("no organisation exercised %s", k)
		}
	}
}

// allKeys returns every key an explainer takes, urgencies spelled out.
func allKeys(x *Explainer) []string {
	var out []string
	for k := range x.keys {
		if !slices.Contains(qualityKeys[:], k) {
			out = append(out, k)
		}
	}
	for _, u := range x.urgencies() {
		for k := range incidentKeys() {
			out = append(out, "incidents.by_urgency."+u+"."+k)
		}
	}
	slices.Sort(out)
	return out
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// explainJSON explains q and decodes the JSON as a script would; the items,
// the same for many keys, are decoded once per distinct text (decoding is most
// of the test's time).
func explainJSON(t *testing.T, x *Explainer, q ExplainQuery, seen map[string][]any) map[string]any {
	t.Helper()
	e, err := x.Explain(q)
	if err != nil {
		t.Fatalf("%+v: %v", q, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(mustJSON(t, e), &raw); err != nil {
		t.Fatal(err)
	}
	doc := map[string]any{}
	for k, v := range raw {
		if k == "items" {
			if items, ok := seen[string(v)]; ok {
				doc[k] = items
				continue
			}
		}
		var d any
		if err := json.Unmarshal(v, &d); err != nil {
			t.Fatal(err)
		}
		doc[k] = d
		if k == "items" {
			seen[string(v)] = d.([]any)
		}
	}
	return doc
}

// at2 walks decoded JSON objects by keys; nil when one is missing.
func at2(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// canon is v as canonical JSON.
func canon(t *testing.T, v any) string { return string(mustJSON(t, v)) }

// leaves returns the key paths of a group's KPIs as a script would read them:
// every number and string, and every {p50, p90, count} object as a whole.
func leaves(v any, prefix string) map[string]any {
	out := map[string]any{}
	m, ok := v.(map[string]any)
	if !ok {
		return out
	}
	for k, c := range m {
		path := prefix + k
		if o, ok := c.(map[string]any); ok {
			if _, q := o["p90"]; q {
				out[path] = c
			}
			maps.Copy(out, leaves(c, path+"."))
			continue
		}
		out[path] = c
	}
	return out
}

// checkItems checks what every item promises: a left-out item says why, a
// counted one does not, and items come by time, then id.
func checkItems(t *testing.T, where string, doc map[string]any) {
	t.Helper()
	items, ok := doc["items"].([]any)
	if !ok {
		t.Fatalf("%s: items = %v", where, doc["items"])
	}
	key := doc["kpi"].(string)
	prev, prevID := "", ""
	for _, it := range items {
		m := it.(map[string]any)
		if counted, why := m["counted"].(bool), m["left_out"]; counted != (why == nil) {
			t.Errorf("%s: item %v counted %v, left out %v", where, m["id"], counted, why)
		}
		tm := itemTime(key, m)
		if tm < prev || tm == prev && m["id"].(string) < prevID {
			t.Errorf("%s: item %v (%s) comes after %s", where, m["id"], tm, prevID)
		}
		prev, prevID = tm, m["id"].(string)
	}
}

// itemTime is the time an item is ordered by: what its KPI is windowed by.
func itemTime(key string, m map[string]any) string {
	var s string
	switch m["kind"] {
	case "deployment":
		s = m["finished_at"].(string)
	case "incident":
		s = m["triggered_at"].(string)
	default:
		if d, ok := m["deployed_at"].(string); ok && (strings.HasPrefix(key, "lead_time") || key == "dora_level.lead_time" || key == "negative_durations") {
			s = d
		} else {
			s = m["merged_at"].(string)
		}
	}
	tm, _ := time.Parse(time.RFC3339Nano, s)
	return tm.Format("2006-01-02T15:04:05.000000000")
}

// recompute is what a script does: the value of an explanation from its items.
func recompute(t *testing.T, doc map[string]any) any {
	t.Helper()
	key := doc["kpi"].(string)
	items, _ := doc["items"].([]any)
	var its []map[string]any
	for _, it := range items {
		its = append(its, it.(map[string]any))
	}
	counted := func(f func(map[string]any) bool) int {
		n := 0
		for _, m := range its {
			if m["counted"].(bool) && (f == nil || f(m)) {
				n++
			}
		}
		return n
	}
	ratio := func(f func(map[string]any) bool) any {
		if d := counted(nil); d > 0 {
			return float64(counted(f)) / float64(d)
		}
		return nil
	}
	quants := func(get func(map[string]any) any) any {
		var xs []float64
		for _, m := range its {
			if m["counted"].(bool) {
				xs = append(xs, get(m).(float64))
			}
		}
		if len(xs) == 0 {
			return nil
		}
		slices.Sort(xs)
		return map[string]any{"p50": Quantile(xs, 0.5), "p90": Quantile(xs, 0.9), "count": len(xs)}
	}
	parse := func(s any) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s.(string))
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	if th, ok := doc["thresholds"].(map[string]any); ok {
		basis := maps.Clone(doc)
		basis["kpi"], basis["thresholds"] = th["of"], nil
		v := recompute(t, basis)
		if v == nil {
			return nil
		}
		rate := func(f float64) string {
			for _, lv := range []string{"elite", "high", "medium"} {
				b := th[lv].(float64)
				if th["compare"] == ">=" && f >= b || th["compare"] == "<" && f < b || th["compare"] == "<=" && f <= b {
					return lv
				}
			}
			return "low"
		}
		g, ok := th["group"].(map[string]any)
		if !ok {
			return rate(v.(float64))
		}
		// a group's level: each listed service's frequency from its own
		// items, rated; the group takes the ⌈n/2⌉-th best of those levels
		if g["rule"] != "level_at_least_half_of_services_reach" {
			t.Fatalf("group rule %v", g["rule"])
		}
		days := parse(doc["window_end"]).Sub(parse(doc["window_start"])).Seconds() / 86400
		listed := map[string]bool{}
		var got []int
		for _, sv := range g["services"].([]any) {
			m := sv.(map[string]any)
			name := m["service"].(string)
			listed[name] = true
			f := float64(counted(func(it map[string]any) bool { return it["service"] == name })) / days
			if f != m["value"].(float64) || rate(f) != m["level"] {
				t.Errorf("group service %s: listed %v %v, recomputed %v %v", name, m["value"], m["level"], f, rate(f))
			}
			got = append(got, slices.Index([]string{"elite", "high", "medium", "low"}, rate(f)))
		}
		for _, it := range its {
			if it["counted"].(bool) && !listed[it["service"].(string)] {
				t.Errorf("deployment %v of service %v, which the group does not list", it["id"], it["service"])
			}
		}
		if len(got) == 0 {
			return nil
		}
		slices.Sort(got)
		return []string{"elite", "high", "medium", "low"}[got[(len(got)+1)/2-1]]
	}
	// a field of a {p50, p90, count} object
	for _, f := range []string{"p50", "p90", "count"} {
		if base, ok := strings.CutSuffix(key, "."+f); ok && base != "incidents" && !strings.HasSuffix(base, ".by_urgency") {
			if strings.HasPrefix(base, "incidents.") && !strings.HasSuffix(base, "_seconds") {
				break
			}
			d := maps.Clone(doc)
			d["kpi"] = base
			if q, ok := recompute(t, d).(map[string]any); ok {
				return q[f]
			}
			return nil
		}
	}
	if strings.HasPrefix(key, "incidents.") {
		parts := strings.Split(key, ".")
		field := parts[len(parts)-1]
		if len(its) == 0 {
			return nil
		}
		switch field {
		case "count":
			return counted(nil)
		case "open":
			return counted(func(m map[string]any) bool { return m["resolved_at"] == nil })
		}
		return quants(func(m map[string]any) any { return m[field] })
	}
	if c, ok := strings.CutPrefix(key, "changes_by_class."); ok {
		if len(its) == 0 {
			return nil
		}
		return counted(func(m map[string]any) bool { return m["class"] == c })
	}
	if st, ok := strings.CutPrefix(key, "lead_time_stage_seconds."); ok {
		return quants(func(m map[string]any) any { return m["stages"].(map[string]any)[st] })
	}
	start, end := doc["window_start"], doc["window_end"]
	failed := func(m map[string]any) bool { return m["failed"].(bool) }
	rework := func(m map[string]any) bool { return len(m["rework"].([]any)) > 0 }
	switch key {
	case "deployments":
		return counted(nil)
	case "deployment_frequency_per_day":
		return float64(counted(nil)) / (parse(end).Sub(parse(start)).Seconds() / 86400)
	case "deployment_days_ratio":
		days := map[int64]bool{}
		for _, m := range its {
			days[int64(parse(m["finished_at"]).Sub(parse(start))/flywheel.Day)] = true
		}
		return float64(len(days)) / math.Ceil(parse(end).Sub(parse(start)).Seconds()/86400)
	case "failed_deployments":
		if len(its) == 0 {
			return nil
		}
		return counted(failed)
	case "change_failure_ratio":
		return ratio(failed)
	case "rework_deployments":
		if len(its) == 0 {
			return nil
		}
		return counted(rework)
	case "rework_ratio":
		return ratio(rework)
	case "failed_deployment_recovery_seconds":
		return quants(func(m map[string]any) any { return m["recovery_seconds"] })
	case "lead_time_seconds":
		return quants(func(m map[string]any) any { return m["lead_time_seconds"] })
	case "tune_up_share":
		return ratio(func(m map[string]any) bool { return m["class"] == "tune_up" })
	case "negative_durations":
		n := 0
		for _, m := range its {
			for _, f := range []string{"recovery_seconds", "lead_time_seconds", "time_to_detect_seconds",
				"time_to_acknowledge_seconds", "time_to_resolve_seconds", "time_to_restore_seconds"} {
				if v, ok := m[f].(float64); ok && v < 0 {
					n++
				}
			}
		}
		return n
	}
	if slices.Contains(qualityKeys[:], key) {
		return len(its)
	}
	t.Fatalf("no recipe for %s", key)
	return nil
}

// explainOrg is a small organisation with one of each case an explanation
// must tell apart (times in hours from t0; at is H(240)).
func explainOrg() flywheel.Events {
	d := func(id, sha string, h float64, commits []string) flywheel.Deployment {
		return dp(id, "a", sha, h, commits)
	}
	c := func(id, title, sha string, first, merged float64) flywheel.Change {
		p := pr(id, "a", sha, first, merged-1, U, merged)
		p.Title = title
		return p
	}
	ev := flywheel.Events{
		Deployments: []flywheel.Deployment{
			d("d1", "s1", 10, nil),                         // first of its sequence: no commit list
			d("d2", "s2", 20, []string{"m2", "m2b", "s2"}), // ships c2 and c4
			d("d3", "s1", 30, []string{}),                  // back to s1: a rollback of d2
			d("d6", "s6", 42, []string{"m3", "s6"}),
			{ID: "d4", Service: "a", Repo: "acme/a", Environment: "staging", SHA: "s4", Status: "success", FinishedAt: H(40)},
			{ID: "d5", Service: "a", Repo: "acme/a", Environment: "production", SHA: "s5", Status: "failure", FinishedAt: H(41)},
			dp("c-start", "c", "x1", -480, nil), // exactly the 30d window's start
			dp("c-at", "c", "x2", 240, nil),     // at at: not yet
		},
		Changes: []flywheel.Change{
			c("c1", "feat: x", "m1", 1, 5),            // no list holds m1: the time fallback, d1
			c("c2", `Revert "feat: x"`, "m2", 12, 15), // fix by the revert rule, ships in d2
			c("c3", "chore: y", "m3", 45, 32),         // first commit after its deployment
			c("c4", "feat: y", "m2b", 13, 16),
			c("c5", "update docs", "m5", 1, 50),
			c("c6", "Add wallet", "m6", 1, 51),
		},
		Incidents: []flywheel.Incident{
			incident("i1", "a", "high", U, 22, 23, 26, "d2"), // caused-by d2
			incident("i2", "a", "high", U, 12, U, U, ""),     // by time: d1; still open
			incident("i3", "a", "low", U, 24, U, 25, ""),     // low is not attributed by time
			incident("i4", "a", "high", U, 25, U, 26, "None"),
			incident("i5", "a", "high", U, 200, U, 201, "zzz-unknown"), // and no deployment in 72h
			incident("i6", "b", "high", U, 26, U, 27, ""),
			incident("i9", "a", "high", U, 150, U, 151, "d4"), // staging: does not count              // b never deployed
			incident("i7", "a", "low", 27, 28, 27.5, 29, ""),  // acknowledged before its trigger
			{ID: "i8", Service: "a", Urgency: "high", TriggeredAt: H(60), ResolvedAt: H(61), CausedBy: "none", ImpactStartUnparsed: "yesterday, around noon"},
		},
	}
	ev.Changes[3].Labels = []string{"bug"}      // c4: fix by its label, despite feat:
	ev.Changes[4].Paths = []string{"docs/a.md"} // c5: tune_up by its paths
	return ev
}

func TestExplainFacts(t *testing.T) {
	t.Parallel()
	opts := DefaultOptions()
	opts.AttributionUrgencies = []string{"high"}
	in := NewExplainInput(opts)
	in.Add(explainOrg())
	x, err := in.Explainer(at)
	if err != nil {
		t.Fatal(err)
	}
	explain := func(t *testing.T, kpi, service string) (*Explanation, map[string]Item) {
		t.Helper()
		e, err := x.Explain(ExplainQuery{KPI: kpi, Window: "30d", Service: service})
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]Item{}
		for _, it := range e.Items {
			switch it := it.(type) {
			case *DeploymentItem:
				byID[it.ID] = it
			case *ChangeItem:
				byID[it.ID] = it
			case *IncidentItem:
				byID[it.ID] = it
			}
		}
		return e, byID
	}
	ids := func(e *Explanation) string {
		var s []string
		for _, it := range e.Items {
			b, _ := json.Marshal(it)
			var m struct{ ID string }
			json.Unmarshal(b, &m)
			s = append(s, m.ID)
		}
		return strings.Join(s, " ")
	}
	same := func(t *testing.T, what string, got, want any) {
		t.Helper()
		if g, w := string(mustJSON(t, got)), string(mustJSON(t, want)); g != w {
			t.Errorf("%s = %s, want %s", what, g, w)
		}
	}
	s := func(v string) *string { return &v }
	f := func(v float64) *float64 { return &v }
	for _, tc := range []struct {
		name, kpi, service string
		check              func(t *testing.T, e *Explanation, it map[string]Item)
	}{
		{"a rollback fails the deployment before it", "rework_ratio", "a", func(t *testing.T, e *Explanation, it map[string]Item) {
			same(t, "items", ids(e), "d1 d2 d3 d6")
			d2, d3 := it["d2"].(*DeploymentItem), it["d3"].(*DeploymentItem)
			same(t, "d2 failed_by", d2.FailedBy, []FailedBy{{Incident: "i1", Rule: "caused_by"}, {Rollback: "d3"}})
			same(t, "d3 rollback_of", d3.RollbackOf, s("d2"))
			same(t, "d2 rework", d2.Rework, []string{"ships_fix", "incident_open"})
			same(t, "d3 rework", d3.Rework, []string{"rollback", "incident_open"})
			same(t, "d1 rework", it["d1"].(*DeploymentItem).Rework, []string{})
			same(t, "d6 rework", it["d6"].(*DeploymentItem).Rework, []string{"incident_open"}) // i2 is still open
			same(t, "value", e.Value, 3.0/4)
		}},
		{"recovery: by incidents once attributed, unrecovered while one is open", "failed_deployment_recovery_seconds", "a", func(t *testing.T, e *Explanation, it map[string]Item) {
			same(t, "items", ids(e), "d1 d2")
			d1, d2 := it["d1"].(*DeploymentItem), it["d2"].(*DeploymentItem)
			same(t, "d2 recovery", d2.RecoverySeconds, f(6*3600)) // i1 resolved at 26, not d3's 30
			same(t, "d1", []any{d1.Counted, d1.LeftOut, d1.RecoverySeconds, d1.FailedBy},
				[]any{false, "not recovered: an incident attributed to it is open", nil, []FailedBy{{Incident: "i2", Rule: "window"}}})
			same(t, "value", e.Value, Quantiles{P50: 6 * 3600, P90: 6 * 3600, Count: 1})
		}},
		{"caused-by against the attribution window, and every reason not to attribute", "incidents.count", "", func(t *testing.T, e *Explanation, it map[string]Item) {
			same(t, "items", ids(e), "i2 i1 i3 i4 i6 i7 i8 i9 i5")
			i1, i2 := it["i1"].(*IncidentItem), it["i2"].(*IncidentItem)
			same(t, "i1", []any{i1.AttributedTo, i1.AttributedBy, i1.StartedAt, i1.StartedFrom, i1.TimeToDetectSeconds, i1.Reason},
				[]any{"d2", "caused_by", H(20), "caused_by", 2 * 3600, nil})
			same(t, "i2", []any{i2.AttributedTo, i2.AttributedBy, i2.StartedFrom, i2.ResolvedAt, i2.CausedBy},
				[]any{"d1", "window", nil, nil, nil})
			for id, want := range map[string]string{"i3": "urgency not in change_failure.urgencies", "i4": "caused-by: none",
				"i5": "caused-by names nothing stored", "i6": "no deployment in the attribution window",
				"i9": "caused-by names a deployment that does not count"} {
				x := it[id].(*IncidentItem)
				same(t, id, []any{x.AttributedTo, x.AttributedBy, x.Reason}, []any{nil, nil, want})
			}
			same(t, "i4 caused_by as written", it["i4"].(*IncidentItem).CausedBy, s("None"))
			same(t, "value", e.Value, 9)
		}},
		{"impact start given", "incidents.time_to_detect_seconds", "a", func(t *testing.T, e *Explanation, it map[string]Item) {
			i7 := it["i7"].(*IncidentItem)
			same(t, "i7", []any{i7.StartedAt, i7.StartedFrom, i7.TimeToDetectSeconds, i7.Counted}, []any{H(27), "impact_start", 3600, true})
			i2 := it["i2"].(*IncidentItem)
			same(t, "i2", []any{i2.Counted, i2.LeftOut}, []any{false, "impact start unknown"})
			same(t, "value", e.Value, Quantiles{P50: 5400, P90: 6840, Count: 2}) // i7 1h, i1 2h
		}},
		{"a negative time to acknowledge is left out", "incidents.time_to_acknowledge_seconds", "a", func(t *testing.T, e *Explanation, it map[string]Item) {
			i7 := it["i7"].(*IncidentItem)
			same(t, "i7", []any{i7.Counted, i7.LeftOut, i7.TimeToAcknowledgeSeconds}, []any{false, "negative time to acknowledge", -1800})
			same(t, "i3", it["i3"].(*IncidentItem).LeftOut, s("not acknowledged"))
			same(t, "value", e.Value, Quantiles{P50: 3600, P90: 3600, Count: 1})
		}},
		{"unresolved incidents are open", "incidents.by_urgency.high.open", "a", func(t *testing.T, e *Explanation, it map[string]Item) {
			same(t, "items", ids(e), "i2 i1 i4 i8 i9 i5")
			same(t, "value", e.Value, 1)
		}},
		{"the time fallback and commit lists", "lead_time_seconds", "a", func(t *testing.T, e *Explanation, it map[string]Item) {
			same(t, "items", ids(e), "c1 c2 c4 c3")
			c1, c2, c3 := it["c1"].(*ChangeItem), it["c2"].(*ChangeItem), it["c3"].(*ChangeItem)
			same(t, "c1", []any{c1.DeployedBy, c1.DeployedAt, c1.MappedBy, c1.LeadTimeSeconds, c1.Stages},
				[]any{"d1", H(10), "time_fallback", 9 * 3600, ChangeStages{Coding: f(3 * 3600), Deploy: f(5 * 3600)}})
			same(t, "c2", []any{c2.DeployedBy, c2.MappedBy, c2.LeadTimeSeconds}, []any{"d2", "commit_list", 8 * 3600})
			same(t, "c3", []any{c3.DeployedBy, c3.Counted, c3.LeftOut, c3.LeadTimeSeconds, c3.Stages.Coding},
				[]any{"d6", false, "negative lead time", -3 * 3600, 0})
		}},
		{"no first review: no pickup", "lead_time_stage_seconds.pickup", "a", func(t *testing.T, e *Explanation, it map[string]Item) {
			same(t, "c1", []any{it["c1"].(*ChangeItem).Counted, it["c1"].(*ChangeItem).LeftOut}, []any{false, "no first review"})
			same(t, "value", e.Value, nil)
		}},
		{"each class rule", "changes_by_class.fix", "a", func(t *testing.T, e *Explanation, it map[string]Item) {
			for id, want := range map[string][2]string{"c1": {"innovation", "conventional"}, "c2": {"fix", "revert"},
				"c3": {"tune_up", "conventional"}, "c4": {"fix", "label"}, "c5": {"tune_up", "path"}, "c6": {"unclassified", "none"}} {
				c := it[id].(*ChangeItem)
				same(t, id, []string{c.Class, c.ClassRule}, want)
			}
			same(t, "value", e.Value, 2)
		}},
		{"tune-up share: classified PRs only", "tune_up_share", "a", func(t *testing.T, e *Explanation, it map[string]Item) {
			same(t, "items", ids(e), "c1 c2 c4 c3 c5")
			same(t, "value", e.Value, 2.0/5)
		}},
		{"the window's first instant counts, at does not", "deployments", "c", func(t *testing.T, e *Explanation, it map[string]Item) {
			same(t, "items", ids(e), "c-start")
			same(t, "window", []any{e.Window, e.WindowStart, e.WindowEnd}, []any{"30d", H(-480), H(240)})
		}},
		{"a DORA level with its thresholds", "dora_level.lead_time", "a", func(t *testing.T, e *Explanation, it map[string]Item) {
			same(t, "value", e.Value, Elite)
			same(t, "thresholds", e.Thresholds, &LevelThresholds{Of: "lead_time_seconds.p50", Compare: "<", Elite: 86400, High: 7 * 86400, Medium: 30 * 86400})
		}},
		{"unattributed incidents, all history", "unattributed_incidents", "", func(t *testing.T, e *Explanation, it map[string]Item) {
			same(t, "items", ids(e), "i3 i4 i6 i7 i8 i9 i5")
			same(t, "window", []any{e.Window, e.WindowStart, e.WindowEnd, e.Value}, []any{nil, nil, nil, 7})
		}},
		{"negative durations", "negative_durations", "", func(t *testing.T, e *Explanation, it map[string]Item) {
			same(t, "items", ids(e), "i7 c3")
			same(t, "value", e.Value, 2)
		}},
		{"non-counting deployments", "non_counting_deployments", "a", func(t *testing.T, e *Explanation, it map[string]Item) {
			same(t, "items", ids(e), "d4 d5")
			same(t, "d5", []any{it["d5"].(*DeploymentItem).Status, it["d4"].(*DeploymentItem).Environment}, []any{"failure", "staging"})
		}},
		{"time fallback", "time_fallback_changes", "", func(t *testing.T, e *Explanation, it map[string]Item) {
			same(t, "items", ids(e), "c1")
		}},
		{"undeployed and empty", "undeployed_changes", "", func(t *testing.T, e *Explanation, it map[string]Item) {
			same(t, "items", ids(e), "c5 c6")
		}},
		{"deployments that shipped nothing", "empty_deployments", "", func(t *testing.T, e *Explanation, it map[string]Item) {
			same(t, "items", ids(e), "c-start d3")
			same(t, "d3 shipped", it["d3"].(*DeploymentItem).ShippedChanges, 0)
		}},
		{"an impact-start line that did not parse", "impact_start_unparsed", "", func(t *testing.T, e *Explanation, it map[string]Item) {
			same(t, "i8", []any{ids(e), it["i8"].(*IncidentItem).ImpactStartUnparsed}, []any{"i8", "yesterday, around noon"})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, it := explain(t, tc.kpi, tc.service)
			tc.check(t, e, it)
		})
	}
}

// TestExplainKPIsListed: the keys an unknown one is told of are exactly the
// keys Explain takes.
func TestExplainKPIsListed(t *testing.T) {
	t.Parallel()
	in := NewExplainInput(DefaultOptions())
	in.Add(explainOrg())
	x, err := in.Explainer(at)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, k := range x.KPIs() {
		k = strings.Replace(k, "URGENCY", "high", 1)
		listed[k] = true
		if _, err := x.Explain(ExplainQuery{KPI: k}); err != nil {
			t.Errorf("listed %s: %v", k, err)
		}
	}
	for _, k := range allKeys(x) {
		for _, f := range []string{".p50", ".p90", ".count"} {
			if base, ok := strings.CutSuffix(k, f); ok && strings.HasSuffix(base, "seconds") ||
				ok && strings.HasPrefix(base, "lead_time_stage_seconds.") {
				k = base // a field of a {p50, p90, count} key
			}
		}
		if k = strings.Replace(k, ".low.", ".high.", 1); !listed[k] {
			t.Errorf("%s is not listed", k)
		}
	}
	for _, k := range qualityKeys {
		if !listed[k] {
			t.Errorf("%s is not listed", k)
		}
	}
}

func TestExplainErrors(t *testing.T) {
	t.Parallel()
	ev := explainOrg()
	for _, tc := range []struct {
		q    ExplainQuery
		want string
	}{
		{ExplainQuery{KPI: "lead_time"}, `unknown KPI "lead_time"; valid: deployments, deployment_frequency_per_day, deployment_days_ratio, lead_time_seconds, lead_time_stage_seconds.coding,`},
		{ExplainQuery{KPI: "lead_time"}, `incidents.by_urgency.URGENCY.time_to_restore_seconds, `},
		{ExplainQuery{KPI: "lead_time"}, `URGENCY is one of: high, low; a {p50, p90, count} KPI also takes .p50, .p90 or .count`},
		{ExplainQuery{KPI: "deployments", Window: "14d"}, `unknown window "14d"; valid: 7d, 30d, 90d`},
		{ExplainQuery{KPI: "deployments", Service: "nope"}, `unknown service "nope"; valid: a, b, c`},
		{ExplainQuery{KPI: "incidents.by_urgency.sev1.count"}, `unknown urgency "sev1"; valid: high, low`},
		{ExplainQuery{KPI: "unattributed_incidents", Window: "1d"}, `unknown window "1d"`},
	} {
		_, err := Explain(ev, at, DefaultOptions(), tc.q)
		var ee *ExplainError
		if !errors.As(err, &ee) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one with %q", tc.q, err, tc.want)
		}
	}
	if _, err := NewInput(DefaultOptions()).Explain(at, ExplainQuery{KPI: "deployments"}); err == nil {
		t.Error("an Input without PR details explains")
	}
	// "all", the metrics' name of the all-services group, is that group
	all, err := Explain(ev, at, DefaultOptions(), ExplainQuery{KPI: "deployments", Window: "90d", Service: AllServices})
	whole, err2 := Explain(ev, at, DefaultOptions(), ExplainQuery{KPI: "deployments", Window: "90d"})
	if err != nil || err2 != nil || all.Service != nil || len(all.Items) != len(whole.Items) || len(all.Items) == 0 {
		t.Errorf(`service "all": %v items (%v), want the %v of all services (%v)`, len(all.Items), err, len(whole.Items), err2)
	}
	// a service whose events all come after at is known, with nothing to list
	e, err := Explain(ev, H(0), DefaultOptions(), ExplainQuery{KPI: "incidents.count", Service: "b"})
	if err != nil || e.Value != nil || len(e.Items) != 0 {
		t.Errorf("b before its first event: %+v, %v", e, err)
	}
}

// TestUnattributedTexts: every reason the engine gives for not attributing an
// incident reads as a distinct text. The reasons are read from the package's
// source, so that one added later cannot go without.
func TestUnattributedTexts(t *testing.T) {
	t.Parallel()
	pkgs, err := parser.ParseDir(token.NewFileSet(), ".", func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range pkgs["kpi"].Files {
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST || len(g.Specs) == 0 {
				continue
			}
			if id, ok := g.Specs[0].(*ast.ValueSpec).Type.(*ast.Ident); ok && id.Name == "unattributed" {
				n = len(g.Specs)
			}
		}
	}
	if n < 5 {
		t.Fatalf("found %d reasons in the source", n)
	}
	seen := map[string]bool{}
	for w := unattributed(1); int(w) < n; w++ {
		if text := w.text(); text == "" || seen[text] {
			t.Errorf("reason %d reads %q", w, text)
		} else {
			seen[text] = true
		}
	}
}

// TestExplainGroupFrequencyLevel: six services deploying twice a week make a
// high group; its explanation lists each service's frequency and level, and
// a service that deployed only before the window with frequency 0.
func TestExplainGroupFrequencyLevel(t *testing.T) {
	t.Parallel()
	var ev flywheel.Events
	for i := range 6 {
		name := fmt.Sprintf("svc-%d", i)
		for j := range 9 {
			ev.Deployments = append(ev.Deployments, dp(fmt.Sprintf("%s-%d", name, j), name, fmt.Sprintf("%s%d", name, j), -470+float64(j)*77, nil))
		}
	}
	ev.Deployments = append(ev.Deployments, dp("old", "old", "o", -600, nil))
	e, err := Explain(ev, at, DefaultOptions(), ExplainQuery{KPI: "dora_level.deployment_frequency", Window: "30d"})
	if err != nil {
		t.Fatal(err)
	}
	if e.Value != High || e.Thresholds == nil || e.Thresholds.Group == nil || e.Thresholds.Group.Rule != GroupRuleAtLeastHalf {
		t.Fatalf("value %v, thresholds %+v, want high by the group rule", e.Value, e.Thresholds)
	}
	g := e.Thresholds.Group.Services
	if len(g) != 7 || g[0] != (ServiceLevel{Service: "old", Value: 0, Level: Low}) || g[1] != (ServiceLevel{Service: "svc-0", Value: 0.3, Level: High}) {
		t.Errorf("group services = %+v, want old at 0 (low), then svc-0 … svc-5 at 0.3/day (high)", g)
	}
	if len(e.Items) != 54 {
		t.Errorf("%d items, want the 54 deployments of the window", len(e.Items))
	}
	sum, err := Explain(ev, at, DefaultOptions(), ExplainQuery{KPI: "deployment_frequency_per_day", Window: "30d"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Value != 54.0/30 || sum.Thresholds != nil {
		t.Errorf("summed frequency = %v (thresholds %+v), want 1.8 without thresholds", sum.Value, sum.Thresholds)
	}
	one, err := Explain(ev, at, DefaultOptions(), ExplainQuery{KPI: "dora_level.deployment_frequency", Window: "30d", Service: "svc-1"})
	if err != nil {
		t.Fatal(err)
	}
	if one.Value != High || one.Thresholds.Group != nil {
		t.Errorf("a service's level = %v with group %+v, want high without a group", one.Value, one.Thresholds.Group)
	}
}
