package kpi

import (
	"math"
	"testing"
)

// The expected values below were computed with numpy 1.24.2 and scipy 1.10.1
// (Debian bookworm's python3-numpy and python3-scipy), e.g.
//
//	np.quantile([0.1, 0.2, 0.7], 0.9)                       → 0.6
//	mannwhitneyu([1,2,3,4,5], [6,7,8,9,10], method="asymptotic").pvalue → 0.012185780355344813
//
// and are checked to the last few ulps.

func TestQuantileMatchesNumpy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		sorted   []float64
		p50, p90 float64
	}{
		{"four", []float64{1, 2, 3, 4}, 2.5, 3.7},
		{"durations", []float64{300, 1800, 3600, 7200, 86400}, 3600, 54720.00000000001},
		{"single", []float64{5}, 5, 5},
		{"two", []float64{1, 10}, 5.5, 9.1},
		{"ties", []float64{1, 1, 2, 3, 3, 4, 5, 5, 5, 6, 9}, 4, 6},
		// numpy interpolates from the upper neighbour when the fraction ≥ 0.5:
		// 0.7 − (0.7−0.2)·(1−0.8) = 0.6 exactly, where 0.2 + 0.5·0.8 would give 0.6000000000000001.
		{"upper lerp", []float64{0.1, 0.2, 0.7}, 0.2, 0.6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Quantile(c.sorted, 0.5); got != c.p50 {
				t.Errorf("p50 = %v, numpy %v", got, c.p50)
			}
			if got := Quantile(c.sorted, 0.9); got != c.p90 {
				t.Errorf("p90 = %v, numpy %v", got, c.p90)
			}
		})
	}
}

func TestMannWhitneyUMatchesScipy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		x, y []float64
		p    float64
	}{
		{"separated", []float64{1, 2, 3, 4, 5}, []float64{6, 7, 8, 9, 10}, 0.012185780355344813},
		{"overlap with tie", []float64{3600, 7200, 5400, 1800}, []float64{86400, 43200, 90000, 3600, 7200}, 0.1083608161727848},
		{"all tied", []float64{1, 1, 1}, []float64{1, 1}, 1.0},
		{"ties across", []float64{1.5, 2.5, 2.5, 4}, []float64{2.5, 3, 5, 6, 7, 8}, 0.06656796638127963},
		{"one each", []float64{10}, []float64{20}, 1.0},
		{"small ties", []float64{5, 5, 6}, []float64{5, 7, 7, 8}, 0.19474217283959172},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, ok := MannWhitneyU(c.x, c.y)
			if !ok {
				t.Fatal("no p-value")
			}
			if math.Abs(p-c.p) > 1e-12*math.Max(1, c.p) {
				t.Errorf("p = %.17g, scipy %.17g", p, c.p)
			}
		})
	}
	if _, ok := MannWhitneyU(nil, []float64{1}); ok {
		t.Error("an empty side must give no p-value")
	}
}

// TestMannWhitneyUByHand works the first case out without scipy: x = 1…5,
// y = 6…10, U1 = 15 − 15 = 0, U = max(0, 25) = 25, μ = 12.5, σ² = 25/12·11,
// z = (25 − 12.5 − 0.5)/√(22.9166…) = 2.5067, p = 2·sf(z) = erfc(z/√2) ≈ 0.01219.
func TestMannWhitneyUByHand(t *testing.T) {
	t.Parallel()
	sigma := math.Sqrt(25.0 / 12 * 11)
	z := (25 - 12.5 - 0.5) / sigma
	want := math.Erfc(z / math.Sqrt2)
	p, _ := MannWhitneyU([]float64{1, 2, 3, 4, 5}, []float64{6, 7, 8, 9, 10})
	if math.Abs(p-want) > 1e-15 || math.Abs(p-0.01219) > 1e-5 {
		t.Errorf("p = %v, by hand %v", p, want)
	}
}
