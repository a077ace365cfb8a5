package flywheel

import (
	"net/url"
	"regexp"
	"strings"
	"time"
)

// IncidentNotes is what the people handling an incident wrote about it in its
// free text: a `caused-by:` line naming the deployment that caused it and an
// `impact-start:` line saying when users were first hurt. Collectors feed it
// every text of an incident (an issue body and its comments, a PagerDuty
// trigger's details and notes) in time order with Scan or Field; a later line
// wins, because a later comment is how responders correct an earlier guess.
type IncidentNotes struct {
	// CausedBy is the last caused-by value as written, with the Markdown
	// around it removed (CausedByNone for "none" in any case), or "".
	CausedBy string
	// StartedAt is the time of the last impact-start line that parsed.
	StartedAt time.Time
	// StartUnparsed is the value of the last impact-start line when it did
	// not parse (and no later one did), so that it can be reported rather
	// than silently dropped; "" otherwise.
	StartUnparsed string
}

// keyLine matches a caused-by or impact-start line: the key starts the line
// after Markdown quote, list, heading or emphasis marks, in any case, written
// with a hyphen, an underscore or a space, and may itself be emphasised
// ("**Caused-by:** x", "- impact_start: y").
var keyLine = regexp.MustCompile(`(?i)^[\s>*_#+-]*(caused[-_ ]by|impact[-_ ]start)[*_]*\s*:[*_]*[ \t]*(.*)$`)

// keyHeading matches a Markdown heading that is only a key, as GitHub renders
// an issue form's field ("### Caused by" and, after a blank line, the
// answer); a short note in parentheses after the key is allowed ("### Impact
// start (UTC)").
var keyHeading = regexp.MustCompile(`(?i)^\s{0,3}#{1,6}\s+[*_]*(caused[-_ ]by|impact[-_ ]start)[*_]*\s*(\([^)]*\))?\s*:?\s*#*\s*$`)

// htmlComment is an HTML comment, which Markdown does not show: issue
// templates put their instructions in them ("<!-- caused-by: the deployment
// id -->"), and those are not what anybody wrote about the incident.
var htmlComment = regexp.MustCompile(`(?s)<!--.*?-->`)

// noResponse is how GitHub renders an issue form's field left empty.
const noResponse = "_No response_"

// Scan reads every caused-by and impact-start of one text: "key: value"
// lines, and issue-form headings followed by their answer. Times written
// without a zone are read in tz (UTC when nil).
func (n *IncidentNotes) Scan(text string, tz *time.Location) {
	if strings.Contains(text, "<!--") {
		text = htmlComment.ReplaceAllString(text, "")
	}
	heading := "" // the key of an issue-form heading whose answer comes next
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\r\n")
		if heading != "" {
			switch v := strings.TrimSpace(line); {
			case v == "":
				continue
			case v == noResponse:
				heading = ""
				continue
			case !strings.HasPrefix(v, "#"):
				n.Field(heading, v, tz)
				heading = ""
				continue
			}
			heading = "" // another heading: the field was left without an answer
		}
		if m := keyHeading.FindStringSubmatch(line); m != nil {
			heading = m[1]
			continue
		}
		if m := keyLine.FindStringSubmatch(line); m != nil {
			n.Field(m[1], m[2], tz)
		}
	}
}

// Field takes one key and its value, as an object of custom details carries
// them ({"caused-by": "…"}); keys other than caused-by and impact-start (in
// the spellings Scan accepts) are ignored and Field returns false.
func (n *IncidentNotes) Field(key, value string, tz *time.Location) bool {
	switch normKey(key) {
	case "caused-by":
		if v := CleanCausedBy(value); v != "" {
			n.CausedBy = v
		}
		return true
	case "impact-start":
		v := strings.TrimSpace(stripMarks(strings.TrimSpace(value)))
		if v == "" {
			return true
		}
		if t, ok := ParseImpactStart(v, tz); ok {
			n.StartedAt, n.StartUnparsed = t, ""
		} else {
			n.StartUnparsed = v
		}
		return true
	}
	return false
}

