package expr

import (
	"sync"
	"testing"

	"github.com/sous-ml/sous/recipes/frame"
)

const benchRows = 1_000_000

var benchFrame = sync.OnceValue(func() *frame.Frame { return nycFrame(benchRows) })

func benchEval(b *testing.B, src string, filter bool) {
	f := benchFrame()
	p, err := Compile(src, schemaOf(f))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		if filter {
			_, err = p.Filter(f)
		} else {
			_, err = p.Eval(f)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	rows := float64(b.N) * benchRows
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/rows, "ns/row")
	// Wall time suffers when the machine is shared; CPU time much less.
	if cpu := cpuTime() - cpu; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/rows, "cpu-ns/row")
	}
}

// Each benchmark reports ns/row, wall time per row, and cpu-ns/row, the CPU
// time per row (GC included), steadier when other work shares the machine.

// BenchmarkFilterNYC is the post_split_filter of the taxi example.
func BenchmarkFilterNYC(b *testing.B) { benchEval(b, nycFilter, true) }

// BenchmarkDeriveMinutes is the trip_duration derive of the taxi example.
func BenchmarkDeriveMinutes(b *testing.B) {
	benchEval(b, "minutes(tpep_dropoff_datetime - tpep_pickup_datetime)", false)
}

func BenchmarkDeriveHour(b *testing.B) { benchEval(b, "hour(tpep_pickup_datetime)", false) }

func BenchmarkDeriveDayOfWeek(b *testing.B) {
	benchEval(b, "day_of_week(tpep_pickup_datetime)", false)
}

func BenchmarkDeriveRatio(b *testing.B) {
	benchEval(b, "fare_amount / (trip_distance + 1)", false)
}

func BenchmarkFilterStringIn(b *testing.B) {
	benchEval(b, "borough in ('Queens', 'Bronx') && payment_type in (1, 2)", true)
}
