// Package proto is the wire contract between the CLI, the coordinator and the
// workers: message types, subject, stream, consumer and bucket names, the
// schema version and the error codes. It imports only the standard library.
//
// Messages are JSON and carry references (cache keys, object digests), never data.
// A receiver refuses a message whose Schema is not SchemaVersion with
// ErrUnsupportedSchema, so that mixed versions fail loudly instead of misreading.
package proto

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// SchemaVersion is the version of every message in this package.
const SchemaVersion = 1

// ErrUnsupportedSchema is returned when decoding a message of another schema version.
var ErrUnsupportedSchema = errors.New("proto: unsupported message schema version")

// JetStream names.
const (
	StreamJobs   = "SOUS_JOBS"
	StreamEvents = "SOUS_EVENTS"

	// StreamAdvisories keeps the server's MAX_DELIVERIES advisories for
	// SOUS_JOBS, so a coordinator that was down when one fired still sees it.
	StreamAdvisories = "SOUS_ADVISORIES"
	// MaxDeliveriesSubjects are the advisories of jobs whose deliveries ran out.
	MaxDeliveriesSubjects = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + StreamJobs + ".*"

	// BucketRuns holds one RunState per run, keyed by run id.
	BucketRuns = "SOUS_RUNS"
	// BucketReservations holds single-flight reservations, keyed by cache key.
	BucketReservations = "SOUS_CACHE"

	DefaultPool = "default"
)

// JobSubject is the subject a job for one step of one run is published on.
func JobSubject(pool, runID, step string) string {
	return fmt.Sprintf("sous.jobs.%s.%s.%s", pool, runID, step)
}

// JobSubjects is the filter of the jobs stream.
const JobSubjects = "sous.jobs.>"

// PoolSubjects is the filter a pool's consumer pulls from.
func PoolSubjects(pool string) string { return "sous.jobs." + pool + ".>" }

// ConsumerName is the durable pull consumer of a worker pool.
func ConsumerName(pool string) string { return "workers-" + pool }

// EventSubject is the subject an event of a run is published on:
// sous.events.<run>.<kind>. The CLI follows sous.events.<run>.> and the
// coordinator consumes ResultSubjects.
func EventSubject(runID string, kind EventKind) string {
	return "sous.events." + runID + "." + string(kind)
}

// RunEventSubjects matches every event of one run.
func RunEventSubjects(runID string) string { return "sous.events." + runID + ".>" }

// ResultSubjects matches the step results workers publish, for every run.
const ResultSubjects = "sous.events.*." + string(EventStepResult)

// EventSubjects is the filter of the events stream.
const EventSubjects = "sous.events.>"

// CoordinatorConsumer is the durable consumer through which the coordinator reads step results.
const CoordinatorConsumer = "coordinator"

// ArtifactRef names one output of a step by content.
type ArtifactRef struct {
	Digest string `json:"digest"` // hex sha256; the object is objects/<digest>
	Size   int64  `json:"size"`
}

// Source is one input file of an ingest step.
type Source struct {
	// Name identifies the file in cache keys: its path relative to the
	// recipe directory (or its absolute path or URL when outside it), so that
	// moving a recipe keeps its cache.
	Name string `json:"name"`
	// URI is where a worker on the coordinator's machine finds the file.
	URI string `json:"uri"`
	// Uploaded says the CLI uploaded the file to the store as objects/<Digest>;
	// workers then read it from there instead of URI.
	Uploaded bool   `json:"uploaded,omitempty"`
	Digest   string `json:"digest"`
	Size     int64  `json:"size"`
}

// Job asks a worker to run one step.
type Job struct {
	Schema   int    `json:"schema"`
	RunID    string `json:"run_id"`
	Step     string `json:"step"`
	Template string `json:"template"`
	CacheKey string `json:"cache_key"`
	// Config is the step's settings plus the recipe-level settings it reads, as JSON.
	Config json.RawMessage `json:"config"`
	// Inputs maps upstream outputs by name ("training_data", "model", ...).
	Inputs map[string]ArtifactRef `json:"inputs,omitempty"`
	// Sources are the files an ingest step reads.
	Sources []Source `json:"sources,omitempty"`
	// KeyDoc is the canonical document CacheKey hashes, stored in the manifest
	// so that a later miss can say what changed.
	KeyDoc json.RawMessage `json:"key_doc,omitempty"`
	// Timeout bounds one attempt; zero means the worker's default.
	Timeout time.Duration `json:"timeout,omitempty"`
	// Shard is set on a job that scores one shard of predict's data.
	Shard *Shard `json:"shard,omitempty"`
	// Parts is set on predict's last job, which commits the scored shards.
	Parts []Part `json:"parts,omitempty"`
}

// Validate checks the fields a worker needs.
func (j *Job) Validate() error {
	if j.Schema != SchemaVersion {
		return fmt.Errorf("%w: job has %d, this binary speaks %d", ErrUnsupportedSchema, j.Schema, SchemaVersion)
	}
	if j.RunID == "" || j.Step == "" || j.CacheKey == "" {
		return errors.New("proto: job needs run_id, step and cache_key")
	}
	return nil
}

