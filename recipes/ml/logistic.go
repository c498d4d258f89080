package ml

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/floats"
)

// LogisticRegressionName is the name LogisticRegression is registered under.
const LogisticRegressionName = "logistic_regression"

// maxClassIndex bounds the class indexes LogisticRegression accepts.
const maxClassIndex = 1 << 16

func init() {
	Register(LogisticRegressionName, func(p map[string]any) (Estimator, error) { return NewLogisticRegression(p) })
}

// LogisticRegression is L2-penalised logistic regression: the model, the
// objective and the meaning of tol of scikit-learn's LogisticRegression
// with the lbfgs solver, fitted by a Newton method. Registered as
// "logistic_regression"; params: C (default 1.0, > 0, the inverse penalty
// strength), max_iter (default 100, >= 1), tol (default 1e-4, > 0),
// fit_intercept (default true).
//
// y holds class indexes 0..k-1 as float64. With two classes in y it fits one
// coefficient vector w and intercept b, P(second class | x) = σ(x·w + b),
// minimising Σᵢ log-loss + ||w||²/(2C); with more it fits a multinomial
// (softmax) model with one row of coefficients and one intercept per class,
// minimising Σᵢ log-loss + ||W||²/(2C). The intercepts are not penalised.
//
// The objective is minimised from zero by a line-search Newton method whose
// steps are solved by preconditioned conjugate gradients (Newton-CG, with
// Hessian-vector products computed from the rows, so the Hessian is never
// formed), until the largest absolute gradient component is at most tol
// (scikit-learn 1.2's scaling: the loss is summed over the rows, not
// averaged) or after max_iter Newton iterations (Converged is then false
// and Status says why; the fit is still usable). scikit-learn's lbfgs also
// stops on a small relative decrease of the objective, short of tol, so
// this fit lands closer to the optimum, in far fewer (and dearer)
// iterations. Columns with under 25% non-zeros (one-hot columns) are read
// from their non-zeros only. Each pass over the rows runs on GOMAXPROCS
// goroutines over fixed chunks of rows whose partial sums are added in a
// fixed order, so a fit is reproducible and does not depend on the number
// of CPUs. The features should be on one scale (standardised) for the
// penalty to treat them alike.
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
	// the fit ended: "converged", "max_iter", or "no_progress" (the line
	// search could not decrease the objective, which can happen at the
	// optimum to within rounding when tol is tiny). Models fitted by earlier
	// versions (L-BFGS) may also say "max_evaluations".
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
	if err := checkTrainingShape(X, y); err != nil {
		return err
	}
	// One pass over X finds its sparse columns and its columns' scales, and
	// any NaN or ±Inf (which make a sum of squares non-finite); X.Check
	// then names it, as CheckTrainingData would have.
	cols := scanColumns(X)
	if !allFinite(cols.sq) {
		if err := X.Check(); err != nil {
			return err
		}
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
	pos := make([]int32, maxC+1)
	for c, ok := range seen {
		if ok {
			pos[c] = int32(len(classes))
			classes = append(classes, c)
		}
	}
	if len(classes) < 2 {
		return fmt.Errorf("y holds a single class (%d); classification needs at least two", classes[0])
	}
	lab := make([]int32, len(y))
	for i, v := range y {
		lab[i] = pos[int(v)]
	}
	m := len(classes)
	rows := m
	if m == 2 {
		rows = 1
	}
	obj := newLogisticObjective(X, cols, lab, rows, 1/e.C, e.FitIntercept)
	res := obj.minimize(e.Tol, e.MaxIter)
	if !allFinite(res.x) {
		return errors.New("the fit is not finite; scale the features")
	}
	coef := make([][]float64, rows)
	icpt := make([]float64, rows)
	for r := range coef {
		coef[r] = slices.Clone(res.x[r*obj.p : (r+1)*obj.p])
		if e.FitIntercept {
			icpt[r] = res.x[rows*obj.p+r]
		}
	}
	e.NClasses, e.ClassIndex, e.Coef, e.Intercept = maxC+1, classes, coef, icpt
	e.NIter, e.Status = res.iters, res.status
	e.Converged = res.status == "converged"
	return nil
}

