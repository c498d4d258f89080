// Package ml is the machine-learning core of the regression/v1 (and later
// classification/v1) recipe steps: column transformers, estimators,
// metrics, and the model bundle that ties them together. It is pure Go
// (gonum for linear algebra) and does no I/O beyond the io.Reader and
// io.Writer a bundle is decoded from and encoded to.
//
// # Transformers
//
// FitTransformer fits a TransformSpec, scikit-learn ColumnTransformer
// semantics, on the training frame only; Transform then applies the fitted
// statistics unchanged to any frame and returns a dense row-major Matrix.
// Groups are applied in order, each to each of its columns; the remainder
// (columns no group names, never the target) is dropped or passed through.
//
//	standard_scaler  (x-mean)/std, population std; a constant column keeps
//	                 scale 1 (it becomes 0). Params with_mean, with_std.
//	min_max_scaler   to feature_range (default [0, 1]); a constant column
//	                 keeps range 1. Params feature_range, clip.
//	robust_scaler    (x-median)/IQR; params with_centering, with_scaling,
//	                 quantile_range (default [25, 75]).
//	one_hot          one 0/1 feature per category seen in training, sorted;
//	                 string, int and bool columns. A category unseen at fit
//	                 time encodes as all zeros. A null is its own category
//	                 (feature <col>_null, sorted last) if training had nulls,
//	                 else all zeros. max_categories keeps the most frequent
//	                 max_categories-1 and buckets the rest in <col>_infrequent;
//	                 min_frequency (a count, or a fraction < 1) does likewise.
//	ordinal          the index of the sorted category; null its own code if
//	                 seen in training; unseen -> unknown_value (default -1).
//	impute           strategy mean (default), median, most_frequent or
//	                 constant (fill_value, default 0). Numeric columns only;
//	                 one_hot treats a null as a category instead.
//	log1p            log(1+x); a training value <= -1 is an error naming the
//	                 column, as is such a value at transform time. A null
//	                 becomes the training mean of log1p(x).
//	passthrough      the value as is.
//	drop             nothing.
//	binning          KBinsDiscretizer: n_bins (default 5) quantile (default)
//	                 or uniform bins, encode onehot (default) or ordinal.
//
// Numeric transformers read int and bool columns as numbers (bool as 0/1)
// and timestamp columns as seconds since the Unix epoch. A null (or NaN)
// in a numeric column becomes the training mean before scaling (scalers,
// passthrough, binning), so no estimator ever sees a NaN: every element of
// a transformed Matrix is finite, and an input that cannot give a finite
// value (±Inf, log1p of x <= -1) is an error naming the column and row.
// A string column in a numeric transformer, or a float column in one_hot,
// is an error naming the transformer and the column, as is an unknown param
// (the error lists the allowed ones).
//
// A fitted Transformer is plain exported state (means, scales, categories,
// bin edges) and round-trips through encoding/json.
//
// # Estimators
//
// An Estimator fits a Matrix and a target vector and predicts. Estimators
// are created by name from a registry, NewEstimator("ridge", params), and
// other packages add theirs with one Register call in an init function.
// MarshalEstimator and UnmarshalEstimator save and restore one. This package
// registers linear_regression, ridge, lasso, elastic_net,
// logistic_regression, decision_tree, random_forest and gbdt.
//
// To add an estimator, implement Estimator on a pointer type whose exported
// fields (params and fitted state) round-trip through encoding/json, read
// params with Params so that unknown and mistyped ones are reported, and
// register a factory that returns defaults for nil params:
//
//	func init() {
//		ml.Register("lasso", func(params map[string]any) (ml.Estimator, error) {
//			p := ml.NewParams("lasso", params)
//			e := &Lasso{Alpha: p.Float("alpha", 1.0), MaxIter: p.Int("max_iter", 1000)}
//			return e, p.Err()
//		})
//	}
//
// CheckTrainingData and CheckPredictData do the input checks every estimator
// needs. An estimator over a raw row-major []float64 API (such as gbdt) takes
// X.Data, X.Rows and X.Cols directly.
//
// Transformers, fitted estimators and bundles are read-only after fitting and
// safe for concurrent Transform and Predict calls.
//
// # Metrics
//
// RegressionMetrics computes MLflow's regression metrics with scikit-learn's
// definitions (tested against scikit-learn's own output, see
// testdata/metrics_expected.py); MetricGreaterIsBetter orders them.
//
// # Bundles
//
// A Bundle is one trained model: input schema, derived-column expressions,
// fitted transformer, estimator name and state, class labels, feature names,
// creation time and metrics, written as versioned gzip'd JSON (FORMAT.md).
// Bundle.Predict goes from a frame to predictions.
//
// # Example
//
//	t, err := ml.FitTransformer(ml.TransformSpec{
//		Groups: []ml.GroupSpec{
//			{Columns: []string{"pickup_hour", "pickup_dow"}, Transformer: "one_hot"},
//			{Columns: []string{"trip_distance"}, Transformer: "standard_scaler"},
//		},
//		Target: "fare_amount",
//	}, train)
//	X, err := t.Transform(train)
//	est, err := ml.NewEstimator("ridge", map[string]any{"alpha": 1.0})
//	err = est.Fit(X, y)
//	b, err := ml.NewBundle("regression/v1", "fare_amount", t, est)
//	err = b.Encode(w)
package ml
