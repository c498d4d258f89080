package frame

import (
	"bytes"
	"flag"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
)

var update = flag.Bool("update", false, "rewrite the parquet fixtures in testdata/parquet")

// fixtureT0 is the instant most timestamp fixtures hold.
var fixtureT0 = time.Date(2016, 2, 13, 21, 47, 53, 123456789, time.UTC)

// fixtureColumn is one column of the types fixture: how it is written and
// what it must read back as.
type fixtureColumn struct {
	name     string
	node     parquet.Node // leaf node; wrapped in parquet.Optional when optional
	optional bool
	values   []parquet.Value // physical values, parquet.NullValue() for a null
	kind     Kind
	want     []any // Column.Value of each row
}

func int96Of(t time.Time) deprecated.Int96 {
	ns := t.UnixNano()
	days := math.Floor(float64(ns) / float64(nsPerDay))
	nanos := ns - int64(days)*nsPerDay
	jd := uint32(int64(days) + julianUnixEpoch)
	return deprecated.Int96{uint32(nanos), uint32(uint64(nanos) >> 32), jd}
}

// beBytes is x as big-endian two's complement in n bytes.
func beBytes(x *big.Int, n int) []byte {
	out := make([]byte, n)
	v := new(big.Int).Set(x)
	if v.Sign() < 0 {
		v.Add(v, new(big.Int).Lsh(big.NewInt(1), uint(8*n)))
	}
	v.FillBytes(out)
	return out
}

func mustBig(s string) *big.Int {
	x, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return x
}

func days(t time.Time) int32 { return int32(t.Unix() / 86400) }

