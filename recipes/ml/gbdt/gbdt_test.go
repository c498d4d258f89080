package gbdt

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// dataset is a row-major feature matrix with its target.
type dataset struct {
	X          []float64
	y          []float64
	rows, cols int
}

func (d dataset) split(frac float64) (train, test dataset) {
	n := int(float64(d.rows) * frac)
	train = dataset{d.X[:n*d.cols], d.y[:n], n, d.cols}
	test = dataset{d.X[n*d.cols:], d.y[n:], d.rows - n, d.cols}
	return train, test
}

// quadratic: y = x0² + noise, with nuisance features x1, x2.
func quadratic(n int, seed uint64) dataset {
	rng := rand.New(rand.NewPCG(seed, 1))
	d := dataset{X: make([]float64, n*3), y: make([]float64, n), rows: n, cols: 3}
	for i := range n {
		x := rng.Float64()*6 - 3
		d.X[i*3], d.X[i*3+1], d.X[i*3+2] = x, rng.NormFloat64(), rng.Float64()
		d.y[i] = x*x + 0.3*rng.NormFloat64()
	}
	return d
}

// logistic: P(y=1) = sigmoid(2*x0 - x1 + x2*x3); x4 is noise.
func logistic(n int, seed uint64) dataset {
	rng := rand.New(rand.NewPCG(seed, 2))
	d := dataset{X: make([]float64, n*5), y: make([]float64, n), rows: n, cols: 5}
	for i := range n {
		x := d.X[i*5 : i*5+5]
		for j := range x {
			x[j] = rng.NormFloat64()
		}
		if rng.Float64() < sigmoid(2*x[0]-x[1]+x[2]*x[3]) {
			d.y[i] = 1
		}
	}
	return d
}

// blobs: three Gaussian clusters in 4 dimensions (the last two noise).
func blobs(n int, seed uint64) dataset {
	rng := rand.New(rand.NewPCG(seed, 3))
	centers := [3][2]float64{{0, 0}, {4, 0}, {2, 4}}
	d := dataset{X: make([]float64, n*4), y: make([]float64, n), rows: n, cols: 4}
	for i := range n {
		c := rng.IntN(3)
		d.y[i] = float64(c)
		d.X[i*4] = centers[c][0] + rng.NormFloat64()
		d.X[i*4+1] = centers[c][1] + rng.NormFloat64()
		d.X[i*4+2] = rng.NormFloat64()
		d.X[i*4+3] = rng.Float64()
	}
	return d
}

func fit(t testing.TB, d dataset, p Params) *Model {
	t.Helper()
	m, err := Fit(d.X, d.rows, d.cols, d.y, p)
	if err != nil {
		t.Fatalf("Fit: %v", err)
	}
	return m
}

func r2(pred, y []float64) float64 {
	var mean float64
	for _, v := range y {
		mean += v
	}
	mean /= float64(len(y))
	var ssr, sst float64
	for i, v := range y {
		ssr += (v - pred[i]) * (v - pred[i])
		sst += (v - mean) * (v - mean)
	}
	return 1 - ssr/sst
}

func auc(score, y []float64) float64 {
	idx := make([]int, len(y))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return score[idx[a]] < score[idx[b]] })
	var pos, neg, rankSum float64
	for rank, i := range idx {
		if y[i] == 1 {
			pos++
			rankSum += float64(rank + 1)
		} else {
			neg++
		}
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

func TestFitDeterministic(t *testing.T) {
	t.Parallel()
	d := logistic(5000, 1)
	// NaNs exercise the missing-value paths too.
	for i := 0; i < len(d.X); i += 7 {
		d.X[i] = math.NaN()
	}
	var first []byte
	for _, threads := range []int{1, 3, 1} {
		m := fit(t, d, Params{Loss: LossLogLoss, NIter: 20, RandomState: 42, Threads: threads, EarlyStopping: true})
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = b
		} else if !bytes.Equal(first, b) {
			t.Fatalf("Threads=%d: model bytes differ from the first fit", threads)
		}
	}
}

