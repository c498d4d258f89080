package cards

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sous-ml/sous/recipes/frame"
)

var update = flag.Bool("update", false, "rewrite testdata/sample_card.html")

// rng is a tiny deterministic generator for test data (stable across Go versions).
type rng struct{ state uint64 }

func (r *rng) uint64() uint64 { r.state++; return splitmix(r.state) }

// float returns a uniform value in [0, 1).
func (r *rng) float() float64 { return float64(r.uint64()>>11) / (1 << 53) }

// norm returns a standard normal value (Box-Muller).
func (r *rng) norm() float64 {
	u := r.float()
	if u == 0 {
		u = 1e-12
	}
	return math.Sqrt(-2*math.Log(u)) * math.Cos(2*math.Pi*r.float())
}

// smallFrame has one column of each kind, nulls, a NaN, a duplicated dictionary
// entry and hostile names and values.
func smallFrame() *frame.Frame {
	return &frame.Frame{Cols: []*frame.Column{
		{Name: "price", Kind: frame.Float, Floats: []float64{1, 2, 3, 4, 0, math.NaN()},
			Valid: []bool{true, true, true, true, false, true}},
		{Name: "qty", Kind: frame.Int, Ints: []int64{5, 5, 7, 0, 9, 5}},
		{Name: "ok", Kind: frame.Bool, Bools: []bool{true, false, true, false, true, false},
			Valid: []bool{true, true, true, true, true, false}},
		{Name: "city", Kind: frame.String, Codes: []int32{0, 1, 2, 0, 3, 4},
			Dict:  []string{"a", "<script>alert(1)</script>", "a", "", "c"},
			Valid: []bool{true, true, true, true, true, false}},
		{Name: "ts", Kind: frame.Time, Ints: []int64{
			time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano(),
			time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).UnixNano(),
			time.Date(2023, 12, 31, 23, 59, 59, 0, time.UTC).UnixNano(),
			0, 0, 0,
		}, Valid: []bool{true, true, true, false, false, false}},
		{Name: `<img src=x onerror="alert(1)">`, Kind: frame.Float, Floats: make([]float64, 6)},
	}}
}

func TestProfileSmallFrame(t *testing.T) {
	t.Parallel()
	ps := Profile(smallFrame())
	if len(ps) != 6 {
		t.Fatalf("got %d column profiles, want 6", len(ps))
	}
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}

	price := ps[0]
	if price.Rows != 6 || price.Nulls != 1 || price.NonFinite != 1 || price.Count != 4 {
		t.Errorf("price counts: rows %d nulls %d nonfinite %d count %d, want 6 1 1 4",
			price.Rows, price.Nulls, price.NonFinite, price.Count)
	}
	near("price mean", price.Mean, 2.5)
	near("price std", price.Std, math.Sqrt(5.0/3))
	near("price min", price.Min, 1)
	near("price max", price.Max, 4)
	near("price median", price.Median, 2.5)
	near("price p25", price.P25, 1.75)
	if price.Distinct != 4 || !price.DistinctExact || price.Sampled {
		t.Errorf("price distinct %d exact %v sampled %v, want 4 true false", price.Distinct, price.DistinctExact, price.Sampled)
	}
	if sum(price.Hist) != 4 {
		t.Errorf("price histogram holds %d values, want 4", sum(price.Hist))
	}

	qty := ps[1]
	near("qty mean", qty.Mean, 31.0/6)
	if qty.Distinct != 4 || qty.Zeros != 1 || qty.Nulls != 0 {
		t.Errorf("qty distinct %d zeros %d nulls %d, want 4 1 0", qty.Distinct, qty.Zeros, qty.Nulls)
	}
	if len(qty.Hist) != 10 || qty.Hist[0] != 1 || qty.Hist[5] != 3 { // one bin per integer 0..9
		t.Errorf("qty histogram = %v, want one bin per value from 0 to 9", qty.Hist)
	}

	ok := ps[2]
	near("ok share true", ok.Mean, 0.6)
	if ok.Nulls != 1 || ok.Distinct != 2 || fmt.Sprint(ok.Top) != "[{true 3} {false 2}]" {
		t.Errorf("ok: nulls %d distinct %d top %v", ok.Nulls, ok.Distinct, ok.Top)
	}

	city := ps[3]
	if city.Nulls != 1 || city.Distinct != 3 || !city.DistinctExact || city.Empty != 1 || city.Count != 5 {
		t.Errorf("city: nulls %d distinct %d exact %v empty %d count %d, want 1 3 true 1 5",
			city.Nulls, city.Distinct, city.DistinctExact, city.Empty, city.Count)
	}
	if got, want := fmt.Sprint(city.Top), "[{a 3} { 1} {<script>alert(1)</script> 1}]"; got != want {
		t.Errorf("city top = %s, want %s", got, want)
	}

	ts := ps[4]
	if ts.Nulls != 3 || ts.Distinct != 3 ||
		!ts.MinTime.Equal(time.Date(2023, 12, 31, 23, 59, 59, 0, time.UTC)) ||
		!ts.MaxTime.Equal(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("ts: nulls %d distinct %d min %v max %v", ts.Nulls, ts.Distinct, ts.MinTime, ts.MaxTime)
	}

	zero := ps[5]
	if zero.Zeros != 6 || zero.Std != 0 || zero.Distinct != 1 || len(zero.Hist) != 1 || zero.Hist[0] != 6 {
		t.Errorf("constant column: zeros %d std %v distinct %d hist %v", zero.Zeros, zero.Std, zero.Distinct, zero.Hist)
	}
}

