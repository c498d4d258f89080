package frame

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/parquet-go/parquet-go/format"
)

// maxCarriedDict is the dictionary size past which a ParquetReader stops
// sharing a String column's dictionary across row groups and starts afresh,
// so that a high-cardinality column cannot grow memory over the whole file.
const maxCarriedDict = 1 << 16

// julianUnixEpoch is the Julian day number of 1970-01-01, used by INT96.
const julianUnixEpoch = 2440588

const nsPerDay = 86400 * int64(1e9)

// ParquetReader reads a parquet file one row group at a time, so memory is
// bounded by the largest row group rather than by the file.
//
// Only flat schemas are supported: every top-level field must be a
// non-repeated primitive column. Types map to kinds as follows:
//
//	BOOLEAN                                  -> Bool
//	INT32, INT64 (any INT/UINT logical type) -> Int (UINT64 above MaxInt64 is an error)
//	FLOAT, DOUBLE, FLOAT16, DECIMAL          -> Float
//	BYTE_ARRAY (STRING, ENUM, JSON or none)  -> String, dictionary encoded or not
//	FIXED_LEN_BYTE_ARRAY (UUID or none)      -> String (UUIDs formatted 8-4-4-4-12)
//	TIMESTAMP (MILLIS, MICROS, NANOS), INT96 -> Time in ns; naive (not UTC-adjusted) wall times are taken as UTC
//	DATE                                     -> Time at midnight UTC
//	TIME                                     -> Int, nanoseconds since midnight
//
// Optional columns carry nulls in Column.Valid. A ParquetReader is not safe
// for concurrent use.
type ParquetReader struct {
	name    string
	file    *parquet.File
	fields  []Field
	cols    []parquetColumn
	next    int
	closer  io.Closer
	generic bool // decode every page through parquet.ValueReader (tests)
}

// parquetColumn says how to turn one leaf column into a frame column.
type parquetColumn struct {
	field    Field
	leaf     int  // index of the column chunk in each row group
	maxDef   byte // 1 for an optional column, else 0
	physical parquet.Kind
	unsigned bool  // INT32/INT64 hold unsigned values
	mult     int64 // INT32/INT64 value times mult gives the frame value (0 means 1)
	decimal  bool
	scale    int32 // decimal scale
	uuid     bool
	float16  bool
	dict     *stringDict // String columns: dictionary carried across row groups
}