// Newton-CG settings.
const (
	// logisticMaxCG bounds the conjugate-gradient steps of one Newton
	// iteration (scikit-learn's newton-cg uses 200).
	logisticMaxCG = 200
	// logisticMaxLineSearch bounds the trial steps of one line search.
	logisticMaxLineSearch = 20
	// logisticArmijo is the sufficient-decrease constant of the line search.
	logisticArmijo = 1e-4
	// logisticRounding is the relative rounding level of the objective (a
	// sum of up to logisticChunkRows terms per chunk) under which the line
	// search judges a step by the gradient alone.
	logisticRounding = 1e-11
)

type logisticResult struct {
	x      []float64
	iters  int
	status string
}

// minimize minimises the objective from zero by a line-search Newton-CG
// method, as scikit-learn's newton-cg solver: at each iteration it solves
// H s = -g by conjugate gradients, preconditioned by (an estimate of) the
// Hessian's diagonal, to a relative residual of min(0.5, sqrt(|g|/|g₀|))
// (superlinear convergence), then tries the step s. The objective is
// convex, so a step after which the slope along s is still <= 0 decreases
// it and is taken without computing the objective (a logarithm per row).
// Otherwise the step must decrease the objective enough (Armijo), or, when
// the objective is flat to within rounding, which happens near the optimum
// of a sum over many rows, not raise it beyond rounding with a slope that
// shows the minimum along s was not overshot by much (Hager and Zhang's
// approximate Wolfe condition); if not, it backtracks by cubic
// interpolation. It stops when the largest absolute gradient component is
// at most tol.
func (o *logisticObjective) minimize(tol float64, maxIter int) logisticResult {
	d := o.dim()
	x, g := make([]float64, d), make([]float64, d)
	xNew, gNew := make([]float64, d), make([]float64, d)
	s := make([]float64, d)
	cg := newCGWork(d)
	f := o.eval(x, g, false)
	g0 := floats.Norm(g, 2)
	res := logisticResult{status: "max_iter"}
	for {
		if floats.Norm(g, math.Inf(1)) <= tol {
			res.status = "converged"
			break
		}
		if res.iters >= maxIter {
			break
		}
		res.iters++
		gn := floats.Norm(g, 2)
		eta := math.Min(0.5, math.Sqrt(gn/g0))
		o.solveNewton(cg, g, s, math.Max(eta*gn, tol/4))
		d0 := floats.Dot(g, s)
		if !(d0 < 0) {
			res.status = "no_progress"
			break
		}
		alpha, accepted := 1.0, false
		for try := range logisticMaxLineSearch {
			floats.AddScaledTo(xNew, x, alpha, s)
			fNew := o.eval(xNew, gNew, try > 0)
			da := floats.Dot(gNew, s)
			// The objective is convex, so f(x+αs) - f(x) <= α·φ'(α): a step
			// that does not reach the minimum along s decreases it.
			accepted = da <= 0
			if !accepted {
				if math.IsNaN(f) {
					f = o.loss(x)
				}
				if math.IsNaN(fNew) {
					fNew = o.loss(xNew)
				}
				accepted = fNew <= f+logisticArmijo*alpha*d0 ||
					fNew <= f+logisticRounding*math.Abs(f) && da <= -(1-2*logisticArmijo)*d0
			}
			if accepted {
				x, xNew, g, gNew, f = xNew, x, gNew, g, fNew
				break
			}
			alpha = backtrack(alpha, f, d0, fNew, da)
		}
		if !accepted {
			res.status = "no_progress"
			break
		}
	}
	res.x = x
	return res
}

