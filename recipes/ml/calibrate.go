package ml

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// Calibration methods: the values of classification/v1's calibrate_proba,
// which are those of scikit-learn's CalibratedClassifierCV.
const (
	// CalibrationSigmoid is Platt scaling: P = 1 / (1 + exp(a·s + b)).
	CalibrationSigmoid = "sigmoid"
	// CalibrationIsotonic is isotonic regression: a non-decreasing
	// piecewise-linear map of the score.
	CalibrationIsotonic = "isotonic"
)

// CalibrationMethods returns the calibration methods.
func CalibrationMethods() []string { return []string{CalibrationSigmoid, CalibrationIsotonic} }

// ScoresPredictProba is what a Calibrator reads: the classifier's
// PredictProba. scikit-learn reads decision_function when an estimator has
// one (logistic regression, gradient boosting); sous's Classifier has no
// such method, so for those estimators a calibrated sous model differs from
// scikit-learn's. The field exists so a future reader of decision values
// refuses, rather than misreads, the calibrators written now and vice versa.
const ScoresPredictProba = "predict_proba"

// Calibrator maps a fitted classifier's probabilities to calibrated ones,
// as scikit-learn's CalibratedClassifierCV(cv="prefit") does: one curve per
// class fitted one-vs-rest on held-out data, then rows renormalised. A
// binary classifier has one curve, for class 1, and class 0 gets its
// complement, so the binary case involves no renormalisation.
//
// A Calibrator is plain exported state that round-trips through
// encoding/json (it is the bundle's "calibrator" object, FORMAT.md); it is
// read-only after FitCalibrator and safe for concurrent Apply calls.
type Calibrator struct {
	// Method is CalibrationSigmoid or CalibrationIsotonic.
	Method string `json:"method"`
	// Scores is what the curves read; always ScoresPredictProba.
	Scores string `json:"scores"`
	// Classes is the number of columns of the probabilities calibrated.
	Classes int `json:"classes"`
	// Sigmoid holds the curves of the sigmoid method and Isotonic those of
	// the isotonic method: one for class 1 of a binary classifier, else one
	// per class in class order.
	Sigmoid  []SigmoidCurve  `json:"sigmoid,omitempty"`
	Isotonic []IsotonicCurve `json:"isotonic,omitempty"`
}

// SigmoidCurve is Platt's sigmoid P = 1 / (1 + exp(A·s + B)) of a score s
// (A is negative when a higher score means a likelier class).
type SigmoidCurve struct {
	A float64 `json:"a"`
	B float64 `json:"b"`
}

// IsotonicCurve is a fitted isotonic regression: scores X (strictly
// increasing) and calibrated values Y (non-decreasing, in [0, 1]). A score
// is clipped to [X[0], X[len-1]] and interpolated linearly between the
// thresholds around it, as scikit-learn's IsotonicRegression with
// out_of_bounds="clip".
type IsotonicCurve struct {
	X []float64 `json:"x"`
	Y []float64 `json:"y"`
}

