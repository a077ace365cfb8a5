package flywheel

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestEventsDocumented keeps docs/events.md complete: for each kind, its section
// lists every key the format reads, each with whether it is required and an
// example, lists no key the format does not read, and its example line imports —
// without a key exactly when the documentation calls that key optional.
func TestEventsDocumented(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("docs/events.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []struct {
		heading string
		line    any
	}{
		{"## Deployment", deploymentLine{}},
		{"## Change", changeLine{}},
		{"## Incident", incidentLine{}},
	} {
		_, section, ok := strings.Cut(string(doc), "\n"+k.heading+"\n")
		if !ok {
			t.Errorf("docs/events.md has no section %q", k.heading)
			continue
		}
		section, _, _ = strings.Cut(section, "\n## ")
		var keys []string
		typ := reflect.TypeOf(k.line)
		for i := range typ.NumField() {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			keys = append(keys, name)
		}
		_, example, ok := strings.Cut(section, "```json\n")
		if !ok {
			t.Errorf("%s: no example line", k.heading)
			continue
		}
		example, _, _ = strings.Cut(example, "```")
		if _, err := DecodeEvents(strings.NewReader(example), "import"); err != nil {
			t.Errorf("%s: the example does not import: %v", k.heading, err)
		}
		documented := map[string]bool{}
		for line := range strings.SplitSeq(section, "\n") {
			if !strings.HasPrefix(line, "| `") {
				continue
			}
			cells := strings.Split(strings.Trim(line, "|"), "|")
			key := strings.Trim(strings.TrimSpace(cells[0]), "`")
			documented[key] = true
			if !slices.Contains(keys, key) {
				t.Errorf("%s: docs/events.md documents %q, which the format does not read", k.heading, key)
				continue
			}
			if len(cells) != 4 || strings.TrimSpace(cells[3]) == "" {
				t.Errorf("%s: the row of %q has no example", k.heading, key)
			}
			// The example without this key imports exactly when the key is optional.
			var obj map[string]json.RawMessage
			if err := json.Unmarshal([]byte(example), &obj); err != nil {
				t.Fatal(err)
			}
			delete(obj, key)
			without, _ := json.Marshal(obj)
			_, err := DecodeEvents(bytes.NewReader(without), "import")
			switch req := strings.TrimSpace(cells[1]); {
			case req == "yes" && err == nil:
				t.Errorf("%s: %q is documented as required, but the example imports without it", k.heading, key)
			case req == "no" && err != nil:
				t.Errorf("%s: %q is documented as optional, but the example without it fails: %v", k.heading, key, err)
			case req != "yes" && req != "no":
				t.Errorf("%s: the row of %q says required %q, want yes or no", k.heading, key, req)
			}
		}
		for _, key := range keys {
			if !documented[key] {
				t.Errorf("%s: key %q is not documented in docs/events.md", k.heading, key)
			}
		}
	}
}
