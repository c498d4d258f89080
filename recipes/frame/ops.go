package frame

import (
	"fmt"
	"strings"
	"time"
)

// Field names and types one column of a schema.
type Field struct {
	Name string
	Kind Kind
}

func (f Field) String() string { return f.Name + ":" + f.Kind.String() }

// Schema returns the name and kind of every column, in order.
func (f *Frame) Schema() []Field {
	out := make([]Field, len(f.Cols))
	for i, c := range f.Cols {
		out[i] = Field{Name: c.Name, Kind: c.Kind}
	}
	return out
}

// NewFloatColumn returns a Float column that owns values; it has no nulls.
func NewFloatColumn(name string, values []float64) *Column {
	if values == nil {
		values = []float64{}
	}
	return &Column{Name: name, Kind: Float, Floats: values}
}

// NewIntColumn returns an Int column that owns values; it has no nulls.
func NewIntColumn(name string, values []int64) *Column {
	if values == nil {
		values = []int64{}
	}
	return &Column{Name: name, Kind: Int, Ints: values}
}

// NewBoolColumn returns a Bool column that owns values; it has no nulls.
func NewBoolColumn(name string, values []bool) *Column {
	if values == nil {
		values = []bool{}
	}
	return &Column{Name: name, Kind: Bool, Bools: values}
}

// NewTimeColumn returns a Time column holding values as nanoseconds since the
// Unix epoch. A zero time.Time is stored as a null.
func NewTimeColumn(name string, values []time.Time) *Column {
	c := &Column{Name: name, Kind: Time, Ints: make([]int64, len(values))}
	for i, t := range values {
		if t.IsZero() {
			if c.Valid == nil {
				c.Valid = allValid(len(values))
			}
			c.Valid[i] = false
			continue
		}
		c.Ints[i] = t.UnixNano()
	}
	return c
}

// NewStringColumn returns a String column; the dictionary holds the distinct
// values in order of first appearance. It has no nulls.
func NewStringColumn(name string, values []string) *Column {
	c := &Column{Name: name, Kind: String, Codes: make([]int32, len(values)), Dict: []string{}}
	index := make(map[string]int32)
	for i, s := range values {
		code, ok := index[s]
		if !ok {
			code = int32(len(c.Dict))
			index[s] = code
			c.Dict = append(c.Dict, s)
		}
		c.Codes[i] = code
	}
	return c
}

// Value returns row i as a Go value: nil for a null, float64, int64, bool,
// string or time.Time (UTC) by kind. An out-of-range dictionary code gives
// nil rather than a panic.
func (c *Column) Value(i int) any {
	if c.IsNull(i) {
		return nil
	}
	switch c.Kind {
	case Float:
		return c.Floats[i]
	case Int:
		return c.Ints[i]
	case Bool:
		return c.Bools[i]
	case String:
		code := c.Codes[i]
		if code < 0 || int(code) >= len(c.Dict) {
			return nil
		}
		return c.Dict[code]
	case Time:
		return time.Unix(0, c.Ints[i]).UTC()
	}
	return nil
}

// Slice returns rows [i, j) of the column. The result shares memory with c;
// its slices are capped so that appending to them never writes into c.
func (c *Column) Slice(i, j int) *Column {
	out := &Column{Name: c.Name, Kind: c.Kind, Dict: c.Dict}
	switch c.Kind {
	case Float:
		out.Floats = c.Floats[i:j:j]
	case Int, Time:
		out.Ints = c.Ints[i:j:j]
	case Bool:
		out.Bools = c.Bools[i:j:j]
	case String:
		out.Codes = c.Codes[i:j:j]
	}
	if c.Valid != nil {
		out.Valid = c.Valid[i:j:j]
	}
	return out
}

// Slice returns rows [i, j) of the frame, sharing memory with f.
func (f *Frame) Slice(i, j int) *Frame {
	out := &Frame{Cols: make([]*Column, len(f.Cols))}
	for k, c := range f.Cols {
		out.Cols[k] = c.Slice(i, j)
	}
	return out
}

// Head returns the first n rows (all of them if the frame is shorter),
// sharing memory with f.
func (f *Frame) Head(n int) *Frame {
	n = max(0, min(n, f.Len()))
	return f.Slice(0, n)
}

// Select returns a frame holding the named columns in the order given. The
// columns are shared with f, not copied.
func (f *Frame) Select(names ...string) (*Frame, error) {
	out := &Frame{Cols: make([]*Column, 0, len(names))}
	for _, name := range names {
		c, ok := f.Col(name)
		if !ok {
			return nil, fmt.Errorf("frame: select: no column %q (have %s)", name, quoteNames(f.Names()))
		}
		out.Cols = append(out.Cols, c)
	}
	return out, nil
}

