package ml

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/optimize"
)

// LogisticRegressionName is the name LogisticRegression is registered under.
const LogisticRegressionName = "logistic_regression"

// maxClassIndex bounds the class indexes LogisticRegression accepts.
const maxClassIndex = 1 << 16

func init() {
	Register(LogisticRegressionName, func(p map[string]any) (Estimator, error) { return NewLogisticRegression(p) })
}

// LogisticRegression is L2-penalised logistic regression, scikit-learn's
// LogisticRegression with the lbfgs solver. Registered as
// "logistic_regression"; params: C (default 1.0, > 0, the inverse penalty
// strength), max_iter (default 100, >= 1), tol (default 1e-4, > 0),
// fit_intercept (default true).
//
// y holds class indexes 0..k-1 as float64. With two classes in y it fits one
// coefficient vector w and intercept b, P(second class | x) = σ(x·w + b),
// minimising Σᵢ log-loss + ||w||²/(2C); with more it fits a multinomial
// (softmax) model with one row of coefficients and one intercept per class,
// minimising Σᵢ log-loss + ||W||²/(2C). The intercepts are not penalised.
// The objective is minimised by L-BFGS (gonum/optimize with a More-Thuente
// line search, as scipy's L-BFGS-B) from zero until the largest absolute
// gradient component is below tol (scikit-learn 1.2's scaling: the loss is
// summed over the rows, not averaged) or after max_iter iterations
// (Converged is then false and Status says why; the fit is still usable).
// Unlike scipy it does not also stop on a small relative decrease of the
// objective, so it lands closer to the optimum than scikit-learn, in a few
// more iterations. The objective is evaluated in parallel (GOMAXPROCS
// goroutines) over fixed chunks of rows, summed in a fixed order, so a fit
// is reproducible. The features should be on one scale (standardised) for
// the penalty to treat them alike and for L-BFGS to converge quickly.
//
// Classes absent from y (index 1 when y holds 0 and 2) are left out of the
// fit and get probability 0. Predict returns the most probable class index,
// the lower one on ties. FeatureImportances are |coef| summed over the
// classes and normalised to sum 1.
type LogisticRegression struct {
	C            float64 `json:"C"`
	MaxIter      int     `json:"max_iter"`
	Tol          float64 `json:"tol"`
	FitIntercept bool    `json:"fit_intercept"`

	// NClasses is one more than the largest class index in the training y.
	NClasses int `json:"n_classes,omitempty"`
	// ClassIndex lists the class indexes present in the training y,
	// increasing. Binary models have one row of Coef, for ClassIndex[1];
	// multinomial models one row per entry of ClassIndex.
	ClassIndex []int       `json:"class_index,omitempty"`
	Coef       [][]float64 `json:"coef,omitempty"`
	Intercept  []float64   `json:"intercept,omitempty"`
	NIter      int         `json:"n_iter"`
	// Converged is true when the gradient fell below tol. Status says how
	// the fit ended: "converged", "max_iter", "max_evaluations", or
	// "no_progress" (the line search could not decrease the objective,
	// which happens at the optimum to within rounding when tol is tiny).
	Converged bool   `json:"converged"`
	Status    string `json:"status,omitempty"`
}

var _ Classifier = (*LogisticRegression)(nil)

// NewLogisticRegression returns an unfitted LogisticRegression.
func NewLogisticRegression(params map[string]any) (*LogisticRegression, error) {
	p := NewParams(LogisticRegressionName, params)
	e := &LogisticRegression{
		C:            p.Float("C", 1.0),
		MaxIter:      p.Int("max_iter", 100),
		Tol:          p.Float("tol", 1e-4),
		FitIntercept: p.Bool("fit_intercept", true),
	}
	if e.C <= 0 {
		p.Fail("C", "must be > 0, got %v", e.C)
	}
	if e.MaxIter < 1 {
		p.Fail("max_iter", "must be >= 1, got %v", e.MaxIter)
	}
	if e.Tol <= 0 {
		p.Fail("tol", "must be > 0, got %v", e.Tol)
	}
	return e, p.Err()
}

// Name returns "logistic_regression".
func (e *LogisticRegression) Name() string { return LogisticRegressionName }

// Classes returns the number of classes, or 0 before Fit.
func (e *LogisticRegression) Classes() int { return e.NClasses }

