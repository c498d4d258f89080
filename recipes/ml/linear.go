package ml

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// The names linear models are registered under.
const (
	LinearRegressionName = "linear_regression"
	RidgeName            = "ridge"
)

func init() {
	Register(LinearRegressionName, func(p map[string]any) (Estimator, error) { return NewLinearRegression(p) })
	Register(RidgeName, func(p map[string]any) (Estimator, error) { return NewRidge(p) })
}

// LinearModel is the fitted state shared by linear models: the prediction
// for a row x is Intercept + Σ Coef[j]·x[j].
type LinearModel struct {
	Coef      []float64 `json:"coef,omitempty"`
	Intercept float64   `json:"intercept"`
	// Solver records how the fit was solved: "cholesky", or "eigen" for a
	// rank-deficient or ill-conditioned design.
	Solver string `json:"solver,omitempty"`
}

// Predict returns Intercept + X·Coef.
func (m *LinearModel) Predict(X *Matrix) ([]float64, error) {
	if m.Coef == nil {
		return nil, errors.New("predict: model is not fitted")
	}
	if err := checkPredictShape(X, len(m.Coef)); err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	out := make([]float64, X.Rows)
	for i := range out {
		out[i] = m.Intercept + floats.Dot(X.Row(i), m.Coef)
	}
	if !allFinite(out) {
		if err := CheckPredictData(X, len(m.Coef)); err != nil {
			return nil, fmt.Errorf("predict: %w", err)
		}
	}
	return out, nil
}

// checkPredictShape is CheckPredictData without its scan for NaN and ±Inf,
// for predictors that check their outputs instead: a NaN or ±Inf in a row
// makes its products with finite coefficients non-finite (0·Inf is NaN),
// so only when an output is not finite need X be scanned (by
// CheckPredictData) for the error that names the row and column.
func checkPredictShape(X *Matrix, cols int) error {
	if X == nil || X.Cols != cols || X.Rows < 0 || len(X.Data) != X.Rows*X.Cols {
		return CheckPredictData(X, cols)
	}
	return nil
}

// FeatureImportances returns |Coef[j]| / Σ|Coef|. The weights depend on the
// scale of each feature: they compare features only when the features are
// on one scale (standardised, or one-hot).
func (m *LinearModel) FeatureImportances() []float64 {
	if m.Coef == nil {
		return nil
	}
	return normalisedAbs(m.Coef)
}

// Validate checks decoded state: the coefficients and intercept are finite.
func (m *LinearModel) Validate() error {
	if !finite(m.Intercept) {
		return errors.New("intercept is not finite")
	}
	for j, c := range m.Coef {
		if !finite(c) {
			return fmt.Errorf("coefficient %d is not finite", j)
		}
	}
	return nil
}

// LinearRegression is ordinary least squares, scikit-learn's
// LinearRegression. Registered as "linear_regression"; params: fit_intercept
// (default true).
//
// It solves the normal equations of the centred design (when fitting an
// intercept) by Cholesky after scaling them to unit diagonal. A design that
// is rank-deficient (one-hot columns plus an intercept, a duplicated column)
// or too ill-conditioned for Cholesky is solved by a symmetric eigen
// decomposition instead, giving the minimum-norm least-squares solution, as
// scikit-learn's lstsq does. A constant column gets coefficient 0.
type LinearRegression struct {
	FitIntercept bool `json:"fit_intercept"`
	LinearModel
}

var _ Estimator = (*LinearRegression)(nil)

// NewLinearRegression returns an unfitted LinearRegression.
func NewLinearRegression(params map[string]any) (*LinearRegression, error) {
	p := NewParams(LinearRegressionName, params)
	e := &LinearRegression{FitIntercept: p.Bool("fit_intercept", true)}
	return e, p.Err()
}

// Name returns "linear_regression".
func (e *LinearRegression) Name() string { return LinearRegressionName }

// Fit fits ordinary least squares.
func (e *LinearRegression) Fit(X *Matrix, y []float64) error {
	m, err := fitLinear(X, y, 0, e.FitIntercept)
	if err != nil {
		return fmt.Errorf("%s: fit: %w", LinearRegressionName, err)
	}
	e.LinearModel = m
	return nil
}

