package report

import (
	"bytes"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
)

// htmlEventsAt is the evaluation time of the event fixtures.
var htmlEventsAt = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)

func htmlDay(d int, h int) time.Time { return time.Date(2026, 6, d, h, 0, 0, 0, time.UTC) }

// htmlFixture is a small organisation: checkout with a failed deployment, its
// rollback and PRs (one without a first commit, left out of lead time),
// search with an open incident named as caused by nothing, and a service whose
// name needs escaping and quoting.
func htmlFixture() flywheel.Events {
	dep := func(id, svc, sha string, at time.Time, commits ...string) flywheel.Deployment {
		return flywheel.Deployment{ID: id, Service: svc, Repo: "acme/" + svc, Environment: "production", SHA: sha,
			Status: flywheel.StatusSuccess, FinishedAt: at, Commits: commits}
	}
	sha := func(c byte) string { return strings.Repeat(string(c), 40) }
	rollback := dep("acme/checkout/deployments/4", "checkout", sha('a'), htmlDay(12, 10))
	rollback.CompareStatus = "behind"
	return flywheel.Events{
		Deployments: []flywheel.Deployment{
			dep("acme/checkout/deployments/1", "checkout", sha('a'), htmlDay(5, 10), sha('a')),
			dep("acme/checkout/deployments/2", "checkout", sha('b'), htmlDay(8, 10), sha('b')),
			dep("acme/checkout/deployments/3", "checkout", sha('c'), htmlDay(12, 9), sha('c')),
			rollback,
			dep("acme/search/deployments/1", "search", sha('d'), htmlDay(20, 10), sha('d')),
			dep("it's <b>&", "it's <b>&", sha('e'), htmlDay(21, 10)),
			{ID: "acme/checkout/deployments/9", Service: "checkout", Environment: "staging", SHA: sha('f'),
				Status: flywheel.StatusSuccess, FinishedAt: htmlDay(22, 10)},
		},
		Changes: []flywheel.Change{
			{ID: "acme/checkout#1", Service: "checkout", Repo: "acme/checkout", Title: "feat: one-click checkout",
				FirstCommitAt: htmlDay(3, 9), OpenedAt: htmlDay(3, 10), FirstReviewAt: htmlDay(4, 9), MergedAt: htmlDay(5, 9), MergeSHA: sha('a')},
			{ID: "acme/checkout#2", Service: "checkout", Repo: "acme/checkout", Title: "chore: bump the payment client",
				OpenedAt: htmlDay(7, 10), MergedAt: htmlDay(8, 9), MergeSHA: sha('b')},
			{ID: "acme/checkout#3", Service: "checkout", Repo: "acme/checkout", Title: "fix: round totals",
				FirstCommitAt: htmlDay(11, 9), OpenedAt: htmlDay(11, 10), MergedAt: htmlDay(12, 8), MergeSHA: sha('c')},
			{ID: "acme/search#7", Service: "search", Repo: "acme/search", Title: "feat: " + strings.Repeat("long title ", 10),
				FirstCommitAt: htmlDay(18, 9), OpenedAt: htmlDay(19, 9), MergedAt: htmlDay(20, 9), MergeSHA: sha('d')},
		},
		Incidents: []flywheel.Incident{
			{ID: "PD1", Service: "checkout", Urgency: "high", TriggeredAt: htmlDay(8, 12), AcknowledgedAt: htmlDay(8, 13),
				ResolvedAt: htmlDay(8, 15), CausedBy: "acme/checkout/deployments/2"},
			{ID: "PD2", Service: "search", Urgency: "low", TriggeredAt: htmlDay(25, 3), CausedBy: flywheel.CausedByNone},
		},
	}
}

// htmlExplained computes ev's report as of at and an explainer from the same Input.
func htmlExplained(t *testing.T, ev flywheel.Events, at time.Time) (kpi.Report, *kpi.Explainer) {
	t.Helper()
	in := kpi.NewExplainInput(kpi.DefaultOptions())
	in.Add(ev)
	x, err := in.Explainer(at)
	if err != nil {
		t.Fatal(err)
	}
	return in.Compute(at).Report, x
}

func renderExplained(t *testing.T, r kpi.Report, x Explainer) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteHTML(&b, r, nil, x); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

