package frame

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/parquet-go/parquet-go/format"
)

const (
	nycSample     = "../../examples/nyc-taxi/data/sample.parquet"
	nycTestSample = "../../examples/nyc-taxi/data/test_sample.parquet"
)

// sharedData returns the path of a file under the shared data directory,
// which sits beside the repository checkout, or skips the test.
func sharedData(t testing.TB, rel string) string {
	t.Helper()
	for _, dir := range []string{"../../../shared/data", "/work/shared/data"} {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skipf("shared data file %s not found", rel)
	return ""
}

func openBytes(t testing.TB, data []byte, name string) *ParquetReader {
	t.Helper()
	r, err := OpenParquet(bytes.NewReader(data), int64(len(data)), name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func readBytes(t testing.TB, data []byte, name string) *Frame {
	t.Helper()
	f, err := openBytes(t, data, name).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// readGeneric reads a file through parquet-go's ValueReader, which resolves
// dictionary indexes itself, as a reference for the fast page decoder.
func readGeneric(t testing.TB, path string) *Frame {
	t.Helper()
	r, err := OpenParquetFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.generic = true
	f, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// assertSameFrame compares schemas, nulls and values row by row.
func assertSameFrame(t testing.TB, got, want *Frame) {
	t.Helper()
	if !reflect.DeepEqual(got.Schema(), want.Schema()) {
		t.Fatalf("schema %v, want %v", got.Schema(), want.Schema())
	}
	if got.Len() != want.Len() {
		t.Fatalf("%d rows, want %d", got.Len(), want.Len())
	}
	for k, gc := range got.Cols {
		wc := want.Cols[k]
		for i := range got.Len() {
			g, w := gc.Value(i), wc.Value(i)
			if !sameValue(g, w) {
				t.Fatalf("column %q row %d: %v, want %v", gc.Name, i, g, w)
			}
		}
	}
}

func sameValue(a, b any) bool {
	if fa, ok := a.(float64); ok {
		if fb, ok := b.(float64); ok && math.IsNaN(fa) && math.IsNaN(fb) {
			return true
		}
	}
	if ta, ok := a.(time.Time); ok {
		tb, ok := b.(time.Time)
		return ok && ta.Equal(tb)
	}
	return a == b
}

func TestReadParquetNYCTaxi(t *testing.T) {
	t.Parallel()
	r, err := OpenParquetFile(nycSample)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	wantSchema := []Field{
		{"tpep_pickup_datetime", Time},
		{"tpep_dropoff_datetime", Time},
		{"trip_distance", Float},
		{"fare_amount", Float},
		{"pickup_zip", Int},
		{"dropoff_zip", Int},
	}
	if got := r.Schema(); !reflect.DeepEqual(got, wantSchema) {
		t.Fatalf("schema %v, want %v", got, wantSchema)
	}
	if r.NumRows() != 10000 || r.NumRowGroups() != 1 || r.RowGroupRows(0) != 10000 {
		t.Fatalf("rows %d, row groups %d (%d rows)", r.NumRows(), r.NumRowGroups(), r.RowGroupRows(0))
	}
	f, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("second Next: %v, want io.EOF", err)
	}
	if f.Len() != 10000 {
		t.Fatalf("%d rows", f.Len())
	}
	for _, c := range f.Cols {
		if c.NullCount() != 0 {
			t.Errorf("column %q has %d nulls, want 0", c.Name, c.NullCount())
		}
	}
	pick, _ := f.Col("tpep_pickup_datetime")
	drop, _ := f.Col("tpep_dropoff_datetime")
	// pyarrow wrote naive (not UTC-adjusted) microsecond timestamps; wall
	// times read as UTC.
	wantRows := []struct {
		row              int
		pickup, dropoff  time.Time
		dist, fare       float64
		pickZip, dropZip int64
	}{
		{0, time.Date(2016, 2, 13, 21, 47, 53, 0, time.UTC), time.Date(2016, 2, 13, 21, 57, 15, 0, time.UTC), 1.4, 8, 10103, 10110},
		{1, time.Date(2016, 2, 13, 18, 29, 9, 0, time.UTC), time.Date(2016, 2, 13, 18, 37, 23, 0, time.UTC), 1.31, 7.5, 10023, 10023},
		{9999, time.Date(2016, 1, 12, 8, 31, 34, 0, time.UTC), time.Date(2016, 1, 12, 8, 48, 5, 0, time.UTC), 2.7, 13, 10017, 10278},
	}
	for _, w := range wantRows {
		got := []any{pick.Value(w.row), drop.Value(w.row), f.Cols[2].Value(w.row), f.Cols[3].Value(w.row), f.Cols[4].Value(w.row), f.Cols[5].Value(w.row)}
		want := []any{w.pickup, w.dropoff, w.dist, w.fare, w.pickZip, w.dropZip}
		for k := range got {
			if !sameValue(got[k], want[k]) {
				t.Errorf("row %d column %q: %v, want %v", w.row, f.Cols[k].Name, got[k], want[k])
			}
		}
	}
	// Every trip lies in January-February 2016 and ends after it starts.
	lo := time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	hi := time.Date(2016, 3, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	for i := range f.Len() {
		if p := pick.Ints[i]; p < lo || p >= hi || drop.Ints[i] < p {
			t.Fatalf("row %d: pickup %v dropoff %v", i, pick.Value(i), drop.Value(i))
		}
	}
	fare, _ := f.Col("fare_amount")
	minFare, maxFare := math.Inf(1), math.Inf(-1)
	for _, v := range fare.Floats {
		minFare, maxFare = min(minFare, v), max(maxFare, v)
	}
	if minFare != -8 || maxFare != 275 {
		t.Errorf("fare range [%v, %v], want [-8, 275]", minFare, maxFare)
	}
	assertSameFrame(t, f, readGeneric(t, nycSample))
}

func TestReadParquetNYCTestSample(t *testing.T) {
	t.Parallel()
	f, err := ReadParquetFile(nycTestSample)
	if err != nil {
		t.Fatal(err)
	}
	if f.Len() != 10 || len(f.Cols) != 6 {
		t.Fatalf("%d rows, %d columns", f.Len(), len(f.Cols))
	}
	c, _ := f.Col("tpep_pickup_datetime")
	if got, want := c.Value(9), time.Date(2016, 2, 19, 1, 26, 39, 0, time.UTC); !sameValue(got, want) {
		t.Errorf("last pickup %v, want %v", got, want)
	}
	c, _ = f.Col("dropoff_zip")
	if got := c.Value(9); got != int64(11222) {
		t.Errorf("last dropoff_zip %v, want 11222", got)
	}
}

func TestReadParquetBreastCancer(t *testing.T) {
	t.Parallel()
	path := sharedData(t, "breast-cancer/data.parquet")
	f, err := ReadParquetFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Len() != 569 || len(f.Cols) != 31 {
		t.Fatalf("%d rows, %d columns", f.Len(), len(f.Cols))
	}
	// Names with spaces, in file order (not sorted).
	if f.Cols[0].Name != "mean radius" || f.Cols[30].Name != "target" || f.Cols[30].Kind != Int {
		t.Fatalf("columns %v", f.Schema())
	}
	for _, c := range f.Cols[:30] {
		if c.Kind != Float {
			t.Errorf("column %q is %s, want float", c.Name, c.Kind)
		}
	}
	row0 := map[string]any{"mean radius": 17.99, "mean texture": 10.38, "mean perimeter": 122.8, "mean area": 1001.0, "worst fractal dimension": 0.1189, "target": int64(0)}
	for name, want := range row0 {
		c, _ := f.Col(name)
		if got := c.Value(0); got != want {
			t.Errorf("%s[0] = %v, want %v", name, got, want)
		}
	}
	target, _ := f.Col("target")
	ones := 0
	for _, v := range target.Ints {
		ones += int(v)
	}
	if ones != 357 { // benign cases in the Wisconsin data set
		t.Errorf("%d targets are 1, want 357", ones)
	}
	assertSameFrame(t, f, readGeneric(t, path))
}

func TestReadParquetTypes(t *testing.T) {
	t.Parallel()
	path := filepath.Join(fixtureDir, "types.parquet")
	cols := typeFixture()
	for _, generic := range []bool{false, true} {
		r, err := OpenParquetFile(path)
		if err != nil {
			t.Fatal(err)
		}
		r.generic = generic
		f, err := r.ReadAll()
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Cols) != len(cols) {
			t.Fatalf("%d columns, want %d", len(f.Cols), len(cols))
		}
		for k, fc := range cols {
			c := f.Cols[k]
			if c.Name != fc.name || c.Kind != fc.kind {
				t.Errorf("column %d is %s:%s, want %s:%s", k, c.Name, c.Kind, fc.name, fc.kind)
				continue
			}
			for i, want := range fc.want {
				if got := c.Value(i); !sameValue(got, want) {
					t.Errorf("generic=%v %s[%d] = %v (%T), want %v (%T)", generic, fc.name, i, got, got, want, want)
				}
			}
			nulls := 0
			for _, w := range fc.want {
				if w == nil {
					nulls++
				}
			}
			if c.NullCount() != nulls {
				t.Errorf("%s has %d nulls, want %d", fc.name, c.NullCount(), nulls)
			}
		}
	}
}

// TestReadParquetDictionaryFixture checks that the fixture really holds
// dictionary-encoded pages, so the test above exercises index resolution.
func TestReadParquetDictionaryFixture(t *testing.T) {
	t.Parallel()
	r, err := OpenParquetFile(filepath.Join(fixtureDir, "types.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	md := r.file.Metadata()
	for _, cc := range md.RowGroups[0].Columns {
		name := cc.MetaData.PathInSchema[0]
		if !strings.HasSuffix(name, "_dict") {
			continue
		}
		found := false
		for _, e := range cc.MetaData.Encoding {
			found = found || e == format.RLEDictionary || e == format.PlainDictionary
		}
		if !found {
			t.Errorf("column %s encodings %v, want a dictionary encoding", name, cc.MetaData.Encoding)
		}
	}
}

func TestReadParquetPages(t *testing.T) {
	t.Parallel()
	path := filepath.Join(fixtureDir, "pages_v1.parquet")
	r, err := OpenParquetFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.NumRowGroups() != pagesRowGroups {
		t.Fatalf("%d row groups, want %d", r.NumRowGroups(), pagesRowGroups)
	}
	row := 0
	var firstDict []string
	var batches []*Frame
	for {
		f, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if f.Len() != pagesGroupRows {
			t.Fatalf("batch of %d rows, want %d", f.Len(), pagesGroupRows)
		}
		batches = append(batches, f)
		s, _ := f.Col("s")
		if firstDict == nil {
			firstDict = s.Dict
		} else if len(s.Dict) != len(firstDict) || &s.Dict[0] != &firstDict[0] {
			t.Errorf("row groups do not share the string dictionary")
		}
		for i := range f.Len() {
			id, sv, x, ts, b := pagesFixtureWant(row)
			got := []any{f.Cols[0].Value(i), f.Cols[1].Value(i), f.Cols[2].Value(i), f.Cols[3].Value(i), f.Cols[4].Value(i)}
			want := []any{id, sv, x, ts, b}
			for k := range got {
				if !sameValue(got[k], want[k]) {
					t.Fatalf("row %d column %s: %v, want %v", row, f.Cols[k].Name, got[k], want[k])
				}
			}
			row++
		}
	}
	if row != pagesFixtureRows {
		t.Fatalf("read %d rows, want %d", row, pagesFixtureRows)
	}
	all, err := Concat(batches...)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := all.Col("s"); &s.Dict[0] != &firstDict[0] {
		t.Error("Concat remapped codes of row groups sharing a dictionary")
	}

	// A projection, out of file order.
	f, err := r.ReadRowGroup(2, []string{"x", "id"})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Names(); !reflect.DeepEqual(got, []string{"x", "id"}) {
		t.Fatalf("names %v", got)
	}
	if got := f.Cols[1].Value(0); got != int64(2*pagesGroupRows) {
		t.Fatalf("id[0] of row group 2 = %v", got)
	}
	if _, err := r.ReadRowGroup(0, []string{"nope"}); err == nil || !strings.Contains(err.Error(), `no column "nope"`) || !strings.Contains(err.Error(), `"id"`) {
		t.Fatalf("missing column error: %v", err)
	}
	if _, err := r.ReadRowGroup(3, nil); err == nil {
		t.Fatal("row group 3 read without error")
	}
	assertSameFrame(t, mustReadParquetFile(t, path), readGeneric(t, path))
}

func mustReadParquetFile(t testing.TB, path string) *Frame {
	t.Helper()
	f, err := ReadParquetFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestReadParquetNested(t *testing.T) {
	t.Parallel()
	path := filepath.Join(fixtureDir, "nested.parquet")
	_, err := OpenParquetFile(path)
	want := "frame: read parquet " + path + ": column tags: nested/repeated parquet columns are not supported"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
}

func TestReadParquetCorrupt(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(nycSample)
	if err != nil {
		t.Fatal(err)
	}
	name := "data/x.parquet"
	prefix := "frame: read parquet " + name + ": "

	t.Run("truncated", func(t *testing.T) {
		t.Parallel()
		for _, n := range []int{0, 3, 100, len(data) / 2, len(data) - 1} {
			_, err := OpenParquet(bytes.NewReader(data[:n]), int64(n), name)
			if err == nil || !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("truncated to %d bytes: %v", n, err)
			}
		}
		// A file that claims more bytes than it has.
		_, err := OpenParquet(bytes.NewReader(data[:len(data)/2]), int64(len(data)), name)
		if err == nil || !strings.HasPrefix(err.Error(), prefix) {
			t.Errorf("short reader: %v", err)
		}
	})

	t.Run("flipped", func(t *testing.T) {
		t.Parallel()
		// Flip bytes at many offsets of a pyarrow file: each read must
		// either succeed or fail with an error naming the file, never panic.
		failures := 0
		for off := 4; off < len(data)-8; off += len(data) / 97 {
			bad := bytes.Clone(data)
			for k := range 16 {
				if off+k < len(bad)-8 {
					bad[off+k] ^= 0xA5
				}
			}
			r, err := OpenParquet(bytes.NewReader(bad), int64(len(bad)), name)
			if err == nil {
				_, err = r.ReadAll()
			}
			if err != nil {
				failures++
				if !strings.HasPrefix(err.Error(), prefix) {
					t.Errorf("flip at %d: error %q does not name the file", off, err)
				}
			}
		}
		if failures == 0 {
			t.Error("no flipped file failed to read")
		}
	})

	t.Run("checksum", func(t *testing.T) {
		t.Parallel()
		// Our writer checksums pages, so a flip in the middle of the data
		// is detected.
		var buf bytes.Buffer
		f := &Frame{Cols: []*Column{NewFloatColumn("x", make([]float64, 10000))}}
		w, err := NewParquetWriter(&buf, f.Schema(), WriterOptions{Compression: Uncompressed})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(f); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		bad := buf.Bytes()
		bad[len(bad)/3] ^= 0xff
		r, err := OpenParquet(bytes.NewReader(bad), int64(len(bad)), name)
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.ReadAll()
		if err == nil || !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), "checksum") {
			t.Fatalf("error %v, want a checksum error naming the file", err)
		}
	})
}

// FuzzOpenParquet feeds mangled parquet data to the reader, which must
// return errors rather than panic.
func FuzzOpenParquet(f *testing.F) {
	for _, p := range []string{nycTestSample, filepath.Join(fixtureDir, "types.parquet")} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := OpenParquet(bytes.NewReader(data), int64(len(data)), "fuzz")
		if err != nil {
			return
		}
		r.ReadAll()
	})
}

func TestReadParquetMissingFile(t *testing.T) {
	t.Parallel()
	_, err := ReadParquetFile("testdata/nope.parquet")
	if !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), "frame: read parquet testdata/nope.parquet: ") {
		t.Fatalf("error %v", err)
	}
}

