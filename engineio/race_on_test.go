//go:build race

package engineio

// raceEnabled tells that the race detector runs: sync.Pool then drops items at random, so
// allocation counts of pooled paths mean nothing.
const raceEnabled = true