func TestFitThreadsIndependentLarge(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("large fit")
	}
	// Big enough for the parallel histogram and partition paths, with and
	// without hessians.
	for _, c := range []struct {
		d dataset
		p Params
	}{
		{quadratic(600_000, 9), Params{NIter: 3}},
		{logistic(300_000, 9), Params{NIter: 3, Loss: LossLogLoss}},
	} {
		var first []byte
		for _, threads := range []int{1, 4} {
			c.p.Threads = threads
			m := fit(t, c.d, c.p)
			b, _ := m.MarshalBinary()
			if first == nil {
				first = b
			} else if !bytes.Equal(first, b) {
				t.Fatalf("%s: model depends on Threads", c.p.Loss)
			}
		}
	}
}

func TestRegressionQuadratic(t *testing.T) {
	t.Parallel()
	train, test := quadratic(10000, 2).split(0.8)
	m := fit(t, train, Params{})
	if got := r2(m.Predict(test.X, test.rows, test.cols), test.y); got < 0.95 {
		t.Fatalf("R² = %.4f, want > 0.95", got)
	}
}

func TestUnpackedConstantHessian(t *testing.T) {
	// Not parallel: it changes minPackedBits.
	train, test := quadratic(10000, 2).split(0.8)
	packed := fit(t, train, Params{NIter: 30})
	if shift, _ := packing(train.rows); shift == 0 {
		t.Fatal("no packing for 8000 rows")
	}
	defer func(v int) { minPackedBits = v }(minPackedBits)
	minPackedBits = 64
	unpacked := fit(t, train, Params{NIter: 30})
	p1 := packed.Predict(test.X, test.rows, test.cols)
	p2 := unpacked.Predict(test.X, test.rows, test.cols)
	for i := range p1 {
		if math.Abs(p1[i]-p2[i]) > 1e-6 {
			t.Fatalf("row %d: packed %v, unpacked %v", i, p1[i], p2[i])
		}
	}
	if got := r2(p2, test.y); got < 0.95 {
		t.Fatalf("unpacked R² = %.4f", got)
	}
}

func TestAbsoluteErrorResistsOutliers(t *testing.T) {
	t.Parallel()
	train, test := quadratic(10000, 3).split(0.8)
	rng := rand.New(rand.NewPCG(3, 3))
	for i := range train.y {
		if rng.Float64() < 0.05 {
			train.y[i] += 1000
		}
	}
	m := fit(t, train, Params{Loss: LossAbsoluteError, NIter: 200})
	if got := r2(m.Predict(test.X, test.rows, test.cols), test.y); got < 0.9 {
		t.Fatalf("R² = %.4f, want > 0.9", got)
	}
}

func TestMissingValuesLearnDirection(t *testing.T) {
	t.Parallel()
	// Step at 0: left 0, right 10; missing rows behave like the right.
	rng := rand.New(rand.NewPCG(4, 4))
	n := 2000
	d := dataset{X: make([]float64, n), y: make([]float64, n), rows: n, cols: 1}
	for i := range n {
		x := rng.Float64()*2 - 1
		switch {
		case i%5 == 0:
			d.X[i], d.y[i] = math.NaN(), 10
		case x > 0:
			d.X[i], d.y[i] = x, 10
		default:
			d.X[i], d.y[i] = x, 0
		}
	}
	m := fit(t, d, Params{NIter: 50, LearningRate: 0.3})
	got := m.Predict([]float64{math.NaN(), -0.5, 0.5}, 3, 1)
	if math.Abs(got[0]-10) > 0.1 || math.Abs(got[1]) > 0.1 || math.Abs(got[2]-10) > 0.1 {
		t.Fatalf("predictions for NaN, -0.5, 0.5 = %v, want 10, 0, 10", got)
	}
	root := m.nodes[m.roots[0]]
	if root.missLeft {
		t.Fatal("root sends missing values left")
	}

	// Mirrored: missing rows behave like the left side.
	for i := range n {
		if math.IsNaN(d.X[i]) {
			d.y[i] = 0
		}
	}
	m = fit(t, d, Params{NIter: 50, LearningRate: 0.3})
	if got := m.Predict([]float64{math.NaN()}, 1, 1)[0]; math.Abs(got) > 0.1 {
		t.Fatalf("prediction for NaN = %v, want 0", got)
	}
}