// Ridge is least squares with an L2 penalty, scikit-learn's Ridge: it
// minimises ||y - Xw - b||² + alpha·||w||², the intercept b unpenalised (X and
// y are centred first). Registered as "ridge"; params: alpha (default 1.0,
// >= 0), fit_intercept (default true).
//
// It solves (XᵀX + alpha·I) w = Xᵀy by Cholesky. XᵀX is built in one pass over
// X: the dense columns by blocked symmetric rank-k updates (BLAS dsyrk), and
// the sparse ones (density < 25%, such as one-hot columns) from their
// non-zeros only, uncentred and corrected afterwards, which keeps wide
// one-hot designs fast.
type Ridge struct {
	Alpha        float64 `json:"alpha"`
	FitIntercept bool    `json:"fit_intercept"`
	LinearModel
}

var _ Estimator = (*Ridge)(nil)

// NewRidge returns an unfitted Ridge.
func NewRidge(params map[string]any) (*Ridge, error) {
	p := NewParams(RidgeName, params)
	e := &Ridge{Alpha: p.Float("alpha", 1.0), FitIntercept: p.Bool("fit_intercept", true)}
	if e.Alpha < 0 {
		p.Fail("alpha", "must be >= 0, got %v", e.Alpha)
	}
	return e, p.Err()
}

// Name returns "ridge".
func (e *Ridge) Name() string { return RidgeName }

// Validate checks decoded state.
func (e *Ridge) Validate() error {
	if !(e.Alpha >= 0) || math.IsInf(e.Alpha, 0) {
		return fmt.Errorf("alpha is %v", e.Alpha)
	}
	return e.LinearModel.Validate()
}

// Fit fits ridge regression.
func (e *Ridge) Fit(X *Matrix, y []float64) error {
	if !(e.Alpha >= 0) || math.IsInf(e.Alpha, 0) {
		return fmt.Errorf("%s: fit: alpha is %v; it must be finite and >= 0", RidgeName, e.Alpha)
	}
	m, err := fitLinear(X, y, e.Alpha, e.FitIntercept)
	if err != nil {
		return fmt.Errorf("%s: fit: %w", RidgeName, err)
	}
	e.LinearModel = m
	return nil
}

// fitLinear solves (XcᵀXc + alpha·I) w = Xcᵀyc, with Xc, yc centred when
// center is true.
func fitLinear(X *Matrix, y []float64, alpha float64, center bool) (LinearModel, error) {
	if err := checkTrainingShape(X, y); err != nil {
		return LinearModel{}, err
	}
	g, ok := buildGram(X, y, center)
	if !ok {
		// X holds a NaN or ±Inf, or its column sums overflow.
		if err := X.Check(); err != nil {
			return LinearModel{}, err
		}
		return LinearModel{}, errors.New("column sums of X overflow float64; scale the features")
	}
	if !allFinite(g.G.RawSymmetric().Data) || !allFinite(g.c) {
		return LinearModel{}, errors.New("XᵀX or Xᵀy overflows float64; scale the features")
	}
	p := X.Cols
	drop := make([]bool, p)
	for j := 0; j < p; j++ {
		a := g.G.At(j, j) + alpha
		g.G.SetSym(j, j, a)
		// A column whose (centred) norm is zero up to rounding carries no
		// information; give it coefficient 0 rather than divide by noise.
		tiny := 1e-11 * g.maxAbs[j]
		drop[j] = a <= float64(g.n)*tiny*tiny
	}
	w, solver, err := solveSym(g.G, g.c, drop)
	if err != nil {
		return LinearModel{}, err
	}
	m := LinearModel{Coef: w, Solver: solver}
	if center {
		m.Intercept = g.ymean - floats.Dot(g.mean, w)
	}
	if err := m.Validate(); err != nil {
		return LinearModel{}, fmt.Errorf("the fit is not finite (%v); scale the features", err)
	}
	return m, nil
}

// gram holds the normal equations of a (possibly centred) design.
type gram struct {
	n      int
	G      *mat.SymDense // XcᵀXc
	c      []float64     // Xcᵀyc
	mean   []float64     // column means (zero when not centring)
	ymean  float64
	maxAbs []float64
}

// sparseDensity is the fraction of non-zeros below which a column is treated
// as sparse by buildGram.
const sparseDensity = 0.25

// gramBlock is the number of rows per symmetric rank-k update.
const gramBlock = 256

