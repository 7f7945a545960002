//go:build !linux

package load

// raiseFileLimit returns a conservative guess outside Linux, where the load tool does not run.
func raiseFileLimit() int { return 1024 }