func TestUnseenMissingGoesToLargerChild(t *testing.T) {
	t.Parallel()
	n := 1000
	d := dataset{X: make([]float64, n), y: make([]float64, n), rows: n, cols: 1}
	for i := range n {
		d.X[i] = float64(i)
		if i >= 800 {
			d.y[i] = 1
		}
	}
	m := fit(t, d, Params{NIter: 1, MaxLeafNodes: 2, LearningRate: 1})
	root := m.nodes[m.roots[0]]
	if root.thr != 799.5 || !root.missLeft {
		t.Fatalf("root split x <= %v missLeft=%v, want 799.5 with missing left", root.thr, root.missLeft)
	}
}

func TestBinaryClassificationAUC(t *testing.T) {
	t.Parallel()
	train, test := logistic(20000, 5).split(0.8)
	m := fit(t, train, Params{Loss: LossLogLoss})
	p := m.Predict(test.X, test.rows, test.cols)
	if got := auc(p, test.y); got < 0.85 {
		t.Fatalf("AUC = %.4f, want > 0.85", got)
	}
	proba := m.PredictProba(test.X, test.rows, test.cols)
	for i := range test.rows {
		if proba[2*i+1] != p[i] || math.Abs(proba[2*i]+proba[2*i+1]-1) > 1e-12 {
			t.Fatalf("row %d: PredictProba %v disagrees with Predict %v", i, proba[2*i:2*i+2], p[i])
		}
	}
}

func TestSoftmaxBlobs(t *testing.T) {
	t.Parallel()
	train, test := blobs(6000, 6).split(0.75)
	m := fit(t, train, Params{Loss: LossSoftmax, NIter: 50})
	if m.NumClass() != 3 {
		t.Fatalf("NumClass = %d, want 3", m.NumClass())
	}
	pred := m.Predict(test.X, test.rows, test.cols)
	proba := m.PredictProba(test.X, test.rows, test.cols)
	correct := 0
	for i, c := range pred {
		if c == test.y[i] {
			correct++
		}
		row := proba[3*i : 3*i+3]
		if s := row[0] + row[1] + row[2]; math.Abs(s-1) > 1e-9 {
			t.Fatalf("row %d probabilities sum to %v", i, s)
		}
		if slices.Index(row, slices.Max(row)) != int(c) {
			t.Fatalf("row %d: Predict %v is not the argmax of %v", i, c, row)
		}
	}
	if acc := float64(correct) / float64(test.rows); acc < 0.95 {
		t.Fatalf("accuracy %.4f, want > 0.95", acc)
	}
}