// typeFixture covers the parquet types the real files in the repo do not.
func typeFixture() []fixtureColumn {
	t0 := fixtureT0
	t1 := time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC) // before the epoch
	t2 := time.Date(2262, 4, 11, 0, 0, 0, 0, time.UTC)    // near the end of int64 ns
	midnight := time.Date(2016, 2, 13, 0, 0, 0, 0, time.UTC)
	null := parquet.NullValue()
	u := []byte{0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00}
	return []fixtureColumn{
		{name: "zeta ts_ms", node: parquet.Timestamp(parquet.Millisecond), optional: true, kind: Time,
			values: []parquet.Value{parquet.Int64Value(t0.UnixMilli()), null, parquet.Int64Value(t1.UnixMilli()), parquet.Int64Value(t2.UnixMilli())},
			want:   []any{t0.Truncate(time.Millisecond), nil, t1, t2}},
		{name: "ts_us_naive", node: parquet.TimestampAdjusted(parquet.Microsecond, false), kind: Time,
			values: []parquet.Value{parquet.Int64Value(t0.UnixMicro()), parquet.Int64Value(t1.UnixMicro()), parquet.Int64Value(0), parquet.Int64Value(t2.UnixMicro())},
			want:   []any{t0.Truncate(time.Microsecond), t1, time.Unix(0, 0).UTC(), t2}},
		{name: "ts_ns", node: parquet.Timestamp(parquet.Nanosecond), kind: Time,
			values: []parquet.Value{parquet.Int64Value(t0.UnixNano()), parquet.Int64Value(t1.UnixNano()), parquet.Int64Value(-1), parquet.Int64Value(t2.UnixNano())},
			want:   []any{t0, t1, time.Unix(0, -1).UTC(), t2}},
		{name: "ts_int96", node: parquet.Leaf(parquet.Int96Type), optional: true, kind: Time,
			values: []parquet.Value{parquet.Int96Value(int96Of(t0)), parquet.Int96Value(int96Of(t1)), null, parquet.Int96Value(int96Of(midnight))},
			want:   []any{t0, t1, nil, midnight}},
		{name: "date", node: parquet.Date(), optional: true, kind: Time,
			values: []parquet.Value{parquet.Int32Value(days(midnight)), parquet.Int32Value(-1), null, parquet.Int32Value(0)},
			want:   []any{midnight, time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), nil, time.Unix(0, 0).UTC()}},
		{name: "i32", node: parquet.Leaf(parquet.Int32Type), kind: Int,
			values: []parquet.Value{parquet.Int32Value(-7), parquet.Int32Value(0), parquet.Int32Value(math.MaxInt32), parquet.Int32Value(math.MinInt32)},
			want:   []any{int64(-7), int64(0), int64(math.MaxInt32), int64(math.MinInt32)}},
		{name: "i8", node: parquet.Int(8), kind: Int,
			values: []parquet.Value{parquet.Int32Value(-128), parquet.Int32Value(127), parquet.Int32Value(0), parquet.Int32Value(-1)},
			want:   []any{int64(-128), int64(127), int64(0), int64(-1)}},
		{name: "u16", node: parquet.Uint(16), optional: true, kind: Int,
			values: []parquet.Value{parquet.Int32Value(65535), null, parquet.Int32Value(1), parquet.Int32Value(300)},
			want:   []any{int64(65535), nil, int64(1), int64(300)}},
		{name: "u32", node: parquet.Uint(32), kind: Int,
			values: []parquet.Value{parquet.Int32Value(-1), parquet.Int32Value(0), parquet.Int32Value(math.MaxInt32), parquet.Int32Value(math.MinInt32)},
			want:   []any{int64(math.MaxUint32), int64(0), int64(math.MaxInt32), int64(1 << 31)}},
		{name: "u64", node: parquet.Uint(64), kind: Int,
			values: []parquet.Value{parquet.Int64Value(math.MaxInt64), parquet.Int64Value(0), parquet.Int64Value(42), parquet.Int64Value(1 << 40)},
			want:   []any{int64(math.MaxInt64), int64(0), int64(42), int64(1 << 40)}},
		{name: "i64_dict", node: parquet.Encoded(parquet.Int(64), &parquet.RLEDictionary), optional: true, kind: Int,
			values: []parquet.Value{parquet.Int64Value(5), parquet.Int64Value(-5), parquet.Int64Value(5), null},
			want:   []any{int64(5), int64(-5), int64(5), nil}},
		{name: "dec32", node: parquet.Decimal(2, 9, parquet.Int32Type), kind: Float,
			values: []parquet.Value{parquet.Int32Value(12345), parquet.Int32Value(-1), parquet.Int32Value(0), parquet.Int32Value(100)},
			want:   []any{123.45, -0.01, 0.0, 1.0}},
		{name: "dec64", node: parquet.Decimal(4, 18, parquet.Int64Type), optional: true, kind: Float,
			values: []parquet.Value{parquet.Int64Value(-98765), null, parquet.Int64Value(10000), parquet.Int64Value(1)},
			want:   []any{-9.8765, nil, 1.0, 0.0001}},
		{name: "dec_flba", node: parquet.Decimal(3, 20, parquet.FixedLenByteArrayType(9)), kind: Float,
			values: []parquet.Value{
				parquet.FixedLenByteArrayValue(beBytes(big.NewInt(-1234567), 9)),
				parquet.FixedLenByteArrayValue(beBytes(mustBig("100000000000000000000"), 9)),
				parquet.FixedLenByteArrayValue(beBytes(big.NewInt(1), 9)),
				parquet.FixedLenByteArrayValue(beBytes(mustBig("-100000000000000000000"), 9)),
			},
			want: []any{-1234.567, 1e17, 0.001, -1e17}},
		{name: "dec_bytes", node: parquet.Decimal(2, 10, parquet.ByteArrayType), kind: Float,
			values: []parquet.Value{
				parquet.ByteArrayValue(beBytes(big.NewInt(-5), 1)),
				parquet.ByteArrayValue(beBytes(big.NewInt(1000), 2)),
				parquet.ByteArrayValue(beBytes(big.NewInt(-32768), 2)),
				parquet.ByteArrayValue(beBytes(big.NewInt(255), 2)),
			},
			want: []any{-0.05, 10.0, -327.68, 2.55}},
		{name: "str_dict", node: parquet.Encoded(parquet.String(), &parquet.RLEDictionary), optional: true, kind: String,
			values: []parquet.Value{parquet.ByteArrayValue([]byte("apple")), null, parquet.ByteArrayValue([]byte("pear")), parquet.ByteArrayValue([]byte("apple"))},
			want:   []any{"apple", nil, "pear", "apple"}},
		{name: "str plain", node: parquet.String(), kind: String,
			values: []parquet.Value{parquet.ByteArrayValue([]byte("x")), parquet.ByteArrayValue([]byte("")), parquet.ByteArrayValue([]byte("y, z")), parquet.ByteArrayValue([]byte("é"))},
			want:   []any{"x", "", "y, z", "é"}},
		{name: "enum", node: parquet.Enum(), kind: String,
			values: []parquet.Value{parquet.ByteArrayValue([]byte("red")), parquet.ByteArrayValue([]byte("green")), parquet.ByteArrayValue([]byte("red")), parquet.ByteArrayValue([]byte("blue"))},
			want:   []any{"red", "green", "red", "blue"}},
		{name: "json", node: parquet.JSON(), optional: true, kind: String,
			values: []parquet.Value{parquet.ByteArrayValue([]byte(`{"a":1}`)), null, parquet.ByteArrayValue([]byte(`[]`)), null},
			want:   []any{`{"a":1}`, nil, `[]`, nil}},
		{name: "binary", node: parquet.Leaf(parquet.ByteArrayType), kind: String,
			values: []parquet.Value{parquet.ByteArrayValue([]byte("raw")), parquet.ByteArrayValue([]byte{0}), parquet.ByteArrayValue([]byte("raw")), parquet.ByteArrayValue(nil)},
			want:   []any{"raw", "\x00", "raw", ""}},
		{name: "uuid", node: parquet.UUID(), kind: String,
			values: []parquet.Value{parquet.FixedLenByteArrayValue(u), parquet.FixedLenByteArrayValue(make([]byte, 16)), parquet.FixedLenByteArrayValue(u), parquet.FixedLenByteArrayValue(u)},
			want:   []any{"123e4567-e89b-12d3-a456-426614174000", "00000000-0000-0000-0000-000000000000", "123e4567-e89b-12d3-a456-426614174000", "123e4567-e89b-12d3-a456-426614174000"}},
		{name: "f32", node: parquet.Leaf(parquet.FloatType), kind: Float,
			values: []parquet.Value{parquet.FloatValue(1.5), parquet.FloatValue(-0.25), parquet.FloatValue(float32(math.Inf(1))), parquet.FloatValue(0)},
			want:   []any{1.5, -0.25, math.Inf(1), 0.0}},
		{name: "f64_opt", node: parquet.Leaf(parquet.DoubleType), optional: true, kind: Float,
			values: []parquet.Value{parquet.DoubleValue(1.25), null, null, parquet.DoubleValue(-3e300)},
			want:   []any{1.25, nil, nil, -3e300}},
		{name: "f64_dict", node: parquet.Encoded(parquet.Leaf(parquet.DoubleType), &parquet.RLEDictionary), kind: Float,
			values: []parquet.Value{parquet.DoubleValue(0.5), parquet.DoubleValue(0.5), parquet.DoubleValue(2), parquet.DoubleValue(0.5)},
			want:   []any{0.5, 0.5, 2.0, 0.5}},
		{name: "b_opt", node: parquet.Leaf(parquet.BooleanType), optional: true, kind: Bool,
			values: []parquet.Value{parquet.BooleanValue(true), null, parquet.BooleanValue(false), parquet.BooleanValue(true)},
			want:   []any{true, nil, false, true}},
		{name: "time_ms", node: parquet.Time(parquet.Millisecond), kind: Int,
			values: []parquet.Value{parquet.Int32Value(3_600_000), parquet.Int32Value(0), parquet.Int32Value(1), parquet.Int32Value(86_399_999)},
			want:   []any{int64(3600e9), int64(0), int64(1e6), int64(86_399_999e6)}},
		{name: "all_null", node: parquet.Leaf(parquet.DoubleType), optional: true, kind: Float,
			values: []parquet.Value{null, null, null, null},
			want:   []any{nil, nil, nil, nil}},
	}
}

