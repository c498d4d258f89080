package coordinator

import (
	"maps"
	"sync"
	"sync/atomic"
)

// Stats are a coordinator's counters since it started, for metrics.
type Stats struct {
	// Submitted counts runs submitted to this coordinator.
	Submitted uint64
	// Finished counts finished runs by final status (succeeded, failed, cancelled).
	Finished map[string]uint64
	// CacheHits counts steps whose outputs were found in the cache,
	// CacheMisses steps that had to run (their job was published).
	CacheHits, CacheMisses uint64
	// JobsPublished counts jobs published on SOUS_JOBS.
	JobsPublished uint64
	// ActiveRuns is the number of runs in flight.
	ActiveRuns int
}

type stats struct {
	submitted, hits, misses, published atomic.Uint64
	mu                                 sync.Mutex
	finished                           map[string]uint64
}

func (s *stats) finish(status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.finished == nil {
		s.finished = map[string]uint64{}
	}
	s.finished[status]++
}

// Stats returns the coordinator's counters.
func (c *Coordinator) Stats() Stats {
	out := Stats{
		Submitted:     c.stats.submitted.Load(),
		CacheHits:     c.stats.hits.Load(),
		CacheMisses:   c.stats.misses.Load(),
		JobsPublished: c.stats.published.Load(),
		Finished:      map[string]uint64{},
	}
	c.stats.mu.Lock()
	maps.Copy(out.Finished, c.stats.finished)
	c.stats.mu.Unlock()
	c.mu.Lock()
	out.ActiveRuns = len(c.runs)
	c.mu.Unlock()
	return out
}
