package kpi

import (
	"cmp"
	"encoding/binary"
	"slices"
)

// hashIndex finds keys that live elsewhere (deployment ids and shas, PR merge
// shas of the Input) through a slice sorted by a 32-bit hash: 8 bytes an entry,
// the hash and the owner's ref, where a map[string]int32 takes about 55 at a
// million. A key is read from its owner by ref when compared, so a hash
// collision costs a comparison, never a wrong answer.
type hashIndex[K comparable] struct {
	ents  []hashEnt // by hash, then ref
	start []int32   // start[b] is the first entry whose hash's top bits are b
	shift uint
	// filter has the bit of each entry's hash (its low bits) set: a key whose
	// bit is clear is not indexed, known without touching start or ents. Most
	// shas looked up in a commit-list scan are not there, and each such miss
	// would otherwise cost two cache misses.
	filter []uint64
	mask   uint32
	key    func(ref int32) K
	hash   func(K) uint32
}

// hashEnt is one indexed key's hash and ref, what its owner calls it.
type hashEnt struct {
	h   uint32
	ref int32
}

// strIndex indexes strings.
type strIndex = hashIndex[string]

// shaIndex indexes packed shas.
type shaIndex = hashIndex[[shaBytes]byte]

// strHash is FNV-1a with splitmix64's finalizer, so that the top bits (the
// bucket) depend on every byte. A fixed function keeps Compute reproducible.
func strHash(s string) uint32 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return uint32(mix(h) >> 32)
}

// mix is splitmix64's finalizer, a bijection that spreads every input bit.
func mix(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
}

// shaHash hashes all 20 bytes of a packed sha. Git's shas are uniform, but
// imported ones need not be (a generator's zero-padded counters, say), and a
// hash of a few bytes would put them all in one bucket.
func shaHash(s [shaBytes]byte) uint32 {
	h := mix(binary.LittleEndian.Uint64(s[0:8]))
	h = mix(h ^ binary.LittleEndian.Uint64(s[8:16]))
	h = mix(h ^ uint64(binary.LittleEndian.Uint32(s[16:20])))
	return uint32(h >> 32)
}

// newStrIndex returns an index for about n strings; key returns the string of a ref.
func newStrIndex(n int, key func(ref int32) string) *strIndex {
	return &strIndex{ents: make([]hashEnt, 0, n), key: key, hash: strHash}
}

// newShaIndex returns an index for about n packed shas.
func newShaIndex(n int, key func(ref int32) [shaBytes]byte) *shaIndex {
	return &shaIndex{ents: make([]hashEnt, 0, n), key: key, hash: shaHash}
}

// add indexes ref's key; the key must not change until the index is dropped.
func (x *hashIndex[K]) add(ref int32) {
	x.ents = append(x.ents, hashEnt{h: x.hash(x.key(ref)), ref: ref})
}

// sort orders the entries; runs of one hash are then contiguous.
func (x *hashIndex[K]) sort() {
	slices.SortFunc(x.ents, func(a, b hashEnt) int {
		if c := cmp.Compare(a.h, b.h); c != 0 {
			return c
		}
		return cmp.Compare(a.ref, b.ref)
	})
}

// seal sorts the entries, keeps one per distinct key (of two refs with one
// key, the later replaces the kept one when replace says so, else the lower
// ref stays) and builds the bucket table (about four entries a bucket) and the
// filter, after which find works.
func (x *hashIndex[K]) seal(replace func(kept, later int32) bool) {
	x.sort()
	out := 0
	for i := 0; i < len(x.ents); {
		j := i + 1
		for j < len(x.ents) && x.ents[j].h == x.ents[i].h {
			j++
		}
		// one hash: usually one key, more only on a collision
		first := out
		for k := i; k < j; k++ {
			en := x.ents[k]
			dup := false
			for m := first; m < out; m++ {
				if x.key(x.ents[m].ref) == x.key(en.ref) {
					if replace != nil && replace(x.ents[m].ref, en.ref) {
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
	// 16 bits an entry: about 6% of absent keys pass
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

// find returns the ref of k, if indexed.
func (x *hashIndex[K]) find(k K) (int32, bool) {
	if i := x.index(k); i >= 0 {
		return x.ents[i].ref, true
	}
	return 0, false
}

// index returns the position of k's entry in x.ents, or -1.
func (x *hashIndex[K]) index(k K) int {
	if len(x.ents) == 0 {
		return -1
	}
	h := x.hash(k)
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
		if x.key(x.ents[lo].ref) == k {
			return lo
		}
	}
	return -1
}
