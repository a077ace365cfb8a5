package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/pprof"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
	"github.com/flywheel-metrics/flywheel/metrics/report"
)

// handlerOptions is what the HTTP endpoints of `serve` need; each piece is a
// function or small value so that the handlers know nothing of the store.
type handlerOptions struct {
	log           *slog.Logger
	registry      *prometheus.Registry
	telemetryPath string
	maxRequests   int
	// enablePprof serves net/http/pprof under /debug/pprof/ and links it from
	// the landing page.
	enablePprof bool
	// ready reports whether a KPI snapshot worth serving exists (see
	// snapshotGate).
	ready func() bool
	// report answers GET /api/v1/report.
	report func(ctx context.Context, q reportQuery) (kpi.Report, error)
	// htmlReport writes the HTML report for q (GET /report and
	// /api/v1/report?format=html); nil answers those with 404.
	htmlReport func(ctx context.Context, q reportQuery, w io.Writer) error
	// explain answers GET /api/v1/explain.
	explain func(ctx context.Context, q explainQuery) (*kpi.Explanation, error)
	// ingest is nil when no api token is configured: POST /api/v1/events is off.
	ingest *ingestOptions
	// backup writes a consistent copy of the store file (GET /api/v1/backup);
	// nil turns the endpoint off.
	backup func(w io.Writer) (int64, error)
	// now names the backup file.
	now func() time.Time
}

// ingestOptions configure POST /api/v1/events.
type ingestOptions struct {
	// tokenHash is the SHA-256 of the token; comparing hashes in constant time
	// leaks neither the token nor its length.
	tokenHash [32]byte
	maxBody   int64
	// labels bounds the services and urgencies ingest may add; nil: no
	// bound.
	labels *labelBudget
	// write stores one request's events as one batch and triggers a recompute.
	write func(ctx context.Context, ev flywheel.Events) error
}

// newHandler builds every endpoint of `serve`. exporter-toolkit's web.Serve
// wraps the whole mux, so TLS and basic auth of --web.config.file apply to
// every endpoint; serve lets /-/healthy and /-/ready through without the basic
// auth (probesWithoutAuth).
func newHandler(o handlerOptions) (http.Handler, error) {
	mux := http.NewServeMux()
	// As node_exporter: the handler's own request counts go to the same registry.
	mux.Handle(o.telemetryPath, promhttp.InstrumentMetricHandler(o.registry, promhttp.HandlerFor(o.registry, promhttp.HandlerOpts{
		ErrorLog:            slog.NewLogLogger(o.log.Handler(), slog.LevelError),
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: o.maxRequests,
		Registry:            o.registry,
	})))
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "Healthy")
	})
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !o.ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "Not ready: no KPI snapshot computed after a successful sync yet")
			return
		}
		fmt.Fprintln(w, "Ready")
	})
	mux.HandleFunc("/api/v1/report", o.serveReport)
	mux.HandleFunc("/report", o.serveHTMLReport)
	mux.HandleFunc("/api/v1/explain", o.serveExplain)
	mux.HandleFunc("/api/v1/events", o.serveEvents)
	mux.HandleFunc("/api/v1/backup", o.serveBackup)
	profiling := "false"
	if o.enablePprof {
		// net/http/pprof also registers these on http.DefaultServeMux when
		// imported; serve never serves that mux.
		profiling = "true"
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	if o.telemetryPath != "/" {
		var links []web.LandingLinks
		if o.htmlReport != nil {
			links = append(links, web.LandingLinks{Address: "/report", Text: "Report (HTML, for reading)"})
		}
		links = append(links,
			web.LandingLinks{Address: o.telemetryPath, Text: "Metrics"},
			web.LandingLinks{Address: "/api/v1/report", Text: "KPI report (JSON)"},
			web.LandingLinks{Address: "/api/v1/explain?kpi=change_failure_ratio", Text: "The events behind a KPI (JSON)"},
			web.LandingLinks{Address: "/-/healthy", Text: "Health"},
			web.LandingLinks{Address: "/-/ready", Text: "Readiness"},
		)
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        "Flywheel",
			Description: "DORA and speed-of-innovation KPIs from GitHub and PagerDuty",
			// the page links /debug/pprof/… only when it is served
			Profiling: profiling,
			Links:     links,
		})
		if err != nil {
			return nil, fmt.Errorf("landing page: %w", err)
		}
		mux.Handle("/", landing)
	}
	return mux, nil
}