func normKey(k string) string {
	k = strings.ToLower(strings.TrimSpace(k))
	k = strings.NewReplacer("_", "-", " ", "-").Replace(k)
	return k
}

// mdLink is a Markdown link; its target is what a caused-by names.
var mdLink = regexp.MustCompile(`\[[^\]]*\]\(\s*<?([^)\s>]+)>?[^)]*\)`)

// CleanCausedBy returns the value of a caused-by line the way it names a
// deployment: the first word, or a Markdown link's target, without the
// Markdown around it (backticks, <…>, emphasis, quotes, a trailing full
// stop or comma). "none" in any case is CausedByNone.
func CleanCausedBy(value string) string {
	v := strings.TrimSpace(value)
	if m := mdLink.FindStringSubmatch(v); m != nil {
		v = m[1]
	}
	f := strings.Fields(v)
	if len(f) == 0 {
		return ""
	}
	v = stripMarks(f[0])
	if strings.EqualFold(v, CausedByNone) {
		return CausedByNone
	}
	return v
}

// stripMarks removes Markdown and punctuation around a value.
func stripMarks(v string) string {
	for {
		w := strings.TrimRight(v, ".,;:!?")
		w = strings.Trim(w, "`*_\"'")
		if strings.HasPrefix(w, "<") && strings.HasSuffix(w, ">") {
			w = w[1 : len(w)-1]
		}
		if strings.HasPrefix(w, "(") && strings.HasSuffix(w, ")") {
			w = w[1 : len(w)-1]
		}
		if w == v {
			return v
		}
		v = w
	}
}

// impactLayouts are the written forms of an impact start besides RFC3339: a
// date and a time (minutes or seconds, fractions allowed) separated by a
// space or a "T".
var impactLayouts = []string{
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
}

// ParseImpactStart parses the value of an impact-start line: RFC3339, or
// "YYYY-MM-DD HH:MM[:SS]" followed by "Z", "UTC", "GMT" or a numeric offset
// ("+02:00", "+0200", "-05"), with or without a space before it. A time
// without a zone is read in tz (UTC when nil). ok is false when the value is
// none of these, or a time outside the valid years (TimeInRange).
func ParseImpactStart(v string, tz *time.Location) (time.Time, bool) {
	t, ok := parseImpactStart(v, tz)
	if !ok || !TimeInRange(t) {
		return time.Time{}, false
	}
	return t, true
}