// allKindsFrame has every kind, nulls in every column, unsorted names.
func allKindsFrame(n int) *Frame {
	t0 := fixtureT0
	f := &Frame{Cols: []*Column{
		{Name: "zeta", Kind: Float, Floats: make([]float64, n)},
		{Name: "alpha", Kind: Int, Ints: make([]int64, n)},
		{Name: "mid", Kind: String, Codes: make([]int32, n), Dict: []string{"red", "green", "blue, or not", ""}},
		{Name: "Bool col", Kind: Bool, Bools: make([]bool, n)},
		{Name: "ts", Kind: Time, Ints: make([]int64, n)},
	}}
	for _, c := range f.Cols {
		c.Valid = allValid(n)
	}
	for i := range n {
		f.Cols[0].Floats[i] = float64(i)*1.5 - 7
		f.Cols[1].Ints[i] = int64(i)*int64(i) - 1<<40
		f.Cols[2].Codes[i] = int32(i % 4)
		f.Cols[3].Bools[i] = i%2 == 0
		f.Cols[4].Ints[i] = t0.Add(time.Duration(i) * time.Second).UnixNano()
		for k, c := range f.Cols {
			if (i+k)%11 == 0 {
				c.Valid[i] = false
				switch c.Kind {
				case Float:
					c.Floats[i] = 0
				case Int, Time:
					c.Ints[i] = 0
				case Bool:
					c.Bools[i] = false
				case String:
					c.Codes[i] = 0
				}
			}
		}
	}
	return f
}

