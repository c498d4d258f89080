package frame

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

const benchRows = 1_000_000

// benchFrame has 8 columns: a timestamp, a dictionary string, three floats
// (one with nulls), two ints and a bool.
func benchFrame(n int) *Frame {
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	ts := make([]int64, n)
	vendor := make([]int32, n)
	dist, fare, tip := make([]float64, n), make([]float64, n), make([]float64, n)
	tipValid := make([]bool, n)
	zip, pax := make([]int64, n), make([]int64, n)
	flag := make([]bool, n)
	for i := range n {
		ts[i] = t0 + int64(i)*int64(time.Second) + rng.Int64N(int64(time.Second))
		vendor[i] = int32(rng.IntN(40))
		dist[i] = rng.Float64() * 20
		fare[i] = float64(rng.IntN(10000)) / 100
		tip[i] = rng.Float64() * 5
		tipValid[i] = rng.IntN(10) != 0
		zip[i] = 10000 + rng.Int64N(1500)
		pax[i] = rng.Int64N(6)
		flag[i] = rng.IntN(2) == 0
	}
	dict := make([]string, 40)
	for i := range dict {
		dict[i] = "vendor-" + strconv.Itoa(i)
	}
	return &Frame{Cols: []*Column{
		{Name: "pickup", Kind: Time, Ints: ts},
		{Name: "vendor", Kind: String, Codes: vendor, Dict: dict},
		{Name: "distance", Kind: Float, Floats: dist},
		{Name: "fare", Kind: Float, Floats: fare},
		{Name: "tip", Kind: Float, Floats: tip, Valid: tipValid},
		{Name: "zip", Kind: Int, Ints: zip},
		{Name: "passengers", Kind: Int, Ints: pax},
		{Name: "flag", Kind: Bool, Bools: flag},
	}}
}

var benchData struct {
	once    sync.Once
	frame   *Frame
	parquet []byte
	csv     []byte
}

func loadBenchData(b *testing.B) {
	benchData.once.Do(func() {
		benchData.frame = benchFrame(benchRows)
		var buf bytes.Buffer
		w, err := NewParquetWriter(&buf, benchData.frame.Schema(), WriterOptions{})
		if err != nil {
			panic(err)
		}
		if err := w.Write(benchData.frame); err != nil {
			panic(err)
		}
		if err := w.Close(); err != nil {
			panic(err)
		}
		benchData.parquet = buf.Bytes()
		var cbuf bytes.Buffer
		if err := WriteCSV(&cbuf, benchData.frame.Head(benchRows/10)); err != nil {
			panic(err)
		}
		benchData.csv = cbuf.Bytes()
	})
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rowMeter reports rows per second of wall time and of CPU time: the
// machines benchmarks run on are shared, so wall time can mislead.
type rowMeter struct {
	b    *testing.B
	rows int
	cpu0 time.Duration
}

func startRows(b *testing.B, rows int) *rowMeter {
	b.ReportAllocs()
	return &rowMeter{b: b, rows: rows, cpu0: cpuTime()}
}

func (m *rowMeter) stop() {
	n := float64(m.rows) * float64(m.b.N)
	m.b.ReportMetric(n/m.b.Elapsed().Seconds(), "rows/s")
	if cpu := cpuTime() - m.cpu0; cpu > 0 {
		m.b.ReportMetric(n/cpu.Seconds(), "rows/cpu-s")
		m.b.ReportMetric(float64(cpu.Milliseconds())/float64(m.b.N), "cpu-ms/op")
	}
}

func BenchmarkReadParquet(b *testing.B) {
	loadBenchData(b)
	path := filepath.Join(b.TempDir(), "bench.parquet")
	if err := os.WriteFile(path, benchData.parquet, 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(benchData.parquet)))
	m := startRows(b, benchRows)
	for b.Loop() {
		r, err := OpenParquetFile(path)
		if err != nil {
			b.Fatal(err)
		}
		rows := 0
		for i := range r.NumRowGroups() {
			f, err := r.ReadRowGroup(i, nil)
			if err != nil {
				b.Fatal(err)
			}
			rows += f.Len()
		}
		r.Close()
		if rows != benchRows {
			b.Fatalf("read %d rows", rows)
		}
	}
	m.stop()
}

func BenchmarkWriteParquet(b *testing.B) {
	loadBenchData(b)
	b.SetBytes(int64(len(benchData.parquet)))
	var buf bytes.Buffer
	buf.Grow(2 * len(benchData.parquet))
	m := startRows(b, benchRows)
	for b.Loop() {
		buf.Reset()
		w, err := NewParquetWriter(&buf, benchData.frame.Schema(), WriterOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if err := w.Write(benchData.frame); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	m.stop()
}

func BenchmarkReadCSV(b *testing.B) {
	loadBenchData(b)
	b.SetBytes(int64(len(benchData.csv)))
	m := startRows(b, benchRows/10)
	for b.Loop() {
		f, err := ReadCSV(bytes.NewReader(benchData.csv), "bench.csv", CSVOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if f.Len() != benchRows/10 {
			b.Fatalf("read %d rows", f.Len())
		}
	}
	m.stop()
}
