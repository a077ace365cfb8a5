package kpi

import (
	"fmt"
	"testing"

	"github.com/flywheel-metrics/flywheel"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	k := NewClassifier(DefaultClassification())
	cases := []struct {
		name   string
		title  string
		labels []string
		paths  []string
		want   Class
	}{
		{"label precedence: feature and bug is fix", "feat: new checkout", []string{"feature", "bug"}, nil, ClassFix},
		{"label case-insensitive", "", []string{"Tech-Debt"}, nil, ClassTuneUp},
		{"label glob", "feat: x", []string{"TuneUp:CI-Speedup"}, nil, ClassTuneUp},
		{"a label glob's * matches /", "feat: x", []string{"tuneup:ci/cd"}, nil, ClassTuneUp},
		{"a glob does not match a longer label", "feat: x", []string{"xtuneup:ci"}, nil, ClassInnovation},
		{"tune-up label beats innovation label", "", []string{"enhancement", "performance"}, nil, ClassTuneUp},
		{"unknown label falls to title", "fix: crash", []string{"area/api"}, nil, ClassFix},
		{"conventional type", "feat: add wallet", nil, nil, ClassInnovation},
		{"type with scope", "fix(api): nil map", nil, nil, ClassFix},
		{"type with scope and bang", "refactor(core)!: drop v1", nil, nil, ClassTuneUp},
		{"bang without scope", "feat!: new API", nil, nil, ClassInnovation},
		{"type case-insensitive", "CHORE: bump", nil, nil, ClassTuneUp},
		{"no space after colon is not conventional", "fix:typo", nil, nil, ClassUnclassified},
		{"nested parentheses are not conventional", "fix(a(b)): x", nil, nil, ClassUnclassified},
		{"type in no list falls through to paths", "docs: update guide", nil, []string{"docs/guide.md", "docs/img/a.png"}, ClassTuneUp},
		{"docs: PR with a code file", "docs: update", nil, []string{"docs/guide.md", "api/x.go"}, ClassUnclassified},
		{"revert title", `Revert "feat: add wallet"`, nil, nil, ClassFix},
		{"revert must be at the start", `Re-apply Revert "x"`, nil, nil, ClassUnclassified},
		{"root folder only", "update", nil, []string{"src/docs/a.txt"}, ClassUnclassified},
		{"glob does not cross slash", "update", nil, []string{"README.md", "api/NOTES.md"}, ClassUnclassified},
		{"glob on root files", "update", nil, []string{"README.md", "Makefile", ".github/workflows/ci.yml"}, ClassTuneUp},
		{"empty paths are unknown", "update", nil, []string{}, ClassUnclassified},
		{"nothing matches", "Add wallet", nil, []string{"api/wallet.go"}, ClassUnclassified},
		// precedence: labels, then the title, then the paths
		{"a label beats a Revert title", `Revert "x"`, []string{"feature"}, nil, ClassInnovation},
		{"a title type beats tune-up paths", "feat: guide", nil, []string{"docs/guide.md"}, ClassInnovation},
		{"Revert beats tune-up paths", `Revert "docs: x"`, nil, []string{"docs/x.md"}, ClassFix},
		// a non-folder entry matches the whole path, not its last element
		{"Makefile entry is the root Makefile only", "update", nil, []string{"sub/Makefile"}, ClassUnclassified},
		{"a folder entry is not a prefix of a name", "update", nil, []string{"docsite/a.txt"}, ClassUnclassified},
	}
	// the second pass finds every label in the classifier's memo
	for _, pass := range []string{"first", "memo"} {
		for _, c := range cases {
			t.Run(pass+"/"+c.name, func(t *testing.T) {
				got := k.Classify(&flywheel.Change{Title: c.title, Labels: c.labels, Paths: c.paths})
				if got != c.want {
					t.Errorf("class = %s, want %s", got, c.want)
				}
			})
		}
	}
}