// backtrack returns the next, smaller trial step after step a was rejected:
// the minimiser of the cubic matching φ(0) = f0, φ'(0) = d0 < 0, φ(a) = fa
// and φ'(a) = da, kept within [a/10, a/2] (a/10 if fa is not finite).
func backtrack(a, f0, d0, fa, da float64) float64 {
	if !finite(fa) || !finite(da) {
		return a / 10
	}
	d1 := d0 + da - 3*(fa-f0)/a
	d2 := d1*d1 - d0*da
	next := a / 2
	if d2 >= 0 {
		d2 = math.Sqrt(d2)
		if den := da - d0 + 2*d2; den != 0 {
			next = a - a*(da+d2-d1)/den
		}
	}
	if !(next >= a/10) {
		return a / 10
	}
	return math.Min(next, a/2)
}

// cgWork is the scratch of solveNewton.
type cgWork struct{ r, z, p, hp []float64 }

func newCGWork(d int) *cgWork {
	return &cgWork{r: make([]float64, d), z: make([]float64, d), p: make([]float64, d), hp: make([]float64, d)}
}

// solveNewton sets s to an approximate solution of H s = -g, H the Hessian
// at the last point evaluated, by conjugate gradients preconditioned with
// H's diagonal, from s = 0 until the residual's norm is at most rtol.
func (o *logisticObjective) solveNewton(w *cgWork, g, s []float64, rtol float64) {
	clear(s)
	r, z, p, hp := w.r, w.z, w.p, w.hp
	floats.ScaleTo(r, -1, g)
	floats.DivTo(z, r, o.diag)
	copy(p, z)
	rz := floats.Dot(r, z)
	for it := 0; it < logisticMaxCG && floats.Norm(r, 2) > rtol; it++ {
		o.hessVec(p, hp)
		curv := floats.Dot(p, hp)
		if !(curv > 0) {
			if it == 0 {
				copy(s, p) // no curvature along p: the preconditioned gradient step
			}
			return
		}
		a := rz / curv
		floats.AddScaled(s, a, p)
		floats.AddScaled(r, -a, hp)
		floats.DivTo(z, r, o.diag)
		rzNew := floats.Dot(r, z)
		floats.AddScaledTo(p, z, rzNew/rz, p)
		rz = rzNew
	}
}

// logisticObjective is the penalised log-loss summed over the rows, with
// the parameters laid out as k rows of p coefficients then k intercepts
// (when fitted). k == 1 is the binary model.
//
// The design is kept as its dense columns, row-major (X's own data when
// every column is dense), plus its sparse columns (under sparseDensity
// non-zeros, such as one-hot columns) as compressed rows, so that each pass
// over the rows costs O(dense columns + non-zeros) per row.
type logisticObjective struct {
	n, p, k   int
	l2        float64
	intercept bool
	y         []int32

	dense     []float64 // n × nd, row-major
	nd        int
	denseCols []int // column of X of each dense column; nil when nd == p
	spStart   []int // row i's sparse entries are [spStart[i], spStart[i+1]); nil if none
	spIdx     []int32
	spVal     []float64

	// At the last point evaluated: per row σ(1-σ) (binary) or the k class
	// probabilities (multinomial), and the preconditioner, an estimate of
	// the Hessian's diagonal (see eval).
	curv []float64
	diag []float64

	colSq []float64 // Σ x² of each column

	chunks, size int
	part         []float64 // per-chunk partial sums, dim + p each
	partF, partH []float64
	wd           []float64   // the dense columns' weights of the parameters, then of hessVec's vector (k × nd each)
	scratch      [][]float64 // per goroutine: k × nd sums, then k values of a row
	threads      int         // goroutines per pass; 0 means GOMAXPROCS
}

// logisticChunkRows is the target number of rows per chunk of a pass;
// logisticMaxChunks bounds the chunks (and so the partial-sum buffers) for
// very long inputs.
const (
	logisticChunkRows = 2048
	logisticMaxChunks = 64
)

// columnScan holds each column's number of non-zeros and sum of squares.
type columnScan struct {
	nnz []int
	sq  []float64
}

func scanColumns(X *Matrix) columnScan {
	p := X.Cols
	c := columnScan{nnz: make([]int, p), sq: make([]float64, p)}
	for i := 0; i < X.Rows; i++ {
		for j, v := range X.Data[i*p : (i+1)*p] {
			if v != 0 {
				c.nnz[j]++
				c.sq[j] += v * v
			}
		}
	}
	return c
}