func TestEarlyStoppingOnNoise(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 7))
	n := 5000
	d := dataset{X: make([]float64, n*4), y: make([]float64, n), rows: n, cols: 4}
	for i := range d.X {
		d.X[i] = rng.Float64()
	}
	for i := range d.y {
		d.y[i] = rng.NormFloat64()
	}
	m := fit(t, d, Params{NIter: 200, EarlyStopping: true, RandomState: 1})
	if m.NumIter() >= 30 {
		t.Fatalf("kept %d iterations on a noise target, want early stop", m.NumIter())
	}
	if len(m.ValidationScores()) >= 60 {
		t.Fatalf("ran %d iterations, want a stop soon after the best", len(m.ValidationScores())-1)
	}
	if len(m.roots) != m.NumIter() {
		t.Fatalf("%d trees for %d iterations", len(m.roots), m.NumIter())
	}

	// A learnable target keeps improving.
	q := quadratic(5000, 8)
	m = fit(t, q, Params{NIter: 100, EarlyStopping: true})
	if m.NumIter() < 30 {
		t.Fatalf("kept %d iterations on a learnable target", m.NumIter())
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	t.Parallel()
	reg, _ := quadratic(3000, 10).split(1)
	bin, _ := logistic(3000, 11).split(1)
	multi, _ := blobs(3000, 12).split(1)
	for _, tc := range []struct {
		loss string
		d    dataset
	}{
		{LossSquaredError, reg}, {LossAbsoluteError, reg}, {LossLogLoss, bin}, {LossSoftmax, multi},
	} {
		t.Run(tc.loss, func(t *testing.T) {
			t.Parallel()
			X := slices.Clone(tc.d.X)
			for i := 0; i < len(X); i += 11 {
				X[i] = math.NaN()
			}
			m := fit(t, dataset{X, tc.d.y, tc.d.rows, tc.d.cols}, Params{Loss: tc.loss, NIter: 15})
			b, err := m.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var m2 Model
			if err := m2.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			p1 := m.PredictProba(X, tc.d.rows, tc.d.cols)
			p2 := m2.PredictProba(X, tc.d.rows, tc.d.cols)
			if !slices.Equal(p1, p2) {
				t.Fatal("predictions differ after round trip")
			}
			if !slices.Equal(m.FeatureImportances(), m2.FeatureImportances()) {
				t.Fatal("importances differ after round trip")
			}
			if b2, _ := m2.MarshalBinary(); !bytes.Equal(b, b2) {
				t.Fatal("re-marshalled bytes differ")
			}
			// Damage never panics and is reported.
			for i := 0; i < len(b); i += max(1, len(b)/50) {
				bad := slices.Clone(b)
				bad[i] ^= 0x40
				if err := new(Model).UnmarshalBinary(bad); !errors.Is(err, ErrBadModel) {
					t.Fatalf("flipped byte %d: err = %v", i, err)
				}
				if err := new(Model).UnmarshalBinary(b[:i]); !errors.Is(err, ErrBadModel) {
					t.Fatalf("truncated at %d: err = %v", i, err)
				}
			}
		})
	}
}

