package kpi

import (
	"cmp"
	"slices"
)

// strIndex finds strings that live elsewhere (commit lists, shas, ids of the
// input) through a slice sorted by a 32-bit hash: 16 bytes per string, where a
// map[string]int32 takes about 55 at a million commits. Entries point at the
// string itself, so that a lookup's comparison reads little besides the
// string; a hash collision costs a comparison, never a wrong answer.
type strIndex struct {
	ents  []strEnt // by hash, then ref
	start []int32  // start[b] is the first entry whose hash's top bits are b
	shift uint
	// filter has the bit of each entry's hash (its low bits) set: a string
	// whose bit is clear is not indexed, known without touching start or ents.
	// Most strings looked up in a commit-list scan are not there, and each
	// such miss would otherwise cost two cache misses.
	filter []uint64
	mask   uint32
}

// strEnt is one indexed string and ref, what its owner calls it.
type strEnt struct {
	h   uint32
	ref int32
	s   *string
}

// strHash is FNV-1a with splitmix64's finalizer, so that the top bits (the
// bucket) depend on every byte. A fixed function keeps Compute reproducible.
func strHash(s string) uint32 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return uint32(h >> 32)
}

func newStrIndex(n int) *strIndex { return &strIndex{ents: make([]strEnt, 0, n)} }

// add indexes *s as ref; s must stay put until the index is dropped.
func (x *strIndex) add(s *string, ref int32) {
	x.ents = append(x.ents, strEnt{h: strHash(*s), ref: ref, s: s})
}

// sort orders the entries; runs of one hash are then contiguous.
func (x *strIndex) sort() {
	slices.SortFunc(x.ents, func(a, b strEnt) int {
		if c := cmp.Compare(a.h, b.h); c != 0 {
			return c
		}
		return cmp.Compare(a.ref, b.ref)
	})
}

// seal sorts the entries, keeps one per distinct string (of two with one
// string, the later replaces the kept one when replace says so, else the lower
// ref stays) and builds the bucket table (about
// four entries a bucket), after which find works.
func (x *strIndex) seal(replace func(kept, later strEnt) bool) {
	x.sort()
	out := 0
	for i := 0; i < len(x.ents); {
		j := i + 1
		for j < len(x.ents) && x.ents[j].h == x.ents[i].h {
			j++
		}
		// one hash: usually one string, more only on a collision
		first := out
		for k := i; k < j; k++ {
			en := x.ents[k]
			dup := false
			for m := first; m < out; m++ {
				if *x.ents[m].s == *en.s {
					if replace != nil && replace(x.ents[m], en) {
						x.ents[m] = en
					}
					dup = true
					break
				}
			}
			if !dup {
				x.ents[out] = en
				out++
			}
		}
		i = j
	}
	x.ents = x.ents[:out]
	bits := uint(0)
	for 4<<bits < len(x.ents) && bits < 24 {
		bits++
	}
	x.shift = 32 - bits // a shift by 32 yields 0: one bucket
	x.start = make([]int32, 1<<bits+1)
	for _, en := range x.ents {
		x.start[en.h>>x.shift+1]++
	}
	for b := 1; b < len(x.start); b++ {
		x.start[b] += x.start[b-1]
	}
	// 16 bits an entry: about 6% of absent strings pass
	fbits := uint32(64)
	for fbits < 16*uint32(len(x.ents)) && fbits < 1<<28 {
		fbits <<= 1
	}
	x.mask = fbits - 1
	x.filter = make([]uint64, fbits/64)
	for _, en := range x.ents {
		b := en.h & x.mask
		x.filter[b/64] |= 1 << (b % 64)
	}
}

// find returns the entry of s, if indexed.
func (x *strIndex) find(s string) (strEnt, bool) {
	if k := x.index(s); k >= 0 {
		return x.ents[k], true
	}
	return strEnt{}, false
}

// index returns the position of s's entry in x.ents, or -1.
func (x *strIndex) index(s string) int {
	if len(x.ents) == 0 {
		return -1
	}
	h := strHash(s)
	if f := h & x.mask; x.filter[f/64]&(1<<(f%64)) == 0 {
		return -1
	}
	b := h >> x.shift
	lo, hi := int(x.start[b]), int(x.start[b+1])
	for lo < hi { // the first entry with hash ≥ h
		m := int(uint(lo+hi) >> 1)
		if x.ents[m].h < h {
			lo = m + 1
		} else {
			hi = m
		}
	}
	for end := int(x.start[b+1]); lo < end && x.ents[lo].h == h; lo++ {
		if *x.ents[lo].s == s {
			return lo
		}
	}
	return -1
}
