package frame

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func readCSVString(t testing.TB, s string, opts CSVOptions) *Frame {
	t.Helper()
	f, err := ReadCSV(strings.NewReader(s), "inline.csv", opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestReadCSVIris(t *testing.T) {
	t.Parallel()
	f, err := ReadCSVFile(sharedData(t, "iris/iris.csv"), CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Field{{"sepal length", Float}, {"sepal width", Float}, {"petal length", Float}, {"petal width", Float}, {"class", String}}
	if !reflect.DeepEqual(f.Schema(), want) {
		t.Fatalf("schema %v, want %v", f.Schema(), want)
	}
	if f.Len() != 150 {
		t.Fatalf("%d rows, want 150", f.Len())
	}
	class, _ := f.Col("class")
	if !reflect.DeepEqual(class.Dict, []string{"setosa", "versicolor", "virginica"}) {
		t.Errorf("classes %v", class.Dict)
	}
	got := []any{f.Cols[0].Value(0), f.Cols[1].Value(0), f.Cols[2].Value(0), f.Cols[3].Value(0), class.Value(0), f.Cols[0].Value(149), class.Value(149)}
	wantRow := []any{5.1, 3.5, 1.4, 0.2, "setosa", 5.9, "virginica"}
	if !reflect.DeepEqual(got, wantRow) {
		t.Errorf("values %v, want %v", got, wantRow)
	}
}

func TestReadCSVWineQuality(t *testing.T) {
	t.Parallel()
	f, err := ReadCSVFile(sharedData(t, "wine-quality/winequality-red.csv"), CSVOptions{Sep: ';'})
	if err != nil {
		t.Fatal(err)
	}
	if f.Len() != 1599 || len(f.Cols) != 12 {
		t.Fatalf("%d rows, %d columns", f.Len(), len(f.Cols))
	}
	if f.Cols[0].Name != "fixed acidity" || f.Cols[0].Kind != Float {
		t.Errorf("first column %s", f.Schema()[0])
	}
	// Whole numbers only: pandas reads these as int64 too.
	for _, name := range []string{"quality"} {
		if c, _ := f.Col(name); c.Kind != Int {
			t.Errorf("%s is %s, want int", name, c.Kind)
		}
	}
	q, _ := f.Col("quality")
	alcohol, _ := f.Col("alcohol")
	if q.Value(0) != int64(5) || alcohol.Value(0) != 9.4 || q.Value(1598) != int64(6) || alcohol.Value(1598) != 11.0 {
		t.Errorf("row 0: quality %v alcohol %v; last: quality %v alcohol %v", q.Value(0), alcohol.Value(0), q.Value(1598), alcohol.Value(1598))
	}

	// With the default separator the quoted header is malformed.
	path := sharedData(t, "wine-quality/winequality-red.csv")
	_, err = ReadCSVFile(path, CSVOptions{})
	if err == nil || !strings.HasPrefix(err.Error(), "frame: read csv "+path+": line 1: ") {
		t.Errorf("comma-separated read: %v", err)
	}
}

func TestReadCSVPandasIndex(t *testing.T) {
	t.Parallel()
	f, err := ReadCSVFile(sharedData(t, "wine-quality/winequality.csv"), CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Cols[0].Name != "Unnamed: 0" || f.Cols[0].Kind != Int || f.Cols[len(f.Cols)-1].Name != "is_red" {
		t.Fatalf("schema %v", f.Schema())
	}
	if f.Len() != 6497 || f.Cols[0].Value(6496) != int64(4897) {
		t.Fatalf("%d rows, last index %v", f.Len(), f.Cols[0].Value(f.Len()-1))
	}
	// "11.0" style values make free sulfur dioxide a float column.
	if c, _ := f.Col("free sulfur dioxide"); c.Kind != Float {
		t.Errorf("free sulfur dioxide is %s", c.Kind)
	}
}

func TestReadCSVInference(t *testing.T) {
	t.Parallel()
	in := ",an int,a float,flag,when,day,text,empty,mixed num\n" +
		"0,1,1.5,true,2016-02-13T21:47:53Z,2016-02-13,hello,,1\n" +
		"1,-2,,False,2016-02-13 21:47:53,2016-02-14,\"with, comma\",NA,2.5\n" +
		"2,,3,TRUE,2016-02-13T21:47:53.5+01:00,,\"line\nbreak\",,\n" +
		"3,NaN,-1e3,null,None,2016-02-15,\"quote \"\"x\"\"\",None,7\n"
	f := readCSVString(t, in, CSVOptions{})
	wantSchema := []Field{{"Unnamed: 0", Int}, {"an int", Int}, {"a float", Float}, {"flag", Bool}, {"when", Time}, {"day", Time}, {"text", String}, {"empty", Float}, {"mixed num", Float}}
	if !reflect.DeepEqual(f.Schema(), wantSchema) {
		t.Fatalf("schema %v,\nwant %v", f.Schema(), wantSchema)
	}
	t0 := time.Date(2016, 2, 13, 21, 47, 53, 0, time.UTC)
	want := [][]any{
		{int64(0), int64(1), 1.5, true, t0, time.Date(2016, 2, 13, 0, 0, 0, 0, time.UTC), "hello", nil, 1.0},
		{int64(1), int64(-2), nil, false, t0, time.Date(2016, 2, 14, 0, 0, 0, 0, time.UTC), "with, comma", nil, 2.5},
		{int64(2), nil, 3.0, true, time.Date(2016, 2, 13, 20, 47, 53, 5e8, time.UTC), nil, "line\nbreak", nil, nil},
		{int64(3), nil, -1000.0, nil, nil, time.Date(2016, 2, 15, 0, 0, 0, 0, time.UTC), `quote "x"`, nil, 7.0},
	}
	for i, row := range want {
		for k, w := range row {
			if got := f.Cols[k].Value(i); !sameValue(got, w) {
				t.Errorf("row %d %s: %v, want %v", i, f.Cols[k].Name, got, w)
			}
		}
	}
}

func TestReadCSVOptions(t *testing.T) {
	t.Parallel()
	t.Run("schema", func(t *testing.T) {
		t.Parallel()
		f := readCSVString(t, "zip\tscore\n07002\t1\n10003\t\n", CSVOptions{Sep: '\t', Schema: map[string]Kind{"zip": String, "score": Float}})
		if !reflect.DeepEqual(f.Schema(), []Field{{"zip", String}, {"score", Float}}) {
			t.Fatalf("schema %v", f.Schema())
		}
		if f.Cols[0].Value(0) != "07002" || f.Cols[1].Value(0) != 1.0 || f.Cols[1].Value(1) != nil {
			t.Errorf("values %v %v %v", f.Cols[0].Value(0), f.Cols[1].Value(0), f.Cols[1].Value(1))
		}
	})
	t.Run("no header", func(t *testing.T) {
		t.Parallel()
		f := readCSVString(t, "1,a\n2,b\n", CSVOptions{NoHeader: true})
		if !reflect.DeepEqual(f.Schema(), []Field{{"0", Int}, {"1", String}}) || f.Len() != 2 {
			t.Fatalf("schema %v, %d rows", f.Schema(), f.Len())
		}
	})
	t.Run("duplicate names and BOM", func(t *testing.T) {
		t.Parallel()
		f := readCSVString(t, "\xef\xbb\xbfa,a,b,a,\n1,2,3,4,5\n", CSVOptions{})
		if got := f.Names(); !reflect.DeepEqual(got, []string{"a", "a.1", "b", "a.2", "Unnamed: 4"}) {
			t.Fatalf("names %q", got)
		}
	})
	t.Run("header only", func(t *testing.T) {
		t.Parallel()
		f := readCSVString(t, "a,b\n", CSVOptions{})
		if f.Len() != 0 || len(f.Cols) != 2 {
			t.Fatalf("%v, %d rows", f.Schema(), f.Len())
		}
	})
	t.Run("windows line endings", func(t *testing.T) {
		t.Parallel()
		f := readCSVString(t, "a,b\r\n1,x\r\n2,y\r\n", CSVOptions{})
		if f.Cols[1].Value(1) != "y" || f.Cols[0].Value(1) != int64(2) {
			t.Fatalf("values %v %v", f.Cols[0].Value(1), f.Cols[1].Value(1))
		}
	})
}

func TestReadCSVErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		opts     CSVOptions
		want     string
	}{
		{"short row", "a,b\n1,2\n3\n4,5\n", CSVOptions{}, "frame: read csv data/x.csv: line 3: 1 fields, want 2"},
		{"long row after quoted newline", "a,b\n\"1\n2\",3\n4,5,6\n", CSVOptions{}, "frame: read csv data/x.csv: line 4: 3 fields, want 2"},
		{"bad quote", "a,b\n1,\"x\"y\n", CSVOptions{}, "frame: read csv data/x.csv: line 2: extraneous or missing \" in quoted-field"},
		{"override", "a,b\n1,2\n3,x\n", CSVOptions{Schema: map[string]Kind{"b": Int}}, `frame: read csv data/x.csv: column "b", row 2 (line 3): cannot parse "x" as int`},
		{"override time", "when\n2016-01-01\nyesterday\n", CSVOptions{Schema: map[string]Kind{"when": Time}}, `frame: read csv data/x.csv: column "when", row 2 (line 3): cannot parse "yesterday" as timestamp`},
		{"unknown override", "a\n1\n", CSVOptions{Schema: map[string]Kind{"b": Int}}, `frame: read csv data/x.csv: schema names column "b", which the file lacks (have "a")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadCSV(strings.NewReader(tc.in), "data/x.csv", tc.opts)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error %v,\nwant %s", err, tc.want)
			}
		})
	}
	if _, err := ReadCSVFile("testdata/nope.csv", CSVOptions{}); err == nil || !strings.HasPrefix(err.Error(), "frame: read csv testdata/nope.csv: ") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestCSVRoundtrip(t *testing.T) {
	t.Parallel()
	f := allKindsFrame(100)
	// CSV cannot tell an empty string from a null: drop the "" dictionary entry.
	mid := f.Cols[2]
	for i, c := range mid.Codes {
		if mid.Dict[c] == "" {
			mid.Valid[i] = false
			mid.Codes[i] = 0
		}
	}
	f.Cols[0].Floats[7] = 1e-300
	f.Cols[0].Floats[8] = math.MaxFloat64
	var buf bytes.Buffer
	if err := WriteCSV(&buf, f); err != nil {
		t.Fatal(err)
	}
	head := strings.SplitN(buf.String(), "\n", 3)
	if head[0] != "zeta,alpha,mid,Bool col,ts" {
		t.Fatalf("header %q", head[0])
	}
	// Row 0 has a null in column 0 only ((0+0)%11 == 0).
	if head[1] != ",-1099511627776,red,true,2016-02-13T21:47:53.123456789Z" {
		t.Fatalf("first row %q", head[1])
	}
	got := readCSVString(t, buf.String(), CSVOptions{})
	assertSameFrame(t, got, f)
}
