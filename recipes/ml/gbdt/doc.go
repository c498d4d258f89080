// Package gbdt fits histogram gradient-boosted decision trees in pure Go,
// in the style of scikit-learn's HistGradientBoosting and LightGBM, and
// predicts with them.
//
// # Fitting
//
// Fit bins every feature into at most Params.MaxBins quantile bins (from a
// subsample of at most 200,000 rows) plus a bin for NaN, and stores the
// binned matrix column-major as bytes. Each boosting iteration computes the
// loss gradients and hessians, quantizes them to integers with a
// power-of-two scale (with a constant hessian, gradient and row count are
// packed in one int64, so a histogram update is one addition), and grows
// one tree per output best-first (leaf-wise) up to MaxLeafNodes leaves and
// MaxDepth levels:
//
//   - a node's histogram holds, per feature and bin, the integer sums of its
//     rows' gradients, hessians and count. Integer sums are exact, so a
//     sibling's histogram is the parent's minus the smaller child's, which is
//     the only one built from rows, and the result does not depend on how
//     rows are split among goroutines;
//   - histograms are built column-wise, four features per pass over the
//     node's rows (each feature's 6 KiB histogram stays in L1 cache), with
//     the node's gradients gathered into row order first; the feature
//     groups are shared among Params.Threads goroutines;
//   - the split of a feature maximises G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ)
//     subject to MinSamplesLeaf and a minimum hessian, trying NaN rows on
//     both sides and learning their direction;
//   - the node's row indexes are partitioned in place, stably.
//
// Leaf values are −G/(H+λ) times the learning rate (the median residual for
// absolute error). Early stopping holds out a validation fraction, scores
// the loss after every iteration and keeps the best iteration.
//
// # Prediction
//
// Models compile to flat arrays. Predict walks groups of rows down each tree
// in lockstep with branch-free steps on the raw float64 features: NaN follows
// the learned direction, infinities compare as values.
//
// # Example
//
//	m, err := gbdt.Fit(X, rows, cols, y, gbdt.Params{Loss: gbdt.LossLogLoss, NIter: 200})
//	if err != nil {
//		return err
//	}
//	p := m.Predict(Xtest, testRows, cols) // P(class 1) per row
//	b, _ := m.MarshalBinary()
package gbdt
