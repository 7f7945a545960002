package stats

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

func TestBucketsCoverEveryValueInOrder(t *testing.T) {
	// Every bucket's range starts right after the previous one's and contains the values that
	// map to it.
	prevHigh := int64(-1)
	for i := range NumBuckets {
		high := bucketHigh(i)
		low := prevHigh + 1
		if high < low {
			t.Fatalf("bucket %d: high %d below low %d", i, high, low)
		}
		if bucketOf(low) != i || bucketOf(high) != i {
			t.Fatalf("bucket %d [%d, %d]: bucketOf gives %d and %d", i, low, high, bucketOf(low), bucketOf(high))
		}
		prevHigh = high
		if high < 0 { // the last bucket ends at MaxInt64
			t.Fatalf("bucket %d overflows", i)
		}
	}
	if prevHigh != 1<<63-1 {
		t.Fatalf("last bucket ends at %d, want MaxInt64", prevHigh)
	}
}

// exactQuantile is the value of rank ceil(q*n) in sorted values.
func exactQuantile(sorted []int64, q float64) int64 {
	rank := int(q*float64(len(sorted)) + 0.999999999)
	rank = max(rank, 1)
	return sorted[rank-1]
}

func TestQuantileWithinBucketError(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var r Recorder
	var values []int64
	for range 100_000 {
		// Log-normal-ish spread from microseconds to seconds.
		v := int64(rng.ExpFloat64() * rng.ExpFloat64() * 3000)
		values = append(values, v)
		r.Record(v)
	}
	slices.Sort(values)
	h := r.Snapshot()
	if h.N != uint64(len(values)) || h.Max != values[len(values)-1] || r.Count() != int64(len(values)) {
		t.Fatalf("N=%d Max=%d Count=%d, want %d and %d", h.N, h.Max, r.Count(), len(values), values[len(values)-1])
	}
	for _, q := range []float64{0, 0.1, 0.5, 0.9, 0.99, 0.999, 1} {
		want := exactQuantile(values, q)
		got := h.Quantile(q)
		// Reported values are bucket upper bounds: never below the truth, at most 1/32 above.
		if got < want || float64(got) > float64(want)*(1+1.0/32)+1 {
			t.Errorf("Quantile(%v) = %d, exact %d", q, got, want)
		}
	}
}

func TestSmallValuesAreExact(t *testing.T) {
	var r Recorder
	for v := range int64(10) {
		r.Record(v) // 0..9
	}
	r.Record(-5) // counts as 0
	h := r.Snapshot()
	if got := h.Quantile(0.5); got != 4 {
		t.Errorf("p50 = %d, want 4", got)
	}
	if got := h.Quantile(1); got != 9 {
		t.Errorf("p100 = %d, want 9", got)
	}
	if got := h.Mean(); got != 45.0/11 {
		t.Errorf("mean = %v, want %v", got, 45.0/11)
	}
	s := h.Summarize()
	if s.N != 11 || s.Max != 9 || s.P99 != 9 {
		t.Errorf("summary %+v", s)
	}
}

func TestEmpty(t *testing.T) {
	var h Histogram
	if h.Quantile(0.99) != 0 || h.Mean() != 0 || h.Summarize() != (Summary{}) {
		t.Fatal("empty histogram reports values")
	}
}

func TestMergeEqualsRecordingTogether(t *testing.T) {
	var a, b, all Recorder
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 10_000 {
		v := rng.Int64N(1 << 30)
		all.Record(v)
		if i%3 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
	}
	m := a.Snapshot().Merge(b.Snapshot())
	w := all.Snapshot()
	if !slices.Equal(m.Buckets, w.Buckets) || m.N != w.N || m.Sum != w.Sum || m.Max != w.Max {
		t.Fatal("merged histogram differs from the one recorded together")
	}
	if got := (Histogram{}).Merge(w); !slices.Equal(got.Buckets, w.Buckets) {
		t.Fatal("merge with empty changed the histogram")
	}
}

func TestRecorderConcurrent(t *testing.T) {
	var r Recorder
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				r.Record(int64(g*1000 + i))
			}
		}()
	}
	wg.Wait()
	h := r.Snapshot()
	if h.N != 4000 || h.Max != 3999 {
		t.Fatalf("N=%d Max=%d after concurrent records", h.N, h.Max)
	}
}

func TestRecordDoesNotAllocate(t *testing.T) {
	var r Recorder
	if n := testing.AllocsPerRun(100, func() { r.Record(12345) }); n != 0 {
		t.Fatalf("Record allocates %v times", n)
	}
}