func sum(xs []int) int {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s
}

func TestProfileSampled(t *testing.T) {
	t.Parallel()
	const n = 250_000
	r := &rng{1}
	xs := make([]float64, n)
	ids := make([]int64, n)
	for i := range xs {
		xs[i] = r.float() * 100
		ids[i] = int64(i % 60_000)
	}
	f := &frame.Frame{Cols: []*frame.Column{
		{Name: "u", Kind: frame.Float, Floats: xs},
		{Name: "id", Kind: frame.Int, Ints: ids},
	}}
	ps := Profile(f)
	u, id := ps[0], ps[1]
	if !u.Sampled || u.SampleRows != DefaultSampleRows || u.DistinctExact {
		t.Errorf("u: sampled %v rows %d exact %v", u.Sampled, u.SampleRows, u.DistinctExact)
	}
	if math.Abs(u.Median-50) > 1 || math.Abs(u.P95-95) > 1 || math.Abs(u.Mean-50) > 0.5 {
		t.Errorf("u: median %v p95 %v mean %v, want about 50, 95, 50", u.Median, u.P95, u.Mean)
	}
	if sum(u.Hist) != n {
		t.Errorf("u histogram holds %d values, want every row (%d)", sum(u.Hist), n)
	}
	if rel := math.Abs(float64(u.Distinct)-n) / n; rel > 0.03 {
		t.Errorf("u distinct ≈ %d, want about %d", u.Distinct, n)
	}
	if rel := math.Abs(float64(id.Distinct)-60_000) / 60_000; rel > 0.03 {
		t.Errorf("id distinct ≈ %d, want about 60000", id.Distinct)
	}
}