func quoteNames(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// Concat appends frames with identical schemas (same names and kinds in the
// same order) into a new frame. String dictionaries are merged and codes
// remapped; the inputs are not modified. Concat of no frames is an empty frame.
func Concat(frames ...*Frame) (*Frame, error) {
	if len(frames) == 0 {
		return &Frame{}, nil
	}
	schema := frames[0].Schema()
	total := 0
	for i, f := range frames {
		if err := sameSchema(schema, f.Schema()); err != nil {
			return nil, fmt.Errorf("frame: concat frame %d: %w", i, err)
		}
		if err := f.Validate(); err != nil {
			return nil, fmt.Errorf("frame: concat frame %d: %w", i, err)
		}
		total += f.Len()
	}
	out := &Frame{Cols: make([]*Column, len(schema))}
	for k, field := range schema {
		parts := make([]*Column, len(frames))
		for i, f := range frames {
			parts[i] = f.Cols[k]
		}
		out.Cols[k] = concatColumns(field, parts, total)
	}
	return out, nil
}

func sameSchema(want, got []Field) error {
	if len(want) != len(got) {
		return fmt.Errorf("schema mismatch: have %d columns %v, want %d %v", len(got), got, len(want), want)
	}
	for i := range want {
		if want[i] != got[i] {
			return fmt.Errorf("schema mismatch: column %d is %s, want %s", i, got[i], want[i])
		}
	}
	return nil
}

func concatColumns(field Field, parts []*Column, total int) *Column {
	out := &Column{Name: field.Name, Kind: field.Kind}
	hasNulls := false
	for _, p := range parts {
		if p.Valid != nil {
			hasNulls = true
		}
	}
	if hasNulls {
		out.Valid = make([]bool, 0, total)
		for _, p := range parts {
			if p.Valid != nil {
				out.Valid = append(out.Valid, p.Valid...)
			} else {
				out.Valid = append(out.Valid, allValid(p.Len())...)
			}
		}
	}
	switch field.Kind {
	case Float:
		out.Floats = make([]float64, 0, total)
		for _, p := range parts {
			out.Floats = append(out.Floats, p.Floats...)
		}
	case Int, Time:
		out.Ints = make([]int64, 0, total)
		for _, p := range parts {
			out.Ints = append(out.Ints, p.Ints...)
		}
	case Bool:
		out.Bools = make([]bool, 0, total)
		for _, p := range parts {
			out.Bools = append(out.Bools, p.Bools...)
		}
	case String:
		out.Codes, out.Dict = mergeDicts(parts, total)
	}
	return out
}

// mergeDicts concatenates the codes of parts into one dictionary. When every
// part's dictionary is a prefix of the same backing array (row groups read by
// one ParquetReader, slices of one column) the codes are kept as they are.
func mergeDicts(parts []*Column, total int) ([]int32, []string) {
	codes := make([]int32, 0, total)
	var longest []string
	for _, p := range parts {
		if len(p.Dict) > len(longest) {
			longest = p.Dict
		}
	}
	shared := true
	for _, p := range parts {
		if len(p.Dict) > 0 && &p.Dict[0] != &longest[0] {
			shared = false
			break
		}
	}
	if shared {
		for _, p := range parts {
			codes = append(codes, p.Codes...)
		}
		return codes, longest
	}
	first := parts[0].Dict
	dict := make([]string, 0, len(first))
	index := make(map[string]int32, len(first))
	var remap []int32
	for _, p := range parts {
		remap = remap[:0]
		for _, s := range p.Dict {
			code, ok := index[s]
			if !ok {
				code = int32(len(dict))
				index[s] = code
				dict = append(dict, s)
			}
			remap = append(remap, code)
		}
		for i, c := range p.Codes {
			if p.Valid != nil && !p.Valid[i] {
				codes = append(codes, 0)
				continue
			}
			codes = append(codes, remap[c])
		}
	}
	return codes, dict
}

// checkCodes reports a non-null String code outside its dictionary, which
// would otherwise make writers index out of range.
func checkCodes(f *Frame) error {
	for _, c := range f.Cols {
		if c.Kind != String {
			continue
		}
		n := uint32(len(c.Dict))
		for i, code := range c.Codes {
			if uint32(code) >= n && !c.IsNull(i) {
				return fmt.Errorf("frame: column %q row %d: code %d outside dictionary of %d", c.Name, i, code, n)
			}
		}
	}
	return nil
}

func allValid(n int) []bool {
	v := make([]bool, n)
	for i := range v {
		v[i] = true
	}
	return v
}