// newLogisticObjective returns the objective of a model with k coefficient
// rows fitted to X, whose scanColumns is cols, and class positions y.
func newLogisticObjective(X *Matrix, cols columnScan, y []int32, k int, l2 float64, intercept bool) *logisticObjective {
	n, p := X.Rows, X.Cols
	o := &logisticObjective{n: n, p: p, k: k, l2: l2, intercept: intercept, y: y, colSq: cols.sq}
	nnz := cols.nnz
	var sparse, dense []int
	saved := 0
	for j, c := range nnz {
		if float64(c) < sparseDensity*float64(n) {
			sparse = append(sparse, j)
			saved += n - c
		} else {
			dense = append(dense, j)
		}
	}
	// Split the design only if that saves a quarter of the work per pass.
	if len(sparse) == 0 || 4*saved < n*p {
		o.dense, o.nd = X.Data, p
	} else {
		o.nd, o.denseCols = len(dense), dense
		o.dense = make([]float64, n*o.nd)
		o.spStart = make([]int, n+1)
		total := 0
		for _, j := range sparse {
			total += nnz[j]
		}
		o.spIdx, o.spVal = make([]int32, 0, total), make([]float64, 0, total)
		for i := 0; i < n; i++ {
			row := X.Data[i*p : (i+1)*p]
			dr := o.dense[i*o.nd : (i+1)*o.nd]
			for t, j := range dense {
				dr[t] = row[j]
			}
			for _, j := range sparse {
				if v := row[j]; v != 0 {
					o.spIdx = append(o.spIdx, int32(j))
					o.spVal = append(o.spVal, v)
				}
			}
			o.spStart[i+1] = len(o.spIdx)
		}
	}
	if k == 1 {
		o.curv = make([]float64, n)
	} else {
		o.curv = make([]float64, n*k)
	}
	d := o.dim()
	o.diag = make([]float64, d)
	o.chunks = min(max((n+logisticChunkRows-1)/logisticChunkRows, 1), logisticMaxChunks)
	o.size = (n + o.chunks - 1) / o.chunks
	o.part = make([]float64, o.chunks*(d+p))
	o.partF, o.partH = make([]float64, o.chunks), make([]float64, o.chunks)
	o.wd = make([]float64, 2*k*o.nd)
	return o
}

func (o *logisticObjective) dim() int {
	if o.intercept {
		return o.k*o.p + o.k
	}
	return o.k * o.p
}

// run calls fn for every chunk of rows, on up to GOMAXPROCS goroutines;
// worker is the index of the goroutine, for its scratch.
func (o *logisticObjective) run(fn func(worker, chunk, lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if o.threads > 0 {
		workers = o.threads
	}
	workers = min(workers, o.chunks)
	for len(o.scratch) < workers {
		o.scratch = append(o.scratch, make([]float64, o.k*o.nd+o.k))
	}
	one := func(w, c int) { fn(w, c, c*o.size, min((c+1)*o.size, o.n)) }
	if workers == 1 {
		for c := range o.chunks {
			one(0, c)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c := int(next.Add(1)) - 1
				if c >= o.chunks {
					return
				}
				one(w, c)
			}
		}()
	}
	wg.Wait()
}

// gather copies the dense columns' weights of the parameters x into dst
// (k × nd).
func (o *logisticObjective) gather(dst, x []float64) {
	for c := range o.k {
		W, d := x[c*o.p:(c+1)*o.p], dst[c*o.nd:(c+1)*o.nd]
		if o.denseCols == nil {
			copy(d, W)
			continue
		}
		for t, j := range o.denseCols {
			d[t] = W[j]
		}
	}
}

// scatterAdd adds the dense columns' sums src (k × nd) into dst, laid out
// as the parameters.
func (o *logisticObjective) scatterAdd(dst, src []float64) {
	for c := range o.k {
		D, s := dst[c*o.p:(c+1)*o.p], src[c*o.nd:(c+1)*o.nd]
		if o.denseCols == nil {
			floats.Add(D, s)
			continue
		}
		for t, j := range o.denseCols {
			D[j] += s[t]
		}
	}
}