// OpenParquetFile opens the parquet file at path. Close the reader to close the file.
func OpenParquetFile(path string) (*ParquetReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("frame: read parquet %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("frame: read parquet %s: %w", path, err)
	}
	r, err := OpenParquet(f, st.Size(), path)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// OpenParquet reads the footer of the parquet data in r (size bytes long)
// and checks its schema. name is used in error messages only.
func OpenParquet(r io.ReaderAt, size int64, name string) (pr *ParquetReader, err error) {
	defer func() {
		if p := recover(); p != nil {
			pr, err = nil, fmt.Errorf("frame: read parquet %s: corrupt file: %v", name, p)
		}
	}()
	file, err := parquet.OpenFile(r, size,
		parquet.SkipPageIndex(true),
		parquet.SkipBloomFilters(true),
		parquet.ReadBufferSize(256<<10),
	)
	if err != nil {
		return nil, fmt.Errorf("frame: read parquet %s: %w", name, err)
	}
	pr = &ParquetReader{name: name, file: file}
	if err := pr.loadSchema(); err != nil {
		return nil, fmt.Errorf("frame: read parquet %s: %w", name, err)
	}
	for i, rg := range file.RowGroups() {
		if n := len(rg.ColumnChunks()); n != len(pr.cols) {
			return nil, fmt.Errorf("frame: read parquet %s: row group %d has %d columns, want %d", name, i, n, len(pr.cols))
		}
	}
	return pr, nil
}

// ReadParquetFile reads a whole parquet file into one frame.
func ReadParquetFile(path string) (*Frame, error) {
	r, err := OpenParquetFile(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.ReadAll()
}

// Close closes the file opened by OpenParquetFile; it does nothing for a
// reader from OpenParquet.
func (r *ParquetReader) Close() error {
	if r.closer == nil {
		return nil
	}
	c := r.closer
	r.closer = nil
	return c.Close()
}

// Schema returns the file's columns with the kinds they read as.
func (r *ParquetReader) Schema() []Field { return append([]Field(nil), r.fields...) }

// NumRows is the number of rows in the file.
func (r *ParquetReader) NumRows() int64 { return r.file.NumRows() }

// NumRowGroups is the number of row groups in the file.
func (r *ParquetReader) NumRowGroups() int { return len(r.file.RowGroups()) }

// RowGroupRows is the number of rows in row group i.
func (r *ParquetReader) RowGroupRows(i int) int64 { return r.file.RowGroups()[i].NumRows() }

// Next reads the next row group, all columns, and returns io.EOF after the last.
func (r *ParquetReader) Next() (*Frame, error) {
	if r.next >= r.NumRowGroups() {
		return nil, io.EOF
	}
	i := r.next
	r.next++
	return r.ReadRowGroup(i, nil)
}

// ReadAll reads the row groups not yet returned by Next and concatenates them.
func (r *ParquetReader) ReadAll() (*Frame, error) {
	var frames []*Frame
	for {
		f, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		frames = append(frames, f)
	}
	switch len(frames) {
	case 0:
		return r.emptyFrame(), nil
	case 1:
		return frames[0], nil
	}
	f, err := Concat(frames...)
	if err != nil {
		return nil, fmt.Errorf("frame: read parquet %s: %w", r.name, err)
	}
	return f, nil
}

func (r *ParquetReader) emptyFrame() *Frame {
	f := &Frame{Cols: make([]*Column, len(r.fields))}
	for i, fd := range r.fields {
		f.Cols[i] = emptyColumn(fd)
	}
	return f
}

func emptyColumn(fd Field) *Column {
	c := &Column{Name: fd.Name, Kind: fd.Kind}
	switch fd.Kind {
	case Float:
		c.Floats = []float64{}
	case Int, Time:
		c.Ints = []int64{}
	case Bool:
		c.Bools = []bool{}
	case String:
		c.Codes = []int32{}
		c.Dict = []string{}
	}
	return c
}

// ReadRowGroup reads row group i. columns selects and orders the columns to
// read; nil reads all of them in file order.
func (r *ParquetReader) ReadRowGroup(i int, columns []string) (*Frame, error) {
	if i < 0 || i >= r.NumRowGroups() {
		return nil, fmt.Errorf("frame: read parquet %s: row group %d out of range [0, %d)", r.name, i, r.NumRowGroups())
	}
	sel, err := r.selectColumns(columns)
	if err != nil {
		return nil, fmt.Errorf("frame: read parquet %s: %w", r.name, err)
	}
	rg := r.file.RowGroups()[i]
	chunks := rg.ColumnChunks()
	nrows := rg.NumRows()
	if nrows < 0 || nrows > math.MaxInt32 {
		return nil, fmt.Errorf("frame: read parquet %s: row group %d: invalid row count %d", r.name, i, nrows)
	}
	f := &Frame{Cols: make([]*Column, len(sel))}
	for k, ci := range sel {
		pc := &r.cols[ci]
		col, err := r.readChunk(pc, chunks[pc.leaf], int(nrows))
		if err != nil {
			return nil, fmt.Errorf("frame: read parquet %s: row group %d: column %q: %w", r.name, i, pc.field.Name, err)
		}
		f.Cols[k] = col
	}
	return f, nil
}

func (r *ParquetReader) selectColumns(columns []string) ([]int, error) {
	if columns == nil {
		sel := make([]int, len(r.cols))
		for i := range sel {
			sel[i] = i
		}
		return sel, nil
	}
	sel := make([]int, 0, len(columns))
	seen := make(map[string]bool, len(columns))
	for _, name := range columns {
		if seen[name] {
			return nil, fmt.Errorf("column %q selected twice", name)
		}
		seen[name] = true
		found := -1
		for i := range r.cols {
			if r.cols[i].field.Name == name {
				found = i
				break
			}
		}
		if found < 0 {
			names := make([]string, len(r.fields))
			for i, fd := range r.fields {
				names[i] = fd.Name
			}
			return nil, fmt.Errorf("no column %q (have %s)", name, quoteNames(names))
		}
		sel = append(sel, found)
	}
	return sel, nil
}

// loadSchema maps every top-level field of the file to a frame kind.
func (r *ParquetReader) loadSchema() error {
	schema := r.file.Metadata().Schema
	if len(schema) == 0 {
		return errors.New("empty schema")
	}
	n := int(schema[0].NumChildren.V)
	if n != len(schema)-1 {
		// Some field is a group: find it to name it.
		i := 1
		for c := 0; c < n && i < len(schema); c++ {
			if schema[i].NumChildren.V > 0 {
				return fmt.Errorf("column %s: nested/repeated parquet columns are not supported", schema[i].Name)
			}
			i++
		}
		return fmt.Errorf("schema has %d elements for %d top-level fields: nested/repeated parquet columns are not supported", len(schema)-1, n)
	}
	r.cols = make([]parquetColumn, n)
	r.fields = make([]Field, n)
	for i := range n {
		se := &schema[i+1]
		if se.NumChildren.V > 0 || (se.RepetitionType.Valid && se.RepetitionType.V == format.Repeated) {
			return fmt.Errorf("column %s: nested/repeated parquet columns are not supported", se.Name)
		}
		pc, err := columnOf(se)
		if err != nil {
			return fmt.Errorf("column %s: %w", se.Name, err)
		}
		pc.leaf = i
		r.cols[i] = pc
		r.fields[i] = pc.field
	}
	return nil
}

// columnOf maps a leaf schema element to a frame kind and a conversion.
func columnOf(se *format.SchemaElement) (parquetColumn, error) {
	pc := parquetColumn{field: Field{Name: se.Name}}
	if se.RepetitionType.Valid && se.RepetitionType.V == format.Optional {
		pc.maxDef = 1
	}
	if !se.Type.Valid {
		return pc, errors.New("no physical type")
	}
	pc.physical = parquet.Kind(se.Type.V)
	ct := deprecated.ConvertedType(-1)
	if se.ConvertedType.Valid {
		ct = se.ConvertedType.V
	}
	lt := se.LogicalType.Value
	switch t := lt.(type) {
	case *format.MapType, *format.ListType, *format.VariantType, *format.GeometryType, *format.GeographyType:
		return pc, fmt.Errorf("parquet logical type %s is not supported", t)
	}
	switch ct {
	case deprecated.Map, deprecated.MapKeyValue, deprecated.List:
		return pc, errors.New("nested/repeated parquet columns are not supported")
	}

	// Decimals first: they may sit on any of four physical types.
	if dt, ok := lt.(*format.DecimalType); ok {
		pc.decimal, pc.scale = true, dt.Scale
	} else if lt == nil && ct == deprecated.Decimal {
		pc.decimal, pc.scale = true, se.Scale.V
	}
	if pc.decimal {
		switch pc.physical {
		case parquet.Int32, parquet.Int64, parquet.ByteArray, parquet.FixedLenByteArray:
			pc.field.Kind = Float
			return pc, nil
		}
		return pc, fmt.Errorf("DECIMAL on physical type %s is not supported", pc.physical)
	}

	switch pc.physical {
	case parquet.Boolean:
		pc.field.Kind = Bool
	case parquet.Int32, parquet.Int64:
		pc.field.Kind = Int
		switch t := lt.(type) {
		case *format.IntType:
			pc.unsigned = !t.IsSigned
		case *format.DateType:
			pc.field.Kind, pc.mult = Time, nsPerDay
		case *format.TimestampType:
			pc.field.Kind, pc.mult = Time, int64(t.Unit.Value.Duration())
		case *format.TimeType:
			pc.mult = int64(t.Unit.Value.Duration())
		case nil:
			switch ct {
			case deprecated.Uint8, deprecated.Uint16, deprecated.Uint32, deprecated.Uint64:
				pc.unsigned = true
			case deprecated.Date:
				pc.field.Kind, pc.mult = Time, nsPerDay
			case deprecated.TimestampMillis:
				pc.field.Kind, pc.mult = Time, 1e6
			case deprecated.TimestampMicros:
				pc.field.Kind, pc.mult = Time, 1e3
			case deprecated.TimeMillis:
				pc.mult = 1e6
			case deprecated.TimeMicros:
				pc.mult = 1e3
			}
		}
		if pc.mult == 0 {
			pc.mult = 1
		}
		if pc.field.Kind == Time && pc.mult == nsPerDay && pc.physical != parquet.Int32 {
			return pc, errors.New("DATE must be INT32")
		}
	case parquet.Int96:
		pc.field.Kind = Time
	case parquet.Float, parquet.Double:
		pc.field.Kind = Float
	case parquet.ByteArray:
		pc.field.Kind = String
	case parquet.FixedLenByteArray:
		switch lt.(type) {
		case *format.UUIDType:
			pc.field.Kind, pc.uuid = String, true
			if se.TypeLength.V != 16 {
				return pc, fmt.Errorf("UUID of length %d", se.TypeLength.V)
			}
		case *format.Float16Type:
			pc.field.Kind, pc.float16 = Float, true
			if se.TypeLength.V != 2 {
				return pc, fmt.Errorf("FLOAT16 of length %d", se.TypeLength.V)
			}
		default:
			pc.field.Kind = String
		}
	default:
		return pc, fmt.Errorf("parquet physical type %s is not supported", pc.physical)
	}
	if pc.field.Kind == String {
		pc.dict = newStringDict()
	}
	return pc, nil
}

// stringDict interns strings into codes.
type stringDict struct {
	index  map[string]int32
	values []string
}

func newStringDict() *stringDict { return &stringDict{index: make(map[string]int32)} }

func (d *stringDict) code(b []byte) int32 {
	if c, ok := d.index[string(b)]; ok {
		return c
	}
	s := string(b)
	c := int32(len(d.values))
	d.index[s] = c
	d.values = append(d.values, s)
	return c
}

// chunkState is what readChunk keeps between the pages of one column chunk.
type chunkState struct {
	dict     parquet.Dictionary // dictionary the cached values below belong to
	dictLen  int
	dInts    []int64
	dFloats  []float64
	dCodes   []int32
	sInts    []int64 // scratch for pages with nulls
	sFloats  []float64
	sBools   []bool
	sCodes   []int32
	generic  []parquet.Value
	gDefs    []byte
	gBuilder physicalBuilder
}

// readChunk decodes one column chunk of nrows rows.
func (r *ParquetReader) readChunk(pc *parquetColumn, cc parquet.ColumnChunk, nrows int) (col *Column, err error) {
	defer func() {
		if p := recover(); p != nil {
			col, err = nil, fmt.Errorf("corrupt data: %v", p)
		}
	}()
	// For a flat column the chunk holds one value (or null) per row. Check
	// before allocating, so a corrupt row count fails cheaply.
	if n := cc.NumValues(); n != int64(nrows) {
		return nil, fmt.Errorf("column chunk has %d values, row group has %d rows", n, nrows)
	}
	col = &Column{Name: pc.field.Name, Kind: pc.field.Kind}
	switch pc.field.Kind {
	case Float:
		col.Floats = make([]float64, nrows)
	case Int, Time:
		col.Ints = make([]int64, nrows)
	case Bool:
		col.Bools = make([]bool, nrows)
	case String:
		col.Codes = make([]int32, nrows)
		if len(pc.dict.values) > maxCarriedDict {
			pc.dict = newStringDict()
		}
	}
	pages := cc.Pages()
	defer pages.Close()
	var st chunkState
	off := 0
	for {
		page, err := pages.ReadPage()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		n, err := r.readPage(pc, col, &st, page, off, nrows)
		parquet.Release(page)
		if err != nil {
			return nil, err
		}
		off += n
	}
	if off != nrows {
		return nil, fmt.Errorf("column chunk has %d rows, want %d", off, nrows)
	}
	if pc.field.Kind == String {
		d := pc.dict.values
		col.Dict = d[:len(d):len(d)]
	}
	return col, nil
}

// readPage decodes one page into col at row off and returns its row count.
func (r *ParquetReader) readPage(pc *parquetColumn, col *Column, st *chunkState, page parquet.Page, off, nrows int) (int, error) {
	var (
		defs    []byte
		data    encoding.Values
		indexes []int32
		pdict   parquet.Dictionary
		rows    int
	)
	if r.generic {
		var err error
		defs, data, rows, err = st.readGeneric(pc, page)
		if err != nil {
			return 0, err
		}
	} else {
		if pc.maxDef > 0 {
			defs = page.DefinitionLevels()
			rows = len(defs)
		} else {
			rows = int(page.NumValues())
		}
		data = page.Data()
		if pdict = page.Dictionary(); pdict != nil {
			if data.Kind() != encoding.Int32 {
				return 0, fmt.Errorf("dictionary page indexes are %s, want INT32", data.Kind())
			}
			indexes = data.Int32()
		}
	}
	if rows < 0 || off+rows > nrows {
		return 0, fmt.Errorf("column chunk has more than %d rows", nrows)
	}
	nonNull := rows
	if defs != nil {
		nonNull = 0
		for _, d := range defs {
			if d == pc.maxDef {
				nonNull++
			}
		}
	}
	if pdict != nil {
		if len(indexes) != nonNull {
			return 0, fmt.Errorf("page has %d values, want %d", len(indexes), nonNull)
		}
		if err := st.loadDictionary(pc, pdict); err != nil {
			return 0, fmt.Errorf("dictionary: %w", err)
		}
	}
	if nonNull < rows && col.Valid == nil {
		col.Valid = allValid(nrows)
	}
	var valid []bool
	if col.Valid != nil {
		valid = col.Valid[off : off+rows]
	}
	var err error
	switch pc.field.Kind {
	case Int, Time:
		dst := col.Ints[off : off+rows]
		vals := dst
		if nonNull < rows {
			st.sInts = grow(st.sInts, nonNull)
			vals = st.sInts
		}
		if pdict != nil {
			err = gather(vals, st.dInts, indexes)
		} else {
			err = pc.decodeInts(data, vals)
		}
		if err == nil && nonNull < rows {
			scatter(dst, valid, defs, pc.maxDef, vals)
		}
	case Float:
		dst := col.Floats[off : off+rows]
		vals := dst
		if nonNull < rows {
			st.sFloats = grow(st.sFloats, nonNull)
			vals = st.sFloats
		}
		if pdict != nil {
			err = gather(vals, st.dFloats, indexes)
		} else {
			err = pc.decodeFloats(data, vals)
		}
		if err == nil && nonNull < rows {
			scatter(dst, valid, defs, pc.maxDef, vals)
		}
	case String:
		dst := col.Codes[off : off+rows]
		vals := dst
		if nonNull < rows {
			st.sCodes = grow(st.sCodes, nonNull)
			vals = st.sCodes
		}
		if pdict != nil {
			err = gather(vals, st.dCodes, indexes)
		} else {
			err = pc.decodeCodes(data, vals)
		}
		if err == nil && nonNull < rows {
			scatter(dst, valid, defs, pc.maxDef, vals)
		}
	case Bool:
		if pdict != nil {
			return 0, errors.New("dictionary-encoded BOOLEAN pages are not supported")
		}
		dst := col.Bools[off : off+rows]
		vals := dst
		if nonNull < rows {
			st.sBools = grow(st.sBools, nonNull)
			vals = st.sBools
		}
		err = decodeBools(data, vals)
		if err == nil && nonNull < rows {
			scatter(dst, valid, defs, pc.maxDef, vals)
		}
	}
	if err != nil {
		return 0, err
	}
	return rows, nil
}

// loadDictionary converts a parquet dictionary to frame values once per chunk.
func (st *chunkState) loadDictionary(pc *parquetColumn, d parquet.Dictionary) error {
	if st.dict == d && st.dictLen == d.Len() {
		return nil
	}
	data := d.Page().Data()
	n := d.Len()
	var err error
	switch pc.field.Kind {
	case Int, Time:
		st.dInts = grow(st.dInts, n)
		err = pc.decodeInts(data, st.dInts)
	case Float:
		st.dFloats = grow(st.dFloats, n)
		err = pc.decodeFloats(data, st.dFloats)
	case String:
		st.dCodes = grow(st.dCodes, n)
		err = pc.decodeCodes(data, st.dCodes)
	default:
		err = fmt.Errorf("dictionary for %s column", pc.field.Kind)
	}
	if err != nil {
		st.dict = nil
		return err
	}
	st.dict, st.dictLen = d, n
	return nil
}

// readGeneric reads a page through parquet.ValueReader, which resolves
// dictionary indexes, and repacks the non-null values as encoding.Values.
func (st *chunkState) readGeneric(pc *parquetColumn, page parquet.Page) ([]byte, encoding.Values, int, error) {
	if st.generic == nil {
		st.generic = make([]parquet.Value, 1024)
	}
	b := &st.gBuilder
	b.reset(pc.physical)
	st.gDefs = st.gDefs[:0]
	rd := page.Values()
	for {
		n, err := rd.ReadValues(st.generic)
		for _, v := range st.generic[:n] {
			if v.IsNull() {
				st.gDefs = append(st.gDefs, 0)
				continue
			}
			st.gDefs = append(st.gDefs, pc.maxDef)
			if err := b.add(v); err != nil {
				return nil, encoding.Values{}, 0, err
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, encoding.Values{}, 0, err
		}
	}
	defs := st.gDefs
	if pc.maxDef == 0 {
		defs = nil
	}
	return defs, b.values(), len(st.gDefs), nil
}

// physicalBuilder accumulates parquet values of one physical kind.
type physicalBuilder struct {
	kind    parquet.Kind
	n       int
	bits    []byte
	i32     []int32
	i64     []int64
	i96     []deprecated.Int96
	f32     []float32
	f64     []float64
	bytes   []byte
	offsets []uint32
	size    int
}

func (b *physicalBuilder) reset(kind parquet.Kind) {
	b.kind, b.n, b.size = kind, 0, 0
	b.bits, b.i32, b.i64, b.i96 = b.bits[:0], b.i32[:0], b.i64[:0], b.i96[:0]
	b.f32, b.f64, b.bytes = b.f32[:0], b.f64[:0], b.bytes[:0]
	b.offsets = append(b.offsets[:0], 0)
}

func (b *physicalBuilder) add(v parquet.Value) error {
	if v.Kind() != b.kind {
		return fmt.Errorf("value of type %s in %s column", v.Kind(), b.kind)
	}
	switch b.kind {
	case parquet.Boolean:
		if b.n%8 == 0 {
			b.bits = append(b.bits, 0)
		}
		if v.Boolean() {
			b.bits[b.n/8] |= 1 << (b.n % 8)
		}
	case parquet.Int32:
		b.i32 = append(b.i32, v.Int32())
	case parquet.Int64:
		b.i64 = append(b.i64, v.Int64())
	case parquet.Int96:
		b.i96 = append(b.i96, v.Int96())
	case parquet.Float:
		b.f32 = append(b.f32, v.Float())
	case parquet.Double:
		b.f64 = append(b.f64, v.Double())
	case parquet.ByteArray:
		b.bytes = append(b.bytes, v.ByteArray()...)
		b.offsets = append(b.offsets, uint32(len(b.bytes)))
	case parquet.FixedLenByteArray:
		p := v.ByteArray()
		if b.n == 0 {
			b.size = len(p)
		} else if len(p) != b.size {
			return fmt.Errorf("fixed-length value of %d bytes, want %d", len(p), b.size)
		}
		b.bytes = append(b.bytes, p...)
	}
	b.n++
	return nil
}

func (b *physicalBuilder) values() encoding.Values {
	switch b.kind {
	case parquet.Boolean:
		return encoding.BooleanValues(b.bits)
	case parquet.Int32:
		return encoding.Int32Values(b.i32)
	case parquet.Int64:
		return encoding.Int64Values(b.i64)
	case parquet.Int96:
		return encoding.Int96Values(b.i96)
	case parquet.Float:
		return encoding.FloatValues(b.f32)
	case parquet.Double:
		return encoding.DoubleValues(b.f64)
	case parquet.ByteArray:
		return encoding.ByteArrayValues(b.bytes, b.offsets)
	default:
		return encoding.FixedLenByteArrayValues(b.bytes, max(b.size, 1))
	}
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// gather sets dst[i] = dict[idx[i]], checking every index.
func gather[T any](dst, dict []T, idx []int32) error {
	n := uint32(len(dict))
	for i, x := range idx {
		if uint32(x) >= n {
			return fmt.Errorf("dictionary index %d out of range [0, %d)", x, n)
		}
		dst[i] = dict[x]
	}
	return nil
}

// scatter spreads the non-null values vals over dst by definition levels,
// marking nulls in valid.
func scatter[T any](dst []T, valid []bool, defs []byte, maxDef byte, vals []T) {
	var zero T
	j := 0
	for i, d := range defs {
		if d == maxDef {
			dst[i] = vals[j]
			j++
		} else {
			dst[i] = zero
			valid[i] = false
		}
	}
}

func wrongKind(got encoding.Kind, want parquet.Kind) error {
	return fmt.Errorf("page holds %s values, want %s", got, want)
}

func countError(got, want int) error {
	return fmt.Errorf("page has %d values, want %d", got, want)
}

// decodeInts converts INT32, INT64 or INT96 values into Int or Time values.
func (pc *parquetColumn) decodeInts(v encoding.Values, dst []int64) error {
	mult := pc.mult
	if mult == 0 {
		mult = 1
	}
	switch v.Kind() {
	case encoding.Int32:
		src := v.Int32()
		if len(src) != len(dst) {
			return countError(len(src), len(dst))
		}
		switch {
		case pc.unsigned:
			for i, x := range src {
				dst[i] = int64(uint32(x))
			}
		case mult == 1:
			for i, x := range src {
				dst[i] = int64(x)
			}
		default:
			// An int32 count of days or milliseconds times its unit always fits.
			for i, x := range src {
				dst[i] = int64(x) * mult
			}
		}
	case encoding.Int64:
		src := v.Int64()
		if len(src) != len(dst) {
			return countError(len(src), len(dst))
		}
		switch {
		case pc.unsigned:
			for i, x := range src {
				if x < 0 {
					return fmt.Errorf("unsigned value %d overflows int64", uint64(x))
				}
				dst[i] = x
			}
		case mult == 1:
			copy(dst, src)
		default:
			lo, hi := math.MinInt64/mult, math.MaxInt64/mult
			for i, x := range src {
				if x < lo || x > hi {
					return fmt.Errorf("value %d times %d overflows int64 nanoseconds (beyond years 1677-2262)", x, mult)
				}
				dst[i] = x * mult
			}
		}
	case encoding.Int96:
		src := v.Int96()
		if len(src) != len(dst) {
			return countError(len(src), len(dst))
		}
		for i, x := range src {
			t, ok := int96Time(x)
			if !ok {
				return fmt.Errorf("INT96 timestamp (julian day %d) overflows int64 nanoseconds", int32(x[2]))
			}
			dst[i] = t
		}
	default:
		return wrongKind(v.Kind(), pc.physical)
	}
	return nil
}

// int96Time converts an INT96 timestamp (nanoseconds of the day in the low
// 8 bytes, Julian day in the high 4) to nanoseconds since the Unix epoch.
func int96Time(x deprecated.Int96) (int64, bool) {
	nanos := int64(uint64(x[1])<<32 | uint64(x[0]))
	days := int64(int32(x[2])) - julianUnixEpoch
	if days > math.MaxInt64/nsPerDay-1 || days < math.MinInt64/nsPerDay+1 || nanos < 0 || nanos > nsPerDay {
		return 0, false
	}
	return days*nsPerDay + nanos, true
}

// decodeFloats converts FLOAT, DOUBLE, FLOAT16 and DECIMAL values.
func (pc *parquetColumn) decodeFloats(v encoding.Values, dst []float64) error {
	switch v.Kind() {
	case encoding.Double:
		src := v.Double()
		if len(src) != len(dst) {
			return countError(len(src), len(dst))
		}
		copy(dst, src)
	case encoding.Float:
		src := v.Float()
		if len(src) != len(dst) {
			return countError(len(src), len(dst))
		}
		for i, x := range src {
			dst[i] = float64(x)
		}
	case encoding.Int32:
		src := v.Int32()
		if len(src) != len(dst) {
			return countError(len(src), len(dst))
		}
		for i, x := range src {
			dst[i] = decimalFloat(int64(x), pc.scale)
		}
	case encoding.Int64:
		src := v.Int64()
		if len(src) != len(dst) {
			return countError(len(src), len(dst))
		}
		for i, x := range src {
			dst[i] = decimalFloat(x, pc.scale)
		}
	case encoding.ByteArray:
		data, offsets := v.ByteArray()
		if len(offsets)-1 != len(dst) {
			return countError(len(offsets)-1, len(dst))
		}
		for i := range dst {
			a, b := offsets[i], offsets[i+1]
			if a > b || int(b) > len(data) {
				return errors.New("byte array offsets out of range")
			}
			dst[i] = decimalBytes(data[a:b], pc.scale)
		}
	case encoding.FixedLenByteArray:
		data, size := v.FixedLenByteArray()
		if size <= 0 || len(data)/size != len(dst) {
			return countError(len(data)/max(size, 1), len(dst))
		}
		for i := range dst {
			p := data[i*size : (i+1)*size]
			if pc.float16 {
				dst[i] = float64(float16(binary.LittleEndian.Uint16(p)))
			} else {
				dst[i] = decimalBytes(p, pc.scale)
			}
		}
	default:
		return wrongKind(v.Kind(), pc.physical)
	}
	return nil
}

// decimalBytes converts a big-endian two's complement unscaled decimal.
func decimalBytes(p []byte, scale int32) float64 {
	if len(p) == 0 {
		return 0
	}
	if len(p) <= 8 {
		var u uint64
		for _, c := range p {
			u = u<<8 | uint64(c)
		}
		shift := 64 - 8*uint(len(p))
		return decimalFloat(int64(u<<shift)>>shift, scale) // sign-extended
	}
	x := new(big.Int).SetBytes(p)
	if p[0]&0x80 != 0 {
		x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*len(p))))
	}
	return bigDecimalFloat(x, scale)
}

// decimalFloat is unscaled / 10^scale rounded once to the nearest float64.
func decimalFloat(unscaled int64, scale int32) float64 {
	const exact = 1 << 53 // integers up to this convert to float64 exactly
	if unscaled <= exact && unscaled >= -exact && scale >= 0 && scale <= 22 {
		// Both operands are exact, so the division rounds once.
		return float64(unscaled) / math.Pow10(int(scale))
	}
	return bigDecimalFloat(big.NewInt(unscaled), scale)
}

func bigDecimalFloat(x *big.Int, scale int32) float64 {
	r := new(big.Rat).SetInt(x)
	if scale != 0 {
		p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs32(scale))), nil)
		if scale > 0 {
			r.Quo(r, new(big.Rat).SetInt(p))
		} else {
			r.Mul(r, new(big.Rat).SetInt(p))
		}
	}
	f, _ := r.Float64()
	return f
}

