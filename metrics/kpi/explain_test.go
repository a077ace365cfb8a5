package kpi

import (
	"encoding/json"
	"fmt"
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
		f := v.(float64)
		for _, lv := range []string{"elite", "high", "medium"} {
			b := th[lv].(float64)
			if th["compare"] == ">=" && f >= b || th["compare"] == "<" && f < b || th["compare"] == "<=" && f <= b {
				return lv
			}
		}
		return "low"
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
