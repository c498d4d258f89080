package ml

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats"

	"github.com/sous-ml/sous/recipes/frame"
)

const (
	breastCancerFile = "/work/shared/data/breast-cancer/data.parquet"
	irisFile         = "/work/shared/data/iris/iris.csv"
)

// logisticData is a standardised train/test split (rows i % 5 == 0 held
// out) of a classification data set, with class-index targets.
type logisticData struct {
	Xtr, Xte   *Matrix
	ytr, yte   []float64
	xSum       float64
	yInt, nCls int
}

func splitClassification(t *testing.T, f *frame.Frame, target string, y []float64) logisticData {
	t.Helper()
	var features []string
	var xSum float64
	for _, c := range f.Cols {
		if c.Name != target {
			features = append(features, c.Name)
			for i := 0; i < c.Len(); i++ {
				xSum += c.Float(i)
			}
		}
	}
	var trainIdx, testIdx []int
	var d logisticData
	for i := 0; i < f.Len(); i++ {
		if i%5 == 0 {
			testIdx = append(testIdx, i)
			d.yte = append(d.yte, y[i])
		} else {
			trainIdx = append(trainIdx, i)
			d.ytr = append(d.ytr, y[i])
		}
	}
	train, test := f.Take(trainIdx), f.Take(testIdx)
	tr := mustFit(t, TransformSpec{Groups: []GroupSpec{group(StandardScaler, nil, features...)}, Target: target}, train)
	d.Xtr, d.Xte = mustTransform(t, tr, train), mustTransform(t, tr, test)
	d.xSum = xSum
	return d
}

func readBreastCancer(t *testing.T) logisticData {
	t.Helper()
	if _, err := os.Stat(breastCancerFile); errors.Is(err, os.ErrNotExist) {
		t.Skipf("breast cancer data not present: %v", err)
	}
	f, err := frame.ReadParquetFile(breastCancerFile)
	if err != nil {
		t.Fatal(err)
	}
	tc, ok := f.Col("target")
	if !ok {
		t.Fatal("no target column")
	}
	y := make([]float64, f.Len())
	var ySum int
	for i := range y {
		y[i] = tc.Float(i)
		ySum += int(y[i])
	}
	d := splitClassification(t, f, "target", y)
	d.yInt, d.nCls = ySum, 2
	return d
}

