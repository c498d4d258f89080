package gbdt

import "sync"

// minChunk is the fewest rows worth handing to another goroutine.
const minChunk = 16384

// parallelFor calls fn on up to threads contiguous chunks covering [0, n)
// and waits for them.
func parallelFor(n, threads int, fn func(lo, hi int)) {
	t := min(threads, (n+minChunk-1)/minChunk)
	if t <= 1 {
		fn(0, n)
		return
	}
	chunk := (n + t - 1) / t
	var wg sync.WaitGroup
	for lo := chunk; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Go(func() { fn(lo, hi) })
	}
	fn(0, chunk)
	wg.Wait()
}

// parallelMax returns the largest value fn returns over the chunks of
// parallelFor, or 0.
func parallelMax(n, threads int, fn func(lo, hi int) float64) float64 {
	t := min(threads, (n+minChunk-1)/minChunk)
	if t <= 1 {
		return fn(0, n)
	}
	chunk := (n + t - 1) / t
	out := make([]float64, t)
	var wg sync.WaitGroup
	for i := 1; i < t; i++ {
		lo, hi := i*chunk, min((i+1)*chunk, n)
		if lo >= hi {
			continue
		}
		wg.Go(func() { out[i] = fn(lo, hi) })
	}
	out[0] = fn(0, chunk)
	wg.Wait()
	m := out[0]
	for _, v := range out[1:] {
		m = max(m, v)
	}
	return m
}

// forEach calls fn(i) for i in [0, n) on up to threads goroutines, handing
// out indexes in order.
func forEach(n, threads int, fn func(i int)) {
	t := min(threads, n)
	if t <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var (
		mu   sync.Mutex
		next int
		wg   sync.WaitGroup
	)
	work := func() {
		for {
			mu.Lock()
			i := next
			next++
			mu.Unlock()
			if i >= n {
				return
			}
			fn(i)
		}
	}
	for range t - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
}
