// Package synth holds what the benchmark commands (bench/gbdt,
// bench/models) share: the deterministic synthetic data sets, float64 files
// that numpy.fromfile reads, and the measurements (process and thread CPU
// time, peak RSS, RMSE, ROC AUC).
//
// # Data sets
//
// Taxi generates NYC-taxi-like trips for a fare regression; Binary a binary
// classification with 20 numeric and 3 integer-coded categorical features.
// Both are row-major and depend only on the row count and the seed.
package synth
