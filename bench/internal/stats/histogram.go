// Package stats records latencies in log-linear histograms that can be recorded into from a hot
// path without allocation, merged across goroutines and processes, and queried for percentiles.
package stats

import (
	"math"
	"math/bits"
	"sync/atomic"
)

// Buckets: values below 64 each have their own bucket; above, every power of two is split into
// 32 equal buckets, so a reported percentile is at most 1/32 (about 3%) above the true value.
const (
	linearBuckets = 64
	subBits       = 5
	subBuckets    = 1 << subBits
	// NumBuckets covers every non-negative int64.
	NumBuckets = linearBuckets + (63-subBits-1)*subBuckets
)

// bucketOf returns the bucket of v (v >= 0).
func bucketOf(v int64) int {
	if v < linearBuckets {
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - (subBits + 1)
	top := int(v >> shift) // in [32, 64)
	return linearBuckets + (shift-1)*subBuckets + top - subBuckets
}

// bucketHigh returns the largest value that falls in bucket i.
func bucketHigh(i int) int64 {
	if i < linearBuckets {
		return int64(i)
	}
	shift := (i-linearBuckets)/subBuckets + 1
	top := int64((i-linearBuckets)%subBuckets + subBuckets)
	return (top+1)<<shift - 1
}

// Recorder accumulates values from any number of goroutines with atomic adds; one that only a
// single goroutine writes costs two uncontended atomic adds per value.
type Recorder struct {
	counts [NumBuckets]atomic.Uint64
	n      atomic.Int64
	sum    atomic.Int64
	max    atomic.Int64
}

// Record adds one value. Negative values count as zero.
func (r *Recorder) Record(v int64) {
	if v < 0 {
		v = 0
	}
	r.counts[bucketOf(v)].Add(1)
	r.sum.Add(v)
	r.n.Add(1)
	for {
		m := r.max.Load()
		if v <= m || r.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Count returns how many values were recorded.
func (r *Recorder) Count() int64 { return r.n.Load() }

// Snapshot returns the values recorded so far. Values recorded while it runs may or may not be
// in it.
func (r *Recorder) Snapshot() Histogram {
	var h Histogram
	for i := range r.counts {
		if c := r.counts[i].Load(); c != 0 {
			h.Buckets = append(h.Buckets, [2]uint64{uint64(i), c})
			h.N += c
		}
	}
	h.Sum = r.sum.Load()
	h.Max = r.max.Load()
	return h
}

// Histogram is a snapshot of recorded values in sparse form, small enough to pass between
// processes as JSON.
type Histogram struct {
	// Buckets holds (bucket index, count) pairs in increasing index order, non-zero counts only.
	Buckets [][2]uint64 `json:"b,omitempty"`
	N       uint64      `json:"n"`
	Sum     int64       `json:"s"`
	Max     int64       `json:"m"`
}

// Merge returns the histogram of the values of h and o together.
func (h Histogram) Merge(o Histogram) Histogram {
	out := Histogram{N: h.N + o.N, Sum: h.Sum + o.Sum, Max: max(h.Max, o.Max)}
	out.Buckets = make([][2]uint64, 0, len(h.Buckets)+len(o.Buckets))
	i, j := 0, 0
	for i < len(h.Buckets) || j < len(o.Buckets) {
		switch {
		case j == len(o.Buckets) || (i < len(h.Buckets) && h.Buckets[i][0] < o.Buckets[j][0]):
			out.Buckets = append(out.Buckets, h.Buckets[i])
			i++
		case i == len(h.Buckets) || o.Buckets[j][0] < h.Buckets[i][0]:
			out.Buckets = append(out.Buckets, o.Buckets[j])
			j++
		default:
			out.Buckets = append(out.Buckets, [2]uint64{h.Buckets[i][0], h.Buckets[i][1] + o.Buckets[j][1]})
			i++
			j++
		}
	}
	return out
}

// Quantile returns the value below or at which a fraction q (0..1) of the values lie: the upper
// bound of the bucket that holds the value of rank ceil(q*N), never more than Max. It returns 0
// for an empty histogram.
func (h Histogram) Quantile(q float64) int64 {
	if h.N == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.N)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for _, b := range h.Buckets {
		seen += b[1]
		if seen >= rank {
			return min(bucketHigh(int(b[0])), h.Max)
		}
	}
	return h.Max
}

// Mean returns the mean value, 0 for an empty histogram.
func (h Histogram) Mean() float64 {
	if h.N == 0 {
		return 0
	}
	return float64(h.Sum) / float64(h.N)
}

// Summary is the part of a histogram a report shows.
type Summary struct {
	N    uint64  `json:"n"`
	Mean float64 `json:"mean"`
	P50  int64   `json:"p50"`
	P90  int64   `json:"p90"`
	P99  int64   `json:"p99"`
	P999 int64   `json:"p999"`
	Max  int64   `json:"max"`
}

// Summarize returns the count, mean, p50, p90, p99, p99.9 and max of h.
func (h Histogram) Summarize() Summary {
	return Summary{
		N:    h.N,
		Mean: math.Round(h.Mean()*10) / 10,
		P50:  h.Quantile(0.50),
		P90:  h.Quantile(0.90),
		P99:  h.Quantile(0.99),
		P999: h.Quantile(0.999),
		Max:  h.Max,
	}
}
