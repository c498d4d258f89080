package expr

import (
	"errors"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sous-ml/sous/recipes/frame"
)

func date(y int, m time.Month, d, hh, mm, ss int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, 0, time.UTC)
}

// testFrame has a column of every kind, with nulls:
//
//	row  f     i     j  b      s          s2        t1                   t2 - t1
//	0    1.5   1     3  true   Queens     Bronx     2016-01-01 00:00:00  30m
//	1    -2    2     2  false  Bronx      Bronx     2016-01-02 13:45:30  90m
//	2    0     0     0  null   Manhattan  Brooklyn  2015-12-31 23:59:59  1s
//	3    null  null  4  true   null       queens    null                 (t2 2016-03-01)
//	4    10    -3    5  false  Queens     null      2020-02-29 06:00:00  null
func testFrame() *frame.Frame {
	t1 := []time.Time{date(2016, 1, 1, 0, 0, 0), date(2016, 1, 2, 13, 45, 30), date(2015, 12, 31, 23, 59, 59), {}, date(2020, 2, 29, 6, 0, 0)}
	t2 := []time.Time{t1[0].Add(30 * time.Minute), t1[1].Add(90 * time.Minute), t1[2].Add(time.Second), date(2016, 3, 1, 0, 0, 0), {}}
	ns := func(ts []time.Time) []int64 {
		out := make([]int64, len(ts))
		for i, t := range ts {
			if !t.IsZero() {
				out[i] = t.UnixNano()
			}
		}
		return out
	}
	return &frame.Frame{Cols: []*frame.Column{
		{Name: "f", Kind: frame.Float, Floats: []float64{1.5, -2, 0, 0, 10}, Valid: []bool{true, true, true, false, true}},
		{Name: "i", Kind: frame.Int, Ints: []int64{1, 2, 0, 0, -3}, Valid: []bool{true, true, true, false, true}},
		{Name: "j", Kind: frame.Int, Ints: []int64{3, 2, 0, 4, 5}},
		{Name: "b", Kind: frame.Bool, Bools: []bool{true, false, false, true, false}, Valid: []bool{true, true, false, true, true}},
		{Name: "s", Kind: frame.String, Dict: []string{"Queens", "Bronx", "Manhattan"}, Codes: []int32{0, 1, 2, 0, 0}, Valid: []bool{true, true, true, false, true}},
		{Name: "s2", Kind: frame.String, Dict: []string{"Bronx", "queens", "Brooklyn"}, Codes: []int32{0, 0, 2, 1, 0}, Valid: []bool{true, true, true, true, false}},
		{Name: "ts", Kind: frame.String, Dict: []string{"2016-01-01", "bad", "2016-01-02 03:04:05"}, Codes: []int32{0, 1, 2, 0, 1}},
		{Name: "t1", Kind: frame.Time, Ints: ns(t1), Valid: []bool{true, true, true, false, true}},
		{Name: "t2", Kind: frame.Time, Ints: ns(t2), Valid: []bool{true, true, true, true, false}},
		{Name: "trip distance", Kind: frame.Float, Floats: []float64{1, 2, 3, 4, 5}},
	}}
}

func schemaOf(f *frame.Frame) map[string]frame.Kind {
	m := make(map[string]frame.Kind)
	for _, c := range f.Cols {
		m[c.Name] = c.Kind
	}
	return m
}

// values returns the rows of c as Go values, nil for null.
func values(c *frame.Column) []any {
	out := make([]any, c.Len())
	for i := range out {
		if c.IsNull(i) {
			continue
		}
		switch c.Kind {
		case frame.Float:
			out[i] = c.Floats[i]
		case frame.Int:
			out[i] = c.Ints[i]
		case frame.Bool:
			out[i] = c.Bools[i]
		case frame.String:
			out[i] = c.Dict[c.Codes[i]]
		case frame.Time:
			out[i] = time.Unix(0, c.Ints[i]).UTC()
		}
	}
	return out
}

func same(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && (x == y || math.Abs(x-y) <= 1e-9*math.Max(1, math.Abs(y)) || x != x && y != y)
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	}
	return a == b
}

const (
	F = frame.Float
	I = frame.Int
	B = frame.Bool
	S = frame.String
	T = frame.Time
)

