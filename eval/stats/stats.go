package stats

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strconv"
)

// DefaultResamples is the number of bootstrap resamples.
const DefaultResamples = 2000

// DefaultSeed seeds every resampling, so equal inputs give equal intervals.
const DefaultSeed = 1

// An Interval is a two-sided confidence interval.
type Interval struct {
	Lo float64 `json:"lo"`
	Hi float64 `json:"hi"`
}

// percent returns the interval of a proportion in percent, its ends
// rounded to 9 decimals so that JSON carries 62.5, not 62.50000000000001.
func (i Interval) percent() Interval {
	return Interval{Lo: clean(100 * i.Lo), Hi: clean(100 * i.Hi)}
}

// clean rounds x to 9 decimals, the precision [FormatFloat] reads.
func clean(x float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', 9, 64), 64)
	return v
}

// A sampler draws uniform numbers fast: a bootstrap of 9,264 items draws
// 18.5 million. It is wyrand (one multiply per draw), seeded through PCG
// so that every (seed, stream) pair starts far from every other.
type sampler struct{ state uint64 }

func newSampler(seed uint64, stream uint64) *sampler {
	return &sampler{rand.NewPCG(seed, stream*0x9e3779b97f4a7c15+1).Uint64()}
}

func (s *sampler) uint64() uint64 {
	s.state += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(s.state, s.state^0xe7037ed1a0b428db)
	return hi ^ lo
}

// index returns a uniform index in [0, n) by Lemire's multiply-high; the
// bias for n far below 2^64 is nil for any practical purpose.
func (s *sampler) index(n int) int {
	hi, _ := bits.Mul64(s.uint64(), uint64(n))
	return int(hi)
}

// percentileInterval returns the central level interval of reps (sorted in
// place), by the percentile method.
func percentileInterval(reps []float64, level float64) Interval {
	if len(reps) == 0 {
		return Interval{}
	}
	slices.Sort(reps)
	alpha := (1 - level) / 2
	return Interval{Lo: quantile(reps, alpha), Hi: quantile(reps, 1-alpha)}
}

// quantile of sorted xs by linear interpolation (type 7).
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 1 {
		return sorted[0]
	}
	h := q * float64(len(sorted)-1)
	lo := math.Floor(h)
	i := int(lo)
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (h-lo)*(sorted[i+1]-sorted[i])
}

// wilson returns the Wilson score interval for k successes in n trials at
// the 95% level.
func wilson(k, n int) Interval {
	if n == 0 {
		return Interval{}
	}
	const z = 1.959963984540054
	p := float64(k) / float64(n)
	nf := float64(n)
	den := 1 + z*z/nf
	center := (p + z*z/(2*nf)) / den
	half := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / den
	return Interval{Lo: max(0, center-half), Hi: min(1, center+half)}
}

// cohenKappa returns Cohen's κ for two raters' binary labels.
func cohenKappa(a, b []bool) float64 {
	n := float64(len(a))
	if n == 0 {
		return math.NaN()
	}
	var agree, pa, pb float64
	for i := range a {
		if a[i] == b[i] {
			agree++
		}
		if a[i] {
			pa++
		}
		if b[i] {
			pb++
		}
	}
	po := agree / n
	pa, pb = pa/n, pb/n
	pe := pa*pb + (1-pa)*(1-pb)
	if pe == 1 {
		return math.NaN() // both raters constant: κ is undefined
	}
	return (po - pe) / (1 - pe)
}

// fleissKappa returns Fleiss' κ for units each rated by the same number of
// raters with binary labels; yes[i] counts the raters who said yes on unit
// i, out of raters.
func fleissKappa(yes []int, raters int) float64 {
	n := float64(len(yes))
	if n == 0 || raters < 2 {
		return math.NaN()
	}
	m := float64(raters)
	var pBar, pYes float64
	for _, y := range yes {
		fy, fn := float64(y), m-float64(y)
		pBar += (fy*(fy-1) + fn*(fn-1)) / (m * (m - 1))
		pYes += fy
	}
	pBar /= n
	pYes /= n * m
	pe := pYes*pYes + (1-pYes)*(1-pYes)
	if pe == 1 {
		return math.NaN() // every rating the same: κ is undefined
	}
	return (pBar - pe) / (1 - pe)
}