// writeFixture writes rows given column by column with parquet-go itself.
func writeFixture(t testing.TB, cols []fixtureColumn, opts ...parquet.WriterOption) []byte {
	t.Helper()
	g := &orderedGroup{}
	for _, c := range cols {
		node := c.node
		if c.optional {
			node = parquet.Optional(node)
		}
		g.fields = append(g.fields, &namedNode{Node: node, name: c.name})
	}
	var buf bytes.Buffer
	w := parquet.NewWriter(&buf, append([]parquet.WriterOption{parquet.NewSchema("schema", g)}, opts...)...)
	nrows := len(cols[0].values)
	rows := make([]parquet.Row, nrows)
	for i := range rows {
		for k, c := range cols {
			v := c.values[i]
			def := 0
			if !v.IsNull() && c.optional {
				def = 1
			}
			rows[i] = append(rows[i], v.Level(0, def, k))
		}
	}
	if _, err := w.WriteRows(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pagesFixture has several row groups of many small v1 data pages, the
// layout pyarrow writes, with nulls spread across page boundaries.
const (
	pagesRowGroups   = 3
	pagesGroupRows   = 1000
	pagesFixtureRows = pagesRowGroups * pagesGroupRows
)

func pagesFixtureWant(i int) (id int64, s any, x any, ts time.Time, b bool) {
	id = int64(i)
	if i%7 != 3 {
		s = []string{"alpha", "beta", "gamma", "delta", "epsilon"}[i%5]
	}
	if i%5 != 1 {
		x = float64(i) / 4
	}
	ts = fixtureT0.Truncate(time.Microsecond).Add(time.Duration(i) * time.Minute)
	b = i%3 == 0
	return
}

func pagesFixture() []fixtureColumn {
	cols := []fixtureColumn{
		{name: "id", node: parquet.Leaf(parquet.Int64Type), kind: Int},
		{name: "s", node: parquet.Encoded(parquet.String(), &parquet.RLEDictionary), optional: true, kind: String},
		{name: "x", node: parquet.Leaf(parquet.DoubleType), optional: true, kind: Float},
		{name: "ts", node: parquet.Timestamp(parquet.Microsecond), kind: Time},
		{name: "b", node: parquet.Leaf(parquet.BooleanType), kind: Bool},
	}
	for i := range pagesFixtureRows {
		id, s, x, ts, b := pagesFixtureWant(i)
		cols[0].values = append(cols[0].values, parquet.Int64Value(id))
		if s == nil {
			cols[1].values = append(cols[1].values, parquet.NullValue())
		} else {
			cols[1].values = append(cols[1].values, parquet.ByteArrayValue([]byte(s.(string))))
		}
		if x == nil {
			cols[2].values = append(cols[2].values, parquet.NullValue())
		} else {
			cols[2].values = append(cols[2].values, parquet.DoubleValue(x.(float64)))
		}
		cols[3].values = append(cols[3].values, parquet.Int64Value(ts.UnixMicro()))
		cols[4].values = append(cols[4].values, parquet.BooleanValue(b))
	}
	return cols
}

func nestedFixture(t testing.TB) []byte {
	type row struct {
		ID   int64    `parquet:"id"`
		Tags []string `parquet:"tags,list"`
	}
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[row](&buf)
	if _, err := w.Write([]row{{ID: 1, Tags: []string{"a", "b"}}, {ID: 2}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const fixtureDir = "testdata/parquet"

// TestGenerateFixtures rewrites the committed parquet fixtures when run with
// -update:
//
//	go test ./recipes/frame/ -run TestGenerateFixtures -update
func TestGenerateFixtures(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite testdata/parquet")
	}
	if err := os.MkdirAll(fixtureDir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"types.parquet": writeFixture(t, typeFixture(), parquet.Compression(&parquet.Snappy)),
		"pages_v1.parquet": writeFixture(t, pagesFixture(),
			parquet.DataPageVersion(1),
			parquet.PageBufferSize(512),
			parquet.MaxRowsPerRowGroup(pagesGroupRows),
			parquet.Compression(&parquet.Gzip)),
		"nested.parquet": nestedFixture(t),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(fixtureDir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