// sum sets dst to the sum of the chunks' partial sums (the first len(dst)
// values of each chunk's stride values in part), added in chunk order.
func (o *logisticObjective) sum(dst []float64, width, stride int) {
	clear(dst)
	for c := range o.chunks {
		floats.Add(dst, o.part[c*stride:c*stride+width])
	}
}

// eval stores the gradient of the objective at x in grad, keeps the per-row
// curvature and the Hessian's diagonal at x for hessVec and solveNewton,
// and returns the objective at x, or NaN for a binary model unless
// withLoss (its loss costs a logarithm per row, and the line search
// seldom needs it; loss computes it). The rows are split into chunks that
// depend only on the number of rows, and the chunks' partial sums are added
// in chunk order, so the result does not depend on scheduling.
func (o *logisticObjective) eval(x, grad []float64, withLoss bool) float64 {
	d, k, p := o.dim(), o.k, o.p
	stride := d + p
	o.gather(o.wd, x)
	o.run(func(w, c, lo, hi int) {
		part := o.part[c*stride : (c+1)*stride]
		clear(part)
		if k == 1 {
			o.partF[c], o.partH[c] = o.evalBinary(x, part[:d], part[d:], o.scratch[w], lo, hi, withLoss)
		} else {
			o.partF[c], o.partH[c] = o.evalMulti(x, part[:d], part[d:], o.scratch[w], lo, hi)
		}
	})
	var loss, hsum float64
	for c := range o.chunks {
		loss += o.partF[c]
		hsum += o.partH[c]
	}
	if k == 1 && !withLoss {
		loss = math.NaN()
	}
	o.sum(grad, d, stride)
	W := x[:k*p]
	loss += 0.5 * o.l2 * floats.Dot(W, W)
	floats.AddScaled(grad[:k*p], o.l2, W)

	// The preconditioner: the Hessian's diagonal, exact for the sparse
	// columns and the intercepts; for the dense columns, the mean curvature
	// times the column's sum of squares, which captures their scale at no
	// cost per row. The multinomial entries of a feature (and the
	// intercepts) are averaged over the classes: a preconditioner equal
	// across the classes keeps the sum over the classes of the iterates at
	// zero, the null direction of the intercepts (and the weakly curved
	// one of the coefficients) that scikit-learn's iterates keep too.
	diag := o.diag[:p]
	clear(diag)
	if o.spStart != nil {
		for c := range o.chunks {
			floats.Add(diag, o.part[c*stride+d:(c+1)*stride])
		}
	}
	for t := range o.nd {
		j := t
		if o.denseCols != nil {
			j = o.denseCols[t]
		}
		diag[j] = hsum * o.colSq[j] / float64(o.n)
	}
	floats.Scale(1/float64(k), diag)
	floats.AddConst(o.l2, diag)
	for c := 1; c < k; c++ {
		copy(o.diag[c*p:(c+1)*p], diag)
	}
	if o.intercept {
		for c := range k {
			o.diag[k*p+c] = hsum / float64(k)
		}
	}
	for j, v := range o.diag {
		if !(v > 0) || math.IsInf(v, 0) {
			o.diag[j] = 1 // no curvature seen (every row fitted to rounding): leave it unscaled
		}
	}
	return loss
}