// FitCalibrator fits a calibrator of the given method to probabilities
// proba (rows × classes, as a Classifier's PredictProba returns) of held-out
// rows whose true class indexes are y.
//
// It returns an error, never a calibrator that would predict NaN, for an
// unknown method, an empty set, mismatched lengths, a non-finite score, a
// class index out of range, and a class with no rows: calibrating a class
// one-vs-rest needs rows of it and rows of other classes, so a binary set
// must hold both classes and a multiclass set every class.
func FitCalibrator(method string, proba *Matrix, y []int) (*Calibrator, error) {
	if !slices.Contains(CalibrationMethods(), method) {
		return nil, fmt.Errorf("calibrate: unknown method %q (methods: %s)", method, strings.Join(CalibrationMethods(), ", "))
	}
	if proba == nil || proba.Rows == 0 {
		return nil, errors.New("calibrate: the calibration set is empty")
	}
	if proba.Rows < 0 || proba.Cols < 0 || len(proba.Data) != proba.Rows*proba.Cols {
		return nil, fmt.Errorf("calibrate: matrix is %d×%d but holds %d values", proba.Rows, proba.Cols, len(proba.Data))
	}
	if proba.Cols < 2 {
		return nil, fmt.Errorf("calibrate: probabilities have %d columns; calibration needs a classifier of at least two classes", proba.Cols)
	}
	if len(y) != proba.Rows {
		return nil, fmt.Errorf("calibrate: %d rows of probabilities but %d labels", proba.Rows, len(y))
	}
	for k, v := range proba.Data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("calibrate: the score of class %d in row %d is %v; scores must be finite", k%proba.Cols, k/proba.Cols, v)
		}
	}
	counts := make([]int, proba.Cols)
	for i, c := range y {
		if c < 0 || c >= proba.Cols {
			return nil, fmt.Errorf("calibrate: label %d of row %d is not a class index in [0, %d)", c, i, proba.Cols)
		}
		counts[c]++
	}
	for c, n := range counts {
		if n == 0 {
			return nil, fmt.Errorf("calibrate: no row of class %d in the calibration set; calibration needs rows of every class (counts by class: %v)", c, counts)
		}
	}

	cal := &Calibrator{Method: method, Scores: ScoresPredictProba, Classes: proba.Cols}
	// A binary classifier has one curve, for class 1 (scikit-learn calibrates
	// predict_proba[:, 1] only); otherwise one per class.
	first := 0
	if proba.Cols == 2 {
		first = 1
	}
	scores := make([]float64, proba.Rows)
	pos := make([]bool, proba.Rows)
	for c := first; c < proba.Cols; c++ {
		for i := range scores {
			scores[i], pos[i] = proba.At(i, c), y[i] == c
		}
		switch method {
		case CalibrationSigmoid:
			cal.Sigmoid = append(cal.Sigmoid, fitSigmoid(scores, pos))
		case CalibrationIsotonic:
			cal.Isotonic = append(cal.Isotonic, fitIsotonic(scores, pos))
		}
	}
	if err := cal.Validate(); err != nil {
		return nil, fmt.Errorf("calibrate: the fit is not usable: %w", err)
	}
	return cal, nil
}

// curves is the number of curves of a calibrator of k classes.
func curves(k int) int {
	if k == 2 {
		return 1
	}
	return k
}

// Validate checks decoded state: a known method and score source, the
// number of curves the class count needs, finite sigmoid parameters, and
// isotonic thresholds that are finite, strictly increasing, with values
// non-decreasing in [0, 1].
func (c *Calibrator) Validate() error {
	if c == nil {
		return errors.New("calibrator is nil")
	}
	if c.Scores != ScoresPredictProba {
		return fmt.Errorf("calibrator: scores %q are not supported (this build reads %q)", c.Scores, ScoresPredictProba)
	}
	if c.Classes < 2 {
		return fmt.Errorf("calibrator: %d classes; want at least 2", c.Classes)
	}
	want := curves(c.Classes)
	switch c.Method {
	case CalibrationSigmoid:
		if len(c.Sigmoid) != want || len(c.Isotonic) != 0 {
			return fmt.Errorf("calibrator: %d sigmoid and %d isotonic curves for %d classes; want %d sigmoid", len(c.Sigmoid), len(c.Isotonic), c.Classes, want)
		}
		for i, s := range c.Sigmoid {
			if !isFinite(s.A) || !isFinite(s.B) {
				return fmt.Errorf("calibrator: sigmoid curve %d has a non-finite parameter (a=%v, b=%v)", i, s.A, s.B)
			}
		}
	case CalibrationIsotonic:
		if len(c.Isotonic) != want || len(c.Sigmoid) != 0 {
			return fmt.Errorf("calibrator: %d isotonic and %d sigmoid curves for %d classes; want %d isotonic", len(c.Isotonic), len(c.Sigmoid), c.Classes, want)
		}
		for i, s := range c.Isotonic {
			if err := s.check(); err != nil {
				return fmt.Errorf("calibrator: isotonic curve %d: %w", i, err)
			}
		}
	default:
		return fmt.Errorf("calibrator: unknown method %q (methods: %s)", c.Method, strings.Join(CalibrationMethods(), ", "))
	}
	return nil
}

