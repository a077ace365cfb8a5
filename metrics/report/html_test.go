package report

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel/metrics/kpi"
)

var keepHTML = flag.String("html.keep", "", "directory to keep the rendered report and its screenshot in, for a human look")

func hfp(v float64) *float64 { return &v }
func hip(v int) *int         { return &v }

func hq(p50, p90 float64, n int) *kpi.Quantiles { return &kpi.Quantiles{P50: p50, P90: p90, Count: n} }

const (
	hHour = 3600.0
	hDay  = 86400.0
)

// sampleKPIs is one plausible group: scale stretches durations, so services differ.
func htmlSampleKPIs(scale float64, deploys int, classes kpi.ChangesByClass) *kpi.KPIs {
	share := float64(classes.TuneUp) / float64(classes.Innovation+classes.TuneUp+classes.Fix)
	return &kpi.KPIs{
		Deployments:               hip(deploys),
		DeploymentFrequencyPerDay: hfp(float64(deploys) / 30),
		DeploymentDaysRatio:       hfp(0.6),
		LeadTimeSeconds:           hq(1.6*hDay*scale, 4.2*hDay*scale, 40),
		LeadTimeStageSeconds: &kpi.Stages{
			Coding: hq(0.7*hDay*scale, 2*hDay*scale, 40),
			Pickup: hq(5*hHour*scale, 20*hHour*scale, 38),
			Review: hq(9*hHour*scale, 30*hHour*scale, 38),
			Deploy: hq(3*hHour*scale, 12*hHour*scale, 40),
		},
		FailedDeployments:               hip(deploys / 12),
		ChangeFailureRatio:              hfp(float64(deploys/12) / float64(deploys)),
		FailedDeploymentRecoverySeconds: hq(2.5*hHour*scale, 9*hHour*scale, deploys/12),
		ReworkDeployments:               hip(deploys / 8),
		ReworkRatio:                     hfp(float64(deploys/8) / float64(deploys)),
		Incidents: &kpi.Incidents{Count: 4, Open: 1,
			TimeToAcknowledge: hq(6*60, 25*60, 4), TimeToResolve: hq(3*hHour, 10*hHour, 3)},
		ChangesByClass: &classes,
		TuneUpShare:    hfp(share),
		DORALevel: &kpi.DORALevels{
			DeploymentFrequency: map[bool]kpi.Level{true: kpi.Elite, false: kpi.High}[deploys >= 30],
			LeadTime:            map[bool]kpi.Level{true: kpi.High, false: kpi.Medium}[scale < 3],
			ChangeFailureRate:   kpi.Medium,
			RecoveryTime:        kpi.High,
		},
	}
}

func htmlSampleReport(at time.Time, tuneUp int) kpi.Report {
	return kpi.Report{
		At: at,
		Windows: map[string]kpi.WindowReport{
			"7d": {All: htmlSampleKPIs(1, 20, kpi.ChangesByClass{Innovation: 10, TuneUp: 3, Fix: 2})},
			"30d": {
				All: htmlSampleKPIs(1, 96, kpi.ChangesByClass{Innovation: 52, TuneUp: tuneUp, Fix: 9, Unclassified: 4}),
				Services: map[string]*kpi.KPIs{
					"checkout":           htmlSampleKPIs(0.8, 40, kpi.ChangesByClass{Innovation: 20, TuneUp: tuneUp / 2, Fix: 4}),
					"payments":           htmlSampleKPIs(1.4, 25, kpi.ChangesByClass{Innovation: 15, TuneUp: 6, Fix: 3}),
					"search":             htmlSampleKPIs(3.2, 9, kpi.ChangesByClass{Innovation: 9, TuneUp: 2, Fix: 1}),
					"<script>x</script>": {Deployments: hip(1), DeploymentFrequencyPerDay: hfp(1.0 / 30)},
				},
			},
		},
		TuneUpImpact: []kpi.Impact{{
			Initiative: "ci-speedup",
			Start:      at.Add(-80 * 24 * time.Hour), End: at.Add(-50 * 24 * time.Hour),
			Scope: []string{"payments", "checkout"},
			KPIs: map[string]kpi.ImpactKPI{
				kpi.ImpactLeadTimeP50:         {Before: hfp(2.9 * hDay), After: hfp(1.4 * hDay), RelativeChange: hfp(-0.517), NBefore: 61, NAfter: 70, PValue: hfp(0.00012)},
				kpi.ImpactPickupP50:           {Before: hfp(7 * hHour), After: hfp(6 * hHour), RelativeChange: hfp(-0.14), NBefore: 58, NAfter: 66, PValue: hfp(0.41)},
				kpi.ImpactDeploymentFrequency: {Before: hfp(1.9), After: hfp(2.6), RelativeChange: hfp(0.37), NBefore: 57, NAfter: 78},
				kpi.ImpactChangeFailureRatio:  {Before: hfp(0.12), After: hfp(0.08), RelativeChange: hfp(-0.33), NBefore: 57, NAfter: 78},
				kpi.ImpactRecoveryP50:         {Before: hfp(4 * hHour), NBefore: 5},
			},
		}},
	}
}