var (
	htmlCardRe    = regexp.MustCompile(`<div class="v">(.*?)</div>`)
	htmlSvcRowRe  = regexp.MustCompile(`<tr><td>([^<]*)</td>((?:<td class="num">.*?</td>)+)</tr>`)
	htmlNumCellRe = regexp.MustCompile(`<td class="num">(.*?)</td>`)
	htmlLinkRe    = regexp.MustCompile(`^<a class="n" href="#([^"]+)" title="[^"]+">([^<]*)</a>`)
	htmlEvRowRe   = regexp.MustCompile(`<tr(?: class="out")?>(<td.*?)</tr>`)
	htmlEvCellRe  = regexp.MustCompile(`<td(?: class="[^"]*")?>(.*?)</td>`)
)

// htmlNumber is one linked (or not) number of the page.
type htmlNum struct {
	key, service, text, anchor string
}

// htmlNumbers reads the key cards and every service-table cell of a page.
func htmlNumbers(t *testing.T, page string) []htmlNum {
	t.Helper()
	var out []htmlNum
	read := func(key, service, cell string) {
		n := htmlNum{key: key, service: service, text: cell}
		if m := htmlLinkRe.FindStringSubmatch(cell); m != nil {
			n.anchor, n.text = m[1], m[2]
		} else if strings.Contains(cell, "<a") {
			t.Errorf("%s of %q: unexpected markup %q", key, service, cell)
		}
		if i := strings.Index(n.text, "<span"); i >= 0 {
			n.text = n.text[:i]
		}
		n.text = html.UnescapeString(n.text)
		out = append(out, n)
	}
	cards := htmlCardRe.FindAllStringSubmatch(page, -1)
	if len(cards) != len(htmlCardKeys) && len(cards) != 0 {
		t.Fatalf("page has %d key cards, want %d", len(cards), len(htmlCardKeys))
	}
	for i, m := range cards {
		read(htmlCardKeys[i], "", m[1])
	}
	for _, row := range htmlSvcRowRe.FindAllStringSubmatch(page, -1) {
		cells := htmlNumCellRe.FindAllStringSubmatch(row[2], -1)
		if len(cells) != len(htmlServiceKeys) {
			t.Fatalf("service %s has %d cells, want %d", row[1], len(cells), len(htmlServiceKeys))
		}
		for i, c := range cells {
			read(htmlServiceKeys[i], html.UnescapeString(row[1]), c[1])
		}
	}
	return out
}

// htmlListRows returns the rows of the list whose anchor is id: each row's
// cells, unescaped, and whether the row is marked left out.
func htmlListRows(t *testing.T, page, id string) (rows [][]string, out []bool, body string) {
	t.Helper()
	start := strings.Index(page, `<div class="evb" id="`+id+`">`)
	if start < 0 {
		t.Fatalf("no list %s in the page", id)
	}
	end := strings.Index(page[start:], "</details>")
	body = page[start : start+end]
	for _, m := range htmlEvRowRe.FindAllStringSubmatch(body, -1) {
		var cells []string
		for _, c := range htmlEvCellRe.FindAllStringSubmatch(m[1], -1) {
			cells = append(cells, html.UnescapeString(c[1]))
		}
		rows = append(rows, cells)
		out = append(out, strings.HasPrefix(m[0], `<tr class="out">`))
	}
	return rows, out, body
}

func htmlItemID(it kpi.Item) string {
	switch v := it.(type) {
	case *kpi.DeploymentItem:
		return v.ID
	case *kpi.ChangeItem:
		return v.ID
	case *kpi.IncidentItem:
		return v.ID
	}
	return ""
}