func (s IsotonicCurve) check() error {
	if len(s.X) == 0 || len(s.X) != len(s.Y) {
		return fmt.Errorf("%d thresholds and %d values; want the same number, at least one", len(s.X), len(s.Y))
	}
	for i := range s.X {
		if !isFinite(s.X[i]) || !(s.Y[i] >= 0 && s.Y[i] <= 1) {
			return fmt.Errorf("threshold %d is (%v, %v); want a finite score and a value in [0, 1]", i, s.X[i], s.Y[i])
		}
		if i > 0 && !(s.X[i] > s.X[i-1] && s.Y[i] >= s.Y[i-1]) {
			return fmt.Errorf("thresholds %d and %d are not increasing", i-1, i)
		}
	}
	return nil
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Apply returns the calibrated probabilities of proba (rows × Classes):
// each calibrated class's score goes through its curve; a binary row is
// (1-p, p), a multiclass row is divided by its sum, or is uniform if every
// curve gave 0 (all as scikit-learn's _CalibratedClassifier.predict_proba,
// which also rounds values in (1, 1+1e-5] down to 1).
func (c *Calibrator) Apply(proba *Matrix) (*Matrix, error) {
	if proba == nil {
		return nil, errors.New("calibrate: probabilities are nil")
	}
	if proba.Cols != c.Classes || len(proba.Data) != proba.Rows*proba.Cols {
		return nil, fmt.Errorf("calibrate: probabilities are %d×%d; the calibrator was fitted on %d classes", proba.Rows, proba.Cols, c.Classes)
	}
	for k, v := range proba.Data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("calibrate: the score of class %d in row %d is %v; scores must be finite", k%proba.Cols, k/proba.Cols, v)
		}
	}
	k := c.Classes
	out := NewMatrix(proba.Rows, k)
	curve := func(j int, s float64) float64 {
		if c.Method == CalibrationSigmoid {
			return c.Sigmoid[j].predict(s)
		}
		return c.Isotonic[j].predict(s)
	}
	for i := range proba.Rows {
		in, row := proba.Row(i), out.Row(i)
		if k == 2 {
			row[1] = curve(0, in[1])
			row[0] = 1 - row[1]
		} else {
			var sum float64
			for j := range row {
				row[j] = curve(j, in[j])
				sum += row[j]
			}
			for j := range row {
				if sum != 0 {
					row[j] /= sum
				} else {
					row[j] = 1 / float64(k)
				}
			}
		}
		for j, v := range row {
			if v > 1 && v <= 1+1e-5 {
				row[j] = 1
			}
		}
	}
	return out, nil
}

// predict is scipy's expit(-(A·s + B)), which scikit-learn's
// _SigmoidCalibration.predict computes.
func (s SigmoidCurve) predict(score float64) float64 {
	return 1 / (1 + math.Exp(s.A*score+s.B))
}

// predict clips the score to the thresholds and interpolates linearly, as
// scikit-learn does through scipy's interp1d, which hands a sorted float64
// curve to numpy's interp: a score equal to a threshold gets its value;
// another gets Y[j] + slope·(score − X[j]) with X[j] the threshold below it.
func (s IsotonicCurve) predict(score float64) float64 {
	n := len(s.X)
	score = math.Min(math.Max(score, s.X[0]), s.X[n-1])
	j := sort.SearchFloat64s(s.X, score) // the first threshold >= score
	if s.X[j] == score {
		return s.Y[j]
	}
	j--
	slope := (s.Y[j+1] - s.Y[j]) / (s.X[j+1] - s.X[j])
	return slope*(score-s.X[j]) + s.Y[j]
}

