package coordinator

import (
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/sous-ml/sous/proto"
)

// Defaults for Config.
const (
	DefaultEventsMaxAge = 7 * 24 * time.Hour
	DefaultStepTimeout  = 2 * time.Hour
	// DefaultShardRows is the rows predict scores per job: enough that a
	// job's fixed cost (a few milliseconds) is noise, few enough that two
	// million rows already spread over four jobs.
	DefaultShardRows = 500_000
)

// Config configures a Coordinator.
type Config struct {
	// Pool is the worker pool jobs are published to.
	Pool string
	// StepVersions is the implementation version of each step's code; it is
	// part of every cache key, so new step code invalidates old outputs.
	StepVersions map[string]string
	// DigestCachePath is where source file digests are remembered between
	// runs (by path, size and modification time); empty keeps them in memory.
	DigestCachePath string
	// StepTimeout bounds one attempt of a step.
	StepTimeout time.Duration
	// ShardRows is about how many rows one predict job scores: a parquet file
	// is cut between row groups into shards of at least this many rows (a row
	// group is never split), and every csv file is one shard.
	ShardRows int64
	// EventsMaxAge is how long run events are kept in SOUS_EVENTS.
	EventsMaxAge time.Duration
	Logger       *zap.Logger
	// LocalFiles lets submissions name files on this machine (source paths,
	// a model_uri path) for the coordinator and workers to read. Only the
	// embedded runtime, where they are the user's own files, sets it; a
	// cluster takes data only as objects the CLI uploaded to the store.
	LocalFiles bool
	// Env resolves {{ VAR }} in profiles (MLflow renders profiles with the
	// environment); nil means an empty environment.
	Env func(string) (string, bool)
	// Now is the clock; default time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.Pool == "" {
		c.Pool = proto.DefaultPool
	}
	if c.StepTimeout <= 0 {
		c.StepTimeout = DefaultStepTimeout
	}
	if c.ShardRows <= 0 {
		c.ShardRows = DefaultShardRows
	}
	if c.EventsMaxAge <= 0 {
		c.EventsMaxAge = DefaultEventsMaxAge
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	if len(c.StepVersions) == 0 {
		return errors.New("coordinator: StepVersions is empty: the coordinator needs the version of each step's code for cache keys")
	}
	return nil
}
