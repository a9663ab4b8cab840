package eval

// Thresholds configure comparisons and gates.
type Thresholds struct {
	// MinN is the fewest paired items for a group to be compared; smaller
	// groups are reported with a warning and never gated.
	MinN int
	// MaxDrop is the largest drop, in accuracy points, that a gate lets
	// pass however significant.
	MaxDrop float64
	// Alpha is the significance level.
	Alpha float64
}

// DefaultThresholds are used where none are given.
var DefaultThresholds = Thresholds{MinN: 30, MaxDrop: 1.0, Alpha: 0.05}