// readQuery reads the query of a GET endpoint that takes only params, and
// its evaluation time `at` (zero when not given); it answers the request
// itself (405, or 400 naming what is wrong) and returns ok false when the
// request cannot be served.
func readQuery(w http.ResponseWriter, r *http.Request, params ...string) (p url.Values, at time.Time, ok bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		httpError(w, http.StatusMethodNotAllowed, "method %s not allowed; use GET", r.Method)
		return nil, time.Time{}, false
	}
	p = r.URL.Query()
	if err := checkParams(p, params...); err != nil {
		httpError(w, http.StatusBadRequest, "%v", err)
		return nil, time.Time{}, false
	}
	if s := p.Get("at"); s != "" {
		var err error
		if at, err = parseTime(s); err != nil {
			httpError(w, http.StatusBadRequest, "parameter at: %v", err)
			return nil, time.Time{}, false
		}
	}
	return p, at, true
}

// reportQuery is a parsed GET /api/v1/report (or `flywheel report`).
type reportQuery struct {
	At      time.Time // zero: now
	Window  string    // "": every configured window
	Service string    // "": every service and all
}

func (o handlerOptions) serveReport(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.Query(); len(p["format"]) == 1 && p.Get("format") == "html" {
		// the same page as GET /report
		p.Del("format")
		r = r.Clone(r.Context())
		r.URL.RawQuery = p.Encode()
		o.serveHTMLReport(w, r)
		return
	}
	p, at, ok := readQuery(w, r, "at", "window", "service", "format")
	if !ok {
		return
	}
	q := reportQuery{At: at, Window: p.Get("window"), Service: p.Get("service")}
	rep, err := o.report(r.Context(), q)
	if !o.reportError(w, err) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if err := writeReportJSON(w, rep); err != nil {
		o.log.Debug("write report response", "err", err)
	}
}

// reportError answers a failed report request (400 for a bad query, 503
// before the first snapshot, else 500) and returns false; nil returns true.
func (o handlerOptions) reportError(w http.ResponseWriter, err error) bool {
	var bad badQueryError
	switch {
	case errors.As(err, &bad):
		httpError(w, http.StatusBadRequest, "%v", err)
	case errors.Is(err, errNoSnapshot):
		httpError(w, http.StatusServiceUnavailable, "%v", err)
	case err != nil:
		o.log.Error("report failed", "err", err)
		httpError(w, http.StatusInternalServerError, "report: %v", err)
	default:
		return true
	}
	return false
}