// buildGram computes XcᵀXc and Xcᵀyc, where Xc is X with its column means
// subtracted (when center) and yc likewise. It returns false, having done
// no more work, if a column sum is not finite: X holds a NaN or ±Inf, or
// overflows.
//
// Dense columns are shifted by their mean and accumulated block by block
// with SymRankK. Sparse columns are left unshifted so they stay sparse: their
// products are accumulated from non-zeros only, and the shift is applied
// afterwards as a rank-one correction, Σ(x-μ)(z-ν) = Σxz - nμν. That
// subtraction loses no precision for a column under 25% density, whose
// second moment is at most 4/3 of its variance.
func buildGram(X *Matrix, y []float64, center bool) (*gram, bool) {
	n, p := X.Rows, X.Cols
	g := &gram{n: n, mean: make([]float64, p), maxAbs: make([]float64, p), c: make([]float64, p)}
	sum := make([]float64, p)
	nnz := make([]int, p)
	for r := 0; r < n; r++ {
		row := X.Data[r*p : (r+1)*p]
		for j, v := range row {
			if v != 0 {
				sum[j] += v
				nnz[j]++
				if a := math.Abs(v); a > g.maxAbs[j] {
					g.maxAbs[j] = a
				}
			}
		}
	}
	if !allFinite(sum) {
		return nil, false
	}
	sparse := make([]bool, p)
	var dense, sp []int
	pos := make([]int, p)
	for j := 0; j < p; j++ {
		sparse[j] = float64(nnz[j]) < sparseDensity*float64(n)
		if sparse[j] {
			sp = append(sp, j)
		} else {
			pos[j] = len(dense)
			dense = append(dense, j)
		}
	}
	shift := make([]float64, p)
	if center {
		for j := range g.mean {
			g.mean[j] = sum[j] / float64(n)
		}
		g.ymean = mean(y)
		// Refine the dense means by the mean residual (two-pass mean).
		if len(dense) > 0 {
			corr := make([]float64, len(dense))
			for r := 0; r < n; r++ {
				row := X.Data[r*p : (r+1)*p]
				for k, j := range dense {
					corr[k] += row[j] - g.mean[j]
				}
			}
			for k, j := range dense {
				g.mean[j] += corr[k] / float64(n)
				shift[j] = g.mean[j]
			}
		}
	}

	d := len(dense)
	var gdd *mat.SymDense
	if d > 0 {
		gdd = mat.NewSymDense(d, nil)
	}
	var acc []float64 // acc[i*p+j]: Σ x_i·(x_j - shift_j) for sparse i
	if len(sp) > 0 {
		acc = make([]float64, p*p)
	}
	buf := make([]float64, gramBlock*d)
	// Runs of adjacent columns of one class (a one-hot group, a block of
	// numeric columns), visited in column order so that each row is read
	// front to back as contiguous slices.
	type colRun struct {
		lo, hi int
		dense  bool
		pos    int // dense runs: index of column lo among the dense columns
	}
	var runs []colRun
	for j := 0; j < p; j++ {
		if k := len(runs) - 1; k >= 0 && runs[k].hi == j && runs[k].dense == !sparse[j] {
			runs[k].hi++
			continue
		}
		runs = append(runs, colRun{lo: j, hi: j + 1, dense: !sparse[j], pos: pos[j]})
	}
	nzIdx := make([]int, len(sp))
	nzVal := make([]float64, len(sp))
	for r0 := 0; r0 < n; r0 += gramBlock {
		r1 := min(r0+gramBlock, n)
		for r := r0; r < r1; r++ {
			row := X.Data[r*p : (r+1)*p]
			yc := y[r] - g.ymean
			brow := buf[(r-r0)*d : (r-r0+1)*d]
			nnz := 0
			for _, run := range runs {
				seg := row[run.lo:run.hi]
				if run.dense {
					sh := shift[run.lo:run.hi]
					c := g.c[run.lo:run.hi]
					b := brow[run.pos : run.pos+len(seg)]
					for k, v := range seg {
						v -= sh[k]
						b[k] = v
						c[k] += v * yc
					}
					continue
				}
				for k, v := range seg {
					if v != 0 {
						nzIdx[nnz] = run.lo + k
						nzVal[nnz] = v
						nnz++
					}
				}
			}
			for a := 0; a < nnz; a++ {
				ja, va := nzIdx[a], nzVal[a]
				g.c[ja] += va * yc
				base := acc[ja*p : (ja+1)*p]
				for b := a; b < nnz; b++ {
					base[nzIdx[b]] += va * nzVal[b]
				}
				for k, j := range dense {
					base[j] += va * brow[k]
				}
			}
		}
		if d > 0 {
			blk := mat.NewDense(r1-r0, d, buf[:(r1-r0)*d])
			gdd.SymRankK(gdd, 1, blk.T())
		}
	}

	g.G = mat.NewSymDense(p, nil)
	nf := float64(n)
	for i := 0; i < p; i++ {
		for j := i; j < p; j++ {
			var v float64
			switch {
			case !sparse[i] && !sparse[j]:
				v = gdd.At(pos[i], pos[j])
			case i == j:
				v = acc[i*p+i]
			default:
				v = acc[i*p+j] + acc[j*p+i]
			}
			if center && sparse[i] && sparse[j] {
				v -= nf * g.mean[i] * g.mean[j]
			}
			g.G.SetSym(i, j, v)
		}
	}
	return g, true
}