func readIris(t *testing.T) (logisticData, []string) {
	t.Helper()
	if _, err := os.Stat(irisFile); errors.Is(err, os.ErrNotExist) {
		t.Skipf("iris data not present: %v", err)
	}
	f, err := frame.ReadCSVFile(irisFile, frame.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cls, ok := f.Col("class")
	if !ok {
		t.Fatal("no class column")
	}
	var names []string
	for i := 0; i < f.Len(); i++ {
		if s := cls.Str(i); !slices.Contains(names, s) {
			names = append(names, s)
		}
	}
	sort.Strings(names)
	y := make([]float64, f.Len())
	for i := range y {
		y[i] = float64(slices.Index(names, cls.Str(i)))
	}
	d := splitClassification(t, f, "class", y)
	d.nCls = len(names)
	return d, names
}

func accuracy(y, pred []float64) float64 {
	var ok int
	for i := range y {
		if y[i] == pred[i] {
			ok++
		}
	}
	return float64(ok) / float64(len(y))
}

// TestLogisticMatchesSklearn fits breast cancer (binary) and iris
// (multinomial) as scikit-learn's LogisticRegression(lbfgs) does: at a tiny
// tol the coefficients are the exact optimum (scikit-learn's newton-cg at
// tol 1e-12) to 1e-6; at the default tol they are within 1e-4 of
// scikit-learn's lbfgs, which stops about 1e-4 short of the optimum itself;
// the test accuracy is at least scikit-learn's.
func TestLogisticMatchesSklearn(t *testing.T) {
	t.Parallel()
	exp := loadLinearExpected(t)
	for _, ds := range exp.Logistic {
		var d logisticData
		switch ds.Name {
		case "breast_cancer":
			d = readBreastCancer(t)
			if d.yInt != ds.YSum {
				t.Fatalf("breast cancer: %d positives, scikit-learn's copy %d", d.yInt, ds.YSum)
			}
		case "iris":
			var names []string
			d, names = readIris(t)
			if !slices.Equal(names, ds.Classes) {
				t.Fatalf("iris classes %v, want %v", names, ds.Classes)
			}
		default:
			t.Fatalf("unknown data set %s", ds.Name)
		}
		if !near(d.xSum, ds.XSum, 1e-12) || d.Xtr.Rows != ds.TrainRows || d.Xte.Rows != ds.TestRows {
			t.Fatalf("%s: data differ from scikit-learn's (sum %v vs %v, %d/%d rows)", ds.Name, d.xSum, ds.XSum, d.Xtr.Rows, d.Xte.Rows)
		}
		for _, f := range ds.Fits {
			est, err := NewEstimator(LogisticRegressionName, f.Params)
			if err != nil {
				t.Fatal(err)
			}
			if err := est.Fit(d.Xtr, d.ytr); err != nil {
				t.Fatal(err)
			}
			lr := est.(*LogisticRegression)
			tight := f.Params["tol"].(float64) < 1e-6
			wantCoef, wantIcpt, tol := f.OptimumCoef, f.OptimumIcpt, 1e-6
			if !tight {
				wantCoef, wantIcpt, tol = f.Coef, f.Intercept, 1e-4
			}
			var maxDiff float64
			for r := range wantCoef {
				for j := range wantCoef[r] {
					maxDiff = math.Max(maxDiff, math.Abs(lr.Coef[r][j]-wantCoef[r][j]))
				}
			}
			t.Logf("%s %v: %d iterations (scikit-learn %d), %s, max |coef diff| %.2g", ds.Name, f.Params, lr.NIter, f.NIter, lr.Status, maxDiff)
			if len(lr.Coef) != len(wantCoef) {
				t.Fatalf("%d coefficient rows, scikit-learn %d", len(lr.Coef), len(wantCoef))
			}
			for r := range wantCoef {
				assertSlice(t, fmt.Sprintf("%s %v coef[%d]", ds.Name, f.Params, r), lr.Coef[r], wantCoef[r], tol)
			}
			assertSlice(t, ds.Name+" intercept", lr.Intercept, wantIcpt, tol)
			if !lr.Converged && !(tight && lr.Status == "no_progress") {
				t.Errorf("%s %v: did not converge: %s", ds.Name, f.Params, lr.Status)
			}
			pred, err := est.Predict(d.Xte)
			if err != nil {
				t.Fatal(err)
			}
			if acc := accuracy(d.yte, pred); acc < f.TestAccuracy-1e-12 {
				t.Errorf("%s %v: test accuracy %v below scikit-learn's %v", ds.Name, f.Params, acc, f.TestAccuracy)
			}
			proba, err := lr.PredictProba(d.Xte)
			if err != nil {
				t.Fatal(err)
			}
			if proba.Rows != d.Xte.Rows || proba.Cols != d.nCls || lr.Classes() != d.nCls {
				t.Fatalf("proba %d×%d, %d classes", proba.Rows, proba.Cols, lr.Classes())
			}
			for i, want := range f.TestProba {
				assertSlice(t, ds.Name+" proba", proba.Row(i), want, 10*tol)
			}
			yTrue := make([]int, len(d.yte))
			for i, v := range d.yte {
				yTrue[i] = int(v)
			}
			positive := -1
			if d.nCls == 2 {
				positive = 1
			}
			m := ClassificationMetrics(yTrue, proba, nil, positive)
			if m[MetricAccuracy] != accuracy(d.yte, pred) {
				t.Errorf("metrics accuracy %v, predict %v", m[MetricAccuracy], accuracy(d.yte, pred))
			}
			if !tight {
				t.Logf("%s: test metrics %v", ds.Name, m)
			}
			imp := est.FeatureImportances()
			if len(imp) != d.Xtr.Cols || math.Abs(floatsSum(imp)-1) > 1e-12 {
				t.Fatalf("importances %v", imp)
			}
			data, err := MarshalEstimator(est)
			if err != nil {
				t.Fatal(err)
			}
			back, err := UnmarshalEstimator(LogisticRegressionName, data)
			if err != nil {
				t.Fatal(err)
			}
			proba2, err := back.(Classifier).PredictProba(d.Xte)
			if err != nil {
				t.Fatal(err)
			}
			assertSlice(t, "round-tripped proba", proba2.Data, proba.Data, 0)
		}
	}
}

func floatsSum(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s
}

func TestLogisticErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"C": 0.0}, `"C" must be > 0`},
		{map[string]any{"C": "big"}, `"C" must be a finite number`},
		{map[string]any{"max_iter": int64(0)}, `"max_iter" must be >= 1`},
		{map[string]any{"tol": -1.0}, `"tol" must be > 0`},
		{map[string]any{"penalty": "l1"}, `unknown param "penalty"`},
	} {
		if _, err := NewEstimator(LogisticRegressionName, c.params); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want %q", c.params, err, c.want)
		}
	}
	if _, err := NewEstimator(LogisticRegressionName, map[string]any{"C": int64(2), "max_iter": 50.0, "tol": 1e-3, "fit_intercept": false}); err != nil {
		t.Error(err)
	}

	e, _ := NewLogisticRegression(nil)
	X := matrixOf([][]float64{{1, 2}, {3, 4}, {5, 7}})
	for _, c := range []struct {
		X    *Matrix
		y    []float64
		want string
	}{
		{nil, nil, "X is empty"},
		{X, []float64{0, 1}, "3 rows but y has 2"},
		{X, []float64{1, 1, 1}, "single class (1)"},
		{X, []float64{0, 1, 0.5}, "y[2] is 0.5"},
		{X, []float64{0, 1, -1}, "y[2] is -1"},
		{X, []float64{0, 1, 1e9}, "y[2] is 1e+09"},
		{X, []float64{0, math.NaN(), 1}, "y[1] is NaN"},
		{matrixOf([][]float64{{1, math.NaN()}, {3, 4}, {5, 7}}), []float64{0, 1, 1}, "X[0][1] is NaN"},
		{matrixOf([][]float64{{1, 2}, {math.Inf(-1), 4}, {5, 7}}), []float64{0, 1, 1}, "X[1][0] is -Inf"},
	} {
		if err := e.Fit(c.X, c.y); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("fit: err = %v, want %q", err, c.want)
		}
	}
	if e.Coef != nil || e.Classes() != 0 || e.FeatureImportances() != nil {
		t.Fatal("a failed fit changed the model")
	}
	if _, err := e.Predict(X); err == nil {
		t.Error("predict before fit")
	}
	if _, err := e.PredictProba(X); err == nil {
		t.Error("predict_proba before fit")
	}

	// Class 1 absent: a binary model of classes 0 and 2, with probability 0
	// for class 1.
	Xs := matrixOf([][]float64{{-2}, {-1}, {-0.5}, {0.5}, {1}, {2}})
	if err := e.Fit(Xs, []float64{0, 0, 2, 0, 2, 2}); err != nil {
		t.Fatal(err)
	}
	if e.Classes() != 3 || len(e.Coef) != 1 || !slices.Equal(e.ClassIndex, []int{0, 2}) {
		t.Fatalf("classes %d %v, %d coefficient rows", e.Classes(), e.ClassIndex, len(e.Coef))
	}
	proba, err := e.PredictProba(Xs)
	if err != nil {
		t.Fatal(err)
	}
	pred, _ := e.Predict(Xs)
	for i := 0; i < Xs.Rows; i++ {
		r := proba.Row(i)
		if r[1] != 0 || math.Abs(r[0]+r[2]-1) > 1e-15 {
			t.Fatalf("proba row %d %v", i, r)
		}
		if want := float64(argmaxRows(proba)[i]); pred[i] != want {
			t.Fatalf("predict %v, proba %v", pred, proba.Data)
		}
	}
	if _, err := e.Predict(matrixOf([][]float64{{1, 2}})); err == nil {
		t.Error("predict with the wrong width")
	}
	if _, err := e.PredictProba(matrixOf([][]float64{{math.NaN()}})); err == nil {
		t.Error("predict_proba of NaN")
	}
	// Separable data: the penalty keeps the coefficients finite; a tiny
	// max_iter stops early without error.
	short, _ := NewLogisticRegression(map[string]any{"max_iter": int64(1), "C": 1e6})
	if err := short.Fit(Xs, []float64{0, 0, 0, 1, 1, 1}); err != nil {
		t.Fatal(err)
	}
	if short.Converged || short.NIter != 1 || short.Status != "max_iter" {
		t.Errorf("max_iter 1: %s after %d", short.Status, short.NIter)
	}
	// Decoded state is validated.
	for _, s := range []string{
		`{"C":0,"max_iter":5,"tol":0.1}`,
		`{"C":1,"max_iter":5,"tol":0.1,"n_classes":2,"class_index":[0,1],"coef":[[1],[2]],"intercept":[0,0]}`,
		`{"C":1,"max_iter":5,"tol":0.1,"n_classes":2,"class_index":[1,0],"coef":[[1]],"intercept":[0]}`,
		`{"C":1,"max_iter":5,"tol":0.1,"n_classes":3,"class_index":[0,1,2],"coef":[[1],[2,3],[4]],"intercept":[0,0,0]}`,
		`{"C":1,"max_iter":5,"tol":0.1,"n_classes":2,"class_index":[0,1],"coef":[[]],"intercept":[0]}`,
		`{"C":1,"max_iter":5,"tol":0.1,"coef":[[1]]}`,
	} {
		if _, err := UnmarshalEstimator(LogisticRegressionName, []byte(s)); err == nil {
			t.Errorf("%s: decoded", s)
		}
	}
}