// serveHTMLReport answers GET /report?at=&window=&service= (and
// /api/v1/report?format=html): the page of `flywheel report --format html`.
// The page is written whole to memory first, so that an error found half-way
// is an error status, not a cut page.
func (o handlerOptions) serveHTMLReport(w http.ResponseWriter, r *http.Request) {
	if o.htmlReport == nil {
		http.NotFound(w, r)
		return
	}
	p, at, ok := readQuery(w, r, "at", "window", "service")
	if !ok {
		return
	}
	var buf bytes.Buffer
	q := reportQuery{At: at, Window: p.Get("window"), Service: p.Get("service")}
	if !o.reportError(w, o.htmlReport(r.Context(), q, &buf)) {
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// the page loads nothing and runs no script; say so to the browser too
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
	if _, err := w.Write(buf.Bytes()); err != nil {
		o.log.Debug("write html report response", "err", err)
	}
}

// serveExplain answers GET /api/v1/explain?kpi=&at=&window=&service=: the
// document of `flywheel explain --format json`.
func (o handlerOptions) serveExplain(w http.ResponseWriter, r *http.Request) {
	p, at, ok := readQuery(w, r, "kpi", "at", "window", "service", "format")
	if !ok {
		return
	}
	q := explainQuery{KPI: p.Get("kpi"), At: at, Window: p.Get("window"), Service: p.Get("service")}
	e, err := o.explain(r.Context(), q)
	var bad badQueryError
	switch {
	case errors.As(err, &bad):
		httpError(w, http.StatusBadRequest, "%v", err)
		return
	case err != nil:
		o.log.Error("explain failed", "err", err)
		httpError(w, http.StatusInternalServerError, "explain: %v", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if err := report.WriteExplainJSON(w, e); err != nil {
		o.log.Debug("write explain response", "err", err)
	}
}

func (o handlerOptions) serveEvents(w http.ResponseWriter, r *http.Request) {
	if o.ingest == nil {
		httpError(w, http.StatusNotFound, "the ingest API is off: set api.token_file or api.token_env in the config")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		httpError(w, http.StatusMethodNotAllowed, "method %s not allowed; use POST", r.Method)
		return
	}
	if !o.ingest.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="flywheel"`)
		httpError(w, http.StatusUnauthorized, "missing or wrong ingest token: send it as %s: TOKEN (or Authorization: Bearer TOKEN when --web.config.file has no basic auth)", ingestTokenHeader)
		return
	}
	body := http.MaxBytesReader(w, r.Body, o.ingest.maxBody)
	dec, err := flywheel.DecodeEventsChecked(body, flywheel.DecodeOptions{Source: "api", Now: time.Now(), KeepWarnings: ingestWarningsShown, KeepErrors: ingestErrorsShown})
	ev := dec.Events
	var tooBig *http.MaxBytesError
	var bad *flywheel.DecodeError
	switch {
	case errors.As(err, &tooBig):
		httpError(w, http.StatusRequestEntityTooLarge, "request body larger than %d bytes (api.max_body_bytes); nothing stored", o.ingest.maxBody)
		return
	case errors.As(err, &bad):
		type lineError struct {
			Line   int    `json:"line"`
			Reason string `json:"reason"`
		}
		reply := struct {
			Error      string      `json:"error"`
			Lines      []lineError `json:"lines"`
			LinesTotal int         `json:"lines_total"`
		}{Error: fmt.Sprintf("%d invalid line(s), nothing stored", bad.Count()), LinesTotal: bad.Count()}
		if bad.Count() > len(bad.Lines) {
			reply.Error += fmt.Sprintf("; the first %d are listed", len(bad.Lines))
		}
		for _, l := range bad.Lines {
			reply.Lines = append(reply.Lines, lineError{l.Line, l.Reason})
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(reply)
		return
	case err != nil:
		httpError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if o.ingest.labels != nil {
		var limit labelLimitError
		switch err := o.ingest.labels.admit(ev); {
		case errors.As(err, &limit):
			httpError(w, http.StatusBadRequest, "%v", err)
			return
		case err != nil:
			o.log.Error("ingest: check the label limits", "err", err)
			httpError(w, http.StatusInternalServerError, "%v", err)
			return
		}
	}
	if err := o.ingest.write(r.Context(), ev); err != nil {
		o.log.Error("ingest: store events", "err", err)
		httpError(w, http.StatusInternalServerError, "store events: %v", err)
		return
	}
	o.log.Info("ingested events", "deployments", len(ev.Deployments), "changes", len(ev.Changes), "incidents", len(ev.Incidents),
		"warnings", dec.WarningTotal())
	reply := ingestReply{
		Deployments: len(ev.Deployments), Changes: len(ev.Changes), Incidents: len(ev.Incidents),
		Lines: dec.Lines, ReplacedLines: dec.Replaced(),
		Warnings: make([]ingestWarning, 0, len(dec.Warnings)), WarningsTotal: dec.WarningTotal(),
	}
	for _, l := range dec.Warnings {
		reply.Warnings = append(reply.Warnings, ingestWarning{l.Line, string(l.Kind), l.Reason})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(reply)
}

// ingestWarningsShown bounds the warnings of one ingest reply;
// warnings_total counts them all.
const ingestWarningsShown = 100

// ingestErrorsShown bounds the rejected lines of one ingest reply (and the
// reasons kept while reading the body); lines_total counts them all. A body of
// millions of bad lines would otherwise make a reply, and a heap, many times
// its own size.
const ingestErrorsShown = 100

// ingestReply is the reply of a successful ingest: the events stored (a
// later line with the same kind and id replaces an earlier one, so they can
// be fewer than the lines) and the lines stored as written that look wrong.
type ingestReply struct {
	Deployments   int             `json:"deployments"`
	Changes       int             `json:"changes"`
	Incidents     int             `json:"incidents"`
	Lines         int             `json:"lines"`
	ReplacedLines int             `json:"replaced_lines"`
	Warnings      []ingestWarning `json:"warnings"`
	WarningsTotal int             `json:"warnings_total"`
}

// ingestWarning is one suspicious line of an ingest.
type ingestWarning struct {
	Line   int    `json:"line"`
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
}

// ingestTokenHeader carries the ingest token beside basic auth, which takes
// the Authorization header for itself.
const ingestTokenHeader = "X-Flywheel-Token"

// authorized accepts the ingest token in X-Flywheel-Token, or as a bearer
// token in Authorization. With basic auth on (--web.config.file), exporter-
// toolkit reads Authorization for the user and password before the request
// gets here, so clients send the token in X-Flywheel-Token then.
func (in *ingestOptions) authorized(r *http.Request) bool {
	token, ok := r.Header.Get(ingestTokenHeader), true
	if token == "" {
		var scheme string
		scheme, token, ok = strings.Cut(r.Header.Get("Authorization"), " ")
		ok = ok && strings.EqualFold(scheme, "Bearer")
	}
	if !ok {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return subtle.ConstantTimeCompare(got[:], in.tokenHash[:]) == 1
}

// serveBackup answers GET /api/v1/backup with a copy of the store file, taken
// from one read transaction while serve goes on writing (storage's Backup). The
// copy opens as a store, with everything: events, cursors, validators and
// snapshots.
func (o handlerOptions) serveBackup(w http.ResponseWriter, r *http.Request) {
	if o.backup == nil {
		httpError(w, http.StatusNotFound, "no store to back up")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		httpError(w, http.StatusMethodNotAllowed, "method %s not allowed; use GET", r.Method)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="flywheel-%s.db"`, o.now().UTC().Format("20060102T150405Z")))
	if r.Method == http.MethodHead {
		return
	}
	// A store of a gigabyte takes longer to send than the server's write
	// timeout allows any other answer; the copy is bounded by the store's
	// size, not by the client. (Not supported only where the writer is no
	// connection, as in tests.)
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	n, err := o.backup(w)
	switch {
	case err != nil && n == 0:
		o.log.Error("backup failed", "err", err)
		httpError(w, http.StatusInternalServerError, "backup: %v", err)
	case err != nil:
		// Part of the file is sent (or the client went away): break the
		// connection, so that the client sees an incomplete transfer rather
		// than a short file.
		o.log.Warn("backup not completed", "err", err, "bytes_sent", n)
		panic(http.ErrAbortHandler)
	default:
		o.log.Info("store backed up", "bytes", n, "remote", r.RemoteAddr)
	}
}

// httpError writes a plain-text error; its message never holds a secret.
func httpError(w http.ResponseWriter, code int, format string, args ...any) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	fmt.Fprintf(w, format+"\n", args...)
}