// TestClassifyMemoBound: past maxMemoLabels distinct labels the classifier
// stops remembering and still classifies.
func TestClassifyMemoBound(t *testing.T) {
	t.Parallel()
	k := NewClassifier(DefaultClassification())
	for i := range maxMemoLabels + 10 {
		if got := k.Classify(&flywheel.Change{Labels: []string{fmt.Sprintf("area-%d", i)}}); got != ClassUnclassified {
			t.Fatalf("label area-%d: class %s", i, got)
		}
	}
	if len(k.ruleOf) != maxMemoLabels {
		t.Errorf("memo holds %d labels, want the bound %d", len(k.ruleOf), maxMemoLabels)
	}
	if got := k.Classify(&flywheel.Change{Labels: []string{"area-1", "Bug"}}); got != ClassFix {
		t.Errorf("past the bound, bug = %s, want fix", got)
	}
}

func TestClassifyOverrides(t *testing.T) {
	t.Parallel()
	c := DefaultClassification()
	c.Innovation.Types = []string{"feat", "feature"}
	c.TuneUpPaths = []string{"tools/", "*.lock"}
	k := NewClassifier(c)
	if got := k.Classify(&flywheel.Change{Title: "feature: x"}); got != ClassInnovation {
		t.Errorf("overridden type = %s", got)
	}
	if got := k.Classify(&flywheel.Change{Title: "x", Paths: []string{"tools/gen.go", "go.lock"}}); got != ClassTuneUp {
		t.Errorf("overridden paths = %s", got)
	}
	if got := k.Classify(&flywheel.Change{Title: "x", Paths: []string{"docs/a.md"}}); got != ClassUnclassified {
		t.Errorf("replaced default paths still match: %s", got)
	}
}

// TestChangesByClassAndShare: merged PRs per class windowed by merged_at and
// tune_up share = tune_up ÷ (fix + tune_up + innovation) = 2 ÷ 4.
// Unmerged PRs and PRs merged before the window do not count; a bot's PR does.
func TestChangesByClassAndShare(t *testing.T) {
	t.Parallel()
	mk := func(id, title string, merged float64) flywheel.Change {
		c := pr(id, "svc", "", 0, -600, U, merged)
		c.Title = title
		return c
	}
	bot := mk("5", "chore(deps): bump x", 5)
	bot.Author = "dependabot[bot]"
	ev := flywheel.Events{Changes: []flywheel.Change{
		mk("1", "feat: a", 1), mk("2", "fix: b", 2), mk("3", "refactor: c", 3), mk("4", "misc", 4), bot,
		mk("6", "feat: old", -500), // before the 30d window [H-480, H240)
		{ID: "7", Service: "svc", Title: "feat: open", OpenedAt: H(1)},
	}}
	r := compute(ev, nil)
	k := w30(t, r, "svc")
	want := ChangesByClass{Innovation: 1, TuneUp: 2, Fix: 1, Unclassified: 1}
	if k.ChangesByClass == nil || *k.ChangesByClass != want {
		t.Fatalf("classes = %+v, want %+v", k.ChangesByClass, want)
	}
	eqF(t, "tune-up share", k.TuneUpShare, 0.5)
	absent(t, "deployments of a service that never deploys", k.Deployments)
	if h := r.History.Services["svc"]; h.ChangesByClass != (ChangesByClass{Innovation: 2, TuneUp: 2, Fix: 1, Unclassified: 1}) ||
		h.Quality.UndeployedChanges != 6 {
		t.Errorf("history = %+v", h)
	}
	// only unclassified PRs: classes present, share absent (zero denominator)
	r = compute(flywheel.Events{Changes: []flywheel.Change{mk("1", "misc", 1)}}, nil)
	if k := w30(t, r, "svc"); k.ChangesByClass == nil || k.TuneUpShare != nil {
		t.Errorf("unclassified only: %+v share %v", k.ChangesByClass, k.TuneUpShare)
	}
}
