// Package gbdt fits histogram gradient-boosted decision trees in pure Go,
// in the style of scikit-learn's HistGradientBoosting and LightGBM, and
// predicts with them.
//
// # Fitting
//
// Fit bins every feature into at most Params.MaxBins quantile bins (from a
// subsample of at most 200,000 rows) plus a bin for NaN, and stores the
// binned matrix twice: column-major as bytes, and as one record per row
// holding its bins, eight to a word, and its gradient. Each boosting
// iteration computes the loss gradients and hessians, quantizes them to
// integers with a power-of-two scale (the row count is packed into the
// gradient sum's word, so a histogram update adds one word, or two with a
// hessian), and grows one tree per output best-first (leaf-wise) up to
// MaxLeafNodes leaves and MaxDepth levels:
//
//   - a node's histogram holds, per feature and bin, the integer sums of its
//     rows' gradients, hessians and count. Integer sums are exact, so a
//     sibling's histogram is the parent's minus the smaller child's, which is
//     the only one built from rows, and the result does not depend on how
//     rows are split among goroutines;
//   - histograms are built from the records, eight features per pass over a
//     block of rows (the eight features' bins stay in L1 cache); a node's
//     scattered records are first copied into a contiguous block, a cache
//     line per row. Goroutines take blocks, each into its own scratch;
//   - the split of a feature maximises G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ)
//     subject to MinSamplesLeaf and a minimum hessian, trying NaN rows on
//     both sides and learning their direction;
//   - the node's row indexes are partitioned stably into a second buffer,
//     reading the split feature's bytes from the column-major copy.
//
// For squared error a tree shifts each row's gradient by its leaf's value,
// so after the first tree the quantized gradients are updated in place and
// the next root histogram is summed from the leaves' histograms, with no
// pass over the rows for either.
//
// The parallel loops run on a team of Params.Threads goroutines that spin
// briefly between loops rather than being started for each, and that
// mostly work on the same rows from loop to loop, so those rows stay in
// their core's caches. On Linux the large per-row arrays ask for
// transparent huge pages, since most of their reads are scattered.
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
