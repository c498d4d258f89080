// Package tree fits CART decision trees and random forests in pure Go, in
// the style of scikit-learn's DecisionTree/RandomForest Regressor and
// Classifier, and predicts with them. It works on row-major []float64
// matrices and does not depend on the rest of sous (package ml adapts it as
// the decision_tree and random_forest estimators).
//
// # Fitting
//
// Fit quantises every feature once into at most Params.MaxBins (256) bins
// and stores the binned matrix column-major as bytes, shared read-only by
// all the trees of a forest. A feature with at most 256 distinct values gets
// one bin per value and the thresholds scikit-learn uses (midpoints between
// consecutive distinct values), so small data is split exactly as CART
// does; a feature with more distinct values gets quantile bins (from an
// evenly strided subsample of at most 200,000 rows) with thresholds at
// midpoints between the distinct values on either side of each bin
// boundary, as LightGBM and scikit-learn's HistGradientBoosting do.
//
// Trees grow depth-first. At each node, features are drawn without
// replacement (a seeded Fisher-Yates shuffle) until Params.MaxFeatures
// features that are not constant in the node have been tried, as in
// scikit-learn. For each feature the node's rows are accumulated into a
// histogram over its bins (weighted count, and Σw·y for regression or the
// weighted class counts for classification) and the bins the node
// touches are scanned in order for the split maximising the weighted
// impurity decrease: variance reduction (squared error) for regression,
// Gini for classification. Nodes with few rows scan only their few bins,
// so deep trees cost O(rows) per level. A node becomes a leaf at MaxDepth,
// with fewer than MinSamplesSplit (or 2·MinSamplesLeaf) distinct rows, when
// pure, or when no split leaves MinSamplesLeaf rows on both sides. The
// node's row indexes are then partitioned stably in place.
//
// A forest fits each tree on a bootstrap sample (Params.Bootstrap: n draws
// with replacement, kept as integer row weights, so MinSamplesLeaf counts
// distinct rows like scikit-learn) from a PCG stream seeded with (Seed,
// tree index). Trees are fitted in parallel, Params.Threads at a time
// (errgroup), each into its own slot, so the model is identical whatever
// the thread count.
//
// Feature importances are each tree's total weighted impurity decrease per
// feature normalised to sum 1, averaged over the trees and normalised
// again (scikit-learn's feature_importances_).
//
// # Missing and bad values
//
// Fit rejects NaN and ±Inf in X or y with an error naming the row and
// column (package ml imputes nulls before an estimator sees them), as it
// does an empty X and, for classification, a y that is not a class code
// 0..NumClass-1. A single row, or constant features, give a one-leaf tree.
// At prediction a NaN feature goes to the right child of every split on
// it. Nothing panics on bad input.
//
// # Prediction and storage
//
// Trees are flat preorder arrays of 16-byte nodes (threshold, feature, right
// child; the left child is the next node), with leaf values in a separate
// array. Predict walks blocks of 512 rows through every tree in turn (the
// block stays in cache) with row blocks shared among GOMAXPROCS goroutines.
// Regression predicts the mean over trees of the leaf means;
// classification the class of highest mean leaf class frequency
// (PredictProba). MarshalBinary writes a versioned, checksummed encoding
// (about 12 bytes per split and 8 bytes per leaf value: 10 bytes per node
// for regression, 18 for 3-class classification); UnmarshalBinary validates
// the structure and bounds every size by the data left, so a corrupt model
// is an error, never a panic, a hang or a huge allocation.
//
// # Performance
//
// BenchmarkForestFit (100 trees, unlimited depth, on 100k×20 Friedman rows,
// 2 cores) fitted in 14–18 s where scikit-learn 1.2.1's
// RandomForestRegressor(n_estimators=100, n_jobs=2) took 230–240 s on the same
// data and machine (testdata/bench_forest.py), with the same tree size
// (126k nodes) and the same held-out R² (0.9408).
//
// # Example
//
//	p := tree.DefaultForestParams(tree.Regression)
//	p.Seed = 42
//	m, err := tree.Fit(X, rows, cols, y, p)
//	if err != nil {
//		return err
//	}
//	pred, err := m.Predict(Xtest, testRows, cols)
//	b, err := m.MarshalBinary()
package tree
