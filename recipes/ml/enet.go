package ml

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
)

// The names the coordinate-descent linear models are registered under.
const (
	LassoName      = "lasso"
	ElasticNetName = "elastic_net"
)

func init() {
	Register(LassoName, func(p map[string]any) (Estimator, error) { return NewLasso(p) })
	Register(ElasticNetName, func(p map[string]any) (Estimator, error) { return NewElasticNet(p) })
}

// CDState records how a coordinate-descent fit ended.
type CDState struct {
	// NIter is the number of full passes over the coefficients.
	NIter int `json:"n_iter"`
	// DualGap is the duality gap at the end, in the units of scikit-learn's
	// dual_gap_ (the objective times n).
	DualGap float64 `json:"dual_gap"`
	// Converged is false when max_iter passes ended with the duality gap
	// above tol·||y - ȳ||² (scikit-learn's ConvergenceWarning).
	Converged bool `json:"converged"`
}

// Lasso is least squares with an L1 penalty, scikit-learn's Lasso: it
// minimises 1/(2n)·||y - Xw - b||² + alpha·||w||₁, the intercept b
// unpenalised. Registered as "lasso"; params: alpha (default 1.0, >= 0),
// max_iter (default 1000, >= 1), tol (default 1e-4, > 0), fit_intercept
// (default true). It is ElasticNet with l1_ratio 1; see ElasticNet for the
// solver.
type Lasso struct {
	Alpha        float64 `json:"alpha"`
	MaxIter      int     `json:"max_iter"`
	Tol          float64 `json:"tol"`
	FitIntercept bool    `json:"fit_intercept"`
	CDState
	LinearModel
}

// ElasticNet is least squares with a combined L1 and L2 penalty,
// scikit-learn's ElasticNet: it minimises
//
//	1/(2n)·||y - Xw - b||² + alpha·l1_ratio·||w||₁ + alpha·(1-l1_ratio)/2·||w||²
//
// with the intercept b unpenalised. Registered as "elastic_net"; params:
// alpha (default 1.0, >= 0), l1_ratio (default 0.5, in [0, 1]), max_iter
// (default 1000, >= 1), tol (default 1e-4, > 0), fit_intercept (default
// true).
//
// The solver is scikit-learn's cyclic coordinate descent on the centred
// data (when fitting an intercept, b = ȳ - x̄·w): after each pass in which
// the largest coefficient change is below tol times the largest
// coefficient, it computes the duality gap and stops once the gap is below
// tol·||y - ȳ||², or after max_iter passes (Converged is then false; the
// fit is still usable). When there are at least four times as many rows as
// columns it works on the precomputed Gram matrix XᵀX (solver "cd_gram"),
// making a pass O(p²) instead of O(n·p); otherwise on the columns of X
// (solver "cd"). A constant column gets coefficient 0.
type ElasticNet struct {
	Alpha        float64 `json:"alpha"`
	L1Ratio      float64 `json:"l1_ratio"`
	MaxIter      int     `json:"max_iter"`
	Tol          float64 `json:"tol"`
	FitIntercept bool    `json:"fit_intercept"`
	CDState
	LinearModel
}

var (
	_ Estimator = (*Lasso)(nil)
	_ Estimator = (*ElasticNet)(nil)
)

// NewLasso returns an unfitted Lasso.
func NewLasso(params map[string]any) (*Lasso, error) {
	p := NewParams(LassoName, params)
	e := &Lasso{
		Alpha:        p.Float("alpha", 1.0),
		MaxIter:      p.Int("max_iter", 1000),
		Tol:          p.Float("tol", 1e-4),
		FitIntercept: p.Bool("fit_intercept", true),
	}
	checkCDParams(p, e.Alpha, 1, e.MaxIter, e.Tol)
	return e, p.Err()
}

