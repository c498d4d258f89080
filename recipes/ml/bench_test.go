package ml

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/sous-ml/sous/recipes/frame"
)

const benchRows = 200_000

// wideFrame is a taxi-like frame: 5 float columns and three categorical
// ones (pickup zone: 265 strings, hour: 24 ints, day of week: 7 ints), which
// one-hot encode to 296 columns.
func wideFrame(n int) *frame.Frame {
	rng := rand.New(rand.NewPCG(11, 12))
	f := &frame.Frame{}
	y := make([]float64, n)
	for j := 0; j < 5; j++ {
		c := &frame.Column{Name: fmt.Sprintf("num%d", j), Kind: frame.Float, Floats: make([]float64, n)}
		for i := range c.Floats {
			c.Floats[i] = rng.NormFloat64()*float64(j+1) + float64(10*j)
			y[i] += c.Floats[i] * float64(j)
		}
		f.Cols = append(f.Cols, c)
	}
	zone := &frame.Column{Name: "zone", Kind: frame.String, Codes: make([]int32, n)}
	for k := 0; k < 265; k++ {
		zone.Dict = append(zone.Dict, fmt.Sprintf("zone%03d", k))
	}
	hour := &frame.Column{Name: "hour", Kind: frame.Int, Ints: make([]int64, n)}
	dow := &frame.Column{Name: "dow", Kind: frame.Int, Ints: make([]int64, n)}
	for i := 0; i < n; i++ {
		z := rng.IntN(265)
		zone.Codes[i] = int32(z)
		hour.Ints[i] = int64(rng.IntN(24))
		dow.Ints[i] = int64(rng.IntN(7))
		y[i] += float64(z%17) + float64(hour.Ints[i])/3 + rng.NormFloat64()
	}
	f.Cols = append(f.Cols, zone, hour, dow, &frame.Column{Name: "y", Kind: frame.Float, Floats: y})
	return f
}

var wideSpec = TransformSpec{
	Groups: []GroupSpec{
		{Columns: []string{"zone", "hour", "dow"}, Transformer: OneHot},
		{Columns: []string{"num0", "num1", "num2", "num3", "num4"}, Transformer: StandardScaler},
	},
	Target: "y",
}

func BenchmarkRidgeFitWideOneHot(b *testing.B) {
	f := wideFrame(benchRows)
	tr, err := FitTransformer(wideSpec, f)
	if err != nil {
		b.Fatal(err)
	}
	X, err := tr.Transform(f)
	if err != nil {
		b.Fatal(err)
	}
	y, _ := f.Col("y")
	b.ReportMetric(float64(X.Cols), "cols")
	for b.Loop() {
		e, _ := NewRidge(nil)
		if err := e.Fit(X, y.Floats); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStandardScalerTransform(b *testing.B) {
	f := wideFrame(benchRows)
	tr, err := FitTransformer(TransformSpec{Groups: wideSpec.Groups[1:]}, f)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(benchRows * 5 * 8))
	for b.Loop() {
		if _, err := tr.Transform(f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOneHotTransform(b *testing.B) {
	f := wideFrame(benchRows)
	tr, err := FitTransformer(TransformSpec{Groups: wideSpec.Groups[:1]}, f)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(tr.FeatureNames())), "cols")
	for b.Loop() {
		if _, err := tr.Transform(f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRegressionMetrics(b *testing.B) {
	rng := rand.New(rand.NewPCG(13, 14))
	y, p := make([]float64, benchRows), make([]float64, benchRows)
	for i := range y {
		y[i] = rng.NormFloat64() * 10
		p[i] = y[i] + rng.NormFloat64()
	}
	b.SetBytes(int64(benchRows * 16))
	for b.Loop() {
		RegressionMetrics(y, p)
	}
}

// BenchmarkOneHotTransformInto reuses one output matrix, as batch scoring
// does; it leaves out the cost of faulting in ~470 MB of fresh memory.
func BenchmarkOneHotTransformInto(b *testing.B) {
	f := wideFrame(benchRows)
	tr, err := FitTransformer(TransformSpec{Groups: wideSpec.Groups[:1]}, f)
	if err != nil {
		b.Fatal(err)
	}
	m, err := tr.Transform(f)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if m, err = tr.TransformInto(m, f); err != nil {
			b.Fatal(err)
		}
	}
}