func htmlSampleHistory(at time.Time) []kpi.Report {
	var h []kpi.Report
	for i := 12; i >= 1; i-- {
		h = append(h, htmlSampleReport(at.Add(-time.Duration(i)*7*24*time.Hour), 8+2*(12-i)))
	}
	return h
}

var htmlAt = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)

func renderHTML(t *testing.T, r kpi.Report, h []kpi.Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteHTML(&b, r, h, nil); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestWriteHTMLContent(t *testing.T) {
	t.Parallel()
	out := renderHTML(t, htmlSampleReport(htmlAt, 30), htmlSampleHistory(htmlAt))
	for _, want := range []string{
		"As of 2026-06-30 00:00 UTC", "window: last 30d",
		"Deployment frequency", "22.4/week", // 96 / 30 × 7
		"Lead time for changes", "1d 14h",
		"Change failure rate", "8.3%",
		"Rework rate", "12.5%",
		`class="badge lvl-elite"`, `class="badge lvl-medium"`,
		"checkout", "payments", "search",
		"Where lead time goes", "coding", "pickup", "review", "deploy",
		"Innovation and tune-up",
		"ci-speedup", "2026-04-11 → 2026-05-11", "checkout, payments",
		"Lead time p50 (n 61 → 70)", "-52%", "p &lt; 0.001", "p = 0.41",
		"no data",                    // recovery after
		"40 changes", "8 recoveries", // card details, plural by count
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(out, "<script>") {
		t.Error("a service name was not escaped")
	}
	// Self-contained: nothing to fetch (the SVG namespace is a name, not a
	// fetch; a link to an anchor of the page stays in it).
	if m := regexp.MustCompile(`(?i)(src|href)=|url\(|@import|https?://`).FindAllString(strings.NewReplacer(`xmlns="http://www.w3.org/2000/svg"`, "", `href="#`, "").Replace(out), -1); len(m) > 0 {
		t.Errorf("report references external resources: %v", m)
	}
	// 12 history points + the report itself, each a stacked column.
	if n := strings.Count(out, "<circle "); n != 13 {
		t.Errorf("split chart has %d share points, want 13", n)
	}
	// Weekly columns, not overlapping 30-day windows, with the initiative's
	// start and end marked on them.
	if !strings.Contains(out, "in each week") || strings.Count(out, `class="initline"`) != 2 ||
		!strings.Contains(out, `class="legend">ci-speedup</text>`) {
		t.Error("the split chart does not draw weeks with the initiative marked")
	}
	// Axis ticks at round values: the longest bar, 5.1 days, gets a 6-day
	// axis ticked every 2 days.
	for _, tick := range []string{`class="axis">2</text>`, `class="axis">4</text>`, `class="axis">6</text>`} {
		if !strings.Contains(out, tick) {
			t.Errorf("stage axis lacks the tick %s", tick)
		}
	}
	if again := renderHTML(t, htmlSampleReport(htmlAt, 30), htmlSampleHistory(htmlAt)); again != out {
		t.Error("rendering is not deterministic")
	}
}

func TestWriteHTMLSparse(t *testing.T) {
	t.Parallel()
	for name, r := range map[string]kpi.Report{
		"empty":        {At: htmlAt},
		"no services":  {At: htmlAt, Windows: map[string]kpi.WindowReport{"90d": {}}},
		"only deploys": {At: htmlAt, Windows: map[string]kpi.WindowReport{"7d": {All: &kpi.KPIs{Deployments: hip(0), DeploymentFrequencyPerDay: hfp(0)}}}},
	} {
		out := renderHTML(t, r, nil)
		if !strings.Contains(out, "</html>") {
			t.Errorf("%s: truncated page", name)
		}
		if strings.Contains(out, "<svg") {
			t.Errorf("%s: draws a chart without data", name)
		}
	}
	if HTMLPrimaryWindow(kpi.Report{Windows: map[string]kpi.WindowReport{"7d": {}, "90d": {}, "12h": {}}}) != "90d" {
		t.Error("without 30d the longest window is primary")
	}
}

type htmlFailWriter struct{}

func (htmlFailWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteHTMLWriteError(t *testing.T) {
	t.Parallel()
	err := WriteHTML(htmlFailWriter{}, htmlSampleReport(htmlAt, 10), nil, nil)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v, want the write error", err)
	}
}

// chromium finds a headless browser, or skips (fails under CI=true).
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not found (CI=true): apt-get install -y --no-install-recommends chromium")
	}
	t.Skip("chromium not found: apt-get install -y --no-install-recommends chromium")
	return ""
}

