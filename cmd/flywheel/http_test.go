package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
)

func ptr[T any](v T) *T { return &v }

func testHandler(t *testing.T, o handlerOptions) http.Handler {
	t.Helper()
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	if o.registry == nil {
		o.registry = prometheus.NewRegistry()
	}
	if o.telemetryPath == "" {
		o.telemetryPath = "/metrics"
	}
	if o.ready == nil {
		o.ready = func() bool { return true }
	}
	if o.report == nil {
		o.report = func(context.Context, reportQuery) (kpi.Report, error) { return kpi.Report{}, nil }
	}
	if o.explain == nil {
		o.explain = func(context.Context, explainQuery) (*kpi.Explanation, error) { return &kpi.Explanation{}, nil }
	}
	h, err := newHandler(o)
	if err != nil {
		t.Fatalf("newHandler: %v", err)
	}
	return h
}

func do(h http.Handler, method, target, auth, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestIngestEndpoint(t *testing.T) {
	t.Parallel()
	var stored []flywheel.Events
	h := testHandler(t, handlerOptions{ingest: &ingestOptions{
		tokenHash: sha256.Sum256([]byte("tok")),
		maxBody:   1024,
		write: func(_ context.Context, ev flywheel.Events) error {
			stored = append(stored, ev)
			return nil
		},
	}})
	line := `{"kind":"incident","id":"i1","service":"s","triggered_at":"2026-01-01T00:00:00Z"}` + "\n"
	for _, tc := range []struct {
		name, method, auth, token, body string
		want                            int
		wantBody                        string
	}{
		{"no token", "POST", "", "", line, 401, "X-Flywheel-Token: TOKEN"},
		{"wrong token", "POST", "Bearer tok2", "", line, 401, ""},
		{"wrong scheme", "POST", "Basic tok", "", line, 401, ""},
		{"wrong token header", "POST", "", "tok2", line, 401, ""},
		// with basic auth on, Authorization holds the user's credentials
		{"token header beside basic auth, wrong", "POST", "Basic cHJvbWV0aGV1czpwdw==", "tok3", line, 401, ""},
		{"too large", "POST", "Bearer tok", "", strings.Repeat(line, 20), 413, "max_body_bytes"},
		{"bad line", "POST", "Bearer tok", "", line + "{}\n", 400, `"line":2`},
		{"GET", "GET", "Bearer tok", "", "", 405, ""},
		{"ok", "POST", "bearer tok", "", line, 200, `"incidents":1`},
		{"ok by token header beside basic auth", "POST", "Basic cHJvbWV0aGV1czpwdw==", "tok", line, 200, `"incidents":1`},
	} {
		req := httptest.NewRequest(tc.method, "/api/v1/events", strings.NewReader(tc.body))
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		if tc.token != "" {
			req.Header.Set("X-Flywheel-Token", tc.token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.want || !strings.Contains(rec.Body.String(), tc.wantBody) {
			t.Errorf("%s: %d %q, want %d containing %q", tc.name, rec.Code, rec.Body.String(), tc.want, tc.wantBody)
		}
	}
	if len(stored) != 2 || len(stored[0].Incidents) != 1 || stored[0].Incidents[0].Source != "api" {
		t.Errorf("stored %+v, want two batches of one incident from the api", stored)
	}
}

// TestIngestEndpointWarnings: lines valid by the format but suspicious are
// stored and listed in the reply, at most ingestWarningsShown of them, with
// the true counts.
func TestIngestEndpointWarnings(t *testing.T) {
	t.Parallel()
	var stored []flywheel.Events
	h := testHandler(t, handlerOptions{ingest: &ingestOptions{
		tokenHash: sha256.Sum256([]byte("tok")),
		maxBody:   1 << 20,
		write: func(_ context.Context, ev flywheel.Events) error {
			stored = append(stored, ev)
			return nil
		},
	}})
	var body strings.Builder
	for i := range 150 {
		fmt.Fprintf(&body, `{"kind":"deployment","id":"d-%d","service":"s","environment":"production","sha":"a","finished_at":"2026-06-01T12:00:00Z","status":"SUCCESS"}`+"\n", i)
	}
	body.WriteString(`{"kind":"deployment","id":"d-0","service":"s","environment":"production","sha":"a","finished_at":"2026-06-01T12:00:00Z","status":"success"}` + "\n")
	rec := do(h, "POST", "/api/v1/events", "Bearer tok", body.String())
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var reply struct {
		Deployments, Lines int
		ReplacedLines      int `json:"replaced_lines"`
		Warnings           []struct {
			Line         int
			Kind, Reason string
		}
		WarningsTotal int `json:"warnings_total"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil {
		t.Fatal(err)
	}
	if reply.Deployments != 150 || reply.Lines != 151 || reply.ReplacedLines != 1 || reply.WarningsTotal != 151 || len(reply.Warnings) != ingestWarningsShown {
		t.Errorf("reply %+v", reply)
	}
	if w := reply.Warnings[0]; w.Line != 1 || w.Kind != "status" || !strings.Contains(w.Reason, `status "SUCCESS" never counts`) {
		t.Errorf("first warning %+v", w)
	}
	if len(stored) != 1 || len(stored[0].Deployments) != 150 || stored[0].Deployments[0].Status != "success" || stored[0].Deployments[1].Status != "SUCCESS" {
		t.Errorf("not stored as written")
	}
	// A clean input has an empty list, not null.
	rec = do(h, "POST", "/api/v1/events", "Bearer tok", `{"kind":"incident","id":"i1","service":"s","triggered_at":"2026-01-01T00:00:00Z"}`)
	if !strings.Contains(rec.Body.String(), `"warnings":[],"warnings_total":0`) {
		t.Errorf("clean reply %s", rec.Body)
	}
}

func TestIngestEndpointOffWithoutToken(t *testing.T) {
	t.Parallel()
	h := testHandler(t, handlerOptions{})
	if rec := do(h, "POST", "/api/v1/events", "Bearer x", "{}"); rec.Code != http.StatusNotFound {
		t.Errorf("status %d, want 404", rec.Code)
	}
}

func TestHealthAndReady(t *testing.T) {
	t.Parallel()
	ready := false
	h := testHandler(t, handlerOptions{ready: func() bool { return ready }})
	if rec := do(h, "GET", "/-/healthy", "", ""); rec.Code != 200 {
		t.Errorf("/-/healthy: %d", rec.Code)
	}
	if rec := do(h, "GET", "/-/ready", "", ""); rec.Code != 503 {
		t.Errorf("/-/ready before the first snapshot: %d, want 503", rec.Code)
	}
	ready = true
	if rec := do(h, "GET", "/-/ready", "", ""); rec.Code != 200 {
		t.Errorf("/-/ready: %d", rec.Code)
	}
}

func TestReportEndpoint(t *testing.T) {
	t.Parallel()
	var got reportQuery
	rep := kpi.Report{At: time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC), Windows: map[string]kpi.WindowReport{
		"30d": {All: &kpi.KPIs{Deployments: ptr(3)}},
	}}
	h := testHandler(t, handlerOptions{report: func(_ context.Context, q reportQuery) (kpi.Report, error) {
		got = q
		if q.Window == "1y" {
			return kpi.Report{}, badQueryError{"window \"1y\" is not in the report"}
		}
		if q.Service == "boom" {
			return kpi.Report{}, errors.New("disk on fire")
		}
		return rep, nil
	}})
	rec := do(h, "GET", "/api/v1/report?at=2026-06-30T02:00:00%2B02:00&window=30d&service=checkout", "", "")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d %s", rec.Code, rec.Body)
	}
	if !got.At.Equal(rep.At) || got.Window != "30d" || got.Service != "checkout" {
		t.Errorf("query = %+v", got)
	}
	var want strings.Builder
	if err := writeReportJSON(&want, rep); err != nil {
		t.Fatal(err)
	}
	if body, _ := io.ReadAll(rec.Body); string(body) != want.String() {
		t.Errorf("body:\n%s\nwant:\n%s", body, want.String())
	}
	for target, want := range map[string]struct {
		code int
		body string
	}{
		"/api/v1/report?at=yesterday":              {400, `parameter at: "yesterday"`},
		"/api/v1/report?window=1y":                 {400, `window "1y"`},
		"/api/v1/report?service=boom":              {500, "disk on fire"},
		"/api/v1/report?at=2026-06-30":             {200, `"at"`},
		"/api/v1/report?format=json":               {200, `"at"`},
		"/api/v1/report?format=csv":                {400, `unknown format "csv"; valid: json`},
		"/api/v1/report?format=":                   {400, `unknown format ""; valid: json`},
		"/api/v1/report?window=30d&servce=a":       {400, `unknown parameter "servce"; valid: at, window, service, format`},
		"/api/v1/report?service=a&service=b":       {400, "parameter service given 2 times"},
		"/api/v1/explain?kpi=deployments&x=1":      {400, `unknown parameter "x"; valid: kpi, at, window, service, format`},
		"/api/v1/explain?kpi=deployments&format=a": {400, `unknown format "a"`},
	} {
		if rec := do(h, "GET", target, "", ""); rec.Code != want.code || !strings.Contains(rec.Body.String(), want.body) {
			t.Errorf("%s: status %d %q, want %d containing %q", target, rec.Code, rec.Body, want.code, want.body)
		}
	}
	if rec := do(h, "POST", "/api/v1/report", "", ""); rec.Code != 405 {
		t.Errorf("POST /api/v1/report: %d, want 405", rec.Code)
	}
}

func TestHTMLReportEndpoint(t *testing.T) {
	t.Parallel()
	var got []reportQuery
	h := testHandler(t, handlerOptions{htmlReport: func(_ context.Context, q reportQuery, w io.Writer) error {
		got = append(got, q)
		switch q.Service {
		case "nope":
			return badQueryError{`unknown service "nope"`}
		case "boom":
			return errors.New("disk on fire")
		}
		_, err := io.WriteString(w, "<!DOCTYPE html><p>page</p>")
		return err
	}})
	for _, target := range []string{"/report?at=2026-06-30&window=30d&service=checkout", "/api/v1/report?window=30d&format=html&at=2026-06-30&service=checkout"} {
		rec := do(h, "GET", target, "", "")
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" || rec.Body.String() != "<!DOCTYPE html><p>page</p>" {
			t.Errorf("%s: status %d %q %q", target, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: Content-Security-Policy %q", target, csp)
		}
	}
	want := reportQuery{At: time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC), Window: "30d", Service: "checkout"}
	if len(got) != 2 || got[0] != want || got[1] != want {
		t.Errorf("queries = %+v, want twice %+v", got, want)
	}
	for target, want := range map[string]struct {
		code int
		body string
	}{
		"/report?service=nope":                   {400, `unknown service "nope"`},
		"/report?service=boom":                   {500, "disk on fire"},
		"/report?servce=a":                       {400, `unknown parameter "servce"; valid: at, window, service`},
		"/report?at=yesterday":                   {400, `parameter at: "yesterday"`},
		"/api/v1/report?format=html&x=1":         {400, `unknown parameter "x"`},
		"/api/v1/report?format=html&format=html": {400, "parameter format given 2 times"},
	} {
		if rec := do(h, "GET", target, "", ""); rec.Code != want.code || !strings.Contains(rec.Body.String(), want.body) {
			t.Errorf("%s: status %d %q, want %d containing %q", target, rec.Code, rec.Body, want.code, want.body)
		}
	}
	if rec := do(h, "POST", "/report", "", ""); rec.Code != 405 {
		t.Errorf("POST /report: %d, want 405", rec.Code)
	}
	if rec := do(h, "GET", "/", "", ""); !strings.Contains(rec.Body.String(), `href="/report"`) {
		t.Errorf("landing page does not link /report:\n%s", rec.Body)
	}
	// without an HTML report (never in serve) the path is not found
	if rec := do(testHandler(t, handlerOptions{}), "GET", "/report", "", ""); rec.Code != 404 {
		t.Errorf("/report without htmlReport: %d, want 404", rec.Code)
	}
}

func TestFilterReport(t *testing.T) {
	t.Parallel()
	rep := kpi.Report{Windows: map[string]kpi.WindowReport{
		"7d":  {All: &kpi.KPIs{Deployments: ptr(1)}, Services: map[string]*kpi.KPIs{"a": {Deployments: ptr(1)}}},
		"30d": {All: &kpi.KPIs{Deployments: ptr(5)}, Services: map[string]*kpi.KPIs{"a": {Deployments: ptr(2)}, "b": {Deployments: ptr(3)}}},
	}, TuneUpImpact: []kpi.Impact{{Initiative: "ci", Scope: []string{"a"}}, {Initiative: "flaky", Scope: []string{"b"}}}}

	got, err := filterReport(rep, "30d", "b")
	if err != nil {
		t.Fatal(err)
	}
	w, ok := got.Windows["30d"]
	if len(got.Windows) != 1 || !ok || w.All != nil || len(w.Services) != 1 || *w.Services["b"].Deployments != 3 {
		t.Errorf("filter 30d/b: %+v", got.Windows)
	}
	if len(got.TuneUpImpact) != 1 || got.TuneUpImpact[0].Initiative != "flaky" {
		t.Errorf("impacts %+v", got.TuneUpImpact)
	}
	if got, _ := filterReport(rep, "", ""); len(got.Windows) != 2 || len(got.TuneUpImpact) != 2 {
		t.Errorf("no filter changed the report: %+v", got)
	}
	var bad badQueryError
	if _, err := filterReport(rep, "90d", ""); !errors.As(err, &bad) || !strings.Contains(err.Error(), "30d, 7d") {
		t.Errorf("unknown window: %v", err)
	}
}

func TestParseTime(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Time{
		"2026-06-30":                time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC),
		"2026-06-30T02:00:00+02:00": time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC),
	} {
		if got, err := parseTime(in); err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("parseTime(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := parseTime("30/06/2026"); err == nil {
		t.Error("parseTime accepted 30/06/2026")
	}
}
