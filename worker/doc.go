// Package worker is the stateless job runner of sous: it pulls step jobs from
// the SOUS_JOBS work queue, runs them through an Executor it is handed, commits
// the step's manifest to the artifact store (create-only), publishes the result
// on SOUS_EVENTS and only then acknowledges the job.
//
// # Delivery
//
// JetStream delivers a job at least once. A worker keeps a job alive with
// InProgress heartbeats shorter than the consumer's AckWait; if the worker dies
// the job is redelivered to another worker after AckWait. Because the manifest
// commit is create-only, a second attempt of the same step finds the first
// attempt's manifest and reports it instead of overwriting it (the first writer
// wins), so a redelivered job never produces two different outputs.
//
// # Errors
//
// An Executor signals how a failure should be handled:
//
//	plain error          retried with back-off until the consumer's MaxDeliver
//	Permanent(code, err) not retried: the job is terminated and the failure reported
//	RetryAfter(d, err)   retried after d
//
// A panic in a step is recovered and reported as CodeInternal with its stack.
//
// # Shutdown
//
// Stop stops fetching, then waits for running steps up to Config.ShutdownTimeout;
// steps still running after that are cancelled with ErrStop and their jobs are
// handed back with Nak so another worker picks them up at once.
package worker
