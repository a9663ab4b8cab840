//go:build race

package stats

// raceEnabled is true under -race, which slows the simulations' tight
// loops some fortyfold: .ci/run runs them in a pass of their own without
// it.
const raceEnabled = true
