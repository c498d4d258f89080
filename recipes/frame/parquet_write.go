package frame

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/zstd"
	"github.com/parquet-go/parquet-go/encoding"
)

// DefaultRowGroupRows is the number of rows per row group a ParquetWriter
// writes unless WriterOptions says otherwise.
const DefaultRowGroupRows = 64 * 1024

// Compression is the codec a ParquetWriter compresses pages with.
type Compression uint8

// The compression codecs. The zero value means Zstd.
const (
	Zstd Compression = iota
	Snappy
	Gzip
	Uncompressed
)

func (c Compression) codec() (compress.Codec, error) {
	switch c {
	case Zstd:
		return &zstdCodec, nil
	case Snappy:
		return &parquet.Snappy, nil
	case Gzip:
		return &parquet.Gzip, nil
	case Uncompressed:
		return &parquet.Uncompressed, nil
	}
	return nil, fmt.Errorf("frame: unknown compression %d", c)
}

// zstdCodec compresses at zstd's fastest level, as pyarrow does by default.
var zstdCodec = zstd.Codec{Level: zstd.SpeedFastest}

// WriterOptions configures a ParquetWriter. The zero value is the default.
type WriterOptions struct {
	// RowGroupRows is the number of rows per row group; 0 means DefaultRowGroupRows.
	RowGroupRows int
	// Compression is the page codec; the zero value is Zstd.
	Compression Compression
}

// ParquetWriter writes frames of one schema to a parquet file, a row group
// every RowGroupRows rows. Every column is written as optional, in schema
// order: Float as DOUBLE, Int as INT64, Bool as BOOLEAN, String as a
// dictionary-encoded UTF8 BYTE_ARRAY, and Time as INT64
// TIMESTAMP(isAdjustedToUTC=true, NANOS), which pyarrow and Spark read back.
// A ParquetWriter is not safe for concurrent use.
type ParquetWriter struct {
	w        *parquet.Writer
	schema   []Field
	groups   int
	buffered int
	vals     []parquet.Value
	closed   bool
	err      error
}

// NewParquetWriter returns a writer of frames with the given schema to w.
// Close must be called to write the footer.
func NewParquetWriter(w io.Writer, schema []Field, opts WriterOptions) (*ParquetWriter, error) {
	if opts.RowGroupRows <= 0 {
		opts.RowGroupRows = DefaultRowGroupRows
	}
	codec, err := opts.Compression.codec()
	if err != nil {
		return nil, err
	}
	root, err := newOrderedGroup(schema)
	if err != nil {
		return nil, fmt.Errorf("frame: write parquet: %w", err)
	}
	pw := parquet.NewWriter(w,
		parquet.NewSchema("schema", root),
		parquet.Compression(codec),
		parquet.MaxRowsPerRowGroup(int64(opts.RowGroupRows)),
		parquet.CreatedBy("sous", "", ""),
	)
	return &ParquetWriter{
		w:      pw,
		schema: append([]Field(nil), schema...),
		groups: opts.RowGroupRows,
		vals:   make([]parquet.Value, 0, 4096),
	}, nil
}

// WriteParquetFile writes f to path atomically: to a temporary file in the
// same directory, renamed over path once complete.
func WriteParquetFile(path string, f *Frame) error {
	return WriteParquetFileWith(path, f, WriterOptions{})
}