func (e *LogisticRegression) paramsErr() error {
	switch {
	case !(e.C > 0) || math.IsInf(e.C, 0):
		return fmt.Errorf("C is %v; it must be finite and > 0", e.C)
	case e.MaxIter < 1:
		return fmt.Errorf("max_iter is %d; it must be >= 1", e.MaxIter)
	case !(e.Tol > 0) || math.IsInf(e.Tol, 0):
		return fmt.Errorf("tol is %v; it must be finite and > 0", e.Tol)
	}
	return nil
}

// Validate checks decoded state: valid params, and a fitted model (if any)
// of consistent shape with finite coefficients.
func (e *LogisticRegression) Validate() error {
	if err := e.paramsErr(); err != nil {
		return err
	}
	if e.Coef == nil && e.ClassIndex == nil && e.Intercept == nil && e.NClasses == 0 {
		return nil
	}
	m := len(e.ClassIndex)
	if m < 2 || e.NClasses < 2 || e.NClasses > maxClassIndex+1 {
		return fmt.Errorf("%d classes, %d present in training", e.NClasses, m)
	}
	for i, c := range e.ClassIndex {
		if c < 0 || c >= e.NClasses || i > 0 && c <= e.ClassIndex[i-1] {
			return fmt.Errorf("class indexes %v are not increasing in [0, %d)", e.ClassIndex, e.NClasses)
		}
	}
	rows := m
	if m == 2 {
		rows = 1
	}
	if len(e.Coef) != rows || len(e.Intercept) != rows {
		return fmt.Errorf("%d coefficient rows and %d intercepts for %d classes", len(e.Coef), len(e.Intercept), m)
	}
	p := len(e.Coef[0])
	if p == 0 {
		return errors.New("no coefficients")
	}
	for k, row := range e.Coef {
		if len(row) != p {
			return fmt.Errorf("coefficient row %d has %d values, row 0 %d", k, len(row), p)
		}
		if !allFinite(row) {
			return fmt.Errorf("coefficient row %d is not finite", k)
		}
	}
	if !allFinite(e.Intercept) {
		return errors.New("intercept is not finite")
	}
	return nil
}

// Fit fits the model to class indexes y.
func (e *LogisticRegression) Fit(X *Matrix, y []float64) error {
	if err := e.fit(X, y); err != nil {
		return fmt.Errorf("%s: fit: %w", LogisticRegressionName, err)
	}
	return nil
}

func (e *LogisticRegression) fit(X *Matrix, y []float64) error {
	if err := e.paramsErr(); err != nil {
		return err
	}
	if err := CheckTrainingData(X, y); err != nil {
		return err
	}
	// Map the class indexes present to 0..m-1.
	maxC := -1
	for i, v := range y {
		if v < 0 || v != math.Trunc(v) || v > maxClassIndex {
			return fmt.Errorf("y[%d] is %v; the target must be a class index, an integer in [0, %d]", i, v, maxClassIndex)
		}
		maxC = max(maxC, int(v))
	}
	seen := make([]bool, maxC+1)
	for _, v := range y {
		seen[int(v)] = true
	}
	var classes []int
	pos := make([]int, maxC+1)
	for c, ok := range seen {
		if ok {
			pos[c] = len(classes)
			classes = append(classes, c)
		}
	}
	if len(classes) < 2 {
		return fmt.Errorf("y holds a single class (%d); classification needs at least two", classes[0])
	}
	lab := make([]int, len(y))
	for i, v := range y {
		lab[i] = pos[int(v)]
	}
	m := len(classes)
	rows := m
	if m == 2 {
		rows = 1
	}
	obj := &logisticObjective{X: X, y: lab, k: rows, p: X.Cols, l2: 1 / e.C, intercept: e.FitIntercept}
	x0 := make([]float64, obj.dim())
	problem := optimize.Problem{
		Func: func(x []float64) float64 { return obj.eval(x, nil) },
		Grad: func(grad, x []float64) { obj.eval(x, grad) },
	}
	settings := &optimize.Settings{
		GradientThreshold: e.Tol,
		MajorIterations:   e.MaxIter,
		FuncEvaluations:   20*e.MaxIter + 100,
		Converger:         optimize.NeverTerminate{},
	}
	res, err := optimize.Minimize(problem, x0, settings, &optimize.LBFGS{Store: 10, Linesearcher: &optimize.MoreThuente{}})
	if res == nil {
		return fmt.Errorf("L-BFGS failed: %v", err)
	}
	// An error here is a line search that could not improve the objective,
	// which happens at the optimum to within rounding; the result is the
	// best point found.
	if !allFinite(res.X) || !finite(res.F) {
		return errors.New("the fit is not finite; scale the features")
	}
	coef := make([][]float64, rows)
	icpt := make([]float64, rows)
	for r := range coef {
		coef[r] = slices.Clone(res.X[r*obj.p : (r+1)*obj.p])
		if e.FitIntercept {
			icpt[r] = res.X[rows*obj.p+r]
		}
	}
	e.NClasses, e.ClassIndex, e.Coef, e.Intercept = maxC+1, classes, coef, icpt
	e.NIter = res.Stats.MajorIterations
	e.Converged = res.Status == optimize.GradientThreshold
	switch {
	case e.Converged:
		e.Status = "converged"
	case res.Status == optimize.IterationLimit:
		e.Status = "max_iter"
	case res.Status == optimize.FunctionEvaluationLimit:
		e.Status = "max_evaluations"
	default:
		e.Status = "no_progress"
	}
	return nil
}

