package stats

import (
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// A Pct is a percentage held exactly, as a rational number. Accuracies
// are means of item scores, and item scores are ratios of integers (points
// met over positive points), so every accuracy is a rational that a
// float would only approximate: 61.25 must round to 61.3 whichever way it
// was summed. The zero Pct has no value and marshals to JSON null.
//
// A Pct is immutable: its methods never modify the value it holds, so it
// may be copied and shared freely.
type Pct struct{ r *big.Rat }

// PctOf returns 100·num/den. It panics if den is zero.
func PctOf(num, den int64) Pct {
	r := big.NewRat(num, den)
	return Pct{r.Mul(r, big.NewRat(100, 1))}
}

// pctRat returns the percentage 100·r, taking ownership of r.
func pctRat(r *big.Rat) Pct { return Pct{r.Mul(r, big.NewRat(100, 1))} }

// ParsePct returns the exact value of a decimal such as "61.25".
func ParsePct(s string) (Pct, error) {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	if !ok {
		return Pct{}, errors.New("not a number: " + strconv.Quote(s))
	}
	return Pct{r}, nil
}

// MustPct is ParsePct for constants; it panics on a malformed decimal.
func MustPct(s string) Pct {
	p, err := ParsePct(s)
	if err != nil {
		panic(err)
	}
	return p
}

// Valid reports whether p holds a value.
func (p Pct) Valid() bool { return p.r != nil }

// Float64 returns the float64 nearest to p, or NaN when p has no value.
func (p Pct) Float64() float64 {
	if p.r == nil {
		return math.NaN()
	}
	f, _ := p.r.Float64()
	return f
}

// Sub returns p - q exactly; it has no value when either has none.
func (p Pct) Sub(q Pct) Pct {
	if p.r == nil || q.r == nil {
		return Pct{}
	}
	return Pct{new(big.Rat).Sub(p.r, q.r)}
}

// Neg returns -p.
func (p Pct) Neg() Pct {
	if p.r == nil {
		return p
	}
	return Pct{new(big.Rat).Neg(p.r)}
}

// Cmp compares p and q as numbers; a value without one sorts first.
func (p Pct) Cmp(q Pct) int {
	switch {
	case p.r == nil && q.r == nil:
		return 0
	case p.r == nil:
		return -1
	case q.r == nil:
		return 1
	}
	return p.r.Cmp(q.r)
}

// Sign returns -1, 0 or +1; 0 when p has no value.
func (p Pct) Sign() int {
	if p.r == nil {
		return 0
	}
	return p.r.Sign()
}

// Format rounds p to places decimals by the one rounding rule of psveval,
// half away from zero (8.75 → 8.8, -8.75 → -8.8), and returns "-" when p
// has no value. Negative zero prints as "0.0".
func (p Pct) Format(places int) string {
	if p.r == nil {
		return "-"
	}
	return roundRat(p.r, places)
}

// MarshalJSON writes the nearest float64 (62.5, 40.666666666666664), or
// null when p has no value.
func (p Pct) MarshalJSON() ([]byte, error) {
	if p.r == nil {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, p.Float64(), 'g', -1, 64), nil
}

// UnmarshalJSON reads null or a JSON number, keeping its decimal value
// exactly.
func (p *Pct) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*p = Pct{}
		return nil
	}
	q, err := ParsePct(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// roundRat formats r with places decimals, rounding half away from zero.
func roundRat(r *big.Rat, places int) string {
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(places)), nil)
	num := new(big.Int).Mul(r.Num(), scale)
	num.Abs(num)
	// q = floor((2·|num| + den) / (2·den)): |r|·10^places rounded half up.
	den := r.Denom()
	num.Mul(num, big.NewInt(2)).Add(num, den)
	q := num.Quo(num, new(big.Int).Mul(den, big.NewInt(2)))
	digits := q.String()
	if places > 0 {
		if len(digits) <= places {
			digits = strings.Repeat("0", places-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-places] + "." + digits[len(digits)-places:]
	}
	if r.Sign() < 0 && q.Sign() != 0 {
		return "-" + digits
	}
	return digits
}

