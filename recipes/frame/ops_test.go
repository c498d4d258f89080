package frame

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestConstructors(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2016, 2, 13, 21, 47, 53, 1, time.FixedZone("x", 3600))
	f := &Frame{Cols: []*Column{
		NewFloatColumn("f", []float64{1.5, -2}),
		NewIntColumn("i", []int64{3, 4}),
		NewBoolColumn("b", []bool{true, false}),
		NewStringColumn("s", []string{"b", "a"}),
		NewTimeColumn("t", []time.Time{t0, {}}),
	}}
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	want := [][]any{
		{1.5, int64(3), true, "b", t0.UTC()},
		{-2.0, int64(4), false, "a", nil},
	}
	for i, row := range want {
		for k, w := range row {
			if got := f.Cols[k].Value(i); !sameValue(got, w) {
				t.Errorf("row %d %s: %v, want %v", i, f.Cols[k].Name, got, w)
			}
		}
	}
	if !reflect.DeepEqual(f.Schema(), []Field{{"f", Float}, {"i", Int}, {"b", Bool}, {"s", String}, {"t", Time}}) {
		t.Errorf("schema %v", f.Schema())
	}
	s := NewStringColumn("s", []string{"x", "y", "x", "x"})
	if !reflect.DeepEqual(s.Dict, []string{"x", "y"}) || !reflect.DeepEqual(s.Codes, []int32{0, 1, 0, 0}) {
		t.Errorf("dict %v codes %v", s.Dict, s.Codes)
	}
	if c := NewFloatColumn("e", nil); c.Len() != 0 || c.Floats == nil {
		t.Error("empty float column")
	}
	bad := &Column{Name: "s", Kind: String, Codes: []int32{5}, Dict: []string{"a"}}
	if bad.Value(0) != nil {
		t.Error("out-of-range code gave a value")
	}
}

func TestSelectHead(t *testing.T) {
	t.Parallel()
	f := allKindsFrame(20)
	g, err := f.Select("ts", "zeta")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g.Names(), []string{"ts", "zeta"}) || g.Cols[0] != f.Cols[4] {
		t.Fatalf("select: %v", g.Names())
	}
	_, err = f.Select("zeta", "nope")
	if err == nil || err.Error() != `frame: select: no column "nope" (have "zeta", "alpha", "mid", "Bool col", "ts")` {
		t.Fatalf("error %v", err)
	}
	h := f.Head(3)
	if h.Len() != 3 || h.Cols[1].Ints[2] != f.Cols[1].Ints[2] || len(h.Cols[0].Valid) != 3 {
		t.Fatalf("head: %d rows", h.Len())
	}
	if f.Head(100).Len() != 20 || f.Head(-1).Len() != 0 {
		t.Fatal("head bounds")
	}
	// Appending to a head never writes into the source.
	h.Cols[1].Ints = append(h.Cols[1].Ints, 99)
	if f.Cols[1].Ints[3] == 99 {
		t.Fatal("append to head overwrote the source")
	}
}

func TestConcat(t *testing.T) {
	t.Parallel()
	a := &Frame{Cols: []*Column{NewStringColumn("s", []string{"x", "y"}), NewIntColumn("i", []int64{1, 2})}}
	b := &Frame{Cols: []*Column{NewStringColumn("s", []string{"z", "x", "q"}), NewIntColumn("i", []int64{3, 4, 5})}}
	b.Cols[0].Valid = []bool{true, true, false}
	b.Cols[0].Codes[2] = 0
	c, err := Concat(a, b, a.Head(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	var got []any
	for i := range c.Len() {
		got = append(got, c.Cols[0].Value(i), c.Cols[1].Value(i))
	}
	want := []any{"x", int64(1), "y", int64(2), "z", int64(3), "x", int64(4), nil, int64(5)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("concat %v, want %v", got, want)
	}
	if !reflect.DeepEqual(c.Cols[0].Dict, []string{"x", "y", "z", "q"}) {
		t.Errorf("merged dict %v", c.Cols[0].Dict)
	}
	if c.Cols[1].Valid != nil || len(c.Cols[0].Valid) != 5 {
		t.Errorf("validity: %v %v", c.Cols[1].Valid, c.Cols[0].Valid)
	}
	// The inputs are untouched.
	if !reflect.DeepEqual(b.Cols[0].Codes, []int32{0, 1, 0}) || !reflect.DeepEqual(a.Cols[0].Dict, []string{"x", "y"}) {
		t.Error("inputs modified")
	}

	// Frames sharing one dictionary keep their codes.
	d, err := Concat(a, a)
	if err != nil {
		t.Fatal(err)
	}
	if &d.Cols[0].Dict[0] != &a.Cols[0].Dict[0] || !reflect.DeepEqual(d.Cols[0].Codes, []int32{0, 1, 0, 1}) {
		t.Error("shared dictionary not reused")
	}

	e, err := Concat()
	if err != nil || e.Len() != 0 {
		t.Fatalf("empty concat: %v", err)
	}
	other := &Frame{Cols: []*Column{NewStringColumn("s", nil), NewFloatColumn("i", nil)}}
	if _, err := Concat(a, other); err == nil || !strings.Contains(err.Error(), "frame 1") || !strings.Contains(err.Error(), "i:float, want i:int") {
		t.Fatalf("mismatch error %v", err)
	}
}