// solveSym solves A w = b for a symmetric positive semi-definite A, with
// w[j] = 0 for the dropped columns. It scales A to unit diagonal and tries
// Cholesky; if A is singular or its condition number exceeds 1/rcond, it
// uses an eigen decomposition, treats eigenvalues below rcond·λmax as zero,
// and returns the minimum-norm solution.
func solveSym(A *mat.SymDense, b []float64, drop []bool) ([]float64, string, error) {
	p := len(b)
	w := make([]float64, p)
	var act []int
	for j := 0; j < p; j++ {
		if !drop[j] {
			act = append(act, j)
		}
	}
	q := len(act)
	if q == 0 {
		return w, "none", nil
	}
	dg := make([]float64, q)
	for i, j := range act {
		dg[i] = math.Sqrt(A.At(j, j))
	}
	S := mat.NewSymDense(q, nil)
	r := mat.NewVecDense(q, nil)
	for i, ji := range act {
		for k := i + 1; k < q; k++ {
			S.SetSym(i, k, A.At(ji, act[k])/(dg[i]*dg[k]))
		}
		S.SetSym(i, i, 1)
		r.SetVec(i, b[ji]/dg[i])
	}
	rcond := math.Max(1e-12, 10*float64(q)*eps)

	var v mat.VecDense
	solver := "cholesky"
	var chol mat.Cholesky
	if !(chol.Factorize(S) && chol.Cond() < 1/rcond && chol.SolveVecTo(&v, r) == nil && allFinite(v.RawVector().Data)) {
		solver = "eigen"
		var err error
		if v, err = minNormSolve(S, r, dg, rcond); err != nil {
			return nil, "", err
		}
	}
	for i, j := range act {
		w[j] = v.AtVec(i) / dg[i]
	}
	if !allFinite(w) {
		return nil, "", errors.New("the solution is not finite; scale the features")
	}
	return w, solver, nil
}

// minNormSolve solves the scaled system S v = r (S = D⁻¹AD⁻¹, r = D⁻¹b) by a
// truncated eigen decomposition and returns the v whose w = D⁻¹v is the
// minimum-norm solution of A w = b: the null directions of A are
// D⁻¹·(null eigenvectors of S), and their components are projected out of w.
func minNormSolve(S *mat.SymDense, r *mat.VecDense, dg []float64, rcond float64) (mat.VecDense, error) {
	q := len(dg)
	var es mat.EigenSym
	if !es.Factorize(S, true) {
		return mat.VecDense{}, errors.New("eigen decomposition did not converge")
	}
	vals := es.Values(nil)
	var Q mat.Dense
	es.VectorsTo(&Q)
	lmax := 0.0
	for _, l := range vals {
		lmax = math.Max(lmax, l)
	}
	tol := rcond * lmax
	w := make([]float64, q) // in original coordinates: w = D⁻¹ v
	var null [][]float64
	col := make([]float64, q)
	for k, l := range vals {
		mat.Col(col, k, &Q)
		if l <= tol {
			u := make([]float64, q)
			for i := range u {
				u[i] = col[i] / dg[i]
			}
			floats.Scale(1/floats.Norm(u, 2), u)
			null = append(null, u)
			continue
		}
		coef := floats.Dot(col, r.RawVector().Data) / l
		for i := range w {
			w[i] += coef * col[i] / dg[i]
		}
	}
	// Orthonormalise the null directions (Gram-Schmidt, twice for accuracy)
	// and project them out of w.
	var basis [][]float64
	for _, u := range null {
		for pass := 0; pass < 2; pass++ {
			for _, e := range basis {
				floats.AddScaled(u, -floats.Dot(u, e), e)
			}
		}
		if nrm := floats.Norm(u, 2); nrm > 1e-6 {
			floats.Scale(1/nrm, u)
			basis = append(basis, u)
		}
	}
	for _, e := range basis {
		floats.AddScaled(w, -floats.Dot(w, e), e)
	}
	v := mat.NewVecDense(q, nil)
	for i := range w {
		v.SetVec(i, w[i]*dg[i])
	}
	return *v, nil
}

func allFinite(xs []float64) bool {
	for _, x := range xs {
		if !finite(x) {
			return false
		}
	}
	return true
}
