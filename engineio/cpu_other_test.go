//go:build !unix

package engineio

// processCPU is not measured off unix: the CPU metrics read 0.
func processCPU() int64 { return 0 }