// EventKind says what an Event reports.
type EventKind string

// Event kinds.
const (
	EventRunStarted  EventKind = "run_started"
	EventStepQueued  EventKind = "step_queued"
	EventStepStarted EventKind = "step_started"
	EventStepCached  EventKind = "step_cached"
	EventStepDone    EventKind = "step_done"
	EventStepFailed  EventKind = "step_failed"
	EventStepSkipped EventKind = "step_skipped"
	EventRunFinished EventKind = "run_finished"
	// EventShardDone reports a scored (or cached) shard of a fanned-out step.
	EventShardDone EventKind = "shard_done"
	// EventStepResult is published by a worker when a step attempt ends; the
	// coordinator turns it into EventStepDone or EventStepFailed.
	EventStepResult EventKind = "step_result"
)

// Event is published on EventSubject(run).
type Event struct {
	Schema   int       `json:"schema"`
	Kind     EventKind `json:"kind"`
	RunID    string    `json:"run_id"`
	Step     string    `json:"step,omitempty"`
	CacheKey string    `json:"cache_key,omitempty"`
	Time     time.Time `json:"time"`
	WorkerID string    `json:"worker_id,omitempty"`
	Attempt  int       `json:"attempt,omitempty"`
	// Result is set on EventStepResult and EventStepDone.
	Result *Result `json:"result,omitempty"`
	// Run is set on EventRunFinished.
	Run *RunState `json:"run,omitempty"`
	// Shard is set on the results and events of a shard job.
	Shard *Shard `json:"shard,omitempty"`
	// Progress is set on EventShardDone.
	Progress *Progress `json:"progress,omitempty"`
}

// Result is what a step attempt produced.
type Result struct {
	OK       bool                   `json:"ok"`
	Code     ErrorCode              `json:"code,omitempty"`
	Error    string                 `json:"error,omitempty"`
	Outputs  map[string]ArtifactRef `json:"outputs,omitempty"`
	Metrics  map[string]float64     `json:"metrics,omitempty"`
	Summary  string                 `json:"summary,omitempty"`
	Duration time.Duration          `json:"duration"`
	// Duplicate is true when another attempt had already committed the manifest.
	Duplicate bool `json:"duplicate,omitempty"`
	// ValidationStatus is set by evaluate: VALIDATED, REJECTED or UNKNOWN.
	ValidationStatus string `json:"validation_status,omitempty"`
	// Registered is set by register.
	Registered *ModelVersion `json:"registered,omitempty"`
	// Card is the digest of the step's HTML card.
	Card string `json:"card,omitempty"`
}

// ErrorCode classifies a failure on the wire.
type ErrorCode int

// Error codes. Never renumber: they are part of the wire contract.
const (
	CodeNone          ErrorCode = 0
	CodeInternal      ErrorCode = 1  // a bug or panic in a step
	CodeBadInput      ErrorCode = 2  // data or settings the step cannot use; retrying will not help
	CodeStore         ErrorCode = 3  // the artifact store failed
	CodeTimeout       ErrorCode = 4  // the attempt ran out of time
	CodeCancelled     ErrorCode = 5  // the run was cancelled
	CodeMaxDeliveries ErrorCode = 6  // the job was delivered MaxDeliver times without a result
	CodeRejected      ErrorCode = 7  // the model did not pass validation and may not be registered
	CodeUnknownStep   ErrorCode = 8  // this worker has no code for the step
	CodeBadMessage    ErrorCode = 9  // the message could not be decoded or has another schema
	CodeUpstream      ErrorCode = 10 // an upstream step failed, so this one did not run
)

func (c ErrorCode) String() string {
	switch c {
	case CodeNone:
		return "none"
	case CodeInternal:
		return "internal"
	case CodeBadInput:
		return "bad_input"
	case CodeStore:
		return "store"
	case CodeTimeout:
		return "timeout"
	case CodeCancelled:
		return "cancelled"
	case CodeMaxDeliveries:
		return "max_deliveries"
	case CodeRejected:
		return "rejected"
	case CodeUnknownStep:
		return "unknown_step"
	case CodeBadMessage:
		return "bad_message"
	case CodeUpstream:
		return "upstream_failed"
	}
	return fmt.Sprintf("code(%d)", int(c))
}

// Run and step states.
const (
	StatusPending   = "pending"
	StatusQueued    = "queued"
	StatusRunning   = "running"
	StatusRan       = "ran"
	StatusCached    = "cached"
	StatusFailed    = "failed"
	StatusSkipped   = "skipped"
	StatusSucceeded = "succeeded"
	StatusCancelled = "cancelled"
)