func abs32(x int32) int32 {
	if x < 0 {
		return -x
	}
	return x
}

// float16 converts IEEE 754 half precision bits.
func float16(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp == 0:
		if frac == 0 {
			return math.Float32frombits(sign)
		}
		// subnormal: value is frac * 2^-24
		f := float32(frac) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}

// decodeCodes interns BYTE_ARRAY or FIXED_LEN_BYTE_ARRAY values.
func (pc *parquetColumn) decodeCodes(v encoding.Values, dst []int32) error {
	d := pc.dict
	switch v.Kind() {
	case encoding.ByteArray:
		data, offsets := v.ByteArray()
		if len(offsets)-1 != len(dst) {
			return countError(len(offsets)-1, len(dst))
		}
		for i := range dst {
			a, b := offsets[i], offsets[i+1]
			if a > b || int(b) > len(data) {
				return errors.New("byte array offsets out of range")
			}
			dst[i] = d.code(data[a:b])
		}
	case encoding.FixedLenByteArray:
		data, size := v.FixedLenByteArray()
		if size <= 0 || len(data)/size != len(dst) {
			return countError(len(data)/max(size, 1), len(dst))
		}
		var buf [36]byte
		for i := range dst {
			p := data[i*size : (i+1)*size]
			if pc.uuid {
				p = formatUUID(&buf, p)
			}
			dst[i] = d.code(p)
		}
	default:
		return wrongKind(v.Kind(), pc.physical)
	}
	return nil
}

func formatUUID(buf *[36]byte, u []byte) []byte {
	hex.Encode(buf[0:8], u[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], u[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], u[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], u[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:36], u[10:16])
	return buf[:]
}

// decodeBools unpacks BOOLEAN bits, least significant first.
func decodeBools(v encoding.Values, dst []bool) error {
	if v.Kind() != encoding.Boolean {
		return wrongKind(v.Kind(), parquet.Boolean)
	}
	bits := v.Boolean()
	if len(bits)*8 < len(dst) {
		return countError(len(bits)*8, len(dst))
	}
	for i := range dst {
		dst[i] = bits[i>>3]>>(i&7)&1 != 0
	}
	return nil
}
