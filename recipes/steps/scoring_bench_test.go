package steps

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/sous-ml/sous/artifacts"
	"github.com/sous-ml/sous/artifacts/local"
	"github.com/sous-ml/sous/proto"
	"github.com/sous-ml/sous/recipes"
	"github.com/sous-ml/sous/recipes/frame"
	"github.com/sous-ml/sous/recipes/ml"
	"github.com/sous-ml/sous/worker"
)

// BenchmarkScoreShard measures one predict shard end to end on a worker:
// read 4 row groups of 64k rows from parquet, transform, score with a GBDT
// of 100 trees, write the part and store it. Reported as rows/s.
func BenchmarkScoreShard(b *testing.B) {
	const groupRows, groups = 65536, 4
	store, err := local.New(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	wenv := &worker.Env{Store: store, TempDir: b.TempDir()}
	data := benchFrame(groupRows*groups, 1)
	path := filepath.Join(b.TempDir(), "score.parquet")
	if err := frame.WriteParquetFileWith(path, data, frame.WriterOptions{RowGroupRows: groupRows}); err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}

	train := benchFrame(50_000, 2)
	tr, err := ml.FitTransformer(ml.TransformSpec{Target: "y", Groups: []ml.GroupSpec{
		{Columns: []string{"a", "b", "c"}, Transformer: "standard_scaler"},
		{Columns: []string{"zone"}, Transformer: "ordinal"},
	}}, train)
	if err != nil {
		b.Fatal(err)
	}
	X, err := tr.Transform(train)
	if err != nil {
		b.Fatal(err)
	}
	est, err := ml.NewEstimator("gbdt", map[string]any{"n_estimators": 100, "early_stopping": false})
	if err != nil {
		b.Fatal(err)
	}
	y, _ := train.Col("y")
	if err := est.Fit(X, y.Floats); err != nil {
		b.Fatal(err)
	}
	bundle, err := ml.NewBundle(recipes.TemplateRegression, "y", tr, est)
	if err != nil {
		b.Fatal(err)
	}
	var mb bytes.Buffer
	if err := bundle.Encode(&mb); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	model, _, err := artifacts.PutBlob(ctx, wenv.Store, bytes.NewReader(mb.Bytes()))
	if err != nil {
		b.Fatal(err)
	}
	groupsRows := make([]int64, groups)
	for i := range groupsRows {
		groupsRows[i] = groupRows
	}
	reading, _ := json.Marshal(recipes.IngestSettings{Using: recipes.FormatParquet})
	ds, _ := json.Marshal(proto.Dataset{Schema: proto.SchemaVersion, Reading: reading, Columns: columnsOf(data.Schema()),
		Rows: int64(data.Len()), Files: []proto.DatasetFile{{
			Source: proto.Source{Name: "score.parquet", URI: path, Size: fi.Size()}, Rows: int64(data.Len()), RowGroups: groupsRows}}})
	dsDigest, _, err := artifacts.PutBlob(ctx, wenv.Store, bytes.NewReader(ds))
	if err != nil {
		b.Fatal(err)
	}
	job := &proto.Job{Schema: proto.SchemaVersion, RunID: "bench", Step: "predict", CacheKey: "k",
		Inputs: map[string]proto.ArtifactRef{"model": {Digest: model}, "scoring_dataset": {Digest: dsDigest}},
		Shard:  &proto.Shard{Count: 1, RowGroups: groups, Rows: int64(data.Len())}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := scoreShard(ctx, job, &recipes.PredictSettings{}, wenv); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(data.Len())*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// benchFrame is n rows of three numeric features, a zone code and a target.
func benchFrame(n int, seed uint64) *frame.Frame {
	r := rand.New(rand.NewPCG(seed, 7))
	a, bb, c, y := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	zone := make([]int64, n)
	for i := range n {
		a[i], bb[i], c[i] = r.NormFloat64(), r.ExpFloat64(), r.Float64()*10
		zone[i] = r.Int64N(260)
		y[i] = 3*a[i] + bb[i]*bb[i] - c[i] + float64(zone[i]%7) + r.NormFloat64()
	}
	return &frame.Frame{Cols: []*frame.Column{
		frame.NewFloatColumn("a", a), frame.NewFloatColumn("b", bb), frame.NewFloatColumn("c", c),
		frame.NewIntColumn("zone", zone), frame.NewFloatColumn("y", y),
	}}
}