// checkParams refuses a query parameter that is not one of valid, given twice,
// or a format other than json (the one these endpoints answer in): a typo
// such as ?servce= would otherwise answer for every service and look right.
func checkParams(p url.Values, valid ...string) error {
	for _, k := range slices.Sorted(maps.Keys(p)) {
		switch {
		case !slices.Contains(valid, k):
			return fmt.Errorf("unknown parameter %q; valid: %s", k, strings.Join(valid, ", "))
		case len(p[k]) > 1:
			return fmt.Errorf("parameter %s given %d times; give it once", k, len(p[k]))
		}
	}
	if f := p.Get("format"); p.Has("format") && f != "json" {
		return fmt.Errorf("unknown format %q; valid: json (GET /report answers the HTML report; the table, Markdown and CSV forms are the command line's: flywheel report or explain --format)", f)
	}
	return nil
}

// badQueryError is a report query the user got wrong (HTTP 400, exit 2).
type badQueryError struct{ msg string }

func (e badQueryError) Error() string { return e.msg }

// errNoSnapshot: the server has not computed its first snapshot yet.
var errNoSnapshot = errors.New("no KPI snapshot computed yet; retry shortly")

// writeReportJSON is the one encoding of a report, shared by `flywheel report
// --format json` and GET /api/v1/report so that both return the same document.
func writeReportJSON(w interface{ Write([]byte) (int, error) }, r kpi.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// parseTime reads an RFC3339 time or a date (midnight UTC).
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither an RFC3339 time (2026-06-30T00:00:00Z) nor a date (2026-06-30)", s)
}

// filterReport narrows a report to one window and/or one service. With a service,
// the "all" group is dropped and only initiatives whose scope holds the service
// are kept.
func filterReport(r kpi.Report, window, service string) (kpi.Report, error) {
	out := kpi.Report{At: r.At, Windows: map[string]kpi.WindowReport{}}
	for name, wr := range r.Windows {
		if window != "" && name != window {
			continue
		}
		if service != "" {
			nw := kpi.WindowReport{}
			if k, ok := wr.Services[service]; ok {
				nw.Services = map[string]*kpi.KPIs{service: k}
			}
			wr = nw
		}
		out.Windows[name] = wr
	}
	if window != "" && len(out.Windows) == 0 {
		return kpi.Report{}, badQueryError{fmt.Sprintf("window %q is not in the report (configured windows: %s)", window, strings.Join(windowNames(r), ", "))}
	}
	for _, imp := range r.TuneUpImpact {
		if service == "" || slices.Contains(imp.Scope, service) {
			out.TuneUpImpact = append(out.TuneUpImpact, imp)
		}
	}
	return out, nil
}

func windowNames(r kpi.Report) []string {
	return slices.Sorted(maps.Keys(r.Windows))
}