// NewElasticNet returns an unfitted ElasticNet.
func NewElasticNet(params map[string]any) (*ElasticNet, error) {
	p := NewParams(ElasticNetName, params)
	e := &ElasticNet{
		Alpha:        p.Float("alpha", 1.0),
		L1Ratio:      p.Float("l1_ratio", 0.5),
		MaxIter:      p.Int("max_iter", 1000),
		Tol:          p.Float("tol", 1e-4),
		FitIntercept: p.Bool("fit_intercept", true),
	}
	checkCDParams(p, e.Alpha, e.L1Ratio, e.MaxIter, e.Tol)
	return e, p.Err()
}

func checkCDParams(p *Params, alpha, l1Ratio float64, maxIter int, tol float64) {
	if alpha < 0 {
		p.Fail("alpha", "must be >= 0, got %v", alpha)
	}
	if l1Ratio < 0 || l1Ratio > 1 {
		p.Fail("l1_ratio", "must be in [0, 1], got %v", l1Ratio)
	}
	if maxIter < 1 {
		p.Fail("max_iter", "must be >= 1, got %v", maxIter)
	}
	if tol <= 0 {
		p.Fail("tol", "must be > 0, got %v", tol)
	}
}

func cdParamsErr(alpha, l1Ratio float64, maxIter int, tol float64) error {
	switch {
	case !(alpha >= 0) || math.IsInf(alpha, 0):
		return fmt.Errorf("alpha is %v; it must be finite and >= 0", alpha)
	case !(l1Ratio >= 0 && l1Ratio <= 1):
		return fmt.Errorf("l1_ratio is %v; it must be in [0, 1]", l1Ratio)
	case maxIter < 1:
		return fmt.Errorf("max_iter is %d; it must be >= 1", maxIter)
	case !(tol > 0) || math.IsInf(tol, 0):
		return fmt.Errorf("tol is %v; it must be finite and > 0", tol)
	}
	return nil
}

// Name returns "lasso".
func (e *Lasso) Name() string { return LassoName }

// Name returns "elastic_net".
func (e *ElasticNet) Name() string { return ElasticNetName }

// Validate checks decoded state.
func (e *Lasso) Validate() error {
	if err := cdParamsErr(e.Alpha, 1, e.MaxIter, e.Tol); err != nil {
		return err
	}
	return e.LinearModel.Validate()
}

// Validate checks decoded state.
func (e *ElasticNet) Validate() error {
	if err := cdParamsErr(e.Alpha, e.L1Ratio, e.MaxIter, e.Tol); err != nil {
		return err
	}
	return e.LinearModel.Validate()
}

// Fit fits the lasso by coordinate descent.
func (e *Lasso) Fit(X *Matrix, y []float64) error {
	m, st, err := fitElasticNet(X, y, e.Alpha, 1, e.MaxIter, e.Tol, e.FitIntercept, gramAuto)
	if err != nil {
		return fmt.Errorf("%s: fit: %w", LassoName, err)
	}
	e.LinearModel, e.CDState = m, st
	return nil
}

// Fit fits the elastic net by coordinate descent.
func (e *ElasticNet) Fit(X *Matrix, y []float64) error {
	m, st, err := fitElasticNet(X, y, e.Alpha, e.L1Ratio, e.MaxIter, e.Tol, e.FitIntercept, gramAuto)
	if err != nil {
		return fmt.Errorf("%s: fit: %w", ElasticNetName, err)
	}
	e.LinearModel, e.CDState = m, st
	return nil
}

// gramMode selects the coordinate-descent variant.
type gramMode int

const (
	gramAuto gramMode = iota
	gramAlways
	gramNever
)