// FormatFloat rounds a value that is not held exactly (an interval's end,
// an average of bootstrap replicates) by the same rule as [Pct.Format].
// The float is first read as its decimal value to 9 places, so that a
// replicate computed as 61.349999999999994 rounds as the 61.35 it stands
// for. NaN prints as "-".
func FormatFloat(x float64, places int) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "-"
	}
	r, _ := new(big.Rat).SetString(strconv.FormatFloat(x, 'f', 9, 64))
	return roundRat(r, places)
}

// FormatSigned is [Pct.Format] with a sign: "+2.6", "-2.6", "+0.0".
func FormatSigned(p Pct, places int) string { return signed(p.Format(places)) }

// FormatFloatSigned is [FormatFloat] with a sign.
func FormatFloatSigned(x float64, places int) string { return signed(FormatFloat(x, places)) }

func signed(s string) string {
	if s == "-" || strings.HasPrefix(s, "-") {
		return s
	}
	return "+" + s
}

// ratOf returns the exact fraction a stored score stands for. Scores are
// ratios of small integers, written as the float64 nearest to them; the
// first continued-fraction convergent of x (denominator at most
// maxScoreDen) whose quotient rounds to x is that ratio, since two such
// fractions lie more than 1/maxScoreDen² apart while the rounding moved x
// by under 1e-16. A float that no such fraction explains is taken at its
// exact binary value.
func ratOf(x float64) *big.Rat {
	const maxScoreDen = 1 << 20
	// Continued-fraction convergents h/k of x.
	h0, h1 := int64(0), int64(1)
	k0, k1 := int64(1), int64(0)
	v := x
	for range 64 {
		a := math.Floor(v)
		if math.Abs(a) > 1<<40 {
			break
		}
		ai := int64(a)
		h0, h1 = h1, ai*h1+h0
		k0, k1 = k1, ai*k1+k0
		if k1 > maxScoreDen {
			break
		}
		if float64(h1)/float64(k1) == x {
			return big.NewRat(h1, k1)
		}
		frac := v - a
		if frac == 0 {
			break
		}
		v = 1 / frac
	}
	r := new(big.Rat)
	r.SetFloat64(x)
	return r
}

// FormatDecimal prints a setting such as --max-drop as the decimal it was
// given, with at least one decimal: 1 → "1.0", 0.25 → "0.25".
func FormatDecimal(x float64) string {
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") && !math.IsInf(x, 0) && !math.IsNaN(x) {
		s += ".0"
	}
	return s
}

// An exactSum adds stored scores exactly without an allocation per
// score: scores take few distinct values, each the ratio num/den of small
// integers, so it keeps one integer sum of numerators per denominator and
// makes a rational of them only when asked. The zero value is an empty
// sum.
type exactSum struct {
	byDen map[int64]int64
	memo  map[float64][2]int64 // score -> num, den (den 0: not a small ratio)
	rest  big.Rat              // scores no small ratio explains
}

func (e *exactSum) add(x float64) {
	if e.memo == nil {
		e.byDen, e.memo = map[int64]int64{}, map[float64][2]int64{}
	}
	f, ok := e.memo[x]
	if !ok {
		r := ratOf(x)
		if r.Num().IsInt64() && r.Denom().IsInt64() && r.Denom().Int64() <= 1<<20 {
			f = [2]int64{r.Num().Int64(), r.Denom().Int64()}
		}
		e.memo[x] = f
	}
	if f[1] == 0 {
		e.rest.Add(&e.rest, ratOf(x))
		return
	}
	e.byDen[f[1]] += f[0] // at most 2^20 per score: no overflow below 2^43 items
}

// rat returns the sum as a new rational.
func (e *exactSum) rat() *big.Rat {
	out := new(big.Rat).Set(&e.rest)
	for den, num := range e.byDen {
		out.Add(out, big.NewRat(num, den))
	}
	return out
}