func TestEval(t *testing.T) {
	t.Parallel()
	t1 := []any{date(2016, 1, 1, 0, 0, 0), date(2016, 1, 2, 13, 45, 30), date(2015, 12, 31, 23, 59, 59), nil, date(2020, 2, 29, 6, 0, 0)}
	shift := func(d time.Duration) []any {
		out := make([]any, len(t1))
		for k, v := range t1 {
			if v != nil {
				out[k] = v.(time.Time).Add(d)
			}
		}
		return out
	}
	const e = math.E
	tests := []struct {
		src  string
		kind frame.Kind
		want []any
	}{
		// Literals and precedence.
		{"1 + 2 * 3", I, []any{int64(7), int64(7), int64(7), int64(7), int64(7)}},
		{"(1 + 2) * 3", I, []any{int64(9), int64(9), int64(9), int64(9), int64(9)}},
		{"10 - 4 - 3", I, []any{int64(3), int64(3), int64(3), int64(3), int64(3)}},
		{"2 * -3 + 1", I, []any{int64(-5), int64(-5), int64(-5), int64(-5), int64(-5)}},
		{"1e3 + .5", F, []any{1000.5, 1000.5, 1000.5, 1000.5, 1000.5}},
		{"true", B, []any{true, true, true, true, true}},
		{`'it\'s' + "\t\u00e9"`, S, []any{"it's\té", "it's\té", "it's\té", "it's\té", "it's\té"}},
		{"1 < 2 == true", B, []any{true, true, true, true, true}},
		{"1 + 2 < 4 && 2 * 2 == 4 || false", B, []any{true, true, true, true, true}},
		{"`trip distance` * 2", F, []any{2.0, 4.0, 6.0, 8.0, 10.0}},

		// Arithmetic, with nulls and division by zero.
		{"i + j", I, []any{int64(4), int64(4), int64(0), nil, int64(2)}},
		{"i - j", I, []any{int64(-2), int64(0), int64(0), nil, int64(-8)}},
		{"i * j", I, []any{int64(3), int64(4), int64(0), nil, int64(-15)}},
		{"i / j", F, []any{1.0 / 3, 1.0, nil, nil, -0.6}},
		{"j / i", F, []any{3.0, 1.0, nil, nil, -5.0 / 3}},
		{"i % j", I, []any{int64(1), int64(0), nil, nil, int64(-3)}},
		{"j % 3", I, []any{int64(0), int64(2), int64(0), int64(1), int64(2)}},
		{"7 % j", I, []any{int64(1), int64(1), nil, int64(3), int64(2)}},
		{"f % 2", F, []any{1.5, 0.0, 0.0, nil, 0.0}},
		{"f + i", F, []any{2.5, 0.0, 0.0, nil, 7.0}},
		{"f * 2 - 1", F, []any{2.0, -5.0, -1.0, nil, 19.0}},
		{"1 - f", F, []any{-0.5, 3.0, 1.0, nil, -9.0}},
		{"f / 0", F, []any{nil, nil, nil, nil, nil}},
		{"1 / f", F, []any{1 / 1.5, -0.5, nil, nil, 0.1}},
		{"f / (`trip distance` + 1)", F, []any{0.75, -2.0 / 3, 0.0, nil, 10.0 / 6}},
		{"-f", F, []any{-1.5, 2.0, 0.0, nil, -10.0}},
		{"-i", I, []any{int64(-1), int64(-2), int64(0), nil, int64(3)}},
		{"i + null", I, []any{nil, nil, nil, nil, nil}},
		{"s + '!'", S, []any{"Queens!", "Bronx!", "Manhattan!", nil, "Queens!"}},
		{"'<' + s", S, []any{"<Queens", "<Bronx", "<Manhattan", nil, "<Queens"}},
		{"s + s2", S, []any{"QueensBronx", "BronxBronx", "ManhattanBrooklyn", nil, nil}},

		// Comparisons.
		{"f > 0", B, []any{true, false, false, nil, true}},
		{"0 < f", B, []any{true, false, false, nil, true}},
		{"f >= 0", B, []any{true, false, true, nil, true}},
		{"f < 0", B, []any{false, true, false, nil, false}},
		{"f <= 0", B, []any{false, true, true, nil, false}},
		{"f == 0", B, []any{false, false, true, nil, false}},
		{"f != 0", B, []any{true, true, false, nil, true}},
		{"i == j", B, []any{false, true, true, nil, false}},
		{"i != 2", B, []any{true, false, true, nil, true}},
		{"f <= i", B, []any{false, true, true, nil, false}},
		{"j > 2.5", B, []any{true, false, false, true, true}},
		{"s == 'Queens'", B, []any{true, false, false, nil, true}},
		{"'Queens' == s", B, []any{true, false, false, nil, true}},
		{"s != 'Queens'", B, []any{false, true, true, nil, false}},
		{"s < 'C'", B, []any{false, true, false, nil, false}},
		{"'C' > s", B, []any{false, true, false, nil, false}},
		{"s >= 'Manhattan'", B, []any{true, false, true, nil, true}},
		{"s == s2", B, []any{false, true, false, nil, nil}},
		{"s > s2", B, []any{true, false, true, nil, nil}},
		{"s2 <= s", B, []any{true, true, true, nil, nil}},
		{"b == true", B, []any{true, false, nil, true, false}},
		{"b != b", B, []any{false, false, nil, false, false}},
		{"t1 < '2016-01-02'", B, []any{true, false, true, nil, false}},
		{"'2016-01-02' > t1", B, []any{true, false, true, nil, false}},
		{"t1 == timestamp('2016-01-01T00:00:00Z')", B, []any{true, false, false, nil, false}},
		{"t1 >= '2016-01-02 13:45:30'", B, []any{false, true, false, nil, true}},
		{"t1 < t2", B, []any{true, true, true, nil, nil}},
		{"t2 - t1 > duration('1h')", B, []any{false, true, false, nil, nil}},
		{"t2 - t1 >= '30m'", B, []any{true, true, false, nil, nil}},

		// Logic, three-valued.
		{"b && f > 0", B, []any{true, false, false, nil, false}},
		{"b and f > 0", B, []any{true, false, false, nil, false}},
		{"b || f > 0", B, []any{true, false, nil, true, true}},
		{"b or f > 0", B, []any{true, false, nil, true, true}},
		{"!b", B, []any{false, true, nil, false, true}},
		{"not b", B, []any{false, true, nil, false, true}},
		{"!(f > 0)", B, []any{false, true, true, nil, false}},
		{"b && true", B, []any{true, false, nil, true, false}},
		{"b || false", B, []any{true, false, nil, true, false}},
		{"b && null", B, []any{nil, false, nil, nil, false}},
		{"b || null", B, []any{true, nil, nil, true, nil}},
		{"null && false", B, []any{false, false, false, false, false}},
		{"null || true", B, []any{true, true, true, true, true}},
		{"f > 0 || i > 0 && j > 2", B, []any{true, false, false, nil, true}},

		// in.
		{"i in (1, 2)", B, []any{true, true, false, nil, false}},
		{"i not in (1, 2)", B, []any{false, false, true, nil, true}},
		{"i in (1.0, 0.5)", B, []any{true, false, false, nil, false}},
		{"f in (1.5, 10)", B, []any{true, false, false, nil, true}},
		{"j in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)", B, []any{true, true, false, true, true}},
		{"s in ('Queens', 'Bronx')", B, []any{true, true, false, nil, true}},
		{"s not in ('Queens')", B, []any{false, true, true, nil, false}},
		{"b in (true)", B, []any{true, false, nil, true, false}},
		{"t1 in ('2016-01-01', '2020-02-29T06:00:00Z')", B, []any{true, false, false, nil, true}},
		{"-i in (-1, 3)", B, []any{true, false, false, nil, true}},

		// Time.
		{"minutes(t2 - t1)", F, []any{30.0, 90.0, 1.0 / 60, nil, nil}},
		{"seconds(t2 - t1)", F, []any{1800.0, 5400.0, 1.0, nil, nil}},
		{"hours(t2 - t1)", F, []any{0.5, 1.5, 1.0 / 3600, nil, nil}},
		{"days(t2 - t1)", F, []any{1.0 / 48, 1.0 / 16, 1.0 / 86400, nil, nil}},
		{"minutes((t2 - t1) * 2)", F, []any{60.0, 180.0, 2.0 / 60, nil, nil}},
		{"minutes(2 * (t2 - t1) - duration('1m'))", F, []any{59.0, 179.0, 2.0/60 - 1, nil, nil}},
		{"minutes((t2 - t1) / 2)", F, []any{15.0, 45.0, 0.5 / 60, nil, nil}},
		{"(t2 - t1) / duration('1m')", F, []any{30.0, 90.0, 1.0 / 60, nil, nil}},
		{"seconds(abs(t1 - t2))", F, []any{1800.0, 5400.0, 1.0, nil, nil}},
		{"seconds(-(t2 - t1))", F, []any{-1800.0, -5400.0, -1.0, nil, nil}},
		{"t1 + duration('1h')", T, shift(time.Hour)},
		{"t1 - duration('24h')", T, shift(-24 * time.Hour)},
		{"duration('1h') + t1", T, shift(time.Hour)},
		{"t1 + (t2 - t1)", T, []any{t1[0].(time.Time).Add(30 * time.Minute), t1[1].(time.Time).Add(90 * time.Minute), t1[2].(time.Time).Add(time.Second), nil, nil}},
		{"day_of_week(t1)", I, []any{int64(4), int64(5), int64(3), nil, int64(5)}},
		{"hour(t1)", I, []any{int64(0), int64(13), int64(23), nil, int64(6)}},
		{"minute(t1)", I, []any{int64(0), int64(45), int64(59), nil, int64(0)}},
		{"second(t1)", I, []any{int64(0), int64(30), int64(59), nil, int64(0)}},
		{"year(t1)", I, []any{int64(2016), int64(2016), int64(2015), nil, int64(2020)}},
		{"month(t1)", I, []any{int64(1), int64(1), int64(12), nil, int64(2)}},
		{"day(t1)", I, []any{int64(1), int64(2), int64(31), nil, int64(29)}},
		{"day_of_year(t1)", I, []any{int64(1), int64(2), int64(365), nil, int64(60)}},
		{"week_of_year(t1)", I, []any{int64(53), int64(53), int64(53), nil, int64(9)}},
		{"date(t1)", T, []any{date(2016, 1, 1, 0, 0, 0), date(2016, 1, 2, 0, 0, 0), date(2015, 12, 31, 0, 0, 0), nil, date(2020, 2, 29, 0, 0, 0)}},
		{"timestamp(ts)", T, []any{date(2016, 1, 1, 0, 0, 0), nil, date(2016, 1, 2, 3, 4, 5), date(2016, 1, 1, 0, 0, 0), nil}},
		{"min(t1, t2) == t1", B, []any{true, true, true, nil, true}},
		{"min(t1, t2) == coalesce(t1, t2)", B, []any{true, true, true, true, true}},
		{"hour(timestamp('2016-01-01T05:00:00+02:00'))", I, []any{int64(3), int64(3), int64(3), int64(3), int64(3)}},

		// Null functions and if.
		{"is_null(f)", B, []any{false, false, false, true, false}},
		{"is_null(j)", B, []any{false, false, false, false, false}},
		{"!is_null(s)", B, []any{true, true, true, false, true}},
		{"is_null(null)", B, []any{true, true, true, true, true}},
		{"coalesce(f, 99)", F, []any{1.5, -2.0, 0.0, 99.0, 10.0}},
		{"coalesce(i, j)", I, []any{int64(1), int64(2), int64(0), int64(4), int64(-3)}},
		{"coalesce(null, i, j)", I, []any{int64(1), int64(2), int64(0), int64(4), int64(-3)}},
		{"coalesce(j, i)", I, []any{int64(3), int64(2), int64(0), int64(4), int64(5)}},
		{"coalesce(t2, t1)", T, []any{t1[0].(time.Time).Add(30 * time.Minute), t1[1].(time.Time).Add(90 * time.Minute), t1[2].(time.Time).Add(time.Second), date(2016, 3, 1, 0, 0, 0), t1[4]}},
		{"coalesce(s, s2)", S, []any{"Queens", "Bronx", "Manhattan", "queens", "Queens"}},
		{"coalesce(s2, 'none')", S, []any{"Bronx", "Bronx", "Brooklyn", "queens", "none"}},
		{"coalesce(b, false)", B, []any{true, false, false, true, false}},
		{"if(f > 0, 'pos', 'neg')", S, []any{"pos", "neg", "neg", "neg", "pos"}},
		{"if(b, i, f)", F, []any{1.0, -2.0, 0.0, nil, 10.0}},
		{"if(f > 0, f, null)", F, []any{1.5, nil, nil, nil, 10.0}},
		{"if(b, s, s2)", S, []any{"Queens", "Bronx", "Brooklyn", nil, nil}},
		{"if(b, s, s)", S, []any{"Queens", "Bronx", "Manhattan", nil, "Queens"}},
		{"if(null, 1, 2)", I, []any{int64(2), int64(2), int64(2), int64(2), int64(2)}},
		{"if(b, t1, t2) == t1", B, []any{true, false, false, nil, nil}},

		// Math.
		{"abs(f)", F, []any{1.5, 2.0, 0.0, nil, 10.0}},
		{"abs(i)", I, []any{int64(1), int64(2), int64(0), nil, int64(3)}},
		{"sqrt(f)", F, []any{math.Sqrt(1.5), nil, 0.0, nil, math.Sqrt(10)}},
		{"log(f)", F, []any{math.Log(1.5), nil, nil, nil, math.Log(10)}},
		{"log1p(f)", F, []any{math.Log1p(1.5), nil, 0.0, nil, math.Log1p(10)}},
		{"exp(i)", F, []any{e, e * e, 1.0, nil, math.Exp(-3)}},
		{"exp(1000)", F, []any{nil, nil, nil, nil, nil}},
		{"pow(i, 2)", F, []any{1.0, 4.0, 0.0, nil, 9.0}},
		{"pow(f, 0.5)", F, []any{math.Sqrt(1.5), nil, 0.0, nil, math.Sqrt(10)}},
		{"round(f)", F, []any{2.0, -2.0, 0.0, nil, 10.0}},
		{"round(2.5) + round(3.5)", F, []any{6.0, 6.0, 6.0, 6.0, 6.0}},
		{"round(1.23456, 2)", F, []any{1.23, 1.23, 1.23, 1.23, 1.23}},
		{"round(1234.5, -2)", F, []any{1200.0, 1200.0, 1200.0, 1200.0, 1200.0}},
		{"round(f * 1.1, j)", F, []any{1.65, -2.2, 0.0, nil, 11.0}},
		{"floor(f / 4)", F, []any{0.0, -1.0, 0.0, nil, 2.0}},
		{"ceil(f / 4)", F, []any{1.0, 0.0, 0.0, nil, 3.0}},
		{"min(f, i)", F, []any{1.0, -2.0, 0.0, nil, -3.0}},
		{"max(i, j)", I, []any{int64(3), int64(2), int64(0), int64(4), int64(5)}},
		{"max(i, j, 4)", I, []any{int64(4), int64(4), int64(4), int64(4), int64(5)}},
		{"min(f)", F, []any{1.5, -2.0, 0.0, nil, 10.0}},
		{"clip(f, 0, 5)", F, []any{1.5, 0.0, 0.0, nil, 5.0}},
		{"clip(i, 0, null)", I, []any{int64(1), int64(2), int64(0), nil, int64(0)}},
		{"clip(j, i, 3)", I, []any{int64(3), int64(2), int64(0), int64(3), int64(3)}},

		// Strings.
		{"lower(s)", S, []any{"queens", "bronx", "manhattan", nil, "queens"}},
		{"upper(s2)", S, []any{"BRONX", "BRONX", "BROOKLYN", "QUEENS", nil}},
		{"lower(s) == lower(s2)", B, []any{false, true, false, nil, nil}},
		{"length(s)", I, []any{int64(6), int64(5), int64(9), nil, int64(6)}},
		{"length('né')", I, []any{int64(2), int64(2), int64(2), int64(2), int64(2)}},
		{"contains(s, 'ee')", B, []any{true, false, false, nil, true}},
		{"contains('Big Queens', s)", B, []any{true, false, false, nil, true}},
		{"contains(s, s2)", B, []any{false, true, false, nil, nil}},
		{"starts_with(s, 'B')", B, []any{false, true, false, nil, false}},
		{"ends_with(s, 'x')", B, []any{false, true, false, nil, false}},
		{"substr(s, 0, 3)", S, []any{"Que", "Bro", "Man", nil, "Que"}},
		{"substr(s, -3, 3)", S, []any{"ens", "onx", "tan", nil, "ens"}},
		{"substr(s, 4, 100)", S, []any{"ns", "x", "attan", nil, "ns"}},
		{"substr(s, i, 2)", S, []any{"ue", "on", "Ma", nil, "en"}},
		{"substr('héllo', 1, 3)", S, []any{"éll", "éll", "éll", "éll", "éll"}},

		// Conversions.
		{"int(f)", I, []any{int64(1), int64(-2), int64(0), nil, int64(10)}},
		{"int(-2.7)", I, []any{int64(-2), int64(-2), int64(-2), int64(-2), int64(-2)}},
		{"int(b)", I, []any{int64(1), int64(0), nil, int64(1), int64(0)}},
		{"int(' 42 ') + int('x')", I, []any{nil, nil, nil, nil, nil}},
		{"int('42')", I, []any{int64(42), int64(42), int64(42), int64(42), int64(42)}},
		{"float(i)", F, []any{1.0, 2.0, 0.0, nil, -3.0}},
		{"float(' 2.5 ')", F, []any{2.5, 2.5, 2.5, 2.5, 2.5}},
		{"float(b)", F, []any{1.0, 0.0, nil, 1.0, 0.0}},
		{"string(i)", S, []any{"1", "2", "0", nil, "-3"}},
		{"string(f)", S, []any{"1.5", "-2", "0", nil, "10"}},
		{"string(b)", S, []any{"true", "false", nil, "true", "false"}},
		{"string(t1)", S, []any{"2016-01-01T00:00:00Z", "2016-01-02T13:45:30Z", "2015-12-31T23:59:59Z", nil, "2020-02-29T06:00:00Z"}},
		{"string(t2 - t1)", S, []any{"30m0s", "1h30m0s", "1s", nil, nil}},
		{"string(j) + '/' + s", S, []any{"3/Queens", "2/Bronx", "0/Manhattan", nil, "5/Queens"}},
		{"string(s)", S, []any{"Queens", "Bronx", "Manhattan", nil, "Queens"}},
		{"int(f * 1e300)", I, []any{nil, nil, int64(0), nil, nil}},
		{"int(s) + int(ts)", I, []any{nil, nil, nil, nil, nil}},
		{"float(ts)", F, []any{nil, nil, nil, nil, nil}},
		{"seconds(duration(s)) + seconds(duration('1m'))", F, []any{nil, nil, nil, nil, nil}},
		{"timestamp(t1) == t1 && duration(t2 - t1) == t2 - t1", B, []any{true, true, true, nil, nil}},
		{"round(f, 20) + round(f, -400)", F, []any{1.5, -2.0, 0.0, nil, 10.0}},
		{"upper(null) == lower(null) || true", B, []any{true, true, true, true, true}},
		{"coalesce(hour(null), abs(null), length(null), -null, j)", I, []any{int64(3), int64(2), int64(0), int64(4), int64(5)}},
		{"clip(null, 1, 2)", I, []any{nil, nil, nil, nil, nil}},
		{"min(null, null, 1.5)", F, []any{1.5, 1.5, 1.5, 1.5, 1.5}},
		{"null in (1, 2)", B, []any{nil, nil, nil, nil, nil}},
		{"!null", B, []any{nil, nil, nil, nil, nil}},
		{"t1 - null == t2 - t1", B, []any{nil, nil, nil, nil, nil}},
		{"s == string(null)", B, []any{nil, nil, nil, nil, nil}},
		{"float(null) < f", B, []any{nil, nil, nil, nil, nil}},
		{"if(b, i, int(null)) > 0", B, []any{true, nil, nil, nil, nil}},
	}
	f := testFrame()
	schema := schemaOf(f)
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			p, err := Compile(tt.src, schema)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			if p.Type() != tt.kind {
				t.Errorf("Type() = %s, want %s", p.Type(), tt.kind)
			}
			col, err := p.Eval(f)
			if err != nil {
				t.Fatalf("Eval: %v", err)
			}
			if col.Kind != tt.kind || col.Name != "" {
				t.Errorf("column kind %s name %q, want %s and no name", col.Kind, col.Name, tt.kind)
			}
			if err := (&frame.Frame{Cols: []*frame.Column{col}}).Validate(); err != nil {
				t.Fatal(err)
			}
			got := values(col)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d rows, want %d", len(got), len(tt.want))
			}
			for k := range got {
				if !same(got[k], tt.want[k]) {
					t.Errorf("row %d = %v (%T), want %v (%T)", k, got[k], got[k], tt.want[k], tt.want[k])
				}
			}
			checkZeroNulls(t, col)
			if col.Kind == frame.String {
				seen := map[string]bool{}
				for _, s := range col.Dict {
					if seen[s] {
						t.Errorf("dictionary %q repeats %q", col.Dict, s)
					}
					seen[s] = true
				}
			}
		})
	}
}