func runChromium(t *testing.T, bin string, args ...string) (stdout, stderr []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
		"--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, e.Bytes())
	}
	return o.Bytes(), e.Bytes()
}

// TestHTMLInChromium renders the report in headless Chromium: the DOM holds the
// drawn charts, the console is clean, and the screenshot shows the chart colours.
func TestHTMLInChromium(t *testing.T) {
	bin := findChromium(t)
	dir := t.TempDir()
	if *keepHTML != "" {
		dir = *keepHTML
	}
	page := filepath.Join(dir, "report.html")
	if err := os.WriteFile(page, []byte(renderHTML(t, htmlSampleReport(htmlAt, 30), htmlSampleHistory(htmlAt))), 0o644); err != nil {
		t.Fatal(err)
	}
	url := "file://" + page

	dom, logs := runChromium(t, bin, "--dump-dom", url)
	for _, bad := range []string{"Uncaught", "CONSOLE", "ERR_"} {
		if bytes.Contains(logs, []byte(bad)) {
			t.Errorf("chromium logged %q:\n%s", bad, logs)
		}
	}
	for id, minRects := range map[string]int{"stages": 16, "split": 40} {
		m := regexp.MustCompile(`(?s)id="` + id + `">(.*?)</svg>`).FindSubmatch(dom)
		if m == nil {
			t.Errorf("rendered DOM has no %s chart", id)
			continue
		}
		if n := bytes.Count(m[1], []byte("<rect")); n < minRects {
			t.Errorf("%s chart has %d rects, want ≥ %d", id, n, minRects)
		}
	}

	shot := filepath.Join(dir, "report.png")
	runChromium(t, bin, "--screenshot="+shot, "--window-size=1280,2600", url)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if v := pixelVariance(img, img.Bounds()); v < 100 {
		t.Errorf("screenshot looks blank: luminance variance %.1f", v)
	}
	// The charts drew if their colours are on screen in quantity.
	for name, c := range map[string][3]uint8{
		"coding stage": {0x1f, 0x4e, 0x79}, "pickup stage": {0xd9, 0x53, 0x1e},
		"tune-up class": {0x8c, 0xc6, 0x65}, "fix class": {0xe1, 0x57, 0x59},
	} {
		if n := countPixels(img, c); n < 500 {
			t.Errorf("%s colour covers %d pixels; the chart did not draw", name, n)
		}
	}
}

func pixelVariance(img image.Image, r image.Rectangle) float64 {
	var sum, sq, n float64
	for y := r.Min.Y; y < r.Max.Y; y += 2 {
		for x := r.Min.X; x < r.Max.X; x += 2 {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			l := (0.299*float64(cr) + 0.587*float64(cg) + 0.114*float64(cb)) / 257
			sum += l
			sq += l * l
			n++
		}
	}
	m := sum / n
	return sq/n - m*m
}

func countPixels(img image.Image, c [3]uint8) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if math.Abs(float64(r>>8)-float64(c[0])) < 6 && math.Abs(float64(g>>8)-float64(c[1])) < 6 && math.Abs(float64(bl>>8)-float64(c[2])) < 6 {
				n++
			}
		}
	}
	return n
}