// logisticObjective is the penalised log-loss summed over the rows, with
// the parameters laid out as k rows of p coefficients then k intercepts
// (when fitted). k == 1 is the binary model.
type logisticObjective struct {
	X         *Matrix
	y         []int
	k, p      int
	l2        float64
	intercept bool

	lastX, lastG []float64 // the last point evaluated and its gradient
	lastF        float64
	partG, partF []float64 // per-chunk gradients and losses
}

func (o *logisticObjective) dim() int {
	if o.intercept {
		return o.k*o.p + o.k
	}
	return o.k * o.p
}

// eval returns the objective at x and, if grad is not nil, stores its
// gradient in grad. It computes both at once and caches them for the last
// x, since the optimiser asks for the value and the gradient at each point
// separately.
func (o *logisticObjective) eval(x, grad []float64) float64 {
	if o.lastG == nil || !slices.Equal(x, o.lastX) {
		o.lastX = append(o.lastX[:0], x...)
		if o.lastG == nil {
			o.lastG = make([]float64, len(x))
		}
		o.lastF = o.compute(x, o.lastG)
	}
	if grad != nil {
		copy(grad, o.lastG)
	}
	return o.lastF
}

// logisticChunkRows is the target number of rows per chunk of the
// objective; logisticMaxChunks bounds the chunks (and so the gradient
// buffers) for very long inputs.
const (
	logisticChunkRows = 2048
	logisticMaxChunks = 64
)

// compute returns the objective at x and stores its gradient in grad. The
// rows are split into chunks that depend only on the number of rows; the
// chunks are evaluated by up to GOMAXPROCS goroutines and their partial
// sums added in chunk order, so the result does not depend on scheduling.
func (o *logisticObjective) compute(x, grad []float64) float64 {
	n, d := o.X.Rows, len(x)
	chunks := min(max((n+logisticChunkRows-1)/logisticChunkRows, 1), logisticMaxChunks)
	size := (n + chunks - 1) / chunks
	if len(o.partG) != chunks*d {
		o.partG = make([]float64, chunks*d)
		o.partF = make([]float64, chunks)
	}
	workers := min(runtime.GOMAXPROCS(0), chunks)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			z := make([]float64, o.k)
			for {
				c := int(next.Add(1)) - 1
				if c >= chunks {
					return
				}
				lo, hi := c*size, min((c+1)*size, n)
				o.partF[c] = o.chunk(x, o.partG[c*d:(c+1)*d], lo, hi, z)
			}
		}()
	}
	wg.Wait()
	clear(grad)
	var loss float64
	for c := 0; c < chunks; c++ {
		loss += o.partF[c]
		floats.Add(grad, o.partG[c*d:(c+1)*d])
	}
	k, p := o.k, o.p
	W := x[:k*p]
	loss += 0.5 * o.l2 * floats.Dot(W, W)
	floats.AddScaled(grad[:k*p], o.l2, W)
	return loss
}