// sampleCard builds a card that uses every section kind.
func sampleCard() *Card {
	r := &rng{42}
	const n = 5000
	dist, fare, pred := make([]float64, n), make([]float64, n), make([]float64, n)
	pax := make([]int64, n)
	zips := make([]int32, n)
	airport := make([]bool, n)
	pickup := make([]int64, n)
	fareValid := make([]bool, n)
	t0 := time.Date(2016, 2, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		dist[i] = math.Exp(r.norm()*0.8 + 0.6)
		fare[i] = 2.5 + 2.6*dist[i] + r.norm()*1.5
		pred[i] = 2.7 + 2.5*dist[i] + r.norm()*0.8
		pax[i] = 1 + int64(r.uint64()%6)*int64(r.uint64()%2)
		zips[i] = int32(float64(6) * r.float() * r.float())
		airport[i] = r.float() < 0.08
		pickup[i] = t0.Add(time.Duration(r.float() * float64(29*24*time.Hour))).UnixNano()
		fareValid[i] = i%97 != 5
	}
	f := &frame.Frame{Cols: []*frame.Column{
		{Name: "trip_distance", Kind: frame.Float, Floats: dist},
		{Name: "fare_amount", Kind: frame.Float, Floats: fare, Valid: fareValid},
		{Name: "passenger_count", Kind: frame.Int, Ints: pax},
		{Name: "pickup_zip", Kind: frame.String, Codes: zips,
			Dict: []string{"10001", "10003", "10011", "10019", "10036", "<script>alert('x')</script>"}},
		{Name: "is_airport", Kind: frame.Bool, Bools: airport},
		{Name: "tpep_pickup_datetime", Kind: frame.Time, Ints: pickup},
	}}
	resid := make([]float64, n)
	for i := range resid {
		resid[i] = fare[i] - pred[i]
	}
	resid[7] = math.NaN()
	zips[0] = 5

	c := New("train", "Train model")
	c.RunID = "r-20240301-7f3a"
	c.CacheKey = "sha256:9c1e2d4a5b6f0718293a4b5c6d7e8f9012345678"
	c.Created = time.Date(2024, 3, 1, 12, 30, 0, 0, time.UTC)
	c.Duration = 12345 * time.Millisecond
	c.Status = StatusSucceeded
	c.AddSummary(
		KV{"estimator", "gradient boosted trees"},
		KV{"target", "fare_amount"},
		KV{"training rows", FormatCount(1203130)},
		KV{"validation rows", FormatCount(150391)},
		KV{"features", "6"},
	).
		AddWarning("1,204 rows with null target dropped").
		AddMetrics("Metrics", map[string]float64{
			"training_root_mean_squared_error": 1.5012, "val_root_mean_squared_error": 1.6231, "test_root_mean_squared_error": 1.6402,
			"training_mean_absolute_error": 1.1012, "val_mean_absolute_error": 1.2233, "test_mean_absolute_error": 1.24,
			"training_r2_score": 0.97123, "val_r2_score": 0.96012, "test_r2_score": 0.95899,
			"training_max_error": 41.2, "val_max_error": 38.7, "test_max_error": math.Inf(1),
			"val_mean_absolute_percentage_error": math.NaN(),
			"training_example_count":             1203130, "val_example_count": 150391, "test_example_count": 150391,
			"training_time_seconds": 12.3,
		}).
		AddScatter("Predicted vs actual (validation)", fare, pred, "actual fare", "predicted fare", WithIdentityLine()).
		AddHistogram("Residuals (validation)", resid, 40).
		AddBars("Feature importance", []string{"trip_distance", "pickup_hour", "is_airport", "pickup_zip", "passenger_count", "day_of_week"},
			[]float64{0.71, 0.11, 0.08, 0.05, 0.03, 0.02}).
		AddProfile("training data", f).
		AddSchema(f).
		AddPreview(f, 8).
		AddTable("Hyperparameters", []string{"name", "value"}, [][]string{
			{"learning_rate", "0.1"}, {"max_depth", "6"}, {"n_estimators", "300"}, {"loss", "squared_error"}}).
		AddText("Estimator", "GradientBoostingRegressor(\n  learning_rate=0.1,\n  max_depth=6,\n  n_estimators=300,\n)")
	return c
}

