package tree_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sous-ml/sous/recipes/frame"
	"github.com/sous-ml/sous/recipes/ml/tree"
)

func r2(y, p []float64) float64 {
	var mean float64
	for _, v := range y {
		mean += v
	}
	mean /= float64(len(y))
	var ssr, sst float64
	for i := range y {
		ssr += (y[i] - p[i]) * (y[i] - p[i])
		sst += (y[i] - mean) * (y[i] - mean)
	}
	return 1 - ssr/sst
}

func accuracy(y, p []float64) float64 {
	ok := 0
	for i := range y {
		if y[i] == p[i] {
			ok++
		}
	}
	return float64(ok) / float64(len(y))
}

func mustFit(t testing.TB, X []float64, rows, cols int, y []float64, p tree.Params) *tree.Model {
	t.Helper()
	m, err := tree.Fit(X, rows, cols, y, p)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustPredict(t testing.TB, m *tree.Model, X []float64, rows, cols int) []float64 {
	t.Helper()
	p, err := m.Predict(X, rows, cols)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStepFunction(t *testing.T) {
	t.Parallel()
	var X, y []float64
	step := func(x float64) float64 {
		switch {
		case x < 30:
			return 1
		case x < 70:
			return -2
		}
		return 5
	}
	for i := range 100 {
		X = append(X, float64(i))
		y = append(y, step(float64(i)))
	}
	m, err := tree.FitTree(X, 100, 1, y, tree.Params{})
	if err != nil {
		t.Fatal(err)
	}
	if m.NumNodes() != 5 {
		t.Errorf("%d nodes, want 5 (two splits)", m.NumNodes())
	}
	test := []float64{-10, 0, 29, 29.4, 29.6, 30, 50, 69.4, 69.6, 99, 1e6}
	p := mustPredict(t, m, test, len(test), 1)
	for i, x := range test {
		// thresholds are midpoints: 29.5 and 69.5
		want := step(math.Ceil(x - 0.5))
		if p[i] != want {
			t.Errorf("predict(%v) = %v, want %v", x, p[i], want)
		}
	}
}

func quadratic(n int, seed uint64) (X, y []float64) {
	rng := rand.New(rand.NewPCG(seed, 0))
	for range n {
		x := rng.Float64()*6 - 3
		X = append(X, x, rng.Float64())
		y = append(y, x*x)
	}
	return X, y
}

func TestQuadratic(t *testing.T) {
	t.Parallel()
	X, y := quadratic(2000, 1)
	Xt, yt := quadratic(1000, 2)
	for _, tc := range []struct {
		name  string
		p     tree.Params
		floor float64
	}{
		{"tree", tree.Params{}, 0.995},
		{"tree depth 4", tree.Params{MaxDepth: 4}, 0.95},
		{"forest", tree.DefaultForestParams(tree.Regression), 0.995},
	} {
		m := mustFit(t, X, 2000, 2, y, tc.p)
		if got := r2(yt, mustPredict(t, m, Xt, 1000, 2)); got < tc.floor {
			t.Errorf("%s: R² %.4f < %v", tc.name, got, tc.floor)
		} else {
			t.Logf("%s: R² %.4f", tc.name, got)
		}
		if imp := m.FeatureImportances(); imp[0] < 0.9 {
			t.Errorf("%s: importances %v, want feature 0 first", tc.name, imp)
		}
	}
}

func sharedData(t testing.TB, rel string) string {
	t.Helper()
	for _, dir := range []string{"../../../../shared/data", "/work/shared/data"} {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skipf("shared data file %s not found", rel)
	return ""
}

// split returns train and test sets: test rows are those with i%3 == 0, as
// in testdata/sklearn_accuracy.py.
func split(X, y []float64, cols int) (Xtr, ytr, Xte, yte []float64) {
	for i := range y {
		if i%3 == 0 {
			Xte = append(Xte, X[i*cols:(i+1)*cols]...)
			yte = append(yte, y[i])
		} else {
			Xtr = append(Xtr, X[i*cols:(i+1)*cols]...)
			ytr = append(ytr, y[i])
		}
	}
	return
}

func frameXY(t testing.TB, f *frame.Frame, target string) (X, y []float64, cols int) {
	t.Helper()
	var feats []*frame.Column
	var tc *frame.Column
	for _, c := range f.Cols {
		if c.Name == target {
			tc = c
		} else {
			feats = append(feats, c)
		}
	}
	for i := range f.Len() {
		for _, c := range feats {
			X = append(X, c.Float(i))
		}
		if tc.Kind == frame.String {
			y = append(y, float64(slices.Index(sortedDict(tc), tc.Str(i))))
		} else {
			y = append(y, tc.Float(i))
		}
	}
	return X, y, len(feats)
}

func sortedDict(c *frame.Column) []string {
	d := slices.Clone(c.Dict)
	slices.Sort(d)
	return d
}

// Accuracy floors: scikit-learn 1.2.1's lowest accuracy over random_state
// 0..4 (testdata/sklearn_accuracy.txt) minus 0.03.
func TestBreastCancer(t *testing.T) {
	t.Parallel()
	f, err := frame.ReadParquetFile(sharedData(t, "breast-cancer/data.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	X, y, cols := frameXY(t, f, "target")
	var sum float64
	for _, v := range X {
		sum += v
	}
	if len(y) != 569 || math.Abs(sum-1056474.459636) > 1e-3 {
		t.Fatalf("%d rows, sum(X) %.6f: not scikit-learn's breast cancer data", len(y), sum)
	}
	classify(t, X, y, cols, 0.9158-0.03, 0.9632-0.03)
}

func TestIris(t *testing.T) {
	t.Parallel()
	f, err := frame.ReadCSVFile(sharedData(t, "iris/iris.csv"), frame.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	X, y, cols := frameXY(t, f, "class")
	var sum float64
	for _, v := range X {
		sum += v
	}
	if len(y) != 150 || math.Abs(sum-2078.7) > 1e-6 {
		t.Fatalf("%d rows, sum(X) %.6f", len(y), sum)
	}
	classify(t, X, y, cols, 0.86-0.03, 0.94-0.03)
}

func classify(t *testing.T, X, y []float64, cols int, treeFloor, forestFloor float64) {
	Xtr, ytr, Xte, yte := split(X, y, cols)
	ntr, nte := len(ytr), len(yte)
	for _, tc := range []struct {
		name  string
		p     tree.Params
		floor float64
	}{
		{"tree", tree.Params{Task: tree.Classification}, treeFloor},
		{"forest", tree.DefaultForestParams(tree.Classification), forestFloor},
	} {
		var accs []float64
		for seed := range uint64(5) {
			tc.p.Seed = seed
			m := mustFit(t, Xtr, ntr, cols, ytr, tc.p)
			accs = append(accs, accuracy(yte, mustPredict(t, m, Xte, nte, cols)))
			proba, err := m.PredictProba(Xte, nte, cols)
			if err != nil {
				t.Fatal(err)
			}
			k := m.NumClass()
			for i := range nte {
				var s float64
				for _, v := range proba[i*k : (i+1)*k] {
					s += v
				}
				if math.Abs(s-1) > 1e-9 {
					t.Fatalf("row %d probabilities sum to %v", i, s)
				}
			}
		}
		t.Logf("%s accuracy per seed %.4f", tc.name, accs)
		if lo := slices.Min(accs); lo < tc.floor {
			t.Errorf("%s: accuracy %.4f < floor %.4f", tc.name, lo, tc.floor)
		}
	}
}

func TestDeterminism(t *testing.T) {
	t.Parallel()
	X, y := quadratic(3000, 3)
	p := tree.DefaultForestParams(tree.Regression)
	p.NEstimators = 20
	p.Seed = 42
	var ref []byte
	for _, threads := range []int{1, 2, 5} {
		p.Threads = threads
		b, err := mustFit(t, X, 3000, 2, y, p).MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = b
		} else if !bytes.Equal(ref, b) {
			t.Errorf("threads %d: model differs from threads 1", threads)
		}
	}
	p.Seed = 43
	if b, _ := mustFit(t, X, 3000, 2, y, p).MarshalBinary(); bytes.Equal(ref, b) {
		t.Error("seeds 42 and 43 gave the same forest")
	}
}

func TestImportances(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 7))
	const n, cols = 2000, 6
	X := make([]float64, n*cols)
	y := make([]float64, n)
	for i := range n {
		for j := range cols {
			X[i*cols+j] = rng.NormFloat64()
		}
		y[i] = 3*X[i*cols+4] + 0.5*X[i*cols+1] + 0.1*rng.NormFloat64()
	}
	X[5] = 0 // one column constant but for a row
	for _, p := range []tree.Params{{}, tree.DefaultForestParams(tree.Regression),
		{NEstimators: 30, MaxFeatures: tree.MaxFeaturesSqrt, Bootstrap: true},
		{NEstimators: 30, MaxFeatures: tree.MaxFeaturesLog2},
		{NEstimators: 30, MaxFeaturesFraction: 0.5, Bootstrap: true, MinSamplesLeaf: 5}} {
		imp := mustFit(t, X, n, cols, y, p).FeatureImportances()
		var s float64
		for _, v := range imp {
			s += v
		}
		if math.Abs(s-1) > 1e-9 {
			t.Errorf("importances %v sum to %v", imp, s)
		}
		order := []int{0, 1, 2, 3, 4, 5}
		slices.SortFunc(order, func(a, b int) int { return -cmpF(imp[a], imp[b]) })
		if order[0] != 4 || order[1] != 1 {
			t.Errorf("importances %v: want feature 4 then 1 first", imp)
		}
	}
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	X, y := quadratic(500, 5)
	yc := make([]float64, len(y))
	for i, v := range y {
		yc[i] = math.Floor(v) // classes 0..8
	}
	for _, tc := range []struct {
		y []float64
		p tree.Params
	}{
		{y, tree.Params{}},
		{y, tree.DefaultForestParams(tree.Regression)},
		{yc, tree.Params{Task: tree.Classification, MaxDepth: 5}},
		{yc, tree.DefaultForestParams(tree.Classification)},
	} {
		tc.p.NEstimators = min(tc.p.NEstimators, 10)
		m := mustFit(t, X, 500, 2, tc.y, tc.p)
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var m2 tree.Model
		if err := m2.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		Xt, _ := quadratic(300, 6)
		p1, p2 := mustPredict(t, m, Xt, 300, 2), mustPredict(t, &m2, Xt, 300, 2)
		if !slices.Equal(p1, p2) {
			t.Errorf("%+v: predictions differ after round trip", tc.p)
		}
		if !slices.Equal(m.FeatureImportances(), m2.FeatureImportances()) || m.NumClass() != m2.NumClass() || m.Task() != m2.Task() {
			t.Errorf("%+v: model differs after round trip", tc.p)
		}
		b2, _ := m2.MarshalBinary()
		if !bytes.Equal(b, b2) {
			t.Errorf("%+v: re-marshalled bytes differ", tc.p)
		}
		// Every truncation and a flipped byte anywhere is an error, not a panic.
		for i := 0; i < len(b); i += 1 + len(b)/200 {
			var bad tree.Model
			if bad.UnmarshalBinary(b[:i]) == nil {
				t.Fatalf("truncated at %d: no error", i)
			}
			c := slices.Clone(b)
			c[i] ^= 0x5a
			if bad.UnmarshalBinary(c) == nil {
				t.Fatalf("flipped byte %d: no error", i)
			}
		}
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	nan, inf := math.NaN(), math.Inf(1)
	cls := tree.Params{Task: tree.Classification}
	for _, tc := range []struct {
		name       string
		X          []float64
		rows, cols int
		y          []float64
		p          tree.Params
	}{
		{"empty", nil, 0, 1, nil, tree.Params{}},
		{"no columns", nil, 2, 0, []float64{1, 2}, tree.Params{}},
		{"short X", []float64{1}, 2, 1, []float64{1, 2}, tree.Params{}},
		{"short y", []float64{1, 2}, 2, 1, []float64{1}, tree.Params{}},
		{"NaN y", []float64{1, 2}, 2, 1, []float64{1, nan}, tree.Params{}},
		{"Inf y", []float64{1, 2}, 2, 1, []float64{inf, 1}, tree.Params{}},
		{"NaN X", []float64{1, nan}, 2, 1, []float64{1, 2}, tree.Params{}},
		{"Inf X", []float64{-inf, 1}, 2, 1, []float64{1, 2}, tree.Params{}},
		{"fractional class", []float64{1, 2}, 2, 1, []float64{0, 1.5}, cls},
		{"negative class", []float64{1, 2}, 2, 1, []float64{0, -1}, cls},
		{"NaN class", []float64{1, 2}, 2, 1, []float64{0, nan}, cls},
		{"class >= NumClass", []float64{1, 2}, 2, 1, []float64{0, 2}, tree.Params{Task: tree.Classification, NumClass: 2}},
		{"bad MaxFeatures", []float64{1, 2}, 2, 1, []float64{0, 1}, tree.Params{MaxFeatures: "half"}},
		{"bad fraction", []float64{1, 2}, 2, 1, []float64{0, 1}, tree.Params{MaxFeaturesFraction: 1.5}},
		{"bad MinSamplesSplit", []float64{1, 2}, 2, 1, []float64{0, 1}, tree.Params{MinSamplesSplit: 1}},
		{"negative MaxDepth", []float64{1, 2}, 2, 1, []float64{0, 1}, tree.Params{MaxDepth: -1}},
		{"bad task", []float64{1, 2}, 2, 1, []float64{0, 1}, tree.Params{Task: 7}},
	} {
		if _, err := tree.Fit(tc.X, tc.rows, tc.cols, tc.y, tc.p); err == nil {
			t.Errorf("%s: no error", tc.name)
		} else {
			t.Logf("%s: %v", tc.name, err)
		}
	}

	// A single row gives a one-leaf model predicting it.
	m := mustFit(t, []float64{1, 2}, 1, 2, []float64{7}, tree.DefaultForestParams(tree.Regression))
	if p := mustPredict(t, m, []float64{5, 5, -1, 0}, 2, 2); !slices.Equal(p, []float64{7, 7}) {
		t.Errorf("single row: predictions %v", p)
	}
	// Constant features give one leaf predicting the mean, zero importances.
	m = mustFit(t, []float64{3, 3, 3, 3}, 4, 1, []float64{1, 2, 3, 6}, tree.Params{})
	if p := mustPredict(t, m, []float64{0, 3, 9}, 3, 1); !slices.Equal(p, []float64{3, 3, 3}) || m.NumNodes() != 1 {
		t.Errorf("constant feature: predictions %v, %d nodes", p, m.NumNodes())
	}
	if imp := m.FeatureImportances(); imp[0] != 0 {
		t.Errorf("constant feature importance %v", imp)
	}
	// Predict checks its input.
	if _, err := m.Predict([]float64{1, 2}, 1, 2); err == nil {
		t.Error("predict with 2 columns on a 1-column model: no error")
	}
	if _, err := m.Predict([]float64{1, 2}, 3, 1); err == nil {
		t.Error("predict with short X: no error")
	}
	if _, err := m.PredictProba([]float64{1}, 1, 1); err == nil {
		t.Error("PredictProba on regression: no error")
	}
	var empty tree.Model
	if _, err := empty.Predict([]float64{1}, 1, 1); err == nil {
		t.Error("predict on unfitted model: no error")
	}
	if _, err := empty.MarshalBinary(); err == nil {
		t.Error("marshal unfitted model: no error")
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	X, y := quadratic(1000, 9)
	m := mustFit(t, X, 1000, 2, y, tree.Params{MaxDepth: 3})
	if m.NumNodes() > 15 {
		t.Errorf("max depth 3: %d nodes", m.NumNodes())
	}
	// min_samples_leaf 100 leaves at most 10 leaves of 1000 rows.
	m = mustFit(t, X, 1000, 2, y, tree.Params{MinSamplesLeaf: 100})
	if leaves := (m.NumNodes() + 1) / 2; leaves > 10 {
		t.Errorf("min samples leaf 100: %d leaves", leaves)
	}
	m = mustFit(t, X, 1000, 2, y, tree.Params{MinSamplesSplit: 1000})
	if m.NumNodes() != 3 {
		t.Errorf("min samples split 1000: %d nodes, want 3", m.NumNodes())
	}
	// Many distinct values are binned: still a good fit.
	X, y = quadratic(20000, 10)
	Xt, yt := quadratic(2000, 11)
	m = mustFit(t, X, 20000, 2, y, tree.Params{})
	if got := r2(yt, mustPredict(t, m, Xt, 2000, 2)); got < 0.999 {
		t.Errorf("binned: R² %.5f", got)
	}
}

// FuzzUnmarshalBinary checks that no input makes UnmarshalBinary, or
// Predict on what it accepts, panic or hang.
func FuzzUnmarshalBinary(f *testing.F) {
	X, y := quadratic(200, 12)
	for _, p := range []tree.Params{{MaxDepth: 3}, {Task: tree.Classification, MaxDepth: 3, NEstimators: 2}} {
		yy := y
		if p.Task == tree.Classification {
			yy = make([]float64, len(y))
			for i, v := range y {
				yy[i] = math.Floor(v / 3)
			}
		}
		m, err := tree.Fit(X, 200, 2, yy, p)
		if err != nil {
			f.Fatal(err)
		}
		b, _ := m.MarshalBinary()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkCorrupt(t, withCRC(b))
	})
}

// withCRC replaces the last 4 bytes of b with the checksum of the rest, so
// that corruption reaches the structure checks.
func withCRC(b []byte) []byte {
	if len(b) < 4 {
		return b
	}
	body := b[:len(b)-4]
	return binary.LittleEndian.AppendUint32(slices.Clone(body), crc32.ChecksumIEEE(body))
}

// checkCorrupt unmarshals b and, if it is accepted, predicts with it: neither
// may panic or hang.
func checkCorrupt(t *testing.T, b []byte) {
	t.Helper()
	var m tree.Model
	if m.UnmarshalBinary(b) != nil {
		return
	}
	cols := m.NumFeatures()
	if cols > 1000 {
		return
	}
	Xt := make([]float64, 3*cols)
	Xt[0] = math.NaN()
	if _, err := m.Predict(Xt, 3, cols); err != nil {
		t.Fatal(err)
	}
	if m.NumClass() > 0 && m.NumClass() < 100 {
		if _, err := m.PredictProba(Xt, 3, cols); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCorruptStructure(t *testing.T) {
	t.Parallel()
	X, y := quadratic(300, 13)
	for _, p := range []tree.Params{{MaxDepth: 4}, {Task: tree.Classification, MaxDepth: 4, NEstimators: 3}} {
		yy := y
		if p.Task == tree.Classification {
			yy = make([]float64, len(y))
			for i, v := range y {
				yy[i] = math.Floor(v / 3)
			}
		}
		m := mustFit(t, X, 300, 2, yy, p)
		b, _ := m.MarshalBinary()
		for i := range len(b) - 4 {
			for _, x := range []byte{0x01, 0x80, 0xff} {
				c := slices.Clone(b)
				c[i] ^= x
				checkCorrupt(t, withCRC(c))
			}
			checkCorrupt(t, withCRC(append(slices.Clone(b[:i]), b[i+1:]...)))
		}
	}
}
