// Package frame is the columnar table every step works on: typed columns with
// nulls, read from and written to parquet and csv row group by row group.
//
// # Representation
//
// A Frame is a list of equally long Columns. A Column has one Kind and stores
// its values in the slice that Kind names; the other slices are nil:
//
//	Float  -> Floats []float64
//	Int    -> Ints   []int64
//	Bool   -> Bools  []bool
//	String -> Codes  []int32 indexing Dict []string (dictionary encoded)
//	Time   -> Ints   []int64 nanoseconds since the Unix epoch, UTC
//
// Valid is nil when the column has no nulls; otherwise Valid[i] is false for a
// null at row i and the value slot holds the zero value.
//
// Build columns with NewFloatColumn, NewIntColumn, NewBoolColumn,
// NewStringColumn and NewTimeColumn; combine frames with Concat, Select,
// Head and Slice. Select, Head and Slice share memory with their input.
//
// # Parquet
//
// OpenParquet and OpenParquetFile return a ParquetReader that decodes one
// row group at a time (Next, ReadRowGroup), so a file larger than memory can
// be streamed; ReadParquetFile reads a whole file. The reader takes the files
// pyarrow, pandas and Spark write: plain or dictionary-encoded pages, data
// page v1 or v2, any codec parquet-go supports, optional columns, TIMESTAMP in
// any unit, INT96, DATE, DECIMAL and the integer logical types. See
// ParquetReader for the type mapping. Nested and repeated columns are
// rejected with an error naming the column. Errors name the file; a corrupt
// file gives an error, never a panic.
//
// NewParquetWriter writes frames to a parquet file with a row group every
// WriterOptions.RowGroupRows rows (DefaultRowGroupRows), zstd-compressed,
// columns in frame order; WriteParquetFile writes one frame atomically.
//
// # CSV
//
// ReadCSV infers a kind per column (see its doc), or takes kinds from
// CSVOptions.Schema, and names errors by file, line, column and row. WriteCSV
// writes a header row, empty cells for nulls and RFC 3339 times.
package frame