// fitElasticNet runs scikit-learn's enet_coordinate_descent (or its Gram
// variant) on the centred data.
func fitElasticNet(X *Matrix, y []float64, alpha, l1Ratio float64, maxIter int, tol float64, center bool, mode gramMode) (LinearModel, CDState, error) {
	if err := cdParamsErr(alpha, l1Ratio, maxIter, tol); err != nil {
		return LinearModel{}, CDState{}, err
	}
	if err := CheckTrainingData(X, y); err != nil {
		return LinearModel{}, CDState{}, err
	}
	n, p := X.Rows, X.Cols
	nf := float64(n)
	l1 := alpha * l1Ratio * nf
	l2 := alpha * (1 - l1Ratio) * nf
	useGram := mode == gramAlways || mode == gramAuto && n >= 4*p

	var (
		w     = make([]float64, p)
		st    CDState
		mean  []float64
		ymean float64
		err   error
	)
	if useGram {
		mean, ymean, st, err = cdGram(X, y, w, l1, l2, maxIter, tol, center)
	} else {
		mean, ymean, st, err = cdCols(X, y, w, l1, l2, maxIter, tol, center)
	}
	if err != nil {
		return LinearModel{}, CDState{}, err
	}
	m := LinearModel{Coef: w, Solver: "cd"}
	if useGram {
		m.Solver = "cd_gram"
	}
	if center {
		m.Intercept = ymean - floats.Dot(mean, w)
	}
	if err := m.Validate(); err != nil || !finite(st.DualGap) {
		return LinearModel{}, CDState{}, errors.New("the fit is not finite; scale the features")
	}
	return m, st, nil
}

// softThreshold returns sign(t)·max(|t| - l1, 0) / d.
func softThreshold(t, l1, d float64) float64 {
	a := math.Abs(t) - l1
	if a <= 0 {
		return 0
	}
	return math.Copysign(a, t) / d
}

// dualGap is the duality gap of scikit-learn's coordinate descent given
// XᵀR - l2·w (xta), ||R||², R·y, ||w||₁ and ||w||².
func dualGap(xta []float64, rNorm2, ry, l1Norm, wNorm2, l1, l2 float64) float64 {
	var dual float64
	for _, v := range xta {
		dual = math.Max(dual, math.Abs(v))
	}
	var gap, c float64
	if dual > l1 {
		c = l1 / dual
		gap = 0.5 * (rNorm2 + rNorm2*c*c)
	} else {
		c = 1
		gap = rNorm2
	}
	return gap + l1*l1Norm - c*ry + 0.5*l2*(1+c*c)*wNorm2
}

// cdGram is coordinate descent on Q = XcᵀXc, q = Xcᵀyc; it keeps H = Qw.
func cdGram(X *Matrix, y []float64, w []float64, l1, l2 float64, maxIter int, tol float64, center bool) ([]float64, float64, CDState, error) {
	g, ok := buildGram(X, y, center)
	if !ok || !allFinite(g.G.RawSymmetric().Data) || !allFinite(g.c) {
		return nil, 0, CDState{}, errors.New("XᵀX or Xᵀy overflows float64; scale the features")
	}
	p := X.Cols
	Q := make([]float64, p*p)
	for i := 0; i < p; i++ {
		for j := 0; j < p; j++ {
			Q[i*p+j] = g.G.At(i, j)
		}
	}
	var yNorm2 float64
	for _, v := range y {
		d := v - g.ymean
		yNorm2 += d * d
	}
	diag := make([]float64, p)
	for j := range diag {
		diag[j] = Q[j*p+j]
		if math.Sqrt(math.Max(diag[j], 0)/float64(g.n)) <= 1e-11*g.maxAbs[j] {
			diag[j] = 0
		}
	}
	q := g.c
	H := make([]float64, p)
	xta := make([]float64, p)
	gapTol := tol * yNorm2
	var st CDState
	for st.NIter = 0; st.NIter < maxIter; {
		var wMax, dMax float64
		for j := 0; j < p; j++ {
			if diag[j] == 0 {
				continue
			}
			wj := w[j]
			if wj != 0 {
				floats.AddScaled(H, -wj, Q[j*p:(j+1)*p])
			}
			w[j] = softThreshold(q[j]-H[j], l1, diag[j]+l2)
			if w[j] != 0 {
				floats.AddScaled(H, w[j], Q[j*p:(j+1)*p])
			}
			dMax = math.Max(dMax, math.Abs(w[j]-wj))
			wMax = math.Max(wMax, math.Abs(w[j]))
		}
		st.NIter++
		if wMax == 0 || dMax/wMax < tol || st.NIter == maxIter {
			var l1Norm, wNorm2, wq, wH float64
			for j := range w {
				xta[j] = q[j] - H[j] - l2*w[j]
				l1Norm += math.Abs(w[j])
				wNorm2 += w[j] * w[j]
				wq += w[j] * q[j]
				wH += w[j] * H[j]
			}
			rNorm2 := math.Max(yNorm2+wH-2*wq, 0)
			st.DualGap = dualGap(xta, rNorm2, yNorm2-wq, l1Norm, wNorm2, l1, l2)
			if !finite(st.DualGap) {
				return nil, 0, CDState{}, errors.New("coordinate descent diverged; scale the features")
			}
			if st.DualGap <= gapTol {
				st.Converged = true
				break
			}
		}
	}
	return g.mean, g.ymean, st, nil
}

