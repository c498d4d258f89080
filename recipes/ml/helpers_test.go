package ml

import (
	"math"
	"testing"
	"time"

	"github.com/sous-ml/sous/recipes/frame"
)

// null is the string that strCol turns into a null.
const null = "\x00null"

// floatCol makes a Float column; NaN becomes a null.
func floatCol(name string, vals ...float64) *frame.Column {
	c := &frame.Column{Name: name, Kind: frame.Float, Floats: make([]float64, len(vals))}
	for i, v := range vals {
		if math.IsNaN(v) {
			setNull(c, i, len(vals))
			continue
		}
		c.Floats[i] = v
	}
	return c
}

func setNull(c *frame.Column, i, n int) {
	if c.Valid == nil {
		c.Valid = make([]bool, n)
		for j := range c.Valid {
			c.Valid[j] = true
		}
	}
	c.Valid[i] = false
}

func intCol(name string, vals ...int64) *frame.Column {
	return &frame.Column{Name: name, Kind: frame.Int, Ints: vals}
}

func boolCol(name string, vals ...bool) *frame.Column {
	return &frame.Column{Name: name, Kind: frame.Bool, Bools: vals}
}

func timeCol(name string, vals ...time.Time) *frame.Column {
	c := &frame.Column{Name: name, Kind: frame.Time, Ints: make([]int64, len(vals))}
	for i, t := range vals {
		c.Ints[i] = t.UnixNano()
	}
	return c
}

// strCol makes a dictionary-encoded String column; the value null becomes a null.
func strCol(name string, vals ...string) *frame.Column {
	c := &frame.Column{Name: name, Kind: frame.String, Codes: make([]int32, len(vals))}
	code := map[string]int32{}
	for i, v := range vals {
		if v == null {
			setNull(c, i, len(vals))
			continue
		}
		k, ok := code[v]
		if !ok {
			k = int32(len(c.Dict))
			code[v] = k
			c.Dict = append(c.Dict, v)
		}
		c.Codes[i] = k
	}
	return c
}

func mkFrame(cols ...*frame.Column) *frame.Frame { return &frame.Frame{Cols: cols} }

func assertFinite(t *testing.T, m *Matrix) {
	t.Helper()
	if len(m.Data) != m.Rows*m.Cols {
		t.Fatalf("matrix %d×%d holds %d values", m.Rows, m.Cols, len(m.Data))
	}
	for k, v := range m.Data {
		if !finite(v) {
			t.Fatalf("X[%d][%d] = %v", k/m.Cols, k%m.Cols, v)
		}
	}
}

func near(a, b, tol float64) bool {
	if a == b {
		return true
	}
	return math.Abs(a-b) <= tol*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func column(m *Matrix, j int) []float64 {
	out := make([]float64, m.Rows)
	for i := range out {
		out[i] = m.At(i, j)
	}
	return out
}

func assertSlice(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values %v, want %d %v", what, len(got), got, len(want), want)
	}
	for i := range got {
		if !near(got[i], want[i], tol) {
			t.Fatalf("%s[%d] = %v, want %v (all: %v, want %v)", what, i, got[i], want[i], got, want)
		}
	}
}

func mustFit(t *testing.T, spec TransformSpec, f *frame.Frame) *Transformer {
	t.Helper()
	tr, err := FitTransformer(spec, f)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func mustTransform(t *testing.T, tr *Transformer, f *frame.Frame) *Matrix {
	t.Helper()
	m, err := tr.Transform(f)
	if err != nil {
		t.Fatal(err)
	}
	assertFinite(t, m)
	return m
}

func group(tr string, params map[string]any, cols ...string) GroupSpec {
	return GroupSpec{Columns: cols, Transformer: tr, Params: params}
}
