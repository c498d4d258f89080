// Package recipes reads a recipe (recipe.yaml and a profile) from an fs.FS,
// validates it strictly, and turns it into a checked step graph with cache
// keys. It does no network I/O; the step implementations live below it.
//
// # Loading
//
// [Load] and [LoadWith] read recipe.yaml and profiles/<profile>.yaml (profile
// "local" by default). As in MLflow Recipes, the profile is rendered first
// (with the environment, through [LoadOptions].Env), then recipe.yaml is
// rendered with the profile's top-level keys as variables:
//
//	steps:
//	  ingest: {{INGEST_CONFIG}}
//	  split:
//	    split_ratios: {{ SPLIT_RATIOS | default([0.75, 0.125, 0.125]) }}
//
// Only {{ VAR }} and {{ VAR | default(x) }} exist, x being a YAML flow value.
// A value is written on its placeholder's line (maps and lists as YAML flow,
// strings quoted only when they must be), so line numbers in errors are those
// of the file as written. Lines starting with # are not rendered. The
// profile's experiment and model_registry keys are recipe settings.
//
// # Errors
//
// Every mistake is an [*Error] with the file, the line, the dotted key, the
// problem and what is allowed, and a suggestion for a likely typo:
//
//	recipe.yaml:6: steps.split.split_ratio: unknown key; allowed: split_ratios, post_split_filter; did you mean "split_ratios"?
//
// Load reports every problem it finds, as [Errors] sorted by file and line.
//
// # Settings
//
// A [Recipe] holds typed settings per step ([IngestSettings],
// [SplitSettings], [TransformSettings], [TrainSettings], ...) with defaults
// applied. Estimator and transformer parameters are checked against
// per-estimator tables (names, types, ranges, scikit-learn defaults) and
// always hold every parameter.
//
// # Graph
//
// [Steps] is the template graph as data: each step's upstream steps and
// input and output artifacts. [Recipe.Plan] returns the steps needed to reach
// a target, in order, and names any the recipe is missing.
//
// # Cache keys
//
// A step's key ([KeyDoc.Key]) is the sha256 of the canonical JSON
// ([CanonicalJSON]) of its [KeyDoc]: the key schema, template, step, its
// settings with defaults ([Recipe.StepSettings]), the recipe-level settings
// it reads, the digests of its inputs and the version of its implementation.
// Writing a default explicitly, reordering map keys or writing 1 as 1.0 does
// not change a key; changing a step's settings changes only that step's key
// (downstream keys change through the digests of its outputs).
// [DiffKeyDocs] says why a key changed.
//
// # Sources
//
// [Recipe.Sources] resolves the ingest locations (files, directories, globs,
// lists, s3:// URLs) to files, and a [DigestCache] remembers their sha256 by
// size and modification time so that re-runs do not re-read unchanged data.
package recipes