// cdCols is coordinate descent on the columns of the centred X, keeping the
// residual R = yc - Xc·w.
func cdCols(X *Matrix, y []float64, w []float64, l1, l2 float64, maxIter int, tol float64, center bool) ([]float64, float64, CDState, error) {
	n, p := X.Rows, X.Cols
	mean := make([]float64, p)
	var ymean float64
	if center {
		for i := 0; i < n; i++ {
			floats.Add(mean, X.Row(i))
		}
		floats.Scale(1/float64(n), mean)
		ymean = floats.Sum(y) / float64(n)
	}
	cols := make([]float64, p*n) // column-major centred X
	maxAbs := make([]float64, p)
	for i := 0; i < n; i++ {
		for j, v := range X.Row(i) {
			cols[j*n+i] = v - mean[j]
			maxAbs[j] = math.Max(maxAbs[j], math.Abs(v))
		}
	}
	R := make([]float64, n)
	yc := make([]float64, n)
	for i, v := range y {
		yc[i] = v - ymean
	}
	copy(R, yc)
	yNorm2 := floats.Dot(yc, yc)
	diag := make([]float64, p)
	for j := range diag {
		c := cols[j*n : (j+1)*n]
		diag[j] = floats.Dot(c, c)
		if !finite(diag[j]) || !finite(yNorm2) {
			return nil, 0, CDState{}, errors.New("the squared column norms overflow float64; scale the features")
		}
		// A column whose centred norm is zero up to rounding is constant.
		if math.Sqrt(diag[j]/float64(n)) <= 1e-11*maxAbs[j] {
			diag[j] = 0
		}
	}
	xta := make([]float64, p)
	gapTol := tol * yNorm2
	var st CDState
	for st.NIter = 0; st.NIter < maxIter; {
		var wMax, dMax float64
		for j := 0; j < p; j++ {
			if diag[j] == 0 {
				continue
			}
			c := cols[j*n : (j+1)*n]
			wj := w[j]
			if wj != 0 {
				floats.AddScaled(R, wj, c)
			}
			w[j] = softThreshold(floats.Dot(c, R), l1, diag[j]+l2)
			if w[j] != 0 {
				floats.AddScaled(R, -w[j], c)
			}
			dMax = math.Max(dMax, math.Abs(w[j]-wj))
			wMax = math.Max(wMax, math.Abs(w[j]))
		}
		st.NIter++
		if wMax == 0 || dMax/wMax < tol || st.NIter == maxIter {
			for j := range w {
				xta[j] = floats.Dot(cols[j*n:(j+1)*n], R) - l2*w[j]
			}
			st.DualGap = dualGap(xta, floats.Dot(R, R), floats.Dot(R, yc), floats.Norm(w, 1), floats.Dot(w, w), l1, l2)
			if !finite(st.DualGap) {
				return nil, 0, CDState{}, errors.New("coordinate descent diverged; scale the features")
			}
			if st.DualGap <= gapTol {
				st.Converged = true
				break
			}
		}
	}
	return mean, ymean, st, nil
}