func TestHTMLSections(t *testing.T) {
	t.Parallel()
	doc := string(sampleCard().HTML())
	for _, want := range []string{
		"<!DOCTYPE html>", "<style>", ">sous<", ">train<", ">Train model<", `class="badge ok">succeeded<`,
		"12.3s", ">9c1e2d4a5b6f<", "r-20240301-7f3a", "2024-03-01 12:30:00Z",
		"1,204 rows with null target dropped", "gradient boosted trees", "1,203,130",
		"Profile: training data", "Numeric columns", "Categorical columns", "Time columns",
		"Schema", "Preview", "Hyperparameters", "squared_error", "GradientBoostingRegressor(\n  learning_rate=0.1",
		"Predicted vs actual (validation)", "Residuals (validation)", "Feature importance",
		"<th class=\"n\">training</th><th class=\"n\">validation</th><th class=\"n\">test</th>",
		">root_mean_squared_error<", ">1.6231<", ">0.97123<", ">+Inf<", ">NaN<", ">time_seconds<",
		"passenger_count", "fare_amount", "5,000 rows × 6 columns", `class="spark"`, `class="ref"`,
		`<a href="#s1">`, `id="s1"`,
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if strings.Contains(doc, "<script") {
		t.Error("HTML contains a <script element")
	}
	if !strings.Contains(doc, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;") {
		t.Error("HTML lacks the escaped script value")
	}
}

func TestHTMLEscapes(t *testing.T) {
	t.Parallel()
	f := smallFrame()
	c := New(`st<e>p`, `"title" & <b>`)
	c.Status = "<i>weird</i>"
	c.RunID = `"><script>x</script>`
	c.AddSummary(KV{"<k>", "<v>"}).AddWarning("<script>alert(1)</script>").
		AddProfile("<p>", f).AddSchema(f).AddPreview(f, 10).
		AddMetrics("<m>", map[string]float64{"val_<x>": 1}).
		AddTable("<t>", []string{"<h>"}, [][]string{{"<script>"}}).
		AddScatter("<s>", []float64{1, 2}, []float64{1, 2}, "<x>", "<y>").
		AddHistogram("<h>", []float64{1, 2}, 2).
		AddBars("<b>", []string{"<script>"}, []float64{1}).
		AddText("<t>", "</pre><script>alert(1)</script>")
	doc := string(c.HTML())
	for _, bad := range []string{"<script", "<img", "<p>", "<k>", "<v>", "<m>", "<x>", "<y>", "<h>", "<i>weird", "st<e>p", `"title" &`} {
		if strings.Contains(doc, bad) {
			t.Errorf("HTML contains unescaped %q", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;", "&#34;&gt;&lt;script&gt;x", "&#34;title&#34; &amp; &lt;b&gt;"} {
		if !strings.Contains(doc, want) {
			t.Errorf("HTML lacks escaped %q", want)
		}
	}
}

var externalRef = regexp.MustCompile(`(?i)(src|href|xlink:href|action|srcset)\s*=\s*["']?\s*(https?:|//|data:|javascript:)`)

func TestHTMLSelfContained(t *testing.T) {
	t.Parallel()
	doc := string(sampleCard().HTML())
	if m := externalRef.FindString(doc); m != "" {
		t.Errorf("HTML references an external resource: %q", m)
	}
	for _, bad := range []string{"http://", "https://", "@import", "url(", "<script", "<link", "<iframe", "<img"} {
		if strings.Contains(doc, bad) {
			t.Errorf("HTML contains %q", bad)
		}
	}
	for _, href := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(doc, -1) {
		if !strings.HasPrefix(href[1], "#") {
			t.Errorf("link to %q, want only in-page links", href[1])
		}
	}
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	a, b := sampleCard(), sampleCard()
	if !bytes.Equal(a.HTML(), b.HTML()) {
		t.Error("two renderings of the same card differ")
	}
	if !bytes.Equal(a.HTML(), a.HTML()) {
		t.Error("rendering a card twice gives different bytes")
	}
	if a.Text(80) != b.Text(80) {
		t.Error("two text summaries of the same card differ")
	}
	// Many metrics: map order must not leak.
	m := map[string]float64{}
	for i := range 200 {
		m[fmt.Sprintf("val_m%03d", i)] = float64(i)
	}
	x, y := New("s", "").AddMetrics("", m), New("s", "").AddMetrics("", m)
	if !bytes.Equal(x.HTML(), y.HTML()) || x.Text(80) != y.Text(80) {
		t.Error("metrics render differently for the same map")
	}
}

var svgElem = regexp.MustCompile(`(?s)<svg.*?</svg>`)

func TestSVGHasNoNaN(t *testing.T) {
	t.Parallel()
	nan, inf := math.NaN(), math.Inf(1)
	allNaN := &frame.Frame{Cols: []*frame.Column{
		{Name: "nan", Kind: frame.Float, Floats: []float64{nan, nan, inf}},
		{Name: "huge", Kind: frame.Float, Floats: []float64{-math.MaxFloat64, math.MaxFloat64, 0}},
		{Name: "tiny", Kind: frame.Float, Floats: []float64{5e-324, 0, -5e-324}},
	}}
	c := New("evaluate", "").
		AddScatter("nan", []float64{nan, 1, 2, inf, 3}, []float64{1, nan, 2, 3, -inf}, "x", "y", WithIdentityLine()).
		AddScatter("one point", []float64{1}, []float64{1}, "x", "y").
		AddScatter("none", []float64{nan}, []float64{nan}, "x", "y", WithIdentityLine()).
		AddScatter("huge", []float64{-math.MaxFloat64, math.MaxFloat64}, []float64{0, 1}, "x", "y").
		AddHistogram("nan", []float64{nan, inf, -inf, 1, 2, 3}, 0).
		AddHistogram("constant", []float64{7, 7, 7}, 10).
		AddHistogram("all nan", []float64{nan}, 10).
		AddHistogram("huge", []float64{-math.MaxFloat64, math.MaxFloat64}, 10).
		AddBars("nan", []string{"a", "b", "c"}, []float64{nan, -inf, 2}).
		AddBars("zeros", []string{"a"}, []float64{0}).
		AddProfile("nan", allNaN)
	doc := string(c.HTML())
	svgs := svgElem.FindAllString(doc, -1)
	if len(svgs) < 10 {
		t.Fatalf("found %d svg elements, want at least 10", len(svgs))
	}
	for _, s := range svgs {
		for _, bad := range []string{"NaN", "Inf", "e+", "e-"} {
			if strings.Contains(stripText(s), bad) {
				t.Errorf("svg contains %q outside text: %.300s", bad, s)
			}
		}
	}
	if !strings.Contains(doc, "4 with NaN/Inf left out") || !strings.Contains(doc, "3 NaN/Inf left out") {
		t.Error("the charts do not say how many NaN/Inf values they left out")
	}
}

var svgText = regexp.MustCompile(`(?s)<(text|title)[^>]*>.*?</(text|title)>`)

// stripText removes text and title elements, whose content may say "NaN".
func stripText(svg string) string { return svgText.ReplaceAllString(svg, "") }

func TestEmpty(t *testing.T) {
	t.Parallel()
	empty := &frame.Frame{Cols: []*frame.Column{
		{Name: "f", Kind: frame.Float}, {Name: "i", Kind: frame.Int}, {Name: "b", Kind: frame.Bool},
		{Name: "s", Kind: frame.String}, {Name: "t", Kind: frame.Time},
	}}
	for name, f := range map[string]*frame.Frame{"nil": nil, "no columns": {}, "no rows": empty} {
		c := New("ingest", "Ingest").
			AddProfile("data", f).AddSchema(f).AddPreview(f, 5).
			AddMetrics("none", nil).AddTable("", nil, nil).
			AddScatter("", nil, nil, "", "").AddHistogram("", nil, 0).AddBars("", nil, nil).AddText("", "")
		if doc := c.HTML(); !bytes.Contains(doc, []byte("</html>")) {
			t.Errorf("%s: HTML is incomplete", name)
		}
		if txt := c.Text(0); !strings.HasPrefix(txt, "sous · ingest — Ingest") {
			t.Errorf("%s: text = %q", name, txt)
		}
	}
	if doc := New("", "").HTML(); !bytes.Contains(doc, []byte("This card is empty.")) {
		t.Error("an empty card does not say so")
	}
	if txt := New("", "").Text(80); txt != "sous\n" {
		t.Errorf("empty card text = %q, want %q", txt, "sous\n")
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	txt := sampleCard().Text(80)
	t.Logf("\n%s", txt)
	lines := strings.Split(strings.TrimSuffix(txt, "\n"), "\n")
	if len(lines) > MaxTextLines {
		t.Errorf("text has %d lines, want at most %d", len(lines), MaxTextLines)
	}
	for _, l := range lines {
		if n := runeLen(l); n > 80 {
			t.Errorf("line of %d runes, want at most 80: %q", n, l)
		}
	}
	for _, want := range []string{
		"sous · train — Train model · succeeded · 12.3s",
		"run r-20240301-7f3a · key 9c1e2d4a5b6f · 2024-03-01 12:30:00Z",
		"  training rows    1,203,130",
		"! 1,204 rows with null target dropped",
		"training  validation", "root_mean_squared_error", "1.5012", "1.6231", "1.6402",
		"0.97123", "+Inf", "time_seconds",
	} {
		if !strings.Contains(txt, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	if strings.Contains(txt, "\x1b") {
		t.Error("plain text contains ANSI escapes")
	}
	// rmse leads the metrics.
	if i, j := strings.Index(txt, "root_mean_squared_error"), strings.Index(txt, "max_error"); i < 0 || j < i {
		t.Error("root_mean_squared_error is not listed before max_error")
	}

	colored := sampleCard().TextWith(TextOptions{Width: 80, Color: true})
	if !strings.Contains(colored, ansiGreen+ansiBold+"succeeded"+ansiReset) || !strings.Contains(colored, ansiYellow+"! 1,204") {
		t.Errorf("colored text lacks colours:\n%q", colored)
	}
}

func TestTextBounded(t *testing.T) {
	t.Parallel()
	c := New("evaluate", "an extremely long title that goes on and on and on well past the width of any terminal")
	for i := range 30 {
		c.AddSummary(KV{fmt.Sprintf("key %d", i), strings.Repeat("v", i*5)})
		c.AddWarning(fmt.Sprintf("warning %d", i))
	}
	m := map[string]float64{}
	for i := range 50 {
		m[fmt.Sprintf("training_metric_with_a_really_long_name_%02d", i)] = float64(i) / 7
		m[fmt.Sprintf("test_metric_with_a_really_long_name_%02d", i)] = float64(i) / 3
	}
	c.AddMetrics("m", m)
	for _, w := range []int{0, 10, 40, 120} {
		txt := c.Text(w)
		lines := strings.Split(strings.TrimSuffix(txt, "\n"), "\n")
		if len(lines) > MaxTextLines {
			t.Errorf("width %d: %d lines, want at most %d", w, len(lines), MaxTextLines)
		}
		limit := max(w, 20)
		if w == 0 {
			limit = DefaultTextWidth
		}
		for _, l := range lines {
			if runeLen(l) > limit {
				t.Errorf("width %d: line of %d runes: %q", w, runeLen(l), l)
			}
		}
		if w >= 40 && (!strings.Contains(txt, "more metrics in the card") || !strings.Contains(txt, "more warnings in the card")) {
			t.Errorf("width %d: text does not say what it left out:\n%s", w, txt)
		}
	}
}

func TestScatterSampling(t *testing.T) {
	t.Parallel()
	const n = 100_000
	x, y := make([]float64, n), make([]float64, n)
	for i := range x {
		x[i], y[i] = float64(i), float64(2*i)
	}
	doc := string(New("s", "").AddScatter("big", x, y, "x", "y").HTML())
	if got := strings.Count(doc, "<circle"); got != MaxScatterPoints {
		t.Errorf("drew %d points, want %d", got, MaxScatterPoints)
	}
	if !strings.Contains(doc, "2,000 of 100,000 points") {
		t.Error("the scatter does not say it is sampled")
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
	floats := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {math.Copysign(0, -1), "0"}, {1, "1"}, {-2, "-2"}, {2024, "2024"}, {12345, "12,345"},
		{1234567, "1,234,567"}, {-1234567, "-1,234,567"}, {3.14159265, "3.1416"}, {0.987654321, "0.98765"},
		{1234.5678, "1234.6"}, {12345.678, "12,346"}, {0.000123456, "0.00012346"}, {1.5e-7, "1.5e-07"},
		{4.5e18, "4.5e+18"}, {0.1 + 0.2, "0.3"}, {9.999999, "10"},
		{math.NaN(), "NaN"}, {math.Inf(1), "+Inf"}, {math.Inf(-1), "-Inf"},
	}
	for _, tc := range floats {
		if got := FormatFloat(tc.in); got != tc.want {
			t.Errorf("FormatFloat(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
	counts := map[int]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234", -123: "-123"}
	for in, want := range counts {
		if got := FormatCount(in); got != want {
			t.Errorf("FormatCount(%d) = %q, want %q", in, got, want)
		}
	}
	durations := map[time.Duration]string{
		420 * time.Microsecond: "420µs", 85 * time.Millisecond: "85ms", 12345 * time.Millisecond: "12.3s",
		245 * time.Second: "4m05s", 62*time.Minute + 10*time.Second: "1h02m",
	}
	for in, want := range durations {
		if got := FormatDuration(in); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", in, got, want)
		}
	}
	compact := map[float64]string{950: "950", 12000: "12k", 15000: "15k", 1.5e6: "1.5M", 2e9: "2G", 0.25: "0.25"}
	for in, want := range compact {
		if got := formatCompact(in); got != want {
			t.Errorf("formatCompact(%v) = %q, want %q", in, got, want)
		}
	}
	if got := truncRunes("héllo wörld", 5); got != "héll…" {
		t.Errorf("truncRunes = %q", got)
	}
}

func TestNiceTicks(t *testing.T) {
	t.Parallel()
	lo, hi, ticks := niceTicks(0.3, 9.2, 6)
	if lo != 0 || hi != 10 || fmt.Sprint(ticks) != "[0 2 4 6 8 10]" {
		t.Errorf("niceTicks(0.3, 9.2) = %v %v %v", lo, hi, ticks)
	}
	for _, tc := range [][2]float64{{5, 5}, {0, 0}, {math.NaN(), 1}, {-math.MaxFloat64, math.MaxFloat64}, {1e-300, 2e-300}} {
		lo, hi, ticks := niceTicks(tc[0], tc[1], 6)
		if !finite(lo) || !finite(hi) || len(ticks) < 2 || len(ticks) > 50 {
			t.Errorf("niceTicks(%v, %v) = %v %v %d ticks", tc[0], tc[1], lo, hi, len(ticks))
		}
	}
}

// TestSampleCard writes the sample card to a temporary directory, and with
// -update to testdata/sample_card.html, which it otherwise compares against.
func TestSampleCard(t *testing.T) {
	t.Parallel()
	doc := sampleCard().HTML()
	if err := os.WriteFile(filepath.Join(t.TempDir(), "card.html"), doc, 0o644); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "sample_card.html")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(doc, want) {
		t.Errorf("the sample card differs from %s; if the change is intended, run go test -update", golden)
	}
	if len(doc) > 512<<10 {
		t.Errorf("the sample card is %d bytes, want under 512 KiB", len(doc))
	}
}

func BenchmarkProfile1M(b *testing.B) {
	const n = 1_000_000
	r := &rng{7}
	cols := make([]*frame.Column, 0, 8)
	for k := range 4 {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = r.norm()*float64(k+1) + float64(k)
		}
		cols = append(cols, &frame.Column{Name: fmt.Sprintf("f%d", k), Kind: frame.Float, Floats: xs})
	}
	ints, times := make([]int64, n), make([]int64, n)
	valid := make([]bool, n)
	codes, codes2 := make([]int32, n), make([]int32, n)
	dict := make([]string, 1000)
	for i := range dict {
		dict[i] = fmt.Sprintf("category-%d", i)
	}
	dict2 := make([]string, n/10)
	for i := range dict2 {
		dict2[i] = fmt.Sprintf("user-%07d", i)
	}
	for i := range n {
		ints[i] = int64(r.uint64() % 100_000)
		times[i] = int64(1.7e18) + int64(r.uint64()%uint64(365*24*time.Hour))
		valid[i] = i%50 != 0
		codes[i] = int32(r.uint64() % uint64(len(dict)))
		codes2[i] = int32(r.uint64() % uint64(len(dict2)))
	}
	cols = append(cols,
		&frame.Column{Name: "i", Kind: frame.Int, Ints: ints, Valid: valid},
		&frame.Column{Name: "t", Kind: frame.Time, Ints: times},
		&frame.Column{Name: "cat", Kind: frame.String, Codes: codes, Dict: dict},
		&frame.Column{Name: "user", Kind: frame.String, Codes: codes2, Dict: dict2},
	)
	f := &frame.Frame{Cols: cols}
	b.ReportAllocs()
	for b.Loop() {
		New("ingest", "").AddProfile("data", f).HTML()
	}
}