func TestParquetRoundtrip(t *testing.T) {
	t.Parallel()
	f := allKindsFrame(1000)
	f.Cols[0].Floats[5] = math.NaN()
	f.Cols[0].Floats[6] = math.Inf(-1)
	for _, comp := range []Compression{Zstd, Snappy, Gzip, Uncompressed} {
		var buf bytes.Buffer
		w, err := NewParquetWriter(&buf, f.Schema(), WriterOptions{RowGroupRows: 300, Compression: comp})
		if err != nil {
			t.Fatal(err)
		}
		// Frames of uneven sizes across row group boundaries.
		for _, b := range [][2]int{{0, 1}, {1, 250}, {250, 250}, {250, 777}, {777, 1000}} {
			if err := w.Write(f.Slice(b[0], b[1])); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		r := openBytes(t, buf.Bytes(), "roundtrip")
		if r.NumRowGroups() != 4 || r.RowGroupRows(0) != 300 || r.RowGroupRows(3) != 100 {
			t.Fatalf("compression %d: %d row groups", comp, r.NumRowGroups())
		}
		got, err := r.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if names := got.Names(); !reflect.DeepEqual(names, []string{"zeta", "alpha", "mid", "Bool col", "ts"}) {
			t.Fatalf("column order %v", names)
		}
		assertSameFrame(t, got, f)
		for k, c := range got.Cols {
			if c.NullCount() != f.Cols[k].NullCount() {
				t.Errorf("%s: %d nulls, want %d", c.Name, c.NullCount(), f.Cols[k].NullCount())
			}
		}
	}
}

func TestParquetWriterTypes(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	f := allKindsFrame(10)
	w, err := NewParquetWriter(&buf, f.Schema(), WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(f); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := openBytes(t, buf.Bytes(), "types")
	md := r.file.Metadata()
	want := map[string]string{
		"zeta":     "DOUBLE OPTIONAL ",
		"alpha":    "INT64 OPTIONAL INT(64,true)",
		"mid":      "BYTE_ARRAY OPTIONAL STRING",
		"Bool col": "BOOLEAN OPTIONAL ",
		"ts":       "INT64 OPTIONAL TIMESTAMP(isAdjustedToUTC=true,unit=NANOS)",
	}
	for _, se := range md.Schema[1:] {
		got := se.Type.V.String() + " " + se.RepetitionType.V.String() + " " + se.LogicalType.String()
		if got != want[se.Name] {
			t.Errorf("%s: %s, want %s", se.Name, got, want[se.Name])
		}
	}
	for _, cc := range md.RowGroups[0].Columns {
		if cc.MetaData.Codec != format.Zstd {
			t.Errorf("%v codec %v, want ZSTD", cc.MetaData.PathInSchema, cc.MetaData.Codec)
		}
		if cc.MetaData.PathInSchema[0] == "mid" {
			dict := false
			for _, e := range cc.MetaData.Encoding {
				dict = dict || e == format.RLEDictionary
			}
			if !dict {
				t.Errorf("mid encodings %v, want RLE_DICTIONARY", cc.MetaData.Encoding)
			}
		}
	}
}

func TestParquetWriterRowGroups(t *testing.T) {
	t.Parallel()
	const n = 200_000
	ids := make([]int64, n)
	xs := make([]float64, n)
	for i := range ids {
		ids[i] = int64(i)
		xs[i] = float64(i) / 3
	}
	f := &Frame{Cols: []*Column{NewIntColumn("id", ids), NewFloatColumn("x", xs)}}
	path := filepath.Join(t.TempDir(), "big.parquet")
	if err := WriteParquetFile(path, f); err != nil {
		t.Fatal(err)
	}
	r, err := OpenParquetFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.NumRowGroups() != 4 || r.RowGroupRows(0) != DefaultRowGroupRows || r.NumRows() != n {
		t.Fatalf("%d row groups, first %d rows, %d rows", r.NumRowGroups(), r.RowGroupRows(0), r.NumRows())
	}
	row := 0
	for {
		b, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if b.Len() > DefaultRowGroupRows {
			t.Fatalf("batch of %d rows", b.Len())
		}
		for i := range b.Len() {
			if b.Cols[0].Ints[i] != int64(row) || b.Cols[1].Floats[i] != float64(row)/3 {
				t.Fatalf("row %d: %v %v", row, b.Cols[0].Value(i), b.Cols[1].Value(i))
			}
			row++
		}
	}
	if row != n {
		t.Fatalf("read %d rows", row)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

func TestParquetWriterErrors(t *testing.T) {
	t.Parallel()
	schema := []Field{{"a", Int}, {"b", Float}}
	var buf bytes.Buffer
	w, err := NewParquetWriter(&buf, schema, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wrong := &Frame{Cols: []*Column{NewIntColumn("a", []int64{1}), NewIntColumn("b", []int64{2})}}
	if err := w.Write(wrong); err == nil || !strings.Contains(err.Error(), "column 1 is b:int, want b:float") {
		t.Fatalf("schema mismatch: %v", err)
	}
	badCode := &Frame{Cols: []*Column{NewIntColumn("a", []int64{1}), NewFloatColumn("b", []float64{2})}}
	badCode.Cols = append(badCode.Cols, &Column{Name: "s", Kind: String, Codes: []int32{3}, Dict: []string{"x"}})
	w2, err := NewParquetWriter(&buf, badCode.Schema(), WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w2.Write(badCode); err == nil || !strings.Contains(err.Error(), `column "s" row 0: code 3 outside dictionary of 1`) {
		t.Fatalf("bad code: %v", err)
	}
	if err := WriteCSV(io.Discard, badCode); err == nil {
		t.Fatal("WriteCSV accepted a bad code")
	}
	if _, err := NewParquetWriter(&buf, []Field{{"a", Int}, {"a", Int}}, WriterOptions{}); err == nil {
		t.Fatal("duplicate column accepted")
	}
	if _, err := NewParquetWriter(&buf, []Field{{"a", Kind(99)}}, WriterOptions{}); err == nil {
		t.Fatal("unknown kind accepted")
	}
	if err := WriteParquetFile(filepath.Join(t.TempDir(), "no/such/dir/x.parquet"), wrong); err == nil {
		t.Fatal("write into a missing directory succeeded")
	}
}

func TestParquetEmpty(t *testing.T) {
	t.Parallel()
	schema := []Field{{"a", Int}, {"s", String}}
	var buf bytes.Buffer
	w, err := NewParquetWriter(&buf, schema, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := openBytes(t, buf.Bytes(), "empty")
	if !reflect.DeepEqual(r.Schema(), schema) || r.NumRows() != 0 {
		t.Fatalf("schema %v rows %d", r.Schema(), r.NumRows())
	}
	f, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if f.Len() != 0 || !reflect.DeepEqual(f.Schema(), schema) {
		t.Fatalf("empty file read as %v with %d rows", f.Schema(), f.Len())
	}
}

// TestParquetWriterValues checks the writer through parquet-go's own row
// reader rather than ours.
func TestParquetWriterValues(t *testing.T) {
	t.Parallel()
	f := allKindsFrame(12)
	var buf bytes.Buffer
	w, err := NewParquetWriter(&buf, f.Schema(), WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(f); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pf, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]parquet.Row, 12)
	rr := pf.RowGroups()[0].Rows()
	n, _ := rr.ReadRows(rows)
	rr.Close()
	if n != 12 {
		t.Fatalf("read %d rows", n)
	}
	for i, row := range rows {
		for k, v := range row {
			c := f.Cols[k]
			if c.IsNull(i) != v.IsNull() {
				t.Fatalf("row %d column %s: null %v, want %v", i, c.Name, v.IsNull(), c.IsNull(i))
			}
			if v.IsNull() {
				continue
			}
			var got any
			switch c.Kind {
			case Float:
				got = v.Double()
			case Int:
				got = v.Int64()
			case Time:
				got = time.Unix(0, v.Int64()).UTC()
			case Bool:
				got = v.Boolean()
			case String:
				got = string(v.ByteArray())
			}
			if !sameValue(got, c.Value(i)) {
				t.Fatalf("row %d column %s: %v, want %v", i, c.Name, got, c.Value(i))
			}
		}
	}
}

func TestFloat16(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		bits uint16
		want float64
	}{
		{0x3c00, 1}, {0xc000, -2}, {0x0000, 0}, {0x7bff, 65504}, {0x3555, 0.333251953125},
		{0x0001, 5.960464477539063e-08}, {0x7c00, math.Inf(1)}, {0xfc00, math.Inf(-1)},
	} {
		if got := float64(float16(tc.bits)); got != tc.want {
			t.Errorf("float16(%#04x) = %v, want %v", tc.bits, got, tc.want)
		}
	}
	if !math.IsNaN(float64(float16(0x7e00))) {
		t.Error("float16(0x7e00) is not NaN")
	}
}

// TestReadParquetDuckDB reads a file written by another tool (DuckDB, see
// testdata/parquet/duckdb.sql): legacy converted types next to logical
// types, unsigned ints, a DECIMAL(38,10) in 16 bytes, ENUM, UUID, BLOB.
func TestReadParquetDuckDB(t *testing.T) {
	t.Parallel()
	path := filepath.Join(fixtureDir, "duckdb.parquet")
	f := mustReadParquetFile(t, path)
	wantSchema := []Field{
		{"ts", Time}, {"tstz", Time}, {"ts_ms", Time}, {"ts_ns", Time}, {"d", Time},
		{"i8", Int}, {"u16", Int}, {"u32", Int}, {"u64", Int}, {"i64", Int},
		{"dec9", Float}, {"dec18", Float}, {"dec38", Float},
		{"s", String}, {"e", String}, {"f32", Float}, {"f64", Float}, {"b", Bool}, {"id", String}, {"bin", String},
	}
	if !reflect.DeepEqual(f.Schema(), wantSchema) {
		t.Fatalf("schema %v,\nwant %v", f.Schema(), wantSchema)
	}
	t0 := time.Date(2016, 2, 13, 21, 47, 53, 123456000, time.UTC)
	apollo := time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC)
	newYear := time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)
	uuid := "123e4567-e89b-12d3-a456-426614174000"
	want := [][]any{
		{t0, t0, t0.Truncate(time.Millisecond), t0.Add(789), time.Date(2016, 2, 13, 0, 0, 0, 0, time.UTC),
			int64(-128), int64(65535), int64(4294967295), int64(math.MaxInt64), int64(math.MinInt64),
			1234567.89, -12345678901234.5678, 1234567890123456789012345678.0123456789,
			"apple", "happy", 1.5, 2.25, true, uuid, "raw"},
		{apollo, apollo, nil, nil, time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC),
			int64(127), int64(0), int64(0), int64(0), int64(0),
			-0.01, 0.0, -1.0,
			nil, "sad", -0.25, nil, nil, nil, nil},
		{nil, nil, time.Date(2262, 4, 11, 0, 0, 0, 0, time.UTC), time.Unix(0, 0).UTC(), nil,
			nil, nil, nil, nil, nil,
			nil, nil, nil,
			"pear", nil, nil, -3e300, false, "00000000-0000-0000-0000-000000000000", ""},
		{newYear, newYear, newYear, newYear, newYear,
			int64(0), int64(1), int64(1), int64(1), int64(1),
			0.5, 1.0, 1e-10,
			"apple", "ok", 0.0, 0.0, true, uuid, "raw"},
	}
	for i, row := range want {
		for k, w := range row {
			if got := f.Cols[k].Value(i); !sameValue(got, w) {
				t.Errorf("row %d %s: %v, want %v", i, f.Cols[k].Name, got, w)
			}
		}
	}
	assertSameFrame(t, f, readGeneric(t, path))
}

func TestDecodeIntsOverflow(t *testing.T) {
	t.Parallel()
	dst := make([]int64, 1)
	u64 := parquetColumn{physical: parquet.Int64, unsigned: true}
	if err := u64.decodeInts(encoding.Int64Values([]int64{-1}), dst); err == nil || !strings.Contains(err.Error(), "18446744073709551615 overflows int64") {
		t.Errorf("UINT64 max: %v", err)
	}
	ms := parquetColumn{physical: parquet.Int64, mult: 1e6}
	if err := ms.decodeInts(encoding.Int64Values([]int64{math.MaxInt64 / 1000}), dst); err == nil || !strings.Contains(err.Error(), "overflows int64 nanoseconds") {
		t.Errorf("millisecond overflow: %v", err)
	}
	if err := ms.decodeInts(encoding.Int64Values([]int64{1, 2}), dst); err == nil {
		t.Error("value count mismatch accepted")
	}
}

func TestReadParquetHighCardinality(t *testing.T) {
	t.Parallel()
	const groups, per = 3, 40_000
	ss := make([]string, groups*per)
	for i := range ss {
		ss[i] = "id-" + strconv.Itoa(i)
	}
	f := &Frame{Cols: []*Column{NewStringColumn("id", ss)}}
	var buf bytes.Buffer
	w, err := NewParquetWriter(&buf, f.Schema(), WriterOptions{RowGroupRows: per})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(f); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := openBytes(t, buf.Bytes(), "ids")
	var dictLens []int
	var batches []*Frame
	for {
		b, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		dictLens = append(dictLens, len(b.Cols[0].Dict))
		batches = append(batches, b)
	}
	// The dictionary is carried across row groups until it passes
	// maxCarriedDict entries, then started afresh.
	if !reflect.DeepEqual(dictLens, []int{per, 2 * per, per}) {
		t.Fatalf("dictionary sizes %v", dictLens)
	}
	all, err := Concat(batches...)
	if err != nil {
		t.Fatal(err)
	}
	assertSameFrame(t, all, f)
}