// StepState is one step of a run as the coordinator records it.
type StepState struct {
	Name     string                 `json:"name"`
	Status   string                 `json:"status"`
	CacheKey string                 `json:"cache_key,omitempty"`
	Duration time.Duration          `json:"duration,omitempty"`
	Metrics  map[string]float64     `json:"metrics,omitempty"`
	Outputs  map[string]ArtifactRef `json:"outputs,omitempty"`
	Summary  string                 `json:"summary,omitempty"`
	Card     string                 `json:"card,omitempty"`
	Code     ErrorCode              `json:"code,omitempty"`
	Error    string                 `json:"error,omitempty"`
	Attempts int                    `json:"attempts,omitempty"`
	// Reason says why a step ran: "no cached output", "settings.split_ratios changed", ...
	Reason string `json:"reason,omitempty"`
	// Progress is set while a fanned-out step runs.
	Progress *Progress `json:"progress,omitempty"`
}

// ModelVersion names a registered model version.
type ModelVersion struct {
	Name    string `json:"name"`
	Version int    `json:"version"`
}

// RunState is the coordinator's record of a run, kept in BucketRuns and
// written to the store under runs/ when the run ends.
type RunState struct {
	Schema           int           `json:"schema"`
	RunID            string        `json:"run_id"`
	Status           string        `json:"status"`
	Recipe           string        `json:"recipe"`
	Target           string        `json:"target"`
	Steps            []StepState   `json:"steps"`
	ValidationStatus string        `json:"validation_status,omitempty"`
	Registered       *ModelVersion `json:"registered_model,omitempty"`
	Error            string        `json:"error,omitempty"`
	Created          time.Time     `json:"created"`
	Finished         time.Time     `json:"finished,omitzero"`
}

// Step returns the state of the named step, or nil.
func (r *RunState) Step(name string) *StepState {
	for i := range r.Steps {
		if r.Steps[i].Name == name {
			return &r.Steps[i]
		}
	}
	return nil
}

// Decode unmarshals a message and checks its schema version.
func Decode(data []byte, v interface{ schema() int }) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("proto: decode: %w", err)
	}
	if s := v.schema(); s != SchemaVersion {
		return fmt.Errorf("%w: message has %d, this binary speaks %d", ErrUnsupportedSchema, s, SchemaVersion)
	}
	return nil
}

func (j *Job) schema() int      { return j.Schema }
func (e *Event) schema() int    { return e.Schema }
func (r *RunState) schema() int { return r.Schema }

// SubmitRequest asks the coordinator to start a run.
type SubmitRequest struct {
	Schema int `json:"schema"`
	// RecipeDir is the directory holding recipe.yaml, as the coordinator sees
	// it; relative data locations resolve against it.
	RecipeDir string `json:"recipe_dir"`
	// Files optionally carries recipe.yaml and profiles/*.yaml by relative
	// path, for a coordinator that cannot read RecipeDir.
	Files   map[string][]byte `json:"files,omitempty"`
	Profile string            `json:"profile,omitempty"`
	// Target is the step to run up to; empty means the training graph up to register.
	Target string `json:"target,omitempty"`
	// Sources, when set, are the ingest steps' files, already hashed and
	// uploaded by the CLI (step name → files); the coordinator then reads no
	// local file.
	Sources map[string][]Source `json:"sources,omitempty"`
	// Env holds the environment variables the profile may reference, taken
	// from the submitting CLI.
	Env map[string]string `json:"env,omitempty"`
}

func (r *SubmitRequest) schema() int { return r.Schema }

// The coordinator's API, served as a NATS micro service: requests and
// replies are JSON; a failed request is answered with the micro error
// headers, the code being an ErrorCode number.
const (
	APIService = "sous"
	APIGroup   = "sous.api"
	APISubmit  = APIGroup + ".submit" // SubmitRequest → RunState
	APIStatus  = APIGroup + ".status" // RunRequest → RunState
	APICancel  = APIGroup + ".cancel" // RunRequest → RunState
	APIRuns    = APIGroup + ".runs"   // RunsRequest → RunsReply
)

// APIModels queries the registry: ModelsRequest → ModelsReply.
const APIModels = APIGroup + ".models"

// ModelsRequest asks for the registered model names (Name empty) or the
// versions of one model.
type ModelsRequest struct {
	Name string `json:"name,omitempty"`
}

// ModelsReply is the answer to APIModels; Versions are registry documents as JSON.
type ModelsReply struct {
	Models   []string          `json:"models,omitempty"`
	Versions []json.RawMessage `json:"versions,omitempty"`
}

// RunRequest names a run.
type RunRequest struct {
	RunID string `json:"run_id"`
}

// RunsRequest lists runs, newest first.
type RunsRequest struct {
	Limit int `json:"limit,omitempty"`
}

// RunsReply is the answer to APIRuns.
type RunsReply struct {
	Runs []RunState `json:"runs"`
}

// APIPlan answers what a run would do without running anything:
// SubmitRequest → PlanReply.
const APIPlan = APIGroup + ".plan"

// StepPlan is what a run would do with one step.
type StepPlan struct {
	Name string `json:"name"`
	// Status is "cached" (its output exists), "run" (it would run) or
	// "in_flight" (another run is computing the same key now).
	Status   string `json:"status"`
	CacheKey string `json:"cache_key,omitempty"`
	// Reason says why a step would run: what changed in its key.
	Reason string `json:"reason,omitempty"`
}

// PlanReply is the answer to APIPlan.
type PlanReply struct {
	Steps []StepPlan `json:"steps"`
}