func TestFeatureImportances(t *testing.T) {
	t.Parallel()
	d := quadratic(5000, 13)
	m := fit(t, d, Params{NIter: 30})
	imp := m.FeatureImportances()
	var s float64
	for _, v := range imp {
		s += v
	}
	if math.Abs(s-1) > 1e-12 {
		t.Fatalf("importances %v sum to %v", imp, s)
	}
	if imp[0] < 0.9 {
		t.Fatalf("importances %v, want the informative feature 0 first and dominant", imp)
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	good := quadratic(100, 14)
	withX := func(i int, v float64) []float64 {
		X := slices.Clone(good.X)
		X[i] = v
		return X
	}
	withY := func(i int, v float64) []float64 {
		y := slices.Clone(good.y)
		y[i] = v
		return y
	}
	ones := make([]float64, good.rows)
	classes := make([]float64, good.rows)
	for i := range ones {
		ones[i] = 1
		classes[i] = float64(i % 2)
	}
	withClass := func(i int, v float64) []float64 {
		y := slices.Clone(classes)
		y[i] = v
		return y
	}
	for _, tc := range []struct {
		name       string
		X, y       []float64
		rows, cols int
		p          Params
		want       string
	}{
		{"shape", good.X, good.y, good.rows, 4, Params{}, "len(X) = 300, want rows*cols = 100*4"},
		{"zero rows", nil, nil, 0, 3, Params{}, "want positive rows"},
		{"y length", good.X, good.y[:99], good.rows, 3, Params{}, "len(y) = 99, want rows = 100"},
		{"nan y", good.X, withY(7, math.NaN()), good.rows, 3, Params{}, "target y at row 7 is NaN"},
		{"inf X", withX(3*5+2, math.Inf(1)), good.y, good.rows, 3, Params{}, "X at row 5, column 2 is +Inf"},
		{"single class", good.X, ones, good.rows, 3, Params{Loss: LossLogLoss}, "single class"},
		{"non-integer class", good.X, withClass(3, 0.5), good.rows, 3, Params{Loss: LossSoftmax}, "row 3 is 0.5"},
		{"binary with 3 classes", good.X, withClass(0, 2), good.rows, 3, Params{Loss: LossLogLoss}, "use softmax"},
		{"loss", good.X, good.y, good.rows, 3, Params{Loss: "hinge"}, `unknown loss "hinge"`},
		{"max bins", good.X, good.y, good.rows, 3, Params{MaxBins: 256}, "MaxBins 256"},
		{"learning rate", good.X, good.y, good.rows, 3, Params{LearningRate: -1}, "LearningRate -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Fit(tc.X, tc.rows, tc.cols, tc.y, tc.p)
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := Fit(good.X, good.rows, 3, ones, Params{Loss: LossLogLoss}); !errors.Is(err, ErrSingleClass) {
		t.Fatalf("err = %v, want ErrSingleClass", err)
	}
	var ie *InputError
	if _, err := Fit(withX(4, math.Inf(-1)), good.rows, 3, good.y, Params{}); !errors.As(err, &ie) || ie.Row != 1 || ie.Col != 1 {
		t.Fatalf("err = %v, want an InputError at row 1, column 1", err)
	}

	m := fit(t, good, Params{NIter: 50, MinSamplesLeaf: 5})
	if m.Predict(good.X, good.rows, 2) != nil || m.Predict(good.X[:5], 2, 3) != nil {
		t.Fatal("Predict accepted a bad shape")
	}
	if err := m.CheckInput(good.X, good.rows, 2); err == nil {
		t.Fatal("CheckInput accepted a bad shape")
	}
	var unfitted Model
	if unfitted.Predict(good.X, good.rows, 0) != nil || unfitted.PredictProba(good.X, good.rows, 3) != nil {
		t.Fatal("an unfitted model predicted")
	}
	if _, err := unfitted.MarshalBinary(); err == nil {
		t.Fatal("an unfitted model marshalled")
	}
	// Infinite values predict as values.
	if p := m.Predict([]float64{math.Inf(1), 0, 0, math.Inf(-1), 0, 0, 0, 0, 0}, 3, 3); p[0] < p[2]+4 || p[1] < p[2]+4 {
		t.Fatalf("Predict(+Inf, -Inf, 0) = %v, want the ends of a parabola", p)
	}
}

func TestConstantFeaturesAndTarget(t *testing.T) {
	t.Parallel()
	n := 500
	X := make([]float64, n*2)
	y := make([]float64, n)
	for i := range n {
		X[2*i] = 1
		X[2*i+1] = math.NaN()
		y[i] = 3.5
	}
	m, err := Fit(X, n, 2, y, Params{NIter: 5})
	if err != nil {
		t.Fatal(err)
	}
	if p := m.Predict(X[:2], 1, 2)[0]; p != 3.5 {
		t.Fatalf("Predict = %v, want 3.5", p)
	}
	if len(m.nodes) != 0 {
		t.Fatalf("%d splits on constant data", len(m.nodes))
	}
}

func TestMaxDepthAndLeaves(t *testing.T) {
	t.Parallel()
	d := quadratic(5000, 15)
	for _, p := range []Params{{MaxDepth: 2, NIter: 5}, {MaxLeafNodes: 7, NIter: 5}, {MaxDepth: 3, MaxLeafNodes: 5, NIter: 5}} {
		m := fit(t, d, p)
		maxLeaves := p.withDefaults().MaxLeafNodes
		if p.MaxDepth > 0 {
			maxLeaves = min(maxLeaves, 1<<p.MaxDepth)
		}
		for tr := range m.roots {
			nl := int(m.leafOff[tr+1] - m.leafOff[tr])
			if nl > maxLeaves {
				t.Fatalf("%+v: tree %d has %d leaves", p, tr, nl)
			}
			if p.MaxDepth > 0 {
				if dep := depth(m, m.roots[tr]); dep > p.MaxDepth {
					t.Fatalf("%+v: tree %d has depth %d", p, tr, dep)
				}
			}
		}
	}
}

func depth(m *Model, ref int32) int {
	if ref < 0 {
		return 0
	}
	nd := m.nodes[ref]
	return 1 + max(depth(m, nd.left), depth(m, nd.right))
}

func TestMinSamplesLeaf(t *testing.T) {
	t.Parallel()
	d := quadratic(3000, 16)
	m := fit(t, d, Params{MinSamplesLeaf: 100, NIter: 3})
	// Count the training rows per leaf of the first tree.
	counts := make(map[int32]int)
	for i := range d.rows {
		x := d.X[i*3 : i*3+3]
		n := m.roots[0]
		for n >= 0 {
			nd := m.nodes[n]
			if x[nd.feat] <= nd.thr {
				n = nd.left
			} else {
				n = nd.right
			}
		}
		counts[n]++
	}
	for leaf, c := range counts {
		if c < 100 {
			t.Fatalf("leaf %d holds %d rows, want >= 100", ^leaf, c)
		}
	}
}

func TestThresholds(t *testing.T) {
	t.Parallel()
	if got := thresholds([]float64{3, 1, 2, 2, 1}, 255, nil); !slices.Equal(got, []float64{1.5, 2.5}) {
		t.Fatalf("distinct thresholds = %v", got)
	}
	vals := make([]float64, 10000)
	for i := range vals {
		vals[i] = float64(i)
	}
	got := thresholds(slices.Clone(vals), 4, nil)
	if !slices.Equal(got, []float64{2499.5, 4999.5, 7499.5}) {
		t.Fatalf("quantile thresholds = %v", got)
	}
	// Radix sort agrees with the standard sort, negatives and zeros too.
	rng := rand.New(rand.NewPCG(1, 1))
	v := make([]float64, 20000)
	for i := range v {
		v[i] = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(10)-5))
	}
	v[0], v[1] = math.Copysign(0, -1), 0
	want := slices.Clone(v)
	slices.Sort(want)
	sortFloats(v, nil)
	if !slices.Equal(v, want) {
		t.Fatal("sortFloats disagrees with slices.Sort")
	}
	// Bins agree with the threshold definition.
	m := fitBins(vals[:1000], 1, nil, 1000, 16, 0, newTeam(1))
	for _, x := range []float64{-1, 0, 62.4, 62.5, 500, 999, 1e9, math.NaN()} {
		b := binValue((*[256]float64)(m.table[:256]), x)
		want := 0
		for _, th := range m.thr[0] {
			if th < x {
				want++
			}
		}
		if math.IsNaN(x) {
			want = MissingBin
		}
		if int(b) != want {
			t.Fatalf("bin(%v) = %d, want %d", x, b, want)
		}
	}
}

func FuzzUnmarshalBinary(f *testing.F) {
	d := quadratic(300, 17)
	m, err := Fit(d.X, d.rows, d.cols, d.y, Params{NIter: 3})
	if err != nil {
		f.Fatal(err)
	}
	b, _ := m.MarshalBinary()
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		var m Model
		if m.UnmarshalBinary(data) != nil {
			return
		}
		m.Predict(make([]float64, 2*m.NumFeatures()), 2, m.NumFeatures())
	})
}

func TestFastExp(t *testing.T) {
	t.Parallel()
	for x := -750.0; x <= 750; x += 0.0137 {
		got, want := fastExp(x), math.Exp(min(max(x, -708), 709))
		if math.Abs(got-want) > 1e-9*want {
			t.Fatalf("fastExp(%v) = %v, want %v", x, got, want)
		}
	}
}