// evalBinary returns the unpenalised loss of rows [lo, hi) (if withLoss)
// and their sum of σ(1-σ), and adds their gradient to grad and the sparse
// columns' Hessian diagonal to diag.
func (o *logisticObjective) evalBinary(x, grad, diag, scratch []float64, lo, hi int, withLoss bool) (loss, hsum float64) {
	p, nd := o.p, o.nd
	W, wd := x[:p], o.wd[:nd]
	gd := scratch[:nd]
	clear(gd)
	var b0 float64
	if o.intercept {
		b0 = x[p]
	}
	var gb float64
	for i := lo; i < hi; i++ {
		xr := o.dense[i*nd : (i+1)*nd]
		z := b0 + floats.Dot(xr, wd)
		var s0, s1 int
		if o.spStart != nil {
			s0, s1 = o.spStart[i], o.spStart[i+1]
			for t := s0; t < s1; t++ {
				z += o.spVal[t] * W[o.spIdx[t]]
			}
		}
		// softplus(z) = max(z, 0) + log1p(e), σ(z) and σ(1-σ) from the same e.
		e := expNeg(-math.Abs(z))
		q := 1 / (1 + e)
		num := 1.0
		if z < 0 {
			num = e
		}
		sig := num * q
		yi := float64(o.y[i])
		if withLoss {
			loss += math.Max(z, 0) + math.Log1p(e) - yi*z
		}
		dv, h := sig-yi, e*q*q
		o.curv[i] = h
		floats.AddScaled(gd, dv, xr)
		for t := s0; t < s1; t++ {
			j, v := o.spIdx[t], o.spVal[t]
			grad[j] += dv * v
			diag[j] += h * v * v
		}
		gb += dv
		hsum += h
	}
	o.scatterAdd(grad, gd)
	if o.intercept {
		grad[p] = gb
	}
	return loss, hsum
}

// evalMulti is evalBinary for the multinomial model, always with the loss;
// the curvature summed is Σ_c p_c(1-p_c), and the diagonal entries are
// summed over the classes.
func (o *logisticObjective) evalMulti(x, grad, diag, scratch []float64, lo, hi int) (loss, hsum float64) {
	k, p, nd := o.k, o.p, o.nd
	W := x[:k*p]
	gd := scratch[:k*nd]
	z := scratch[k*nd : k*nd+k]
	clear(gd)
	var b []float64
	if o.intercept {
		b = x[k*p:]
	}
	for i := lo; i < hi; i++ {
		xr := o.dense[i*nd : (i+1)*nd]
		for c := range k {
			z[c] = floats.Dot(xr, o.wd[c*nd:(c+1)*nd])
			if b != nil {
				z[c] += b[c]
			}
		}
		var s0, s1 int
		if o.spStart != nil {
			s0, s1 = o.spStart[i], o.spStart[i+1]
			for t := s0; t < s1; t++ {
				j, v := int(o.spIdx[t]), o.spVal[t]
				for c := range k {
					z[c] += v * W[c*p+j]
				}
			}
		}
		zmax := z[0]
		for _, v := range z[1:] {
			zmax = math.Max(zmax, v)
		}
		yi := int(o.y[i])
		pr := o.curv[i*k : (i+1)*k]
		var s float64
		for c := range k {
			pr[c] = expNeg(z[c] - zmax)
			s += pr[c]
		}
		loss += zmax + math.Log(s) - z[yi]
		inv := 1 / s
		var a float64
		for c := range k {
			pr[c] *= inv
			dv := pr[c]
			if c == yi {
				dv--
			}
			a += pr[c] * (1 - pr[c])
			floats.AddScaled(gd[c*nd:(c+1)*nd], dv, xr)
			for t := s0; t < s1; t++ {
				grad[c*p+int(o.spIdx[t])] += dv * o.spVal[t]
			}
			if b != nil {
				grad[k*p+c] += dv
			}
		}
		for t := s0; t < s1; t++ {
			v := o.spVal[t]
			diag[o.spIdx[t]] += a * v * v
		}
		hsum += a
	}
	o.scatterAdd(grad, gd)
	return loss, hsum
}

