package kpi

import (
	"math"
	"slices"
)

// Quantile returns the q-quantile of sorted by linear interpolation between
// closest ranks, exactly as numpy.quantile's default method ("linear") does,
// including numpy's way of interpolating (from the upper neighbour when the
// fraction is at least 0.5), so results agree to the last bit. sorted must be
// ascending and non-empty.
func Quantile(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 1 {
		return sorted[0]
	}
	h := float64(n-1) * q
	lo := math.Floor(h)
	i := int(lo)
	if i >= n-1 {
		return sorted[n-1]
	}
	if i < 0 {
		return sorted[0]
	}
	a, b := sorted[i], sorted[i+1]
	t := h - lo
	d := b - a
	if t >= 0.5 {
		return b - d*(1-t)
	}
	return a + d*t
}

// summarize sorts xs in place and returns its p50/p90 summary, or nil when xs
// is empty (a {p50, p90, count} object appears only with count > 0).
func summarize(xs []float64) *Quantiles {
	if len(xs) == 0 {
		return nil
	}
	slices.Sort(xs)
	return &Quantiles{P50: Quantile(xs, 0.5), P90: Quantile(xs, 0.9), Count: len(xs)}
}

// MannWhitneyU returns the two-sided p-value of the Mann-Whitney U test of x
// against y as scipy.stats.mannwhitneyu(x, y, method="asymptotic") computes it:
// U of x from average ranks, the larger of U1 and n1·n2 − U1,
// the normal approximation with tie correction and a continuity correction of
// 0.5, p = 2·sf(z) clipped to [0, 1]. When every value is tied the variance is 0
// and the p-value is 1, as in scipy. ok is false when either sample is empty.
func MannWhitneyU(x, y []float64) (p float64, ok bool) {
	n1, n2 := len(x), len(y)
	if n1 == 0 || n2 == 0 {
		return 0, false
	}
	type obs struct {
		v   float64
		inX bool
	}
	all := make([]obs, 0, n1+n2)
	for _, v := range x {
		all = append(all, obs{v, true})
	}
	for _, v := range y {
		all = append(all, obs{v, false})
	}
	slices.SortFunc(all, func(a, b obs) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	n := float64(n1 + n2)
	var r1, tieTerm float64
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		// ranks i+1 … j share their average
		rank := float64(i+1+j) / 2
		t := float64(j - i)
		tieTerm += t*t*t - t
		for k := i; k < j; k++ {
			if all[k].inX {
				r1 += rank
			}
		}
		i = j
	}
	fn1, fn2 := float64(n1), float64(n2)
	u1 := r1 - fn1*(fn1+1)/2
	u := math.Max(u1, fn1*fn2-u1)
	mu := fn1 * fn2 / 2
	s := math.Sqrt(fn1 * fn2 / 12 * ((n + 1) - tieTerm/(n*(n-1))))
	if s == 0 || math.IsNaN(s) {
		return 1, true
	}
	z := (u - mu - 0.5) / s
	p = 2 * 0.5 * math.Erfc(z/math.Sqrt2)
	return math.Min(math.Max(p, 0), 1), true
}
