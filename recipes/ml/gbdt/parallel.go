package gbdt

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// minChunk is the fewest rows worth handing to another goroutine.
const minChunk = 16384

// A team runs the parallel loops of one Fit on a fixed set of goroutines.
//
// Growing a tree runs about a hundred short parallel loops (a histogram,
// a partition, a split search per split), a few hundred microseconds
// apart. Starting goroutines for each one meant waking a parked thread
// each time, which took 20-50µs on the 2-core machine the benchmarks run
// on: more than some loops take. A team's goroutines instead spin for
// spinFor after a loop, ready for the next, and only then park; they
// yield the processor while spinning, so they do not hold up other
// goroutines.
//
// Loop items are handed out one at a time, so a goroutine that the OS
// deschedules (the machine may be shared) holds up a loop by at most one
// item. Each call's w (0 for the caller) identifies the goroutine, for
// per-goroutine scratch.
type team struct {
	size int // goroutines, the caller included

	job   atomic.Pointer[teamJob]
	epoch atomic.Uint64 // counts published jobs

	mu     sync.Mutex
	cond   *sync.Cond // signalled on a new job or close, under mu
	closed bool
	wg     sync.WaitGroup
}

// teamJob is one loop.
type teamJob struct {
	fn      func(w, i int)
	groups  []itemGroup
	pending atomic.Int64  // items not yet finished
	done    chan struct{} // closed when pending reaches 0
}

// itemGroup is a contiguous range of a job's items, handed out in order.
type itemGroup struct {
	next atomic.Int64
	end  int64
	_    [48]byte // a cache line each: goroutines take from different groups
}

// spinFor is how long an idle team goroutine waits for work before
// parking, and how long the caller waits for a loop's last items before
// blocking.
const spinFor = 100 * time.Microsecond

// newTeam starts a team of size goroutines (the caller is one of them).
// The team must be closed.
func newTeam(size int) *team {
	tm := &team{size: max(1, size)}
	tm.cond = sync.NewCond(&tm.mu)
	for w := 1; w < tm.size; w++ {
		tm.wg.Add(1)
		go tm.worker(w)
	}
	return tm
}

// close stops the team's goroutines and waits for them.
func (tm *team) close() {
	tm.mu.Lock()
	tm.closed = true
	tm.cond.Broadcast()
	tm.mu.Unlock()
	tm.wg.Wait()
}

func (tm *team) worker(w int) {
	defer tm.wg.Done()
	seen := uint64(0)
	for {
		start := time.Now()
		for i := 0; tm.epoch.Load() == seen; i++ {
			if i%64 != 63 {
				continue
			}
			if time.Since(start) < spinFor {
				runtime.Gosched()
				continue
			}
			tm.mu.Lock()
			for tm.epoch.Load() == seen && !tm.closed {
				tm.cond.Wait()
			}
			closed := tm.closed
			tm.mu.Unlock()
			if closed {
				return
			}
		}
		seen = tm.epoch.Load()
		tm.run(tm.job.Load(), w)
	}
}

// run does items of j until none are left.
//
// The items are split into one contiguous group per goroutine, and
// goroutine w starts on group w, moving on to the next groups (whose
// goroutines may be slow or descheduled) when its own runs out. Loops
// index items by row, so each goroutine mostly works on the same rows
// from loop to loop, and those rows' data stays in its core's caches.
// Handing all items out in order instead, so that a goroutine often read
// rows the other core had just written, cost 2-thread fits a third more
// CPU time and a quarter more wall time on the 2-core benchmark machine.
func (tm *team) run(j *teamJob, w int) {
	for g := range j.groups {
		grp := &j.groups[(w+g)%len(j.groups)]
		for {
			i := grp.next.Add(1) - 1
			if i >= grp.end {
				break
			}
			j.fn(w, int(i))
			if j.pending.Add(-1) == 0 {
				close(j.done)
			}
		}
	}
}

// each calls fn(w, i) for i in [0, n) on the team and returns when all
// calls have returned. It runs on the caller alone when the team has one
// goroutine or n < 2. Loops on one team must not overlap.
func (tm *team) each(n int, fn func(w, i int)) {
	if tm.size == 1 || n < 2 {
		for i := range n {
			fn(0, i)
		}
		return
	}
	j := &teamJob{fn: fn, groups: make([]itemGroup, tm.size), done: make(chan struct{})}
	for g := range j.groups {
		j.groups[g].next.Store(int64(n * g / tm.size))
		j.groups[g].end = int64(n * (g + 1) / tm.size)
	}
	j.pending.Store(int64(n))
	tm.job.Store(j)
	tm.epoch.Add(1)
	tm.mu.Lock()
	tm.cond.Broadcast()
	tm.mu.Unlock()
	tm.run(j, 0)
	start := time.Now()
	for i := 0; j.pending.Load() > 0; i++ {
		if i%64 == 63 && time.Since(start) > spinFor {
			<-j.done
			break
		}
	}
}

// chunks calls fn(w, lo, hi) on the team for chunks of at least grain
// items, about two per goroutine, covering [0, n).
func (tm *team) chunks(n, grain int, fn func(w, lo, hi int)) {
	k := max(1, min(2*tm.size, n/max(1, grain)))
	if tm.size == 1 {
		k = 1
	}
	size := (n + k - 1) / k
	tm.each(k, func(w, i int) {
		fn(w, min(i*size, n), min((i+1)*size, n))
	})
}

// parallelMax returns the largest value fn returns over chunks covering
// [0, n), or 0.
func (tm *team) parallelMax(n int, fn func(lo, hi int) float64) float64 {
	out := make([]float64, tm.size)
	tm.chunks(n, minChunk, func(w, lo, hi int) {
		out[w] = max(out[w], fn(lo, hi))
	})
	m := out[0]
	for _, v := range out[1:] {
		m = max(m, v)
	}
	return m
}

// parallelSums returns the sum of what fn returns over chunks covering
// [0, n); w identifies the goroutine.
func (tm *team) parallelSums(n int, fn func(w, lo, hi int) nodeSums) nodeSums {
	out := make([]nodeSums, tm.size)
	tm.chunks(n, minChunk, func(w, lo, hi int) {
		s := fn(w, lo, hi)
		out[w].g += s.g
		out[w].h += s.h
		out[w].c += s.c
	})
	var s nodeSums
	for _, p := range out {
		s.g += p.g
		s.h += p.h
		s.c += p.c
	}
	return s
}
