package expr_test

import (
	"fmt"
	"time"

	"github.com/sous-ml/sous/recipes/expr"
	"github.com/sous-ml/sous/recipes/frame"
)

func Example() {
	at := func(hh, mm int) int64 { return time.Date(2016, 1, 1, hh, mm, 0, 0, time.UTC).UnixNano() }
	f := &frame.Frame{Cols: []*frame.Column{
		{Name: "fare_amount", Kind: frame.Float, Floats: []float64{12.5, -3, 52, 0}, Valid: []bool{true, true, true, false}},
		{Name: "trip_distance", Kind: frame.Float, Floats: []float64{2.1, 0.4, 9.5, 1}},
		{Name: "tpep_pickup_datetime", Kind: frame.Time, Ints: []int64{at(8, 0), at(9, 30), at(23, 50), at(12, 0)}},
		{Name: "tpep_dropoff_datetime", Kind: frame.Time, Ints: []int64{at(8, 12), at(9, 35), at(23, 59), at(12, 30)}},
	}}
	schema := map[string]frame.Kind{}
	for _, c := range f.Cols {
		schema[c.Name] = c.Kind
	}

	// A post_split_filter: a bool program; Filter counts null as false.
	filter, err := expr.Compile("fare_amount > 0 && fare_amount < 1000 && trip_distance > 0 && trip_distance < 400", schema)
	if err != nil {
		panic(err)
	}
	keep, err := filter.Filter(f)
	if err != nil {
		panic(err)
	}
	fmt.Println("keep:", keep)

	// A derive: a new column, named by the caller.
	derive, err := expr.Compile("minutes(tpep_dropoff_datetime - tpep_pickup_datetime)", schema)
	if err != nil {
		panic(err)
	}
	col, err := derive.Eval(f)
	if err != nil {
		panic(err)
	}
	col.Name = "trip_duration"
	fmt.Println(col.Name, derive.Type(), derive.Columns(), col.Floats)

	// Mistakes point at the source.
	_, err = expr.Compile("fare_amout > 0", schema)
	fmt.Println(err)
	_, err = expr.Compile("tpep_dropoff_datetime - tpep_pickup_datetime", schema)
	fmt.Println(err)
	// Output:
	// keep: [true false true false]
	// trip_duration float [tpep_dropoff_datetime tpep_pickup_datetime] [12 5 9 30]
	// expr: 1:1: unknown column "fare_amout" (did you mean "fare_amount"?)
	// expr: 1:1: the expression yields a duration, which no column can hold: wrap the duration in seconds(), minutes(), hours() or days()
}