// loss returns the objective at x.
func (o *logisticObjective) loss(x []float64) float64 {
	k, p := o.k, o.p
	o.gather(o.wd, x)
	o.run(func(_, c, lo, hi int) {
		var loss float64
		if k == 1 {
			W, wd := x[:p], o.wd[:o.nd]
			var b0 float64
			if o.intercept {
				b0 = x[p]
			}
			for i := lo; i < hi; i++ {
				z := b0 + o.rowDot(i, wd, W)
				loss += math.Max(z, 0) + math.Log1p(math.Exp(-math.Abs(z))) - float64(o.y[i])*z
			}
		} else {
			z := make([]float64, k)
			for i := lo; i < hi; i++ {
				for c := range k {
					z[c] = o.rowDot(i, o.wd[c*o.nd:(c+1)*o.nd], x[c*p:(c+1)*p])
					if o.intercept {
						z[c] += x[k*p+c]
					}
				}
				zmax := floats.Max(z)
				var s float64
				for _, v := range z {
					s += math.Exp(v - zmax)
				}
				loss += zmax + math.Log(s) - z[o.y[i]]
			}
		}
		o.partF[c] = loss
	})
	var loss float64
	for _, v := range o.partF[:o.chunks] {
		loss += v
	}
	W := x[:k*p]
	return loss + 0.5*o.l2*floats.Dot(W, W)
}

// rowDot returns row i of the design times a coefficient vector, given as
// its dense columns' weights wd and all its weights W.
func (o *logisticObjective) rowDot(i int, wd, W []float64) float64 {
	z := floats.Dot(o.dense[i*o.nd:(i+1)*o.nd], wd)
	if o.spStart != nil {
		for t := o.spStart[i]; t < o.spStart[i+1]; t++ {
			z += o.spVal[t] * W[o.spIdx[t]]
		}
	}
	return z
}

// hessVec stores in out the product of the Hessian at the last point
// evaluated with v.
func (o *logisticObjective) hessVec(v, out []float64) {
	d, k, p := o.dim(), o.k, o.p
	vd := o.wd[k*o.nd:]
	o.gather(vd, v)
	o.run(func(w, c, lo, hi int) {
		part := o.part[c*d : (c+1)*d]
		clear(part)
		if k == 1 {
			o.hessVecBinary(v, vd, part, o.scratch[w], lo, hi)
		} else {
			o.hessVecMulti(v, vd, part, o.scratch[w], lo, hi)
		}
	})
	o.sum(out, d, d)
	floats.AddScaled(out[:k*p], o.l2, v[:k*p])
}

func (o *logisticObjective) hessVecBinary(v, vd, out, scratch []float64, lo, hi int) {
	p, nd := o.p, o.nd
	V := v[:p]
	od := scratch[:nd]
	clear(od)
	var vb, ob float64
	if o.intercept {
		vb = v[p]
	}
	for i := lo; i < hi; i++ {
		xr := o.dense[i*nd : (i+1)*nd]
		u := vb + floats.Dot(xr, vd[:nd])
		var s0, s1 int
		if o.spStart != nil {
			s0, s1 = o.spStart[i], o.spStart[i+1]
			for t := s0; t < s1; t++ {
				u += o.spVal[t] * V[o.spIdx[t]]
			}
		}
		u *= o.curv[i]
		floats.AddScaled(od, u, xr)
		for t := s0; t < s1; t++ {
			out[o.spIdx[t]] += u * o.spVal[t]
		}
		ob += u
	}
	o.scatterAdd(out, od)
	if o.intercept {
		out[p] = ob
	}
}

