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
	build := func(replace func(kept, later int32) bool) *strIndex {
		x := newStrIndex(len(strs), func(ref int32) string { return strs[ref] })
		for i := range strs {
			x.add(int32(i))
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
		replace func(kept, later int32) bool
		want    string // entries, then what a, d and e are found as
	}{
		{"the lowest ref stays", nil, "a2 b0 c1 d5 | 2 5 -"},
		{"a later ref replaces", func(kept, later int32) bool { return later > kept }, "a4 b3 c1 d5 | 4 5 -"},
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
			if ref, ok := x.find(s); ok {
				out = append(out, fmt.Sprint(ref))
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
	x := newStrIndex(len(strs), func(ref int32) string { return strs[ref] })
	first := map[string]int32{}
	for i, s := range strs {
		x.add(int32(i))
		if _, ok := first[s]; !ok {
			first[s] = int32(i)
		}
	}
	x.seal(nil)
	if len(x.ents) != len(first) {
		t.Fatalf("%d entries, want %d distinct", len(x.ents), len(first))
	}
	for s, want := range first {
		if ref, ok := x.find(s); !ok || ref != want {
			t.Errorf("find(%q) = %d %v, want %d", s, ref, ok, want)
		}
	}
	for _, s := range []string{"", "zz", "fffff"} {
		if _, ok := x.find(s); ok {
			t.Errorf("find(%q) found a string never added", s)
		}
	}
	if _, ok := newStrIndex(0, func(int32) string { return "" }).find("a"); ok {
		t.Error("an empty index found a string")
	}
}

// TestShaIndex: packed shas that share their first four bytes (their hash)
// are told apart by the whole sha; duplicates keep the lowest ref.
func TestShaIndex(t *testing.T) {
	t.Parallel()
	pack := func(s string) [shaBytes]byte {
		var b [shaBytes]byte
		if _, ok := packSha(b[:0], s); !ok {
			t.Fatalf("%q does not pack", s)
		}
		return b
	}
	full := func(prefix, fill string) string { return prefix + strings.Repeat(fill, shaLen-len(prefix)) }
	shas := []string{full("deadbeef", "1"), full("deadbeef", "2"), full("deadbeef", "1"), full("0", "3")}
	x := newShaIndex(len(shas), func(ref int32) [shaBytes]byte { return pack(shas[ref]) })
	for i := range shas {
		x.add(int32(i))
	}
	x.seal(nil)
	if len(x.ents) != 3 {
		t.Fatalf("%d entries, want 3 distinct shas", len(x.ents))
	}
	for s, want := range map[string]int32{shas[0]: 0, shas[1]: 1, shas[3]: 3} {
		if ref, ok := x.find(pack(s)); !ok || ref != want {
			t.Errorf("find(%s) = %d %v, want %d", s, ref, ok, want)
		}
	}
	if _, ok := x.find(pack(full("deadbeef", "4"))); ok {
		t.Error("found a sha never added that shares the others' hash")
	}
}

// TestShaHashSpreadsStructuredShas: zero-padded counters, as a generator or an
// import may write them, share their first bytes; their hashes must not, or
// every lookup would walk one bucket.
func TestShaHashSpreadsStructuredShas(t *testing.T) {
	t.Parallel()
	hashes := map[uint32]bool{}
	for i := range 10000 {
		var b [shaBytes]byte
		if _, ok := packSha(b[:0], fmt.Sprintf("%040x", i)); !ok {
			t.Fatal("does not pack")
		}
		hashes[shaHash(b)] = true
	}
	if len(hashes) < 9990 {
		t.Errorf("10000 counters hash to %d values", len(hashes))
	}
}