// WriteParquetFileWith is WriteParquetFile with writer options (the row
// group size, the codec).
func WriteParquetFileWith(path string, f *Frame, opts WriterOptions) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("frame: write parquet %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w, err := NewParquetWriter(tmp, f.Schema(), opts)
	if err != nil {
		return fmt.Errorf("frame: write parquet %s: %w", path, err)
	}
	if err := w.Write(f); err != nil {
		return fmt.Errorf("frame: write parquet %s: %w", path, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("frame: write parquet %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("frame: write parquet %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("frame: write parquet %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("frame: write parquet %s: %w", path, err)
	}
	return nil
}

// Write appends the rows of f, whose schema must equal the writer's.
func (w *ParquetWriter) Write(f *Frame) error {
	if w.closed {
		return errors.New("frame: write parquet: writer is closed")
	}
	if w.err != nil {
		return w.err
	}
	if err := sameSchema(w.schema, f.Schema()); err != nil {
		return fmt.Errorf("frame: write parquet: %w", err)
	}
	if err := f.Validate(); err != nil {
		return fmt.Errorf("frame: write parquet: %w", err)
	}
	if err := checkCodes(f); err != nil {
		return fmt.Errorf("frame: write parquet: %w", err)
	}
	n := f.Len()
	for start := 0; start < n; {
		end := min(n, start+w.groups-w.buffered)
		if err := w.writeRows(f, start, end); err != nil {
			w.err = fmt.Errorf("frame: write parquet: %w", err)
			return w.err
		}
		w.buffered += end - start
		start = end
		if w.buffered == w.groups {
			if err := w.w.Flush(); err != nil {
				w.err = fmt.Errorf("frame: write parquet: %w", err)
				return w.err
			}
			w.buffered = 0
		}
	}
	return nil
}

// writeRows hands rows [start, end) of f to the column writers in batches.
func (w *ParquetWriter) writeRows(f *Frame, start, end int) error {
	cws := w.w.ColumnWriters()
	const batch = 4096
	for k, c := range f.Cols {
		for i := start; i < end; i += batch {
			j := min(end, i+batch)
			w.vals = appendValues(w.vals[:0], c, k, i, j)
			if _, err := cws[k].WriteRowValues(w.vals); err != nil {
				return fmt.Errorf("column %q: %w", c.Name, err)
			}
		}
	}
	clear(w.vals[:cap(w.vals)]) // drop references to string data
	return nil
}

// appendValues converts rows [i, j) of c to parquet values of column k.
func appendValues(vals []parquet.Value, c *Column, k, i, j int) []parquet.Value {
	null := parquet.NullValue().Level(0, 0, k)
	valid := c.Valid
	switch c.Kind {
	case Float:
		for r, x := range c.Floats[i:j] {
			if valid != nil && !valid[i+r] {
				vals = append(vals, null)
			} else {
				vals = append(vals, parquet.DoubleValue(x).Level(0, 1, k))
			}
		}
	case Int, Time:
		for r, x := range c.Ints[i:j] {
			if valid != nil && !valid[i+r] {
				vals = append(vals, null)
			} else {
				vals = append(vals, parquet.Int64Value(x).Level(0, 1, k))
			}
		}
	case Bool:
		for r, x := range c.Bools[i:j] {
			if valid != nil && !valid[i+r] {
				vals = append(vals, null)
			} else {
				vals = append(vals, parquet.BooleanValue(x).Level(0, 1, k))
			}
		}
	case String:
		for r, code := range c.Codes[i:j] {
			if valid != nil && !valid[i+r] {
				vals = append(vals, null)
				continue
			}
			s := c.Dict[code]
			// The writer copies the bytes into its own buffers.
			b := unsafe.Slice(unsafe.StringData(s), len(s))
			vals = append(vals, parquet.ByteArrayValue(b).Level(0, 1, k))
		}
	}
	return vals
}

// Close flushes the last row group and writes the footer. It does not close
// the underlying io.Writer. Calling Close twice is safe.
func (w *ParquetWriter) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	if err := w.w.Close(); err != nil {
		w.err = fmt.Errorf("frame: write parquet: %w", err)
	}
	return w.err
}

// orderedGroup is a parquet group node whose fields keep the order given,
// unlike parquet.Group, which sorts them by name.
type orderedGroup struct {
	fields []parquet.Field
}

type namedNode struct {
	parquet.Node
	name string
}

func (n *namedNode) Name() string { return n.name }

func (n *namedNode) Value(base reflect.Value) reflect.Value {
	if base.Kind() == reflect.Map {
		return base.MapIndex(reflect.ValueOf(n.name))
	}
	return reflect.Value{}
}

func newOrderedGroup(schema []Field) (*orderedGroup, error) {
	g := &orderedGroup{fields: make([]parquet.Field, len(schema))}
	seen := make(map[string]bool, len(schema))
	for i, f := range schema {
		if seen[f.Name] {
			return nil, fmt.Errorf("duplicate column %q", f.Name)
		}
		seen[f.Name] = true
		var node parquet.Node
		switch f.Kind {
		case Float:
			node = parquet.Leaf(parquet.DoubleType)
		case Int:
			node = parquet.Int(64)
		case Bool:
			node = parquet.Leaf(parquet.BooleanType)
		case String:
			node = parquet.Encoded(parquet.String(), &parquet.RLEDictionary)
		case Time:
			node = parquet.Timestamp(parquet.Nanosecond)
		default:
			return nil, fmt.Errorf("column %q has unknown kind %s", f.Name, f.Kind)
		}
		g.fields[i] = &namedNode{Node: parquet.Optional(node), name: f.Name}
	}
	return g, nil
}

func (g *orderedGroup) ID() int                     { return 0 }
func (g *orderedGroup) String() string              { return "frame schema" }
func (g *orderedGroup) Type() parquet.Type          { return parquet.Group{}.Type() }
func (g *orderedGroup) Optional() bool              { return false }
func (g *orderedGroup) Repeated() bool              { return false }
func (g *orderedGroup) Required() bool              { return true }
func (g *orderedGroup) Leaf() bool                  { return false }
func (g *orderedGroup) Fields() []parquet.Field     { return g.fields }
func (g *orderedGroup) Encoding() encoding.Encoding { return nil }
func (g *orderedGroup) Compression() compress.Codec { return nil }
func (g *orderedGroup) GoType() reflect.Type        { return reflect.TypeFor[map[string]any]() }