// chunk returns the unpenalised loss of rows [lo, hi) and stores its
// gradient in grad; z is scratch of length k.
func (o *logisticObjective) chunk(x, grad []float64, lo, hi int, z []float64) float64 {
	k, p := o.k, o.p
	W := x[:k*p]
	var b []float64
	if o.intercept {
		b = x[k*p:]
	}
	clear(grad)
	var loss float64
	if k == 1 {
		w, gw := W, grad[:p]
		var gb, b0 float64
		if b != nil {
			b0 = b[0]
		}
		for i := lo; i < hi; i++ {
			row := o.X.Row(i)
			z := floats.Dot(row, w) + b0
			// softplus(z) = max(z, 0) + log1p(e), σ(z) from the same e.
			e := math.Exp(-math.Abs(z))
			sig := 1 / (1 + e)
			if z < 0 {
				sig = e / (1 + e)
			}
			yi := float64(o.y[i])
			loss += math.Max(z, 0) + math.Log1p(e) - yi*z
			d := sig - yi
			floats.AddScaled(gw, d, row)
			gb += d
		}
		if b != nil {
			grad[p] = gb
		}
		return loss
	}
	for i := lo; i < hi; i++ {
		row := o.X.Row(i)
		zmax := math.Inf(-1)
		for c := 0; c < k; c++ {
			z[c] = floats.Dot(row, W[c*p:(c+1)*p])
			if b != nil {
				z[c] += b[c]
			}
			zmax = math.Max(zmax, z[c])
		}
		yc := z[o.y[i]]
		var s float64
		for c := range z {
			z[c] = math.Exp(z[c] - zmax)
			s += z[c]
		}
		loss += zmax + math.Log(s) - yc
		for c := 0; c < k; c++ {
			d := z[c] / s
			if c == o.y[i] {
				d--
			}
			floats.AddScaled(grad[c*p:(c+1)*p], d, row)
			if b != nil {
				grad[k*p+c] += d
			}
		}
	}
	return loss
}

// sigmoid returns 1 / (1 + e^-z) without overflow.
func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	ez := math.Exp(z)
	return ez / (1 + ez)
}

// PredictProba returns the probability of each of the Classes() classes
// for each row of X.
func (e *LogisticRegression) PredictProba(X *Matrix) (*Matrix, error) {
	if e.Coef == nil {
		return nil, fmt.Errorf("%s: predict: model is not fitted", LogisticRegressionName)
	}
	if err := CheckPredictData(X, len(e.Coef[0])); err != nil {
		return nil, fmt.Errorf("%s: predict: %w", LogisticRegressionName, err)
	}
	out := NewMatrix(X.Rows, e.NClasses)
	rows := len(e.Coef)
	z := make([]float64, rows)
	for i := 0; i < X.Rows; i++ {
		x := X.Row(i)
		o := out.Row(i)
		for r, w := range e.Coef {
			z[r] = floats.Dot(x, w) + e.Intercept[r]
		}
		if rows == 1 {
			p1 := sigmoid(z[0])
			o[e.ClassIndex[0]] = 1 - p1
			o[e.ClassIndex[1]] = p1
			continue
		}
		zmax := floats.Max(z)
		var s float64
		for r := range z {
			z[r] = math.Exp(z[r] - zmax)
			s += z[r]
		}
		for r, c := range e.ClassIndex {
			o[c] = z[r] / s
		}
	}
	return out, nil
}

// Predict returns the most probable class index of each row of X.
func (e *LogisticRegression) Predict(X *Matrix) ([]float64, error) {
	if e.Coef == nil {
		return nil, fmt.Errorf("%s: predict: model is not fitted", LogisticRegressionName)
	}
	if err := CheckPredictData(X, len(e.Coef[0])); err != nil {
		return nil, fmt.Errorf("%s: predict: %w", LogisticRegressionName, err)
	}
	out := make([]float64, X.Rows)
	for i := range out {
		x := X.Row(i)
		if len(e.Coef) == 1 {
			// The decision function, as scikit-learn: the second class iff
			// x·w + b > 0.
			c := e.ClassIndex[0]
			if floats.Dot(x, e.Coef[0])+e.Intercept[0] > 0 {
				c = e.ClassIndex[1]
			}
			out[i] = float64(c)
			continue
		}
		best, bz := 0, math.Inf(-1)
		for r, w := range e.Coef {
			if z := floats.Dot(x, w) + e.Intercept[r]; z > bz {
				best, bz = r, z
			}
		}
		out[i] = float64(e.ClassIndex[best])
	}
	return out, nil
}

// FeatureImportances returns Σ_classes |coef[c][j]|, normalised to sum 1,
// or nil before Fit. Like any linear model's, the weights compare features
// only when the features are on one scale.
func (e *LogisticRegression) FeatureImportances() []float64 {
	if e.Coef == nil {
		return nil
	}
	s := make([]float64, len(e.Coef[0]))
	for _, row := range e.Coef {
		for j, v := range row {
			s[j] += math.Abs(v)
		}
	}
	return normalisedAbs(s)
}