// TestLogisticBundle stores a fitted iris model, with its metrics (a NaN
// included), in a bundle and predicts from the decoded copy.
func TestLogisticBundle(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(irisFile); errors.Is(err, os.ErrNotExist) {
		t.Skipf("iris data not present: %v", err)
	}
	f, err := frame.ReadCSVFile(irisFile, frame.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, names := readIris(t)
	cls, _ := f.Col("class")
	y := make([]float64, f.Len())
	for i := range y {
		y[i] = float64(slices.Index(names, cls.Str(i)))
	}
	tr := mustFit(t, TransformSpec{Groups: []GroupSpec{group(StandardScaler, nil, "sepal length", "sepal width", "petal length", "petal width")}, Target: "class"}, f)
	X := mustTransform(t, tr, f)
	est, _ := NewEstimator(LogisticRegressionName, map[string]any{"C": 10.0})
	if err := est.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	want, _ := est.Predict(X)
	b, err := NewBundle("classification/v1", "class", tr, est)
	if err != nil {
		t.Fatal(err)
	}
	b.ClassLabels = names
	proba, _ := est.(Classifier).PredictProba(X)
	yi := make([]int, len(y))
	for i, v := range y {
		yi[i] = int(v)
	}
	b.Metrics = ClassificationMetrics(yi, proba, names, -1)
	b.Metrics["nan_metric"] = math.NaN()
	var buf strings.Builder
	if err := b.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := DecodeBundle(strings.NewReader(buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	got, err := back.Predict(f)
	if err != nil {
		t.Fatal(err)
	}
	assertSlice(t, "bundle predictions", got, want, 0)
	if acc := accuracy(y, got); acc < 0.95 || back.Metrics[MetricAccuracy] != acc || !math.IsNaN(back.Metrics["nan_metric"]) {
		t.Fatalf("accuracy %v, metrics %v", acc, back.Metrics)
	}
}

// oneHotDesign returns n rows of nNum standardised-normal columns followed
// by one-hot columns of groups with the given numbers of levels (skewed
// frequencies), and class indexes from a noisy linear score: binary when
// classes is 2.
func oneHotDesign(n, nNum int, levels []int, classes int, seed uint64) (*Matrix, []float64) {
	rng := rand.New(rand.NewPCG(seed, 3))
	p := nNum
	for _, l := range levels {
		p += l
	}
	X := NewMatrix(n, p)
	w := make([]float64, classes*p)
	for j := range w {
		w[j] = rng.NormFloat64()
	}
	y := make([]float64, n)
	z := make([]float64, classes)
	for i := range n {
		row := X.Row(i)
		for j := range nNum {
			row[j] = rng.NormFloat64()
		}
		off := nNum
		for _, l := range levels {
			row[off+min(l-1, int(float64(l)*math.Pow(rng.Float64(), 2)))] = 1
			off += l
		}
		best := 0
		for c := range classes {
			z[c] = rng.NormFloat64()
			for j, v := range row {
				z[c] += v * w[c*p+j]
			}
			if z[c] > z[best] {
				best = c
			}
		}
		y[i] = float64(best)
	}
	return X, y
}

// denseObjective is o with its design kept whole (no sparse columns).
func denseObjective(X *Matrix, y []int32, k int, l2 float64, intercept bool) *logisticObjective {
	o := newLogisticObjective(X, scanColumns(X), y, k, l2, intercept)
	o.dense, o.nd, o.denseCols = X.Data, X.Cols, nil
	o.spStart, o.spIdx, o.spVal = nil, nil, nil
	o.wd = make([]float64, 2*k*o.nd)
	o.scratch = nil
	return o
}

func labels(y []float64) []int32 {
	lab := make([]int32, len(y))
	for i, v := range y {
		lab[i] = int32(v)
	}
	return lab
}

// TestLogisticObjectiveDerivatives checks the gradient and the
// Hessian-vector product against central differences, and the sparse
// layout of a one-hot design against the dense one, for binary and
// multinomial models with and without an intercept.
func TestLogisticObjectiveDerivatives(t *testing.T) {
	t.Parallel()
	for _, classes := range []int{2, 3} {
		X, y := oneHotDesign(5000, 4, []int{3, 12}, classes, uint64(classes))
		k := classes
		if k == 2 {
			k = 1
		}
		for _, intercept := range []bool{true, false} {
			name := fmt.Sprintf("classes %d intercept %v", classes, intercept)
			sp := newLogisticObjective(X, scanColumns(X), labels(y), k, 0.5, intercept)
			if sp.spStart == nil || sp.nd >= X.Cols-8 {
				t.Fatalf("%s: the one-hot columns are not sparse (%d of %d dense)", name, sp.nd, X.Cols)
			}
			de := denseObjective(X, labels(y), k, 0.5, intercept)
			d := sp.dim()
			rng := rand.New(rand.NewPCG(9, 9))
			x, v := make([]float64, d), make([]float64, d)
			for j := range x {
				x[j], v[j] = 0.3*rng.NormFloat64(), rng.NormFloat64()
			}
			g, gd := make([]float64, d), make([]float64, d)
			f := sp.eval(x, g, true)
			fd := de.eval(x, gd, true)
			if !near(f, fd, 1e-12) || !near(f, sp.loss(x), 1e-12) {
				t.Fatalf("%s: loss %v, dense %v, loss() %v", name, f, fd, sp.loss(x))
			}
			assertSlice(t, name+" gradient vs dense", g, gd, 1e-10)
			if k == 1 {
				// The sparse columns' diagonal entries are exact.
				for j := 0; j < X.Cols; j++ {
					if slices.Contains(sp.denseCols, j) {
						continue
					}
					want := sp.l2
					for i := 0; i < X.Rows; i++ {
						want += sp.curv[i] * X.At(i, j) * X.At(i, j)
					}
					if !near(sp.diag[j], want, 1e-12) {
						t.Fatalf("%s: diagonal[%d] = %v, want %v", name, j, sp.diag[j], want)
					}
				}
			}
			hv, hvd := make([]float64, d), make([]float64, d)
			sp.hessVec(v, hv)
			de.hessVec(v, hvd)
			assertSlice(t, name+" Hv vs dense", hv, hvd, 1e-10)

			const h = 1e-5
			xp, xm := make([]float64, d), make([]float64, d)
			num := make([]float64, d)
			for j := range x {
				copy(xp, x)
				copy(xm, x)
				xp[j] += h
				xm[j] -= h
				num[j] = (sp.loss(xp) - sp.loss(xm)) / (2 * h)
			}
			assertSlice(t, name+" gradient vs differences", g, num, 1e-5)
			gp, gm := make([]float64, d), make([]float64, d)
			floats.AddScaledTo(xp, x, h, v)
			floats.AddScaledTo(xm, x, -h, v)
			sp.eval(xp, gp, false)
			sp.eval(xm, gm, false)
			for j := range num {
				num[j] = (gp[j] - gm[j]) / (2 * h)
			}
			assertSlice(t, name+" Hv vs differences", hv, num, 1e-5)
		}
	}
}

// TestLogisticOneHot fits one-hot designs, which take the sparse path, and
// checks that the coefficients are those of the dense path, that the fit
// does not depend on the number of goroutines, and that it converges in
// few iterations although the one-hot columns' scales differ a hundredfold.
func TestLogisticOneHot(t *testing.T) {
	t.Parallel()
	for _, classes := range []int{2, 4} {
		X, y := oneHotDesign(7000, 6, []int{5, 40, 200}, classes, 7)
		k := classes
		if k == 2 {
			k = 1
		}
		var first []float64
		for _, threads := range []int{1, 3} {
			o := newLogisticObjective(X, scanColumns(X), labels(y), k, 1, true)
			o.threads = threads
			res := o.minimize(1e-8, 100)
			if res.status != "converged" || res.iters > 20 {
				t.Fatalf("%d classes, %d threads: %s after %d iterations", classes, threads, res.status, res.iters)
			}
			if first == nil {
				first = res.x
				de := denseObjective(X, labels(y), k, 1, true)
				dres := de.minimize(1e-8, 100)
				assertSlice(t, fmt.Sprintf("%d classes: sparse vs dense coefficients", classes), res.x, dres.x, 1e-6)
				continue
			}
			assertSlice(t, fmt.Sprintf("%d classes, %d threads vs 1", classes, threads), res.x, first, 0)
		}
		// Through the estimator: the multinomial intercepts sum to zero, as
		// scikit-learn's do.
		lr, _ := NewLogisticRegression(nil)
		if err := lr.Fit(X, y); err != nil {
			t.Fatal(err)
		}
		if !lr.Converged || lr.NIter > 15 {
			t.Errorf("%d classes: %s after %d iterations", classes, lr.Status, lr.NIter)
		}
		if classes > 2 && math.Abs(floatsSum(lr.Intercept)) > 1e-9 {
			t.Errorf("%d classes: intercepts %v sum to %v", classes, lr.Intercept, floatsSum(lr.Intercept))
		}
	}
}

func TestExpNeg(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 100000 {
		x := -rng.Float64() * []float64{1e-3, 1, 40, 708}[i%4]
		want := math.Exp(x)
		// math.Exp is within an ulp of e^x, and so is expNeg.
		if got := expNeg(x); math.Abs(got-want) > 2*math.Abs(math.Nextafter(want, 0)-want) {
			t.Fatalf("expNeg(%v) = %v, math.Exp %v", x, got, want)
		}
	}
	for _, x := range []float64{0, math.Copysign(0, -1), -1e-300, -708, -709, -745, -746, -1e10, math.Inf(-1)} {
		if got, want := expNeg(x), math.Exp(x); got != want {
			t.Errorf("expNeg(%v) = %v, want %v", x, got, want)
		}
	}
	if !math.IsNaN(expNeg(math.NaN())) {
		t.Error("expNeg(NaN) is not NaN")
	}
}
