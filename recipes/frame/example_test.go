package frame_test

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"strings"
	"time"

	"github.com/sous-ml/sous/recipes/frame"
)

// Read a CSV file, write it as parquet, and stream it back a row group at a time.
func Example() {
	in := "city,trips,fare,pickup\n" +
		"NYC,3,12.5,2016-02-13 21:47:53\n" +
		"SF,,8,2016-02-14 08:00:00\n"
	f, err := frame.ReadCSV(strings.NewReader(in), "trips.csv", frame.CSVOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(f.Schema())

	var buf bytes.Buffer
	w, err := frame.NewParquetWriter(&buf, f.Schema(), frame.WriterOptions{RowGroupRows: 1})
	if err != nil {
		log.Fatal(err)
	}
	if err := w.Write(f); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	r, err := frame.OpenParquet(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "trips.parquet")
	if err != nil {
		log.Fatal(err)
	}
	for {
		batch, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		pickup, _ := batch.Col("pickup")
		fmt.Println(batch.Cols[0].Value(0), batch.Cols[1].Value(0), batch.Cols[2].Value(0),
			pickup.Value(0).(time.Time).Format(time.DateTime))
	}
	// Output:
	// [city:string trips:int fare:float pickup:timestamp]
	// NYC 3 12.5 2016-02-13 21:47:53
	// SF <nil> 8 2016-02-14 08:00:00
}

func ExampleParquetReader_Next() {
	f := &frame.Frame{Cols: []*frame.Column{frame.NewIntColumn("id", []int64{1, 2, 3})}}
	var buf bytes.Buffer
	w, _ := frame.NewParquetWriter(&buf, f.Schema(), frame.WriterOptions{RowGroupRows: 2})
	w.Write(f)
	w.Close()
	r, _ := frame.OpenParquet(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "ids.parquet")
	for {
		batch, err := r.Next()
		if err != nil {
			break // io.EOF after the last row group
		}
		fmt.Println(batch.Len(), batch.Cols[0].Ints)
	}
	// Output:
	// 2 [1 2]
	// 1 [3]
}
