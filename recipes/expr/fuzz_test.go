package expr

import (
	"errors"
	"testing"

	"github.com/sous-ml/sous/recipes/frame"
)

var fuzzSeeds = []string{
	nycFilter,
	"minutes(t2 - t1)",
	"hour(t1) + day_of_week(t1) * 24",
	"f / (`trip distance` + 1)",
	"1 + 2 * 3",
	"s in ('Queens', 'Bronx') || i not in (1, 2)",
	"if(b, s, s2) + '-' + string(i)",
	"coalesce(f, i, 0) > round(f, 1)",
	"substr(lower(s), i, j) == 'ue'",
	"t1 < '2016-01-02' && t2 - t1 > duration('1h')",
	"min(t1, t2) == date(t1)",
	"clip(f, null, 5) * -i % 3",
	"!is_null(ts) and timestamp(ts) > t1",
	"int(ts) + int(f) + float(s) + length(s)",
	"contains(s, s2) or starts_with(s, 'Q') or ends_with(s2, s)",
	"pow(f, i) + sqrt(f) + log(f) + log1p(f) + exp(f) + abs(i) + floor(f) + ceil(f)",
	"(t2 - t1) / (t2 - t1) + seconds((t2 - t1) % duration('7m'))",
	"'\\u00e9\\x41\\n' == s",
	"((((f))))",
	"1e308 * 1e308 > 0",
	"i % 0 + i / 0",
	"-9223372036854775807 - 2",
	"max(i, j) * 9223372036854775807",
	"string(t1 + (t2 - t1))",
}

// FuzzCompile checks that no source makes Compile panic, and that whatever
// compiles evaluates without panicking to a column of the frame's length,
// with the same values whichever chunk a row falls in.
func FuzzCompile(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	small := testFrame()
	// Tile the test frame over more than one chunk.
	idx := make([]int, chunkSize+3)
	for i := range idx {
		idx[i] = (i * 7) % small.Len()
	}
	frames := []*frame.Frame{small, small.Take(idx), small.Take(nil)}
	schema := schemaOf(small)
	f.Fuzz(func(t *testing.T, src string) {
		p, err := Compile(src, schema)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Compile(%q) error %T is not an *Error: %v", src, err, err)
			}
			if e.Pos < 0 || e.Pos > len(src) {
				t.Fatalf("Compile(%q): Pos %d out of range", src, e.Pos)
			}
			_ = err.Error()
			return
		}
		var rows []any // of the small frame
		for k, fr := range frames {
			col, err := p.Eval(fr)
			if err != nil {
				t.Fatalf("Eval(%q): %v", src, err)
			}
			if col.Len() != fr.Len() || col.Kind != p.Type() {
				t.Fatalf("Eval(%q) = %d rows of %s, want %d of %s", src, col.Len(), col.Kind, fr.Len(), p.Type())
			}
			if err := (&frame.Frame{Cols: []*frame.Column{col}}).Validate(); err != nil {
				t.Fatalf("Eval(%q): %v", src, err)
			}
			if col.Kind == frame.String {
				for i, k := range col.Codes {
					if !col.IsNull(i) && (k < 0 || int(k) >= len(col.Dict)) {
						t.Fatalf("Eval(%q): row %d code %d outside dictionary %q", src, i, k, col.Dict)
					}
				}
			}
			// The tiled frame, evaluated in two chunks, repeats the rows
			// of the small one.
			switch k {
			case 0:
				rows = values(col)
			case 1:
				for i, v := range values(col) {
					if !same(v, rows[idx[i]]) {
						t.Fatalf("Eval(%q): tiled row %d = %v, small row %d = %v", src, i, v, idx[i], rows[idx[i]])
					}
				}
			}
			if p.Type() == frame.Bool {
				keep, err := p.Filter(fr)
				if err != nil || len(keep) != fr.Len() {
					t.Fatalf("Filter(%q) = %d rows, %v", src, len(keep), err)
				}
			}
		}
	})
}
