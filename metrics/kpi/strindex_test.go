package kpi

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestStrIndex covers what real hashes almost never show: several strings
// with one hash, duplicates kept by the lowest ref or replaced on request, and
// misses.
func TestStrIndex(t *testing.T) {
	t.Parallel()
	strs := []string{"b", "c", "a", "b", "a", "d"} // ref i holds strs[i]
	build := func(replace func(kept, later strEnt) bool) *strIndex {
		x := newStrIndex(len(strs))
		for i := range strs {
			x.add(&strs[i], int32(i))
		}
		// force collisions: b and c take a's hash, d keeps its own
		for i := range x.ents {
			if s := strs[x.ents[i].ref]; s == "b" || s == "c" {
				x.ents[i].h = strHash("a")
			}
		}
		x.seal(replace)
		return x
	}
	for _, c := range []struct {
		name    string
		replace func(kept, later strEnt) bool
		want    string // entries, then what a, d and e are found as
	}{
		{"the lowest ref stays", nil, "a2 b0 c1 d5 | 2 5 -"},
		{"a later ref replaces", func(kept, later strEnt) bool { return later.ref > kept.ref }, "a4 b3 c1 d5 | 4 5 -"},
	} {
		x := build(c.replace)
		var out []string
		for _, en := range x.ents {
			out = append(out, fmt.Sprint(strs[en.ref], en.ref))
		}
		// a shares its hash with b and c: find must compare strings past them
		slices.Sort(out)
		out = append(out, "|")
		for _, s := range []string{"a", "d", "e"} {
			if en, ok := x.find(s); ok {
				out = append(out, fmt.Sprint(en.ref))
			} else {
				out = append(out, "-")
			}
		}
		if got := strings.Join(out, " "); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// TestStrIndexFind checks find against a map over many real strings.
func TestStrIndexFind(t *testing.T) {
	t.Parallel()
	var strs []string
	for i := range 5000 {
		strs = append(strs, fmt.Sprintf("%x", i*7919%3001)) // with duplicates
	}
	x := newStrIndex(len(strs))
	first := map[string]int32{}
	for i, s := range strs {
		x.add(&strs[i], int32(i))
		if _, ok := first[s]; !ok {
			first[s] = int32(i)
		}
	}
	x.seal(nil)
	if len(x.ents) != len(first) {
		t.Fatalf("%d entries, want %d distinct", len(x.ents), len(first))
	}
	for s, want := range first {
		if en, ok := x.find(s); !ok || en.ref != want {
			t.Errorf("find(%q) = %d %v, want %d", s, en.ref, ok, want)
		}
	}
	for _, s := range []string{"", "zz", "fffff"} {
		if _, ok := x.find(s); ok {
			t.Errorf("find(%q) found a string never added", s)
		}
	}
	if _, ok := newStrIndex(0).find("a"); ok {
		t.Error("an empty index found a string")
	}
}