// checkZeroNulls checks that null slots hold the zero value, as frame requires.
func checkZeroNulls(t *testing.T, c *frame.Column) {
	t.Helper()
	for i := 0; i < c.Len(); i++ {
		if !c.IsNull(i) {
			continue
		}
		switch c.Kind {
		case frame.Float:
			if c.Floats[i] != 0 {
				t.Errorf("null row %d holds %v", i, c.Floats[i])
			}
		case frame.Int, frame.Time:
			if c.Ints[i] != 0 {
				t.Errorf("null row %d holds %v", i, c.Ints[i])
			}
		case frame.Bool:
			if c.Bools[i] {
				t.Errorf("null row %d holds true", i)
			}
		case frame.String:
			if c.Codes[i] != 0 {
				t.Errorf("null row %d holds code %d", i, c.Codes[i])
			}
		}
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	schema := map[string]frame.Kind{"fare_amount": F, "trip_distance": F, "t1": T, "t2": T, "s": S, "b": B, "i": I}
	tests := []struct {
		src  string
		pos  int
		want string // a substring of Error()
	}{
		{"fare_amout > 0", 0, `expr: 1:1: unknown column "fare_amout" (did you mean "fare_amount"?)`},
		{"fare_amount > 0 && trip_distnce < 400", 19, `expr: 1:20: unknown column "trip_distnce" (did you mean "trip_distance"?)`},
		{"fare_amount > 0 &&\n  nope", 21, `expr: 2:3: unknown column "nope"`},
		{"zzz", 0, `unknown column "zzz"`},
		{"b == TRUE", 5, `unknown column "TRUE" (keywords are lower case: true)`},
		{"b AND b", 2, `unexpected "AND" after the end of the expression (keywords are lower case: and)`},
		{"hour + 1", 0, `unknown column "hour" (hour is a function: call it as hour(...))`},
		{"huor(t1)", 0, `unknown function "huor" (did you mean "hour"?); functions are abs, ceil, clip, coalesce, contains, date, `},
		{"foo(1)", 0, `unknown function "foo"; functions are abs, `},
		{"t1 < s", 3, "cannot compare timestamp with string (only a string literal is read as a timestamp"},
		{"s == 1", 2, "cannot compare string with int"},
		{"b < true", 2, "cannot compare bool with bool using < (bools only support == and !=)"},
		{"t2 - t1 > 5", 8, "cannot compare duration with int (convert the duration"},
		{"1 < i < 3", 6, "cannot compare bool with int (comparisons do not chain"},
		{"s + 1", 2, "cannot apply + to string and int (convert with string(x) to concatenate)"},
		{"s - s", 2, "cannot apply - to string and string (strings only support +)"},
		{"t1 + t2", 3, "cannot apply + to timestamp and timestamp (subtract timestamps"},
		{"t1 + 3600", 3, `cannot apply + to timestamp and int (add a duration, such as duration("1h")`},
		{"b * 2", 2, "cannot apply * to bool and int (convert a bool with int(b))"},
		{"fare_amount && b", 12, "operator && needs bool operands, got float and bool"},
		{"!fare_amount > 3", 0, "operator ! needs a bool operand, got float"},
		{"-s", 0, "cannot negate string"},
		{"fare_amount == null", 12, "comparison with null is always null: use is_null(x)"},
		{"null != i", 5, "use !is_null(x)"},
		{"t1 < 'yesterday'", 5, `cannot read "yesterday" as a timestamp`},
		{"timestamp('2016-13-01')", 10, `cannot read "2016-13-01" as a timestamp`},
		{"t2 - t1 < '5 minutes'", 10, `cannot read "5 minutes" as a duration`},
		{"hour(fare_amount)", 5, "hour: argument 1 must be timestamp, got float"},
		{"hour(s)", 5, "hour: argument 1 must be timestamp, got string (convert with timestamp(s))"},
		{"minutes(t1)", 8, "minutes: argument 1 must be duration, got timestamp"},
		{"minutes(5)", 8, "minutes: argument 1 must be duration, got int (subtract two timestamps"},
		{"int(t1)", 4, "seconds since the epoch with seconds(t - timestamp(\"1970-01-01\"))"},
		{"hour(t1, t2)", 0, "hour takes 1 argument, got 2: hour(t timestamp) int"},
		{"pow(2)", 0, "pow takes 2 arguments, got 1"},
		{"min()", 0, "min takes at least 1 arguments, got 0"},
		{"round(1, 2, 3)", 0, "round takes 1 to 2 arguments, got 3"},
		{"coalesce(i, s)", 12, "coalesce: argument 2 is string, but the arguments before it are int"},
		{"if(i, 1, 2)", 3, "if: argument 1 must be bool, got int"},
		{"i in (1, s)", 9, "the list after in must hold constants"},
		{"i in (1, 'a')", 9, "cannot compare int with string in the list after in"},
		{"i in (1, null)", 9, "null in the list after in never matches"},
		{"i in ()", 5, "empty list after in"},
		{"i in 1", 5, "expected ( after in"},
		{"i not 1", 2, `unexpected "not" after an operand`},
		{"t2 - t1", 0, "the expression yields a duration, which no column can hold: wrap the duration in seconds(), minutes(), hours() or days()"},
		{"null", 0, "the expression is always null"},
		{"if(b, null, null)", 0, "the expression is always null"},

		// Syntax.
		{"", 0, "expr: 1:1: empty expression"},
		{"   ", 3, "empty expression"},
		{"'abc", 0, "unterminated string: missing closing '"},
		{`s == "abc`, 5, `unterminated string: missing closing "`},
		{`'a\qb'`, 2, `unknown escape \q`},
		{`'\u12'`, 1, `escape \u needs 4 hex digits`},
		{"`trip distance", 0, "unterminated quoted name"},
		{"``", 0, "empty quoted name"},
		{"fare_amount > 0 )", 16, "unexpected ) without matching ("},
		{"fare_amount > 0 fare_amount", 16, `unexpected "fare_amount" after the end of the expression`},
		{"fare_amount > 0 1", 16, `unexpected number 1 after the end of the expression`},
		{"(fare_amount > 0", 0, "unclosed (: missing )"},
		{"hour(t1", 4, "unclosed (: missing )"},
		{"hour(t1 t2)", 8, `unexpected "t2": expected , or )`},
		{"()", 1, "expected an expression inside ( )"},
		{"fare_amount >", 13, "unexpected end of input: expected an operand"},
		{"fare_amount > * 2", 14, `unexpected "*": expected an operand`},
		{"fare_amount = 1", 12, "unexpected = (use == to compare)"},
		{"b & b", 2, "unexpected & (use && or and)"},
		{"b | b", 2, "unexpected | (use || or or)"},
		{"i <> 1", 2, "use != for not equal"},
		{"+1", 0, "unexpected unary +"},
		{"1 + and", 4, `expected an operand, found "and"`},
		{"12abc", 0, `malformed number "12abc"`},
		{"1e", 0, `malformed number "1e": exponent has no digits`},
		{"99999999999999999999", 0, "integer 99999999999999999999 is out of range"},
		{"1e999", 0, "number 1e999 is out of range"},
		{"fare_amount > 0 # comment", 16, `unexpected character '#'`},
		{"größe > 1", 2, "write column names with other characters in backticks"},
		{"`s`(1)", 3, "function names are not quoted"},
		{strings.Repeat("(", 300) + "1" + strings.Repeat(")", 300), 200, "expression nests deeper than 200 levels"},
		{strings.Repeat("-", 300) + "1", 200, "expression nests deeper than 200 levels"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			p, err := Compile(tt.src, schema)
			if err == nil {
				t.Fatalf("compiled to %s, want an error", p.Type())
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not an *Error", err, err)
			}
			if e.Src != tt.src || e.Pos != tt.pos {
				t.Errorf("Pos = %d, want %d (%v)", e.Pos, tt.pos, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error\n\t%v\nwant it to contain\n\t%s", err, tt.want)
			}
		})
	}
}

func TestProgramAPI(t *testing.T) {
	t.Parallel()
	f := testFrame()
	p, err := Compile("minutes(t2 - t1) + f * f + `trip distance` + f", schemaOf(f))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(p.Columns(), ","), "f,t1,t2,trip distance"; got != want {
		t.Errorf("Columns() = %s, want %s", got, want)
	}
	p.Columns()[0] = "changed"
	if p.Columns()[0] != "f" {
		t.Error("Columns() exposes the program's slice")
	}
	if p.String() != "minutes(t2 - t1) + f * f + `trip distance` + f" {
		t.Errorf("String() = %q", p.String())
	}
	if _, err := p.Filter(f); err == nil || !strings.Contains(err.Error(), "is float, not bool") {
		t.Errorf("Filter of a float program: %v", err)
	}
	c, err := Compile("1 + 1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Columns()) != 0 {
		t.Errorf("constant reads %v", c.Columns())
	}
	for _, fr := range []*frame.Frame{nil, {}} {
		col, err := c.Eval(fr)
		if err != nil || col.Len() != 0 || col.Kind != frame.Int {
			t.Errorf("Eval(empty) = %v, %v", col, err)
		}
	}
}

func TestEvalSchemaErrors(t *testing.T) {
	t.Parallel()
	schema := map[string]frame.Kind{"x": F, "s": S}
	p, err := Compile("x > 1 && s == 'a'", schema)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    *frame.Frame
		want string
	}{
		{"missing", &frame.Frame{Cols: []*frame.Column{{Name: "s", Kind: S, Codes: []int32{0}, Dict: []string{"a"}}}}, `column "x" is missing`},
		{"kind", &frame.Frame{Cols: []*frame.Column{{Name: "x", Kind: I, Ints: []int64{1}}, {Name: "s", Kind: S, Codes: []int32{0}, Dict: []string{"a"}}}}, `column "x" is int, the expression was compiled for float`},
		{"length", &frame.Frame{Cols: []*frame.Column{{Name: "x", Kind: F, Floats: []float64{1}}, {Name: "s", Kind: S, Codes: []int32{0, 0}, Dict: []string{"a"}}}}, `column "s" has 2 rows, the frame has 1`},
		{"valid", &frame.Frame{Cols: []*frame.Column{{Name: "x", Kind: F, Floats: []float64{1}, Valid: []bool{}}, {Name: "s", Kind: S, Codes: []int32{0}, Dict: []string{"a"}}}}, `column "x" has 1 rows`},
		{"code", &frame.Frame{Cols: []*frame.Column{{Name: "x", Kind: F, Floats: []float64{1}}, {Name: "s", Kind: S, Codes: []int32{3}, Dict: []string{"a"}}}}, `column "s" row 0 has code 3 outside its dictionary of 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for name, run := range map[string]func(*frame.Frame) error{
				"Eval":   func(f *frame.Frame) error { _, err := p.Eval(f); return err },
				"Filter": func(f *frame.Frame) error { _, err := p.Filter(f); return err },
			} {
				err := run(tt.f)
				if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%s: %v, want ErrSchema and %q", name, err, tt.want)
				}
			}
		})
	}
	// An all-null string column may have an empty dictionary.
	f := &frame.Frame{Cols: []*frame.Column{
		{Name: "x", Kind: F, Floats: []float64{2, 2}},
		{Name: "s", Kind: S, Codes: []int32{0, 0}, Valid: []bool{false, false}},
	}}
	keep, err := p.Filter(f)
	if err != nil || keep[0] || keep[1] {
		t.Errorf("Filter over an empty dictionary = %v, %v", keep, err)
	}
	q, _ := Compile("lower(s) + 'x'", schema)
	col, err := q.Eval(f)
	if err != nil || col.NullCount() != 2 {
		t.Errorf("Eval over an empty dictionary = %v, %v", col, err)
	}
}

// nycFrame builds n rows of taxi-like data with some nulls and outliers.
func nycFrame(n int) *frame.Frame {
	fare := make([]float64, n)
	dist := make([]float64, n)
	fv := make([]bool, n)
	pickup := make([]int64, n)
	dropoff := make([]int64, n)
	pay := make([]int64, n)
	codes := make([]int32, n)
	base := date(2016, 1, 1, 0, 0, 0).UnixNano()
	x := uint64(42)
	rnd := func() uint64 { // xorshift: deterministic and cheap
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		return x
	}
	for i := range n {
		fare[i] = float64(int64(rnd()%120000)-2000) / 100
		dist[i] = float64(rnd()%50000) / 100
		fv[i] = rnd()%50 != 0
		if !fv[i] {
			fare[i] = 0
		}
		pickup[i] = base + int64(rnd()%(366*24*3600))*1e9
		dropoff[i] = pickup[i] + int64(rnd()%7200)*1e9
		pay[i] = int64(rnd() % 5)
		codes[i] = int32(rnd() % 5)
	}
	return &frame.Frame{Cols: []*frame.Column{
		{Name: "fare_amount", Kind: F, Floats: fare, Valid: fv},
		{Name: "trip_distance", Kind: F, Floats: dist},
		{Name: "tpep_pickup_datetime", Kind: T, Ints: pickup},
		{Name: "tpep_dropoff_datetime", Kind: T, Ints: dropoff},
		{Name: "payment_type", Kind: I, Ints: pay},
		{Name: "borough", Kind: S, Codes: codes, Dict: []string{"Manhattan", "Queens", "Bronx", "Brooklyn", "Staten Island"}},
	}}
}

const nycFilter = "fare_amount > 0 && fare_amount < 1000 && trip_distance > 0 && trip_distance < 400"

// TestChunks evaluates over several chunks, including a partial last one,
// and checks against plain Go loops.
func TestChunks(t *testing.T) {
	t.Parallel()
	n := 3*chunkSize + 17
	f := nycFrame(n)
	schema := schemaOf(f)
	fare, dist, fv := f.Cols[0].Floats, f.Cols[1].Floats, f.Cols[0].Valid
	pick, drop := f.Cols[2].Ints, f.Cols[3].Ints
	borough := f.Cols[5]

	p, err := Compile(nycFilter, schema)
	if err != nil {
		t.Fatal(err)
	}
	keep, err := p.Filter(f)
	if err != nil {
		t.Fatal(err)
	}
	col, err := p.Eval(f)
	if err != nil {
		t.Fatal(err)
	}
	kept := 0
	for i := range n {
		want := fv[i] && fare[i] > 0 && fare[i] < 1000 && dist[i] > 0 && dist[i] < 400
		// Three-valued: a null fare is null, unless a distance clause is false.
		wantNull := !fv[i] && dist[i] > 0 && dist[i] < 400
		if keep[i] != want {
			t.Fatalf("row %d: Filter = %v, want %v", i, keep[i], want)
		}
		if col.IsNull(i) != wantNull || !wantNull && col.Bools[i] != want {
			t.Fatalf("row %d: Eval = %v (null %v), want %v (null %v)", i, col.Bools[i], col.IsNull(i), want, wantNull)
		}
		if want {
			kept++
		}
	}
	if kept == 0 || kept == n {
		t.Fatalf("filter kept %d of %d rows; the data does not exercise it", kept, n)
	}

	derive := map[string]func(i int) any{
		"minutes(tpep_dropoff_datetime - tpep_pickup_datetime)": func(i int) any { return float64(drop[i]-pick[i]) / 60e9 },
		"hour(tpep_pickup_datetime)":                            func(i int) any { return int64(time.Unix(0, pick[i]).UTC().Hour()) },
		"day_of_week(tpep_pickup_datetime)":                     func(i int) any { return int64((time.Unix(0, pick[i]).UTC().Weekday() + 6) % 7) },
		"fare_amount / (trip_distance + 1)": func(i int) any {
			if !fv[i] {
				return nil
			}
			return fare[i] / (dist[i] + 1)
		},
		"borough + '/' + string(payment_type)": func(i int) any {
			return borough.Dict[borough.Codes[i]] + "/" + string(rune('0'+f.Cols[4].Ints[i]))
		},
		"if(payment_type == 1, borough, 'other')": func(i int) any {
			if f.Cols[4].Ints[i] == 1 {
				return borough.Dict[borough.Codes[i]]
			}
			return "other"
		},
		"coalesce(if(fare_amount > 50, null, borough), 'x')": func(i int) any {
			if fv[i] && fare[i] > 50 {
				return "x"
			}
			return borough.Dict[borough.Codes[i]]
		},
		"borough in ('Queens', 'Bronx') && payment_type in (1, 2)": func(i int) any {
			b := borough.Dict[borough.Codes[i]]
			pt := f.Cols[4].Ints[i]
			return (b == "Queens" || b == "Bronx") && (pt == 1 || pt == 2)
		},
	}
	for src, want := range derive {
		p, err := Compile(src, schema)
		if err != nil {
			t.Fatal(err)
		}
		col, err := p.Eval(f)
		if err != nil {
			t.Fatal(err)
		}
		got := values(col)
		for i := range n {
			if !same(got[i], want(i)) {
				t.Fatalf("%s: row %d = %v, want %v", src, i, got[i], want(i))
			}
		}
		checkZeroNulls(t, col)
	}
}

// TestDictionary checks that string operations use dictionary values, not
// codes, and that work per value is done once per dictionary entry.
func TestDictionary(t *testing.T) {
	t.Parallel()
	n := 5 * chunkSize
	a := &frame.Column{Name: "a", Kind: S, Dict: []string{"b", "a", "c", "unused"}, Codes: make([]int32, n)}
	b := &frame.Column{Name: "b", Kind: S, Dict: []string{"c", "b", "a"}, Codes: make([]int32, n)}
	dup := &frame.Column{Name: "dup", Kind: S, Dict: []string{"A", "a", "B"}, Codes: make([]int32, n)}
	for i := range n {
		a.Codes[i] = int32(i % 3)
		b.Codes[i] = int32((i / 3) % 3)
		dup.Codes[i] = int32(i % 3)
	}
	// Dictionaries larger than a chunk, in an order unlike the strings'.
	size := 3 * chunkSize
	big := &frame.Column{Name: "big", Kind: S, Dict: make([]string, size), Codes: make([]int32, n)}
	big2 := &frame.Column{Name: "big2", Kind: S, Dict: make([]string, size), Codes: make([]int32, n)}
	num := &frame.Column{Name: "num", Kind: I, Ints: make([]int64, n)}
	for k := range size {
		big.Dict[k] = strconv.Itoa(size - 1 - k)
		big2.Dict[k] = strconv.Itoa((k * 7) % size)
	}
	for i := range n {
		big.Codes[i] = int32((i * 7919) % size)
		big2.Codes[i] = int32((i*104729 + 3) % size)
		num.Ints[i] = int64(size - 1 - (i*7919)%size)
		if i%3 == 0 {
			num.Ints[i]++
		}
	}
	f := &frame.Frame{Cols: []*frame.Column{a, b, dup, big, big2, num}}
	schema := schemaOf(f)
	str := func(c *frame.Column, i int) string { return c.Dict[c.Codes[i]] }
	checks := map[string]func(i int) bool{
		"big < big2":           func(i int) bool { return str(big, i) < str(big2, i) },
		"big2 == big":          func(i int) bool { return str(big, i) == str(big2, i) },
		"string(num) == big":   func(i int) bool { return strconv.Itoa(int(num.Ints[i])) == str(big, i) },
		"string(num) <= big2":  func(i int) bool { return strconv.Itoa(int(num.Ints[i])) <= str(big2, i) },
		"coalesce(big, a) > a": func(i int) bool { return str(big, i) > str(a, i) },
		"a < 'b'":              func(i int) bool { return str(a, i) < "b" },
		"a == b":               func(i int) bool { return str(a, i) == str(b, i) },
		"a < b":                func(i int) bool { return str(a, i) < str(b, i) },
		"b >= a":               func(i int) bool { return str(b, i) >= str(a, i) },
		"lower(dup) == a":      func(i int) bool { return strings.ToLower(str(dup, i)) == str(a, i) },
		"a in ('a', 'c')":      func(i int) bool { return str(a, i) == "a" || str(a, i) == "c" },
	}
	for src, want := range checks {
		p, err := Compile(src, schema)
		if err != nil {
			t.Fatal(err)
		}
		keep, err := p.Filter(f)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if keep[i] != want(i) {
				t.Fatalf("%s: row %d = %v, want %v", src, i, keep[i], want(i))
			}
		}
	}

	// lower() maps "A" and "a" to one value: the result has no duplicates.
	p, _ := Compile("lower(dup)", schema)
	col, err := p.Eval(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(col.Dict) != 2 || str(col, 0) != "a" || str(col, 1) != "a" || str(col, 2) != "b" {
		t.Errorf("lower(dup) = dict %q codes %v", col.Dict, col.Codes[:3])
	}
	// A column copied as is keeps its dictionary.
	p, _ = Compile("a", schema)
	col, _ = p.Eval(f)
	if len(col.Dict) != 4 || &col.Dict[0] != &a.Dict[0] {
		t.Errorf("a copied with dict %q", col.Dict)
	}

	// A value function runs once per dictionary entry, not per row.
	calls := 0
	nd := dictMap(tBool, colNode("a", tString), func(s string) (bool, bool) { calls++; return s == "a", true })
	prog := &Program{root: nd, typ: tBool}
	if _, err := prog.Filter(f); err != nil {
		t.Fatal(err)
	}
	if calls != len(a.Dict) {
		t.Errorf("comparison ran %d times over %d rows, want once per dictionary entry (%d)", calls, n, len(a.Dict))
	}
}

// TestTimeParts checks the integer calendar arithmetic against package time
// over four centuries, before and after the epoch.
func TestTimeParts(t *testing.T) {
	t.Parallel()
	x := uint64(7)
	for range 100000 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		ns := int64(x%(1<<63)) - 1<<62 // about 1824 to 2116
		tm := time.Unix(0, ns).UTC()
		days := floorDiv(ns, nsDay)
		y, m, d := civil(days)
		_, week := tm.ISOWeek()
		got := []int64{y, m, d, weekday(days), days - daysFromCivil(y, 1, 1) + 1, isoWeek(days), floorMod(ns, nsDay) / nsHour}
		want := []int64{int64(tm.Year()), int64(tm.Month()), int64(tm.Day()), int64((tm.Weekday() + 6) % 7), int64(tm.YearDay()), int64(week), int64(tm.Hour())}
		for k := range got {
			if got[k] != want[k] {
				t.Fatalf("%s: part %d = %d, want %d", tm, k, got[k], want[k])
			}
		}
		if daysFromCivil(y, m, d) != days {
			t.Fatalf("%s: daysFromCivil = %d, want %d", tm, daysFromCivil(y, m, d), days)
		}
	}
}

func TestSubstr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s        string
		start, n int64
		want     string
	}{
		{"hello", 1, 3, "ell"},
		{"hello", -2, 5, "lo"},
		{"hello", -10, 2, "he"},
		{"hello", 5, 1, ""},
		{"hello", 2, -1, ""},
		{"hello", math.MaxInt64, math.MaxInt64, ""},
		{"hello", 1, math.MaxInt64, "ello"},
		{"hello", math.MinInt64, math.MaxInt64, "hello"},
		{"héllo", 1, 2, "él"},
		{"héllo", -1, math.MaxInt64, "o"},
		{"", 0, 1, ""},
	}
	for _, tt := range tests {
		if got := substr(tt.s, tt.start, tt.n); got != tt.want {
			t.Errorf("substr(%q, %d, %d) = %q, want %q", tt.s, tt.start, tt.n, got, tt.want)
		}
	}
}

func TestConcurrentEval(t *testing.T) {
	t.Parallel()
	f := nycFrame(2*chunkSize + 5)
	p, err := Compile("if(borough == 'Queens', minutes(tpep_dropoff_datetime - tpep_pickup_datetime), fare_amount)", schemaOf(f))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := p.Eval(f)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			got, err := p.Eval(f)
			if err != nil {
				t.Error(err)
				return
			}
			for i := range got.Floats {
				if got.Floats[i] != want.Floats[i] {
					t.Errorf("row %d differs between concurrent runs", i)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestDocFunctions keeps the function list of doc.go in step with the table.
func TestDocFunctions(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range functionNames() {
		if sig := functions[name].sig; !strings.Contains(string(doc), "//\t"+sig) {
			t.Errorf("doc.go does not list %s", sig)
		}
	}
}