func (o *logisticObjective) hessVecMulti(v, vd, out, scratch []float64, lo, hi int) {
	k, p, nd := o.k, o.p, o.nd
	V := v[:k*p]
	od := scratch[:k*nd]
	u := scratch[k*nd : k*nd+k]
	clear(od)
	var vb []float64
	if o.intercept {
		vb = v[k*p:]
	}
	for i := lo; i < hi; i++ {
		xr := o.dense[i*nd : (i+1)*nd]
		for c := range k {
			u[c] = floats.Dot(xr, vd[c*nd:(c+1)*nd])
			if vb != nil {
				u[c] += vb[c]
			}
		}
		var s0, s1 int
		if o.spStart != nil {
			s0, s1 = o.spStart[i], o.spStart[i+1]
			for t := s0; t < s1; t++ {
				j, val := int(o.spIdx[t]), o.spVal[t]
				for c := range k {
					u[c] += val * V[c*p+j]
				}
			}
		}
		pr := o.curv[i*k : (i+1)*k]
		var s float64
		for c := range k {
			s += pr[c] * u[c]
		}
		for c := range k {
			t := pr[c] * (u[c] - s)
			floats.AddScaled(od[c*nd:(c+1)*nd], t, xr)
			for q := s0; q < s1; q++ {
				out[c*p+int(o.spIdx[q])] += t * o.spVal[q]
			}
			if vb != nil {
				out[k*p+c] += t
			}
		}
	}
	o.scatterAdd(out, od)
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
	if err := checkPredictShape(X, len(e.Coef[0])); err != nil {
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
		if !allFinite(z) {
			if err := CheckPredictData(X, len(e.Coef[0])); err != nil {
				return nil, fmt.Errorf("%s: predict: %w", LogisticRegressionName, err)
			}
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
	if err := checkPredictShape(X, len(e.Coef[0])); err != nil {
		return nil, fmt.Errorf("%s: predict: %w", LogisticRegressionName, err)
	}
	out := make([]float64, X.Rows)
	finiteZ := true
	for i := range out {
		x := X.Row(i)
		if len(e.Coef) == 1 {
			// The decision function, as scikit-learn: the second class iff
			// x·w + b > 0.
			c := e.ClassIndex[0]
			z := floats.Dot(x, e.Coef[0]) + e.Intercept[0]
			if z > 0 {
				c = e.ClassIndex[1]
			}
			finiteZ = finiteZ && finite(z)
			out[i] = float64(c)
			continue
		}
		best, bz := 0, math.Inf(-1)
		for r, w := range e.Coef {
			z := floats.Dot(x, w) + e.Intercept[r]
			if z > bz {
				best, bz = r, z
			}
			finiteZ = finiteZ && finite(z)
		}
		out[i] = float64(e.ClassIndex[best])
	}
	if !finiteZ {
		if err := CheckPredictData(X, len(e.Coef[0])); err != nil {
			return nil, fmt.Errorf("%s: predict: %w", LogisticRegressionName, err)
		}
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

// expNeg returns e^x for x <= 0 to within about one ulp, several times
// faster than math.Exp: e^x = 2^(k/128) · e^r with |r| <= ln2/256, the
// first factor from a table and the second from its Taylor polynomial of
// degree 5 (truncation error below 2^-60). Below -708, where the result
// nears the subnormals, and for NaN it calls math.Exp.
func expNeg(x float64) float64 {
	if !(x >= -708) {
		return math.Exp(x)
	}
	kd := x*expInvLn2N + expShift
	ki := math.Float64bits(kd)
	kd -= expShift
	r := x + kd*expNegLn2HiN + kd*expNegLn2LoN
	// ki's low 7 bits are k mod 128, the bits above are ⌊k/128⌋ (plus
	// constant bits shifted out): adding ki << 45 to the table entry adds
	// ⌊k/128⌋ to its exponent.
	scale := math.Float64frombits(expTable[ki%expN] + ki<<(52-expBits))
	r2 := r * r
	p := r + r2*(1.0/2+r*(1.0/6)) + r2*r2*(1.0/24+r*(1.0/120))
	return scale + scale*p
}

const (
	expBits      = 7
	expN         = 1 << expBits
	expShift     = 0x1.8p52
	expInvLn2N   = expN / math.Ln2
	expNegLn2HiN = -0x1.62e42fefa0000p-8 // ln2/128 to 36 bits: k·hi is exact
	expNegLn2LoN = -(math.Ln2/expN + expNegLn2HiN)
)

// expTable[i] is the bits of 2^(i/128), correctly rounded, minus i << 45
// (see expNeg).
var expTable = func() (t [expN]uint64) {
	const prec = 256
	root := new(big.Float).SetPrec(prec).SetInt64(2)
	for range expBits {
		root.Sqrt(root)
	}
	v := new(big.Float).SetPrec(prec).SetInt64(1)
	for i := range t {
		f, _ := v.Float64()
		t[i] = math.Float64bits(f) - uint64(i)<<(52-expBits)
		v.Mul(v, root)
	}
	return t
}()