// fitSigmoid fits Platt's sigmoid to scores f and labels pos (true for the
// class being calibrated) by minimising the cross-entropy against Platt's
// smoothed targets, (n₊+1)/(n₊+2) for a positive row and 1/(n₋+2) for a
// negative one, as scikit-learn's _sigmoid_calibration does. The smoothing
// is the prior that keeps A and B finite even when the scores separate the
// classes. scikit-learn stops BFGS at a gradient of 1e-5; this is Newton's
// method with backtracking (Lin, Lin and Weng, "A note on Platt's
// probabilistic outputs for support vector machines", 2007), run until no
// step decreases the loss, so it reaches the minimum that scikit-learn
// approaches. The caller guarantees len(f) > 0 and finite scores.
func fitSigmoid(f []float64, pos []bool) SigmoidCurve {
	var prior1 float64
	for _, p := range pos {
		if p {
			prior1++
		}
	}
	prior0 := float64(len(pos)) - prior1
	hiT, loT := (prior1+1)/(prior1+2), 1/(prior0+2)
	t := make([]float64, len(pos))
	for i, p := range pos {
		t[i] = loT
		if p {
			t[i] = hiT
		}
	}
	// loss is Σ log(1+e^z) − (1−t)·z with z = A·f + B: the cross-entropy of
	// P = 1/(1+e^z) against t, written so it neither overflows nor cancels.
	loss := func(a, b float64) float64 {
		var l float64
		for i, fi := range f {
			z := a*fi + b
			if z >= 0 {
				l += z + math.Log1p(math.Exp(-z)) - (1-t[i])*z
			} else {
				l += math.Log1p(math.Exp(z)) - (1-t[i])*z
			}
		}
		return l
	}
	a, b := 0.0, math.Log((prior0+1)/(prior1+1))
	fval := loss(a, b)
	const (
		maxIter = 100
		minStep = 1e-10
		sigma   = 1e-12 // keeps the Hessian invertible when all scores are equal
	)
	for range maxIter {
		// Gradient and Hessian of the loss in (A, B); dloss/dz = t − P and
		// d²loss/dz² = P(1−P).
		var g1, g2, h11, h22, h21 float64
		for i, fi := range f {
			z := a*fi + b
			var p, q float64 // P and 1−P
			if z >= 0 {
				e := math.Exp(-z)
				p, q = e/(1+e), 1/(1+e)
			} else {
				e := math.Exp(z)
				p, q = 1/(1+e), e/(1+e)
			}
			d, w := t[i]-p, p*q
			g1 += fi * d
			g2 += d
			h11 += fi * fi * w
			h22 += w
			h21 += fi * w
		}
		if g1 == 0 && g2 == 0 {
			break
		}
		h11 += sigma
		h22 += sigma
		det := h11*h22 - h21*h21
		dA := -(h22*g1 - h21*g2) / det
		dB := -(-h21*g1 + h11*g2) / det
		gd := g1*dA + g2*dB
		if !(gd < 0) { // not a descent direction: rounding has taken over
			break
		}
		step := 1.0
		for step >= minStep {
			na, nb := a+step*dA, b+step*dB
			nf := loss(na, nb)
			// Armijo's sufficient decrease; or, for the full Newton step, a
			// loss equal to rounding: near the minimum the decrease
			// (−gd/2) is below the loss's resolution, yet the step still
			// halves the distance to the minimum's digits.
			if nf < fval+1e-4*step*gd || step == 1 && nf <= fval+1e-13*math.Max(1, math.Abs(fval)) {
				a, b, fval = na, nb, nf
				break
			}
			step /= 2
		}
		if step < minStep {
			break // no step decreases the loss: the minimum, to rounding
		}
		if math.Abs(step*dA) <= 1e-15*(1+math.Abs(a)) && math.Abs(step*dB) <= 1e-15*(1+math.Abs(b)) {
			break // converged to the last digits
		}
	}
	return SigmoidCurve{A: a, B: b}
}

// fitIsotonic fits a non-decreasing curve to the 0/1 labels pos of scores
// x, as scikit-learn's IsotonicRegression(out_of_bounds="clip").fit: rows
// ordered by (score, label), scores closer than 1e-15 to the first of a run
// merged into one point whose value is the run's mean label (_make_unique,
// float64 resolution), pool-adjacent-violators on those points weighted by
// their counts, and the points between two equal neighbours dropped, since
// interpolation does not need them. The caller guarantees len(x) > 0 and
// finite scores.
func fitIsotonic(x []float64, pos []bool) IsotonicCurve {
	order := make([]int, len(x))
	for i := range order {
		order[i] = i
	}
	label := func(i int) float64 {
		if pos[i] {
			return 1
		}
		return 0
	}
	sort.Slice(order, func(p, q int) bool {
		i, j := order[p], order[q]
		if x[i] != x[j] {
			return x[i] < x[j]
		}
		return label(i) < label(j)
	})
	const resolution = 1e-15 // numpy's finfo(float64).resolution
	var ux, uy, uw []float64
	for k, i := range order {
		if k == 0 || x[i]-ux[len(ux)-1] >= resolution {
			ux, uy, uw = append(ux, x[i]), append(uy, 0), append(uw, 0)
		}
		uy[len(uy)-1] += label(i)
		uw[len(uw)-1]++
	}
	for j := range uy {
		uy[j] /= uw[j]
	}
	pav(uy, uw)
	n := len(uy)
	curve := IsotonicCurve{}
	for j := range n {
		if j > 0 && j < n-1 && uy[j] == uy[j-1] && uy[j] == uy[j+1] {
			continue
		}
		curve.X = append(curve.X, ux[j])
		curve.Y = append(curve.Y, uy[j])
	}
	return curve
}