func parseImpactStart(v string, tz *time.Location) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), true
	}
	if tz == nil {
		tz = time.UTC
	}
	body, loc := splitZone(v)
	if loc == nil {
		loc = tz
	} else if body == v {
		return time.Time{}, false
	}
	for _, l := range impactLayouts {
		if t, err := time.ParseInLocation(l, body, loc); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

var zoneSuffix = regexp.MustCompile(`(?i)\s*(z|utc|gmt|[+-]\d{2}(?::?\d{2})?)$`)

// splitZone cuts a trailing zone off v; loc is nil when v has none.
func splitZone(v string) (body string, loc *time.Location) {
	m := zoneSuffix.FindStringSubmatchIndex(v)
	if m == nil {
		return v, nil
	}
	body, z := v[:m[0]], strings.ToUpper(v[m[2]:m[3]])
	// a bare "-05" after a date without a time is part of the date
	if len(body) < len("2006-01-02 15:04") {
		return v, nil
	}
	switch z {
	case "Z", "UTC", "GMT":
		return body, time.UTC
	}
	sign := 1
	if z[0] == '-' {
		sign = -1
	}
	d := strings.ReplaceAll(z[1:], ":", "")
	h := int(d[0]-'0')*10 + int(d[1]-'0')
	mins := 0
	if len(d) == 4 {
		mins = int(d[2]-'0')*10 + int(d[3]-'0')
	}
	if h > 23 || mins > 59 {
		return v, nil
	}
	return body, time.FixedZone(z, sign*(h*3600+mins*60))
}

// RefKind says what a caused-by value names.
type RefKind uint8

const (
	// RefEmpty: nothing is named.
	RefEmpty RefKind = iota
	// RefNotCaused: "none", the incident was not caused by a change.
	RefNotCaused
	// RefWord: a bare word, which may be a stored deployment id, the id its
	// source shows (a GitHub deployment id, an Actions run id, a release tag)
	// or a sha or sha prefix.
	RefWord
	// RefDeployment: a URL of a GitHub deployment (…/deployments/ID).
	RefDeployment
	// RefRun: a URL of a GitHub Actions run (…/actions/runs/ID).
	RefRun
	// RefRelease: a URL of a release (…/releases/tag/TAG).
	RefRelease
	// RefCommit: a URL of a commit (…/commit/SHA); the value is a sha.
	RefCommit
	// RefPull: a pull request, by URL (…/pull/N) or as owner/repo#N; the
	// value is its number.
	RefPull
	// RefURL: a URL of none of the forms above.
	RefURL
)

// CausedByRef is a parsed caused-by value.
type CausedByRef struct {
	Kind RefKind
	// Repo is "owner/name" when the value names it (URLs, owner/repo#N).
	Repo string
	// Value is the id, tag, sha or number named, or the word as written.
	Value string
}

var pullRef = regexp.MustCompile(`^([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)#(\d+)$`)

// ParseCausedBy reads a caused-by value (as CleanCausedBy leaves it) into
// what it names. URLs may be of github.com or of a GitHub Enterprise Server,
// of the web pages or of the REST API (…/repos/OWNER/REPO/…).
func ParseCausedBy(v string) CausedByRef {
	v = CleanCausedBy(v)
	switch {
	case v == "":
		return CausedByRef{}
	case v == CausedByNone:
		return CausedByRef{Kind: RefNotCaused, Value: v}
	}
	if m := pullRef.FindStringSubmatch(v); m != nil {
		return CausedByRef{Kind: RefPull, Repo: m[1], Value: m[2]}
	}
	if !strings.Contains(v, "://") {
		return CausedByRef{Kind: RefWord, Value: v}
	}
	u, err := url.Parse(v)
	if err != nil {
		return CausedByRef{Kind: RefURL, Value: v}
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	// API URLs: /repos/OWNER/REPO/… (GitHub Enterprise: /api/v3/repos/…)
	for i, p := range parts {
		if p == "repos" && len(parts) > i+2 {
			parts = parts[i+1:]
			break
		}
	}
	if len(parts) < 4 {
		return CausedByRef{Kind: RefURL, Value: v}
	}
	repo, rest := parts[0]+"/"+parts[1], parts[2:]
	switch {
	case rest[0] == "deployments" && rest[1] != "":
		return CausedByRef{Kind: RefDeployment, Repo: repo, Value: rest[1]}
	case rest[0] == "actions" && len(rest) >= 3 && rest[1] == "runs":
		return CausedByRef{Kind: RefRun, Repo: repo, Value: rest[2]}
	case rest[0] == "actions" && len(rest) >= 2 && rest[1] == "runs":
		return CausedByRef{Kind: RefURL, Value: v}
	case rest[0] == "releases" && len(rest) >= 3 && rest[1] == "tag":
		tag, err := url.PathUnescape(strings.Join(rest[2:], "/"))
		if err != nil {
			tag = strings.Join(rest[2:], "/")
		}
		return CausedByRef{Kind: RefRelease, Repo: repo, Value: tag}
	case rest[0] == "commit" || rest[0] == "commits":
		return CausedByRef{Kind: RefCommit, Repo: repo, Value: rest[1]}
	case rest[0] == "pull" || rest[0] == "pulls":
		return CausedByRef{Kind: RefPull, Repo: repo, Value: rest[1]}
	}
	return CausedByRef{Kind: RefURL, Value: v}
}
