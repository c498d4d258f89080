// Package coordinator turns submitted recipes into jobs on the SOUS_JOBS work
// queue and follows them to the end of the run.
//
// # Planning
//
// A submission is loaded and validated by package recipes, which also gives
// the ordered steps up to the target. A step is ready when every upstream step
// of the run is done (ran or cached); it is skipped when one failed. For a
// ready step the coordinator derives its cache key from the step's settings
// and the content digests of its inputs (upstream outputs, source files, the
// model for predict), then:
//
//	manifest and all its objects exist → cached: the recorded result is reused
//	another active run holds the key   → wait for it (single flight)
//	otherwise                          → reserve the key, publish the job
//
// # Plumbing
//
// Workers publish step results on SOUS_EVENTS; the coordinator reads them
// through a durable consumer, records them in the runs KV bucket, releases
// the key and schedules what became ready. It publishes its own events
// (step_queued, step_cached, step_done, step_failed, run_finished) on the
// run's subjects, which `sous run` follows from the start of the run.
//
// See README.md in this directory for a diagram.
package coordinator
