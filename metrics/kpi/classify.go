package kpi

import (
	"path"
	"strings"

	"github.com/flywheel-metrics/flywheel"
)

// Class is the work class of a merged PR.
type Class uint8

const (
	ClassUnclassified Class = iota
	ClassFix
	ClassTuneUp
	ClassInnovation
)

func (c Class) String() string {
	switch c {
	case ClassFix:
		return "fix"
	case ClassTuneUp:
		return "tune_up"
	case ClassInnovation:
		return "innovation"
	}
	return "unclassified"
}

// conventionalType returns the type of a conventional-commit title prefix,
// exactly what ^([A-Za-z]+)(\([^()]*\))?!?:\s captures, by hand
// because the regexp allocated per PR (20 MB at a million).
func conventionalType(title string) (string, bool) {
	i := 0
	for i < len(title) && (title[i] >= 'A' && title[i] <= 'Z' || title[i] >= 'a' && title[i] <= 'z') {
		i++
	}
	if i == 0 {
		return "", false
	}
	typ := title[:i]
	if i < len(title) && title[i] == '(' {
		j := strings.IndexAny(title[i+1:], "()")
		if j < 0 || title[i+1+j] != ')' {
			return "", false
		}
		i += j + 2
	}
	if i < len(title) && title[i] == '!' {
		i++
	}
	if i+1 >= len(title) || title[i] != ':' {
		return "", false
	}
	switch title[i+1] { // \s is [\t\n\f\r ]
	case '\t', '\n', '\f', '\r', ' ':
		return typ, true
	}
	return "", false
}

// Classifier applies the class rules (docs/kpis.md); build it once with NewClassifier. It
// remembers which rule each label it has seen matches, so it is not safe for
// concurrent use.
type Classifier struct {
	labels [3][]string // fix, tune_up, innovation; flatLabel globs
	types  [3][]string
	paths  []string
	// ruleOf memoises labelRule: a store holds a few hundred distinct labels
	// on a million PRs, and matching globs was most of classifying them.
	ruleOf map[string]int
}

// maxMemoLabels bounds Classifier.ruleOf, should labels be unique per PR.
const maxMemoLabels = 1 << 14

var classOrder = [3]Class{ClassFix, ClassTuneUp, ClassInnovation}

// NewClassifier prepares the rules of c.
func NewClassifier(c Classification) *Classifier {
	k := &Classifier{paths: c.TuneUpPaths, ruleOf: map[string]int{}}
	for i, r := range []ClassRules{c.Fix, c.TuneUp, c.Innovation} {
		for _, l := range r.Labels {
			k.labels[i] = append(k.labels[i], flatLabel(l))
		}
		k.types[i] = r.Types
	}
	return k
}

// ClassBy is the rule that gave a PR its class.
type ClassBy uint8

const (
	ByNoRule       ClassBy = iota // no rule matched: unclassified
	ByLabel                       // one of its labels
	ByRevert                      // a title starting with Revert "
	ByConventional                // the conventional-commit type of its title
	ByPath                        // every changed path is under a tune-up path
)

func (b ClassBy) String() string {
	switch b {
	case ByLabel:
		return "label"
	case ByRevert:
		return "revert"
	case ByConventional:
		return "conventional"
	case ByPath:
		return "path"
	}
	return "none"
}

// Classify returns the class of one PR: labels (fix, then tune_up, then
// innovation), then the title, then the changed paths; the first rule that
// matches wins.
func (k *Classifier) Classify(c *flywheel.Change) Class {
	cls, _ := k.ClassifyBy(c)
	return cls
}

// ClassifyBy is Classify that also says which rule matched.
func (k *Classifier) ClassifyBy(c *flywheel.Change) (Class, ClassBy) {
	// the first rule set that any label matches
	best := len(k.labels)
	for _, l := range c.Labels {
		best = min(best, k.labelRule(l))
	}
	if best < len(k.labels) {
		return classOrder[best], ByLabel
	}
	if strings.HasPrefix(c.Title, `Revert "`) {
		return ClassFix, ByRevert
	}
	if typ, ok := conventionalType(c.Title); ok {
		for i, types := range k.types {
			for _, t := range types {
				if strings.EqualFold(t, typ) {
					return classOrder[i], ByConventional
				}
			}
		}
	}
	if len(c.Paths) > 0 && len(k.paths) > 0 {
		all := true
		for _, p := range c.Paths {
			if !underTuneUpPath(k.paths, p) {
				all = false
				break
			}
		}
		if all {
			return ClassTuneUp, ByPath
		}
	}
	return ClassUnclassified, ByNoRule
}

// labelRule returns the index of the first of k.labels that label matches, or
// len(k.labels) when none does.
func (k *Classifier) labelRule(label string) int {
	if r, ok := k.ruleOf[label]; ok {
		return r
	}
	flat, r := flatLabel(label), len(k.labels)
	for i, rules := range k.labels {
		if labelMatches(rules, flat) {
			r = i
			break
		}
	}
	if len(k.ruleOf) < maxMemoLabels {
		k.ruleOf[label] = r
	}
	return r
}

// flatLabel lower-cases a label or label rule and swaps '/' for a byte labels
// do not hold: a label is a flat name, not a path, so a rule's '*' and '?'
// match '/' too under path.Match (tuneup:* matches tuneup:ci/cd).
func flatLabel(l string) string { return strings.ReplaceAll(strings.ToLower(l), "/", "\x00") }

// labelMatches says whether a flatLabel matches one of the flatLabel rules:
// equal, or matched by the rule as a glob.
func labelMatches(rules []string, label string) bool {
	for _, r := range rules {
		if r == label {
			return true
		}
		if ok, err := path.Match(r, label); err == nil && ok {
			return true
		}
	}
	return false
}

// underTuneUpPath: an entry ending in "/" is a folder at the repository root;
// any other entry is matched against the whole path by path.Match.
func underTuneUpPath(entries []string, p string) bool {
	p = strings.TrimPrefix(p, "/")
	for _, e := range entries {
		if strings.HasSuffix(e, "/") {
			if strings.HasPrefix(p, e) {
				return true
			}
			continue
		}
		if ok, err := path.Match(e, p); err == nil && ok {
			return true
		}
	}
	return false
}