func BenchmarkWriteHTML(b *testing.B) {
	r, h := htmlSampleReport(htmlAt, 30), htmlSampleHistory(htmlAt)
	b.ReportAllocs()
	for b.Loop() {
		var buf bytes.Buffer
		if err := WriteHTML(&buf, r, h, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestWriteHTMLMinSamples: below the minimum a value keeps its number and its
// count but loses its level and its p90, and says "too few".
func TestWriteHTMLMinSamples(t *testing.T) {
	t.Parallel()
	few := &kpi.KPIs{
		Deployments: hip(6), DeploymentFrequencyPerDay: hfp(6.0 / 30),
		FailedDeployments: hip(1), ChangeFailureRatio: hfp(1.0 / 6),
		LeadTimeSeconds:                 hq(2*hDay, 9*hDay, 4),
		FailedDeploymentRecoverySeconds: hq(3*hHour, 3*hHour, 1),
		DORALevel: &kpi.DORALevels{DeploymentFrequency: kpi.High, LeadTime: kpi.High,
			ChangeFailureRate: kpi.Low, RecoveryTime: kpi.Elite},
	}
	r := kpi.Report{At: htmlAt, Windows: map[string]kpi.WindowReport{"30d": {All: few, Services: map[string]*kpi.KPIs{"checkout": few}}}}
	render := func(min int) string {
		var b bytes.Buffer
		if err := WriteHTMLOptions(&b, r, nil, nil, HTMLOptions{MinSamples: min}); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	page := render(5)
	for _, want := range []string{
		"1.4/week", `class="badge lvl-high">high</span>`, // frequency keeps its level
		"16.7%", "1 failed of 6 deployments", // 6 deployments reach 5
		`class="badge lvl-low">low</span>`,
		"median of 4 changes · too few for a level or a p90",
		"median of 1 recovery · too few for a level or a p90",
		`<span class="lv few">too few</span><span class="cnt">4</span>`,
		`<span class="lv lvl-low">low</span><span class="cnt">1 of 6</span>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("min 5: page lacks %q", want)
		}
	}
	for _, bad := range []string{"p90 9d", "p90 3h", `"badge lvl-elite"`, `"lv lvl-elite"`, `lv lvl-high">high</span><span class="cnt">4`} {
		if strings.Contains(page, bad) {
			t.Errorf("min 5: page has %q", bad)
		}
	}
	// with no minimum every value has its level and p90
	page = render(0)
	for _, want := range []string{"median of 4 changes · p90 9d", `class="badge lvl-elite">elite</span>`} {
		if !strings.Contains(page, want) {
			t.Errorf("no minimum: page lacks %q", want)
		}
	}
	if strings.Contains(page, "too few</span>") {
		t.Error("no minimum: a value is marked too few")
	}
}

func TestHTMLAxis(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		v, max float64
		ticks  int
	}{{0.7, 0.8, 4}, {1, 1, 5}, {1.2, 2, 4}, {2.5, 3, 3}, {5.12, 6, 3}, {7, 8, 4}, {9, 10, 5}, {45, 50, 5}, {0.03, 0.03, 3}} {
		max := htmlNiceMax(c.v)
		if math.Abs(max-c.max) > 1e-9 || htmlTicks(max) != c.ticks {
			t.Errorf("%v: axis to %v in %d steps, want %v in %d", c.v, max, htmlTicks(max), c.max, c.ticks)
		}
	}
}

// TestHTMLPaletteGrayscale: the series of a chart stay apart in a grayscale
// print: their lightness differs by at least 40 of 255.
func TestHTMLPaletteGrayscale(t *testing.T) {
	t.Parallel()
	gray := func(hex string) float64 {
		var r, g, b int
		if _, err := fmt.Sscanf(hex, "#%02x%02x%02x", &r, &g, &b); err != nil {
			t.Fatalf("%s: %v", hex, err)
		}
		return 0.299*float64(r) + 0.587*float64(g) + 0.114*float64(b)
	}
	classes := make([]string, 0, len(htmlClassOrder))
	for _, c := range htmlClassOrder {
		classes = append(classes, htmlClassColors[c])
	}
	for name, set := range map[string][]string{"stages": htmlStageColors[:], "classes": classes} {
		for i := range set {
			for j := i + 1; j < len(set); j++ {
				if d := math.Abs(gray(set[i]) - gray(set[j])); d < 40 {
					t.Errorf("%s: %s and %s differ by %.0f in gray", name, set[i], set[j], d)
				}
			}
		}
	}
}

// TestWriteHTMLChanges: each headline number shows its change against the
// previous period of the same length, in words as well as signs.
func TestWriteHTMLChanges(t *testing.T) {
	t.Parallel()
	now := &kpi.KPIs{Deployments: hip(20), DeploymentFrequencyPerDay: hfp(2),
		LeadTimeSeconds: hq(1.6*hDay, 3*hDay, 40), FailedDeployments: hip(2), ChangeFailureRatio: hfp(0.10),
		FailedDeploymentRecoverySeconds: hq(2*hHour, 3*hHour, 2), ReworkDeployments: hip(2), ReworkRatio: hfp(0.10)}
	prev := &kpi.KPIs{Deployments: hip(20), DeploymentFrequencyPerDay: hfp(1),
		LeadTimeSeconds: hq(2*hDay, 4*hDay, 30), FailedDeployments: hip(1), ChangeFailureRatio: hfp(0.05),
		FailedDeploymentRecoverySeconds: hq(1*hHour, 1*hHour, 1)}
	r := kpi.Report{At: htmlAt, Windows: map[string]kpi.WindowReport{"30d": {All: now}}}
	p := kpi.Report{At: htmlAt.Add(-30 * 24 * time.Hour), Windows: map[string]kpi.WindowReport{"30d": {All: prev}}}
	var b bytes.Buffer
	if err := WriteHTMLOptions(&b, r, nil, nil, HTMLOptions{MinSamples: 5, Previous: &p}); err != nil {
		t.Fatal(err)
	}
	page := strings.ReplaceAll(b.String(), "&#43;", "+")
	for _, want := range []string{
		"+100% vs the previous 30d (7/week), better",
		"-20% vs the previous 30d (2d), better",
		"+5 pt vs the previous 30d (5%), worse",
		"too few events to compare with the previous 30d", // 2 and 1 recoveries
		"no data in the previous 30d",                     // rework
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q in %q", want, regexp.MustCompile(`class="d chg">[^<]*`).FindAllString(page, -1))
		}
	}
	b.Reset()
	if err := WriteHTML(&b, r, nil, nil); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "previous 30d") {
		t.Error("without a previous report the page still shows changes")
	}
}

// TestWriteHTMLIncidentsAndTrend: incident times by urgency and service, a p90
// only from the minimum on; the DORA keys of each week of history.
func TestWriteHTMLIncidentsAndTrend(t *testing.T) {
	t.Parallel()
	r := htmlSampleReport(htmlAt, 30)
	wr := r.Windows["30d"]
	all := *wr.All
	inc := *all.Incidents
	inc.Count, inc.TimeToRestore = 9, hq(5*hHour, 11*hHour, 6)
	inc.ByUrgency = map[string]*kpi.Incidents{"high": {Count: 2, TimeToResolve: hq(hHour, 2*hHour, 2)}}
	all.Incidents = &inc
	wr.All = &all
	r.Windows["30d"] = wr
	var b bytes.Buffer
	if err := WriteHTMLOptions(&b, r, htmlSampleHistory(htmlAt), nil, HTMLOptions{MinSamples: 5}); err != nil {
		t.Fatal(err)
	}
	page := strings.ReplaceAll(b.String(), "&#43;", "+")
	i := strings.Index(page, `<section id="incident-response">`)
	if i < 0 {
		t.Fatal("no incident-response section")
	}
	sec := page[i : i+strings.Index(page[i:], "</section>")]
	for _, want := range []string{
		`<td class="g">All services</td><td class="num">9 (1 open)</td>`,
		"5h<span class=\"cnt\">n 6 · p90 11h</span>",                          // restore: 6 incidents reach 5
		`<td class="g">urgency high</td>`, "1h<span class=\"cnt\">n 2</span>", // 2 incidents: no p90
		`<td class="g">checkout</td>`,
	} {
		if !strings.Contains(sec, want) {
			t.Errorf("incident response lacks %q", want)
		}
	}
	if strings.Contains(sec, "p90 2h") {
		t.Error("a p90 of 2 incidents is shown")
	}
	i = strings.Index(page, `<section id="trend">`)
	if i < 0 {
		t.Fatal("no trend section")
	}
	sec = page[i : i+strings.Index(page[i:], "</section>")]
	// the report's week and 11 of history, newest first; each 7d window of 20 deployments
	if n := strings.Count(sec, `<tr><td class="g">`); n != 12 {
		t.Errorf("trend has %d weeks, want 12", n)
	}
	if !strings.Contains(sec, `<tr><td class="g">Jun 23 – Jun 30</td><td class="num">4.7/week <span class="lv lvl-high">high</span><span class="cnt">20</span>`) || strings.Contains(sec, "Mar 31 – Apr 7") {
		t.Errorf("trend does not start with the newest week:\n%.600s", sec)
	}
}

// TestWriteHTMLTeams: the teams section appears with teams configured, its
// values with counts and too few from the minimum on, and not without teams
// nor with one team of every service.
func TestWriteHTMLTeams(t *testing.T) {
	t.Parallel()
	r := htmlSampleReport(htmlAt, 30)
	svcs := r.Windows["30d"].Services
	shop := &kpi.KPIs{
		Deployments: hip(65), DeploymentFrequencyPerDay: hfp(65.0 / 30),
		FailedDeployments: hip(5), ChangeFailureRatio: hfp(5.0 / 65),
		LeadTimeSeconds:                 hq(2*hDay, 9*hDay, 61),
		FailedDeploymentRecoverySeconds: hq(3*hHour, 5*hHour, 4),
		Incidents:                       &kpi.Incidents{Count: 7, Open: 2},
		DORALevel: &kpi.DORALevels{DeploymentFrequency: kpi.High, LeadTime: kpi.High,
			ChangeFailureRate: kpi.High, RecoveryTime: kpi.Elite},
	}
	render := func(teams []HTMLTeam) string {
		var b bytes.Buffer
		if err := WriteHTMLOptions(&b, r, nil, nil, HTMLOptions{MinSamples: 5, Teams: teams}); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	page := render([]HTMLTeam{
		{Name: "shop", Services: []string{"checkout", "payments"}, KPIs: shop},
		{Name: "discovery", Services: []string{"search"}, KPIs: svcs["search"]},
		{Name: "quiet", Services: []string{"ledger"}},
	})
	if !strings.Contains(page, "<h2>Teams</h2>") {
		t.Fatal("no teams section with teams configured")
	}
	sec := page[strings.Index(page, "<h2>Teams</h2>"):]
	sec = sec[:strings.Index(sec, "</section>")]
	for _, want := range []string{
		"discovery<span", "shop<span", "quiet<span",
		`<span class="cnt">checkout, payments</span>`,
		`15.2/week <span class="lv lvl-high">high</span><span class="cnt">65</span>`,
		`<span class="lv lvl-high">high</span><span class="cnt">5 of 65</span>`,
		`3h <span class="lv few">too few</span><span class="cnt">4</span>`, // 4 recoveries < 5
		"7 (2 open)",
		"Services in no team: &lt;script&gt;x&lt;/script&gt;.",
	} {
		if !strings.Contains(sec, want) {
			t.Errorf("teams section lacks %q:\n%s", want, sec)
		}
	}
	if i, j := strings.Index(sec, "discovery<span"), strings.Index(sec, "shop<span"); i > j {
		t.Error("teams are not in name order")
	}
	if strings.Contains(sec, "lvl-elite") {
		t.Error("a recovery from 4 values has a level")
	}
	for name, teams := range map[string][]HTMLTeam{
		"no teams":                  nil,
		"one team of every service": {{Name: "all", Services: []string{"checkout", "payments", "search", "<script>x</script>"}, KPIs: r.Windows["30d"].All}},
	} {
		if strings.Contains(render(teams), `id="teams"`) {
			t.Errorf("%s: the page has a teams section", name)
		}
	}
	// one team of some services only has a section: it is not all services
	if !strings.Contains(render([]HTMLTeam{{Name: "shop", Services: []string{"checkout", "payments"}, KPIs: shop}}), `id="teams"`) {
		t.Error("one team of two services of four: no teams section")
	}
}