// TestWriteHTMLLinksEveryNumber: every headline number and every cell of the
// services table links to a list in the page, and the list holds exactly the
// explanation's items, left-out ones marked.
func TestWriteHTMLLinksEveryNumber(t *testing.T) {
	t.Parallel()
	r, x := htmlExplained(t, htmlFixture(), htmlEventsAt)
	page := renderExplained(t, r, x)
	if strings.Contains(strings.ToLower(page), "<script") {
		t.Error("the page has a script")
	}
	nums := htmlNumbers(t, page)
	if len(nums) != len(htmlCardKeys)+3*len(htmlServiceKeys) {
		t.Fatalf("page has %d numbers, want %d", len(nums), len(htmlCardKeys)+3*len(htmlServiceKeys))
	}
	anchors := map[string]bool{}
	for _, n := range nums {
		what := fmt.Sprintf("%s of %q (%q)", n.key, n.service, n.text)
		e, err := x.Explain(kpi.ExplainQuery{KPI: n.key, Window: "30d", Service: n.service})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if n.anchor == "" {
			// only an absent number with nothing behind it goes unlinked
			if n.text != htmlDash || len(e.Items) > 0 {
				t.Errorf("%s has no link; its explanation has %d items", what, len(e.Items))
			}
			continue
		}
		if anchors[n.anchor] {
			t.Errorf("%s: anchor %s used twice", what, n.anchor)
		}
		anchors[n.anchor] = true
		if c := strings.Count(page, `id="`+n.anchor+`"`); c != 1 {
			t.Errorf("%s links to #%s, which the page holds %d times", what, n.anchor, c)
			continue
		}
		rows, out, body := htmlListRows(t, page, n.anchor)
		if len(rows) != len(e.Items) {
			t.Errorf("%s: list has %d rows, explanation %d items", what, len(rows), len(e.Items))
			continue
		}
		var got, want []string
		wantOut := map[string]bool{}
		for i, row := range rows {
			got = append(got, row[1]) // the id is the second column
			if out[i] {
				wantOut[row[1]] = true
			}
		}
		for _, it := range e.Items {
			id := htmlItemID(it)
			want = append(want, id)
			if htmlCountedItem(it) == wantOut[id] {
				t.Errorf("%s: row %s marked left out %v, counted %v", what, id, wantOut[id], htmlCountedItem(it))
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: rows %v, items %v", what, got, want)
		}
		cmd := htmlExplainCommand(n.key, "30d", n.service, htmlEventsAt, false)
		if !strings.Contains(html.UnescapeString(body), "<code>"+cmd+"</code>") {
			t.Errorf("%s: list lacks its command %q", what, cmd)
		}
	}
	// The facts that decided an item are in its row.
	for id, want := range map[string][]string{
		"x-all-cfr":               {"acme/checkout/deployments/2", "yes", "incident PD1 by caused-by"},
		"x-svc-checkout-recovery": {"acme/checkout/deployments/3", "rolled back by acme/checkout/deployments/4"},
		"x-svc-checkout-rework":   {"acme/checkout/deployments/4", "yes", "rolls back acme/checkout/deployments/3"},
		"x-svc-checkout-lead":     {"acme/checkout#2", "feat: one-click checkout", "left out: first commit time unknown"},
		"x-svc-search-incidents":  {"PD2", "none (caused-by: none)", "open"},
		"x-svc-search-tuneup":     {"feat: long title long title long title long title long titl…"},
	} {
		_, _, body := htmlListRows(t, page, id)
		for _, w := range want {
			if !strings.Contains(html.UnescapeString(body), w) {
				t.Errorf("list %s lacks %q", id, w)
			}
		}
	}
	// A service name that needs escaping gets a plain anchor and a quoted command.
	if !strings.Contains(page, `href="#x-svc-it-s-b-freq"`) ||
		!strings.Contains(page, `flywheel explain deployment_frequency_per_day --window 30d --service &#39;it&#39;\&#39;&#39;s &lt;b&gt;&amp;&#39; --at 2026-06-30T00:00:00Z`) {
		t.Error("the service that needs escaping has no plain anchor or quoted command")
	}
	// Failed deployments come first.
	rows, _, _ := htmlListRows(t, page, "x-all-cfr")
	if rows[0][1] != "acme/checkout/deployments/2" || rows[1][1] != "acme/checkout/deployments/3" {
		t.Errorf("change failure list starts %v, %v; want the failed deployments first", rows[0], rows[1])
	}
	if again := renderExplained(t, r, x); again != page {
		t.Error("rendering with lists is not deterministic")
	}
	if strings.Contains(renderExplained(t, r, nil), `class="ev"`) {
		t.Error("without an explainer the page still has lists")
	}
}

// TestWriteHTMLListCap: a list longer than its cap shows the telling rows
// first, says how many it leaves off, and names the command that prints all.
func TestWriteHTMLListCap(t *testing.T) {
	t.Parallel()
	const n = HTMLListCap + 50
	var ev flywheel.Events
	start := htmlEventsAt.Add(-29 * flywheel.Day)
	for i := range n {
		ev.Deployments = append(ev.Deployments, flywheel.Deployment{
			ID: fmt.Sprintf("acme/busy/deployments/%03d", i), Service: "busy", Environment: "production",
			SHA: fmt.Sprintf("%040x", i+1), Status: flywheel.StatusSuccess, FinishedAt: start.Add(time.Duration(i) * 2 * time.Hour)})
	}
	// the last three fail: in time order they would be cut off
	var failed []string
	for _, i := range []int{n - 3, n - 2, n - 1} {
		d := ev.Deployments[i]
		failed = append(failed, d.ID)
		ev.Incidents = append(ev.Incidents, flywheel.Incident{ID: fmt.Sprintf("PD%d", i), Service: "busy", Urgency: "high",
			TriggeredAt: d.FinishedAt.Add(time.Minute), ResolvedAt: d.FinishedAt.Add(time.Hour), CausedBy: d.ID})
	}
	r, x := htmlExplained(t, ev, htmlEventsAt)
	page := renderExplained(t, r, x)
	for _, c := range []struct{ id, service string }{{"x-all-cfr", ""}, {"x-svc-busy-cfr", "busy"}} {
		rows, _, body := htmlListRows(t, page, c.id)
		if len(rows) != HTMLListCap {
			t.Errorf("%s shows %d rows, want the cap %d", c.id, len(rows), HTMLListCap)
		}
		var first []string
		for _, row := range rows[:3] {
			first = append(first, row[1])
		}
		if !slices.Equal(first, failed) {
			t.Errorf("%s starts with %v, want the failed %v", c.id, first, failed)
		}
		note := fmt.Sprintf("Showing %d of %d (failed deployments first, then in time order)", HTMLListCap, n)
		cmd := "flywheel explain change_failure_ratio --window 30d"
		if c.service != "" {
			cmd += " --service " + c.service
		}
		cmd += " --at 2026-06-30T00:00:00Z"
		if !strings.Contains(body, note) || !strings.Contains(body, "<code>"+cmd+"</code>") {
			t.Errorf("%s lacks the note %q or the command %q:\n%.600s", c.id, note, cmd, body)
		}
	}
	// A list within its cap has no note.
	if _, _, body := htmlListRows(t, page, "x-svc-busy-incidents"); strings.Contains(body, "Showing") {
		t.Error("a short list says it is cut")
	}
}

func TestHTMLServiceListCap(t *testing.T) {
	t.Parallel()
	for services, want := range map[int]int{0: HTMLListCap, 1: HTMLListCap, 6: HTMLListCap, 40: 32, 1000: htmlMinListCap} {
		if got := htmlServiceListCap(services); got != want {
			t.Errorf("%d services: cap %d, want %d", services, got, want)
		}
	}
	// the page stays within its row budget while the floor allows it
	for _, services := range []int{7, 20, 40, 64} {
		if rows := len(htmlCardKeys)*HTMLListCap + services*len(htmlServiceKeys)*htmlServiceListCap(services); rows > HTMLPageRows {
			t.Errorf("%d services: up to %d rows, over the budget %d", services, rows, HTMLPageRows)
		}
	}
}

// TestWriteHTMLExplainError: an explainer that does not know a number's
// service (it was made from other events) fails the page, naming the number.
func TestWriteHTMLExplainError(t *testing.T) {
	t.Parallel()
	r, _ := htmlExplained(t, htmlFixture(), htmlEventsAt)
	ev := htmlFixture()
	ev.Deployments, ev.Changes, ev.Incidents = ev.Deployments[4:5], nil, nil // search only
	_, other := htmlExplained(t, ev, htmlEventsAt)
	err := WriteHTML(&bytes.Buffer{}, r, nil, other)
	if err == nil || !strings.Contains(err.Error(), `deployment_frequency_per_day of service checkout in 30d`) ||
		!strings.Contains(err.Error(), `unknown service "checkout"`) {
		t.Fatalf("err = %v, want an unknown service naming the number", err)
	}
}

func TestHTMLShellWord(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"checkout": "checkout", "team/api-v2.1": "team/api-v2.1", "two words": "'two words'",
		"it's": `'it'\''s'`, "$(rm -rf /)": "'$(rm -rf /)'", "": "''",
	} {
		if got := htmlShellWord(in); got != want {
			t.Errorf("htmlShellWord(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestHTMLListsInChromium: following a number's link opens its closed list
// without any script, and the page logs nothing.
func TestHTMLListsInChromium(t *testing.T) {
	bin := findChromium(t)
	dir := t.TempDir()
	if *keepHTML != "" {
		dir = *keepHTML
	}
	r, x := htmlExplained(t, htmlFixture(), htmlEventsAt)
	page := filepath.Join(dir, "lists.html")
	if err := os.WriteFile(page, []byte(renderExplained(t, r, x)), 0o644); err != nil {
		t.Fatal(err)
	}
	dom, logs := runChromium(t, bin, "--dump-dom", "file://"+page+"#x-svc-checkout-cfr")
	for _, bad := range []string{"Uncaught", "CONSOLE", "ERR_"} {
		if bytes.Contains(logs, []byte(bad)) {
			t.Errorf("chromium logged %q:\n%s", bad, logs)
		}
	}
	open := regexp.MustCompile(`(?s)<details class="ev" open[^>]*>(?:.*?)<div class="evb" id="([^"]+)"`).FindAllSubmatch(dom, -1)
	if len(open) != 1 || string(open[0][1]) != "x-svc-checkout-cfr" {
		var ids []string
		for _, m := range open {
			ids = append(ids, string(m[1]))
		}
		t.Errorf("after following #x-svc-checkout-cfr the open lists are %v, want just it", ids)
	}
	if *keepHTML != "" {
		runChromium(t, bin, "--screenshot="+filepath.Join(dir, "lists.png"), "--window-size=1280,2400", "file://"+page+"#x-svc-checkout-cfr")
	}
}

// TestWriteHTMLCompleteness: "How complete are these numbers" counts what the
// numbers could not use, each count the size of the list it links to.
func TestWriteHTMLCompleteness(t *testing.T) {
	t.Parallel()
	r, x := htmlExplained(t, htmlFixture(), htmlEventsAt)
	page := renderExplained(t, r, x)
	i := strings.Index(page, `<section id="complete">`)
	if i < 0 {
		t.Fatal("the page has no completeness section")
	}
	section := page[i : i+strings.Index(page[i:], "</section>")]
	rowRe := regexp.MustCompile(`<tr><td class="num"><a class="n" href="#([^"]+)"[^>]*>([^<]+)</a></td><td class="wrap">([^<]+)</td>`)
	rows := rowRe.FindAllStringSubmatch(section, -1)
	keys := map[string]string{
		"x-all-ttd": "incidents.time_to_detect_seconds", "x-all-ttrestore": "incidents.time_to_restore_seconds",
		"x-all-pickup": "lead_time_stage_seconds.pickup", "x-all-unattributed": "unattributed_incidents",
		"x-all-undeployed": "undeployed_changes", "x-all-fallback": "time_fallback_changes", "x-all-unparsed": "impact_start_unparsed",
	}
	if len(rows) != len(keys) {
		t.Fatalf("completeness has %d linked rows, want %d:\n%s", len(rows), len(keys), section)
	}
	for _, row := range rows {
		key, ok := keys[row[1]]
		if !ok {
			t.Errorf("row %q links to %s", row[3], row[1])
			continue
		}
		e, err := x.Explain(kpi.ExplainQuery{KPI: key, Window: "30d"})
		if err != nil {
			t.Fatal(err)
		}
		counted, out := htmlCounted(e.Items)
		want := fmt.Sprintf("%d of %d", out, counted+out)
		if strings.HasPrefix(row[1], "x-all-tt") || row[1] == "x-all-pickup" {
			if row[2] != want {
				t.Errorf("%s: %q, want %q", key, row[2], want)
			}
		} else if row[2] != strconv.Itoa(len(e.Items)) || fmt.Sprint(e.Value) != row[2] {
			t.Errorf("%s: %q, want %d items (value %v)", key, row[2], len(e.Items), e.Value)
		}
		listRows, _, _ := htmlListRows(t, page, row[1])
		if len(listRows) != len(e.Items) {
			t.Errorf("%s: list has %d rows, explanation %d", key, len(listRows), len(e.Items))
		}
	}
	// the fixture has an unattributed incident (PD2, caused-by: none)
	if !strings.Contains(section, `>1</a></td><td class="wrap">incidents attributed to no deployment`) {
		t.Errorf("completeness does not count the unattributed incident:\n%s", section)
	}
	if !strings.Contains(html.UnescapeString(page), "<code>flywheel explain unattributed_incidents --at 2026-06-30T00:00:00Z</code>") {
		t.Error("a data-quality list names a window in its command, or none")
	}
}
