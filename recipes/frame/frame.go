package frame

import (
	"fmt"
	"math"
	"time"
)

// Kind is the logical type of a column.
type Kind uint8

// The column kinds.
const (
	Float Kind = iota + 1
	Int
	Bool
	String
	Time
)

func (k Kind) String() string {
	switch k {
	case Float:
		return "float"
	case Int:
		return "int"
	case Bool:
		return "bool"
	case String:
		return "string"
	case Time:
		return "timestamp"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Numeric reports whether values of the kind convert to float64 without loss of meaning.
func (k Kind) Numeric() bool { return k == Float || k == Int || k == Bool }

// Column is one named, typed column. See the package doc for the layout.
type Column struct {
	Name   string
	Kind   Kind
	Floats []float64
	Ints   []int64
	Bools  []bool
	Codes  []int32
	Dict   []string
	Valid  []bool
}

// Len is the number of rows in the column.
func (c *Column) Len() int {
	switch c.Kind {
	case Float:
		return len(c.Floats)
	case Int, Time:
		return len(c.Ints)
	case Bool:
		return len(c.Bools)
	case String:
		return len(c.Codes)
	}
	return 0
}

// IsNull reports whether row i is null.
func (c *Column) IsNull(i int) bool { return c.Valid != nil && !c.Valid[i] }

// NullCount is the number of null rows.
func (c *Column) NullCount() int {
	if c.Valid == nil {
		return 0
	}
	n := 0
	for _, v := range c.Valid {
		if !v {
			n++
		}
	}
	return n
}

// Float returns row i as a float64: NaN for a null, 0/1 for a bool, the
// value for numbers, nanoseconds for a timestamp, and NaN for a string.
func (c *Column) Float(i int) float64 {
	if c.IsNull(i) {
		return math.NaN()
	}
	switch c.Kind {
	case Float:
		return c.Floats[i]
	case Int, Time:
		return float64(c.Ints[i])
	case Bool:
		if c.Bools[i] {
			return 1
		}
		return 0
	}
	return math.NaN()
}

// Str returns row i of a String column ("" for a null), or a formatted value for other kinds.
func (c *Column) Str(i int) string {
	if c.IsNull(i) {
		return ""
	}
	switch c.Kind {
	case String:
		return c.Dict[c.Codes[i]]
	case Float:
		return fmt.Sprint(c.Floats[i])
	case Int:
		return fmt.Sprint(c.Ints[i])
	case Bool:
		return fmt.Sprint(c.Bools[i])
	case Time:
		return time.Unix(0, c.Ints[i]).UTC().Format(time.RFC3339Nano)
	}
	return ""
}

// Take returns a new column holding rows idx, in that order.
func (c *Column) Take(idx []int) *Column {
	out := &Column{Name: c.Name, Kind: c.Kind, Dict: c.Dict}
	switch c.Kind {
	case Float:
		out.Floats = make([]float64, len(idx))
		for j, i := range idx {
			out.Floats[j] = c.Floats[i]
		}
	case Int, Time:
		out.Ints = make([]int64, len(idx))
		for j, i := range idx {
			out.Ints[j] = c.Ints[i]
		}
	case Bool:
		out.Bools = make([]bool, len(idx))
		for j, i := range idx {
			out.Bools[j] = c.Bools[i]
		}
	case String:
		out.Codes = make([]int32, len(idx))
		for j, i := range idx {
			out.Codes[j] = c.Codes[i]
		}
	}
	if c.Valid != nil {
		out.Valid = make([]bool, len(idx))
		for j, i := range idx {
			out.Valid[j] = c.Valid[i]
		}
	}
	return out
}

// Frame is a table of equally long columns.
type Frame struct {
	Cols []*Column
}

// Len is the number of rows.
func (f *Frame) Len() int {
	if f == nil || len(f.Cols) == 0 {
		return 0
	}
	return f.Cols[0].Len()
}

// Col returns the column with the given name.
func (f *Frame) Col(name string) (*Column, bool) {
	for _, c := range f.Cols {
		if c.Name == name {
			return c, true
		}
	}
	return nil, false
}

// Names returns the column names in order.
func (f *Frame) Names() []string {
	out := make([]string, len(f.Cols))
	for i, c := range f.Cols {
		out[i] = c.Name
	}
	return out
}

// Take returns a new frame holding rows idx of f, in that order.
func (f *Frame) Take(idx []int) *Frame {
	out := &Frame{Cols: make([]*Column, len(f.Cols))}
	for i, c := range f.Cols {
		out.Cols[i] = c.Take(idx)
	}
	return out
}

// Filter returns the rows where keep is true.
func (f *Frame) Filter(keep []bool) *Frame {
	idx := make([]int, 0, len(keep))
	for i, k := range keep {
		if k {
			idx = append(idx, i)
		}
	}
	return f.Take(idx)
}

// Validate checks that all columns have the same length and consistent slices.
func (f *Frame) Validate() error {
	n := f.Len()
	seen := make(map[string]bool, len(f.Cols))
	for _, c := range f.Cols {
		if seen[c.Name] {
			return fmt.Errorf("frame: duplicate column %q", c.Name)
		}
		seen[c.Name] = true
		if c.Len() != n {
			return fmt.Errorf("frame: column %q has %d rows, want %d", c.Name, c.Len(), n)
		}
		if c.Valid != nil && len(c.Valid) != n {
			return fmt.Errorf("frame: column %q validity has %d rows, want %d", c.Name, len(c.Valid), n)
		}
	}
	return nil
}
