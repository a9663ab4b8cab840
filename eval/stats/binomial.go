package stats

import (
	"math"
)

// The bootstrap resamples n clusters with replacement, which takes n
// random draws per resample: 18.5 million for 2,000 resamples of 9,264
// items that are clusters of their own. Clusters come in few kinds (items
// of six types scoring six values), and resampling n clusters from k
// kinds is the same as drawing their counts from a multinomial
// distribution: k-1 binomial draws (see clusterSet.columnReps). This file
// draws binomials exactly, so a resample costs O(k), not O(n), with the
// same distribution.

// binomial draws from Binomial(n, p) exactly: by inversion when n·p is
// small, otherwise by Hörmann's BTRD (transformed rejection with decomposition,
// "The generation of binomial random variates", 1993).
func (s *sampler) binomial(n int, p float64) int {
	switch {
	case n <= 0 || p <= 0:
		return 0
	case p >= 1:
		return n
	case p > 0.5:
		return n - s.binomial(n, 1-p)
	case float64(n)*p < 10:
		return s.binomialInversion(n, p)
	}
	return s.btrd(n, p)
}

// float returns a uniform float64 in [0, 1).
func (s *sampler) float() float64 {
	return float64(s.uint64()>>11) / (1 << 53)
}

// binomialInversion walks the distribution function from 0.
func (s *sampler) binomialInversion(n int, p float64) int {
	q := 1 - p
	ratio := p / q
	a := float64(n+1) * ratio
	for {
		r := math.Pow(q, float64(n))
		u := s.float()
		for x := 0; x <= n; x++ {
			if u < r {
				return x
			}
			u -= r
			r *= a/float64(x+1) - ratio
		}
		// Rounding left u above the total mass: draw again.
	}
}

// btrd draws Binomial(n, p) for p ≤ 1/2 and n·p ≥ 10.
func (s *sampler) btrd(n int, p float64) int {
	q := 1 - p
	nf := float64(n)
	m := math.Floor((nf + 1) * p)
	r := p / q
	nr := (nf + 1) * r
	npq := nf * p * q
	sq := math.Sqrt(npq)
	b := 1.15 + 2.53*sq
	a := -0.0873 + 0.0248*b + 0.01*p
	c := nf*p + 0.5
	alpha := (2.83 + 5.1/b) * sq
	vr := 0.92 - 4.2/b
	urvr := 0.86 * vr
	for {
		v := s.float()
		if v <= urvr {
			u := v/vr - 0.43
			return int(math.Floor((2*a/(0.5-math.Abs(u))+b)*u + c))
		}
		var u float64
		if v >= vr {
			u = s.float() - 0.5
		} else {
			u = v/vr - 0.93
			u = math.Copysign(0.5, u) - u
			v = s.float() * vr
		}
		us := 0.5 - math.Abs(u)
		kf := math.Floor((2*a/us+b)*u + c)
		if kf < 0 || kf > nf {
			continue
		}
		k := int(kf)
		v = v * alpha / (a/(us*us) + b)
		km := math.Abs(kf - m)
		if km <= 15 {
			// Evaluate f(k)/f(m) by the recurrence of the ratios.
			f := 1.0
			mi := int(m)
			if mi < k {
				for i := mi + 1; i <= k; i++ {
					f *= nr/float64(i) - r
				}
			} else if mi > k {
				for i := k + 1; i <= mi; i++ {
					v *= nr/float64(i) - r
				}
			}
			if v <= f {
				return k
			}
			continue
		}
		// Squeeze, then the exact test on logarithms.
		v = math.Log(v)
		rho := (km / npq) * (((km/3+0.625)*km+1.0/6)/npq + 0.5)
		t := -km * km / (2 * npq)
		if v < t-rho {
			return k
		}
		if v > t+rho {
			continue
		}
		nm := nf - m + 1
		h := (m+0.5)*math.Log((m+1)/(r*nm)) + stirlingTail(m) + stirlingTail(nf-m)
		nk := nf - kf + 1
		if v <= h+(nf+1)*math.Log(nm/nk)+(kf+0.5)*math.Log(nk*r/(kf+1))-stirlingTail(kf)-stirlingTail(nf-kf) {
			return k
		}
	}
}

// stirlingTail returns log(k!) minus Stirling's approximation of it,
// (k+½)·log(k+1) − (k+1) + ½·log(2π).
func stirlingTail(k float64) float64 {
	lg, _ := math.Lgamma(k + 1)
	return lg - ((k+0.5)*math.Log(k+1) - (k + 1) + 0.5*math.Log(2*math.Pi))
}
