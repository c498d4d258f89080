package proto

import (
	"encoding/json"
	"fmt"
)

// Batch scoring fans predict out over shards of the scoring data:
// ingest_scoring describes the data without copying it (a Dataset), the
// coordinator cuts it into Shards and publishes one job per shard, and once
// every shard's part exists a last predict job commits the ScoredData.

// Dataset is what ingest_scoring found: the files to score, how to read
// them, their common schema and the size of every parquet row group.
type Dataset struct {
	Schema int `json:"schema"`
	// Reading is the ingest_scoring settings the files are read with, as JSON.
	Reading json.RawMessage `json:"reading"`
	Columns []Column        `json:"columns"`
	Rows    int64           `json:"rows"`
	Files   []DatasetFile   `json:"files"`
}

// Column is a column's name and kind (float, int, bool, string, timestamp).
type Column struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// DatasetFile is one file of a Dataset.
type DatasetFile struct {
	Source Source `json:"source"`
	Rows   int64  `json:"rows"`
	// RowGroups holds the row count of each parquet row group; it is empty
	// for a csv file, which is scored whole.
	RowGroups []int64 `json:"row_groups,omitempty"`
}

// Shard is the part of a Dataset one predict job scores: a file, or a range
// of row groups of a large parquet file.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
	// File indexes Dataset.Files.
	File int `json:"file"`
	// FirstRowGroup and RowGroups select row groups [FirstRowGroup,
	// FirstRowGroup+RowGroups); RowGroups is 0 for a whole csv file.
	FirstRowGroup int   `json:"first_row_group,omitempty"`
	RowGroups     int   `json:"row_groups,omitempty"`
	Rows          int64 `json:"rows"`
}

// Part is the scored output of one shard.
type Part struct {
	Index int         `json:"index"`
	Rows  int64       `json:"rows"`
	Data  ArtifactRef `json:"data"` // parquet
	// Summary is a small JSON document the commit job builds the scored-data card from.
	Summary ArtifactRef `json:"summary"`
}

// ScoredData is predict's output: the scored parts in order. Concatenated,
// they are the input rows with the prediction columns appended.
type ScoredData struct {
	Schema  int      `json:"schema"`
	Columns []Column `json:"columns"`
	Rows    int64    `json:"rows"`
	Parts   []Part   `json:"parts"`
}

// Progress is how far a fanned-out step has got.
type Progress struct {
	Shards     int   `json:"shards"`
	ShardsDone int   `json:"shards_done"`
	Rows       int64 `json:"rows"`
	RowsDone   int64 `json:"rows_done"`
}

// PartOutput and SummaryOutput are the output names of a shard job.
const (
	PartOutput    = "scored_part"
	SummaryOutput = "scored_summary"
)

// PartName is the name under which predict's committed output lists part i,
// so that a cache check finds every part.
func PartName(i int) string { return fmt.Sprintf("part-%05d", i) }