// pav replaces y by its weighted least-squares non-decreasing fit, in place:
// scikit-learn's _inplace_contiguous_isotonic_regression, pool adjacent
// violators in one pass with backtracking. Blocks are runs [i..target[i]]
// whose first entry holds the block's mean y and total weight w. Equal
// neighbours are pooled, as there.
func pav(y, w []float64) {
	n := len(y)
	target := make([]int, n)
	for i := range target {
		target[i] = i
	}
	i := 0
	for i < n {
		k := target[i] + 1
		if k == n {
			break
		}
		if y[i] < y[k] {
			i = k
			continue
		}
		sumWY, sumW := w[i]*y[i], w[i]
		for {
			// Within a decreasing run of blocks: pool block k into block i.
			prevY := y[k]
			sumWY += w[k] * y[k]
			sumW += w[k]
			k = target[k] + 1
			if k == n || prevY < y[k] {
				y[i] = sumWY / sumW
				w[i] = sumW
				target[i] = k - 1
				target[k-1] = i
				if i > 0 {
					i = target[i-1] // backtrack to the previous block
				}
				break
			}
		}
	}
	for i := 0; i < n; {
		k := target[i] + 1
		for j := i + 1; j < k; j++ {
			y[j] = y[i]
		}
		i = k
	}
}

// CalibratedClassifier is a fitted classifier whose probabilities go through
// a Calibrator. Bundle.Model returns one for a bundle with a calibrator, so
// every step that predicts through the bundle (evaluate, predict) uses the
// calibrated probabilities without knowing about calibration.
//
// It is not a registered estimator: the bundle stores the estimator and the
// calibrator separately. Fit is an error (fit the estimator, then
// FitCalibrator on held-out rows, as scikit-learn's cv="prefit").
type CalibratedClassifier struct {
	base Classifier
	cal  *Calibrator
}

var _ Classifier = (*CalibratedClassifier)(nil)

// NewCalibratedClassifier returns base calibrated by c. It checks c and that
// c was fitted for base's number of classes.
func NewCalibratedClassifier(base Classifier, c *Calibrator) (*CalibratedClassifier, error) {
	if base == nil {
		return nil, errors.New("calibrate: nil classifier")
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if k := base.Classes(); k != c.Classes {
		return nil, fmt.Errorf("calibrate: the calibrator is for %d classes but %s has %d", c.Classes, base.Name(), k)
	}
	return &CalibratedClassifier{base: base, cal: c}, nil
}

// Base returns the uncalibrated classifier.
func (e *CalibratedClassifier) Base() Classifier { return e.base }

// Calibrator returns the calibrator.
func (e *CalibratedClassifier) Calibrator() *Calibrator { return e.cal }

// Fit is an error: see CalibratedClassifier.
func (e *CalibratedClassifier) Fit(*Matrix, []float64) error {
	return errors.New("calibrate: a calibrated classifier is not fitted as a whole; fit its estimator, then FitCalibrator on held-out rows")
}

// PredictProba returns the calibrated probabilities of the rows of X.
func (e *CalibratedClassifier) PredictProba(X *Matrix) (*Matrix, error) {
	p, err := e.base.PredictProba(X)
	if err != nil {
		return nil, err
	}
	return e.cal.Apply(p)
}

// Predict returns the class of highest calibrated probability (the first
// on a tie), which can differ from the uncalibrated classifier's, as in
// scikit-learn's CalibratedClassifierCV.predict.
func (e *CalibratedClassifier) Predict(X *Matrix) ([]float64, error) {
	p, err := e.PredictProba(X)
	if err != nil {
		return nil, err
	}
	out := make([]float64, p.Rows)
	for i := range out {
		row, best := p.Row(i), 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		out[i] = float64(best)
	}
	return out, nil
}

// Classes returns the number of classes.
func (e *CalibratedClassifier) Classes() int { return e.cal.Classes }

// FeatureImportances returns the estimator's: calibration maps scores, it
// does not weigh features.
func (e *CalibratedClassifier) FeatureImportances() []float64 { return e.base.FeatureImportances() }

// Name returns the estimator's registered name, so messages and cards name
// the model the user chose.
func (e *CalibratedClassifier) Name() string { return e.base.Name() }
