package cards

import (
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sous-ml/sous/recipes/frame"
)

// Step statuses with their own badge colour. Any other string is shown in grey.
const (
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusCached    = "cached"
	StatusSkipped   = "skipped"
	StatusRunning   = "running"
)

// Limits on what a card keeps, so that a card stays small whatever the data size.
const (
	// MaxScatterPoints is the most points a scatter plot draws.
	MaxScatterPoints = 2000
	// MaxPreviewRows is the most rows AddPreview shows.
	MaxPreviewRows = 1000
	// MaxBars is the most bars AddBars draws.
	MaxBars = 100
	// DefaultHistogramBins is the number of bins AddHistogram uses when asked for none.
	DefaultHistogramBins = 30
	// maxHistogramBins bounds the number of bins AddHistogram draws.
	maxHistogramBins = 200
	// maxCellRunes bounds the length of a preview cell.
	maxCellRunes = 80
)

// KV is one line of a card's run summary.
type KV struct {
	Key, Value string
}

// Card is the record of one step run: a run summary, warnings and an ordered
// list of sections (profiles, schemas, previews, metrics, plots, tables,
// text). It renders to a self-contained HTML document (HTML) and to a short
// terminal summary (Text).
//
// Set the exported fields directly; add content with the Add methods, which
// return the card so that calls chain. Every Add method copies or summarizes
// what it is given right away, so the caller may reuse its slices and frames.
// A Card is not safe for concurrent use. Rendering the same card twice gives
// the same bytes: cards are stored content-addressed.
type Card struct {
	// Step is the step name (ingest, split, transform, train, ...).
	Step string
	// Title is a human title; the header shows Step when it is empty.
	Title string
	// RunID and CacheKey identify the run and the step's cache key.
	RunID, CacheKey string
	// Created is when the step ran; left zero, the card shows no time.
	Created time.Time
	// Duration is how long the step took; zero shows none.
	Duration time.Duration
	// Status is one of the Status constants, or any other short word.
	Status string

	summary  []KV
	warnings []string
	sections []section
}

// New returns an empty card for a step.
func New(step, title string) *Card {
	return &Card{Step: step, Title: title}
}

// section is one block of a card, rendered in the order it was added.
type section interface {
	heading() string
	render(b *strings.Builder)
}

// AddSummary appends items to the run summary, which the card shows at the
// top and the text summary shows first.
func (c *Card) AddSummary(items ...KV) *Card {
	c.summary = append(c.summary, items...)
	return c
}

// AddWarning adds a warning, shown prominently below the header (for
// example "1,204 rows with null target dropped").
func (c *Card) AddWarning(msg string) *Card {
	c.warnings = append(c.warnings, msg)
	return c
}

// AddProfile adds a data profile of f under name: per column its kind,
// counts, nulls, distinct values, statistics and distribution. See Profile
// for what is computed and what it costs.
func (c *Card) AddProfile(name string, f *frame.Frame) *Card {
	s := &profileSection{name: name, rows: f.Len(), cols: Profile(f)}
	c.sections = append(c.sections, s)
	return c
}

// AddSchema adds a table of f's columns: name, kind, whether it has a
// validity mask (nullable) and its number of nulls.
func (c *Card) AddSchema(f *frame.Frame) *Card {
	s := &schemaSection{}
	if f != nil {
		for _, col := range f.Cols {
			s.cols = append(s.cols, schemaCol{col.Name, col.Kind, col.Valid != nil, col.NullCount()})
		}
	}
	c.sections = append(c.sections, s)
	return c
}

// AddPreview adds a table of the first n rows of f (at most MaxPreviewRows;
// n <= 0 means 10).
func (c *Card) AddPreview(f *frame.Frame, n int) *Card {
	if n <= 0 {
		n = 10
	}
	n = min(n, MaxPreviewRows, f.Len())
	s := &previewSection{rows: f.Len()}
	if f != nil {
		for _, col := range f.Cols {
			s.header = append(s.header, col.Name)
			s.kinds = append(s.kinds, col.Kind)
		}
		for i := range n {
			row := make([]string, len(f.Cols))
			for j, col := range f.Cols {
				row[j] = previewValue(col, i)
			}
			s.cells = append(s.cells, row)
		}
	}
	c.sections = append(c.sections, s)
	return c
}

// nullCell marks a null in a preview row; it cannot be a real value because
// real values are cut to valid UTF-8.
const nullCell = "\xff"

func previewValue(col *frame.Column, i int) string {
	if i >= col.Len() || col.Valid != nil && i < len(col.Valid) && !col.Valid[i] {
		return nullCell
	}
	switch col.Kind {
	case frame.Float:
		v := col.Floats[i]
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return FormatFloat(v)
		}
		return trimZeros(strconv.FormatFloat(v, 'g', 8, 64))
	case frame.String:
		code := col.Codes[i]
		if code < 0 || int(code) >= len(col.Dict) {
			return nullCell
		}
		return truncRunes(strings.ToValidUTF8(col.Dict[code], "\uFFFD"), maxCellRunes)
	case frame.Time:
		return formatTime(time.Unix(0, col.Ints[i]))
	}
	return col.Str(i)
}

// formatTime formats t in UTC, without fractional seconds when there are none.
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05.999999999Z")
}

// AddMetrics adds a table of metrics sorted by name. Metrics named
// training_X, val_X and test_X are shown as one row X with a training, a
// validation and a test column; others are listed by name. The text summary
// shows the metrics of every metrics section.
func (c *Card) AddMetrics(title string, metrics map[string]float64) *Card {
	s := &metricsSection{title: title}
	for _, name := range slices.Sorted(maps.Keys(metrics)) {
		s.metrics = append(s.metrics, metric{name, metrics[name]})
	}
	c.sections = append(c.sections, s)
	return c
}

// AddTable adds a table of strings. Rows may be shorter or longer than the header.
func (c *Card) AddTable(title string, header []string, rows [][]string) *Card {
	s := &tableSection{title: title, header: slices.Clone(header)}
	for _, r := range rows {
		s.rows = append(s.rows, slices.Clone(r))
	}
	c.sections = append(c.sections, s)
	return c
}

// ScatterOption configures AddScatter.
type ScatterOption func(*scatterSection)

// WithIdentityLine draws the reference line y = x and puts both axes on the
// same scale, as a predicted-versus-actual plot wants.
func WithIdentityLine() ScatterOption {
	return func(s *scatterSection) { s.identity = true }
}

// AddScatter adds a scatter plot of the pairs (x[i], y[i]). Pairs with a NaN
// or infinite coordinate are left out (and counted); beyond
// MaxScatterPoints, a deterministic stratified sample of the points is drawn.
func (c *Card) AddScatter(title string, x, y []float64, xLabel, yLabel string, opts ...ScatterOption) *Card {
	s := &scatterSection{title: title, xLabel: xLabel, yLabel: yLabel}
	for _, o := range opts {
		o(s)
	}
	n := min(len(x), len(y))
	s.mismatch = len(x) != len(y)
	var xs, ys []float64
	for i := range n {
		if finite(x[i]) && finite(y[i]) {
			xs, ys = append(xs, x[i]), append(ys, y[i])
		} else {
			s.dropped++
		}
	}
	s.total = len(xs)
	if len(xs) > MaxScatterPoints {
		idx := strata(len(xs), MaxScatterPoints)
		s.x, s.y = make([]float64, len(idx)), make([]float64, len(idx))
		for j, i := range idx {
			s.x[j], s.y[j] = xs[i], ys[i]
		}
	} else {
		s.x, s.y = xs, ys
	}
	c.sections = append(c.sections, s)
	return c
}

// AddHistogram adds a histogram of values in bins equal-width bins
// (DefaultHistogramBins when bins <= 0, at most 200). NaN and infinite values
// are counted apart.
func (c *Card) AddHistogram(title string, values []float64, bins int) *Card {
	if bins <= 0 {
		bins = DefaultHistogramBins
	}
	bins = min(bins, maxHistogramBins)
	s := &histSection{title: title, lo: math.Inf(1), hi: math.Inf(-1)}
	for _, v := range values {
		if !finite(v) {
			s.nonFinite++
			continue
		}
		s.lo, s.hi = min(s.lo, v), max(s.hi, v)
		s.total++
	}
	if s.total > 0 {
		if s.lo == s.hi {
			bins = 1
		}
		s.counts = make([]int, bins)
		scale, half := binScale(s.lo, s.hi, bins)
		for _, v := range values {
			if finite(v) {
				s.counts[bin(v, half, scale, bins)]++
			}
		}
	}
	c.sections = append(c.sections, s)
	return c
}

// AddBars adds horizontal bars, one per label in the order given (for
// example feature importances, sorted by the caller). At most MaxBars are drawn.
func (c *Card) AddBars(title string, labels []string, values []float64) *Card {
	n := min(len(labels), len(values))
	s := &barsSection{title: title, total: n}
	n = min(n, MaxBars)
	s.labels, s.values = slices.Clone(labels[:n]), slices.Clone(values[:n])
	c.sections = append(c.sections, s)
	return c
}

// AddText adds preformatted text (a log excerpt, a model description).
func (c *Card) AddText(title, body string) *Card {
	c.sections = append(c.sections, &textSection{title: title, body: body})
	return c
}

func finite(v float64) bool { return v-v == 0 }

// Section payloads. Each holds only what it renders, computed when added.

type profileSection struct {
	name string
	rows int
	cols []ColumnProfile
}

type schemaCol struct {
	name     string
	kind     frame.Kind
	nullable bool
	nulls    int
}

type schemaSection struct{ cols []schemaCol }

type previewSection struct {
	rows   int
	header []string
	kinds  []frame.Kind
	cells  [][]string
}

type metric struct {
	name  string
	value float64
}

type metricsSection struct {
	title   string
	metrics []metric // sorted by name
}

type tableSection struct {
	title  string
	header []string
	rows   [][]string
}

type scatterSection struct {
	title, xLabel, yLabel string
	identity              bool
	x, y                  []float64
	total                 int // finite points before sampling
	dropped               int // points with a NaN or infinite coordinate
	mismatch              bool
}

type histSection struct {
	title     string
	lo, hi    float64
	counts    []int
	total     int
	nonFinite int
}

type barsSection struct {
	title  string
	labels []string
	values []float64
	total  int
}

type textSection struct{ title, body string }

// splits are the metric name prefixes the metrics table turns into columns.
var splits = []struct{ prefix, name string }{
	{"training_", "training"},
	{"val_", "validation"},
	{"test_", "test"},
}

// metricRow is one row of a grouped metrics table: values per split, NaN-free
// presence tracked in has.
type metricRow struct {
	name  string
	value [3]float64
	has   [3]bool
}

// groupMetrics splits metrics into rows by split prefix and the rest.
func groupMetrics(ms []metric) (rows []metricRow, other []metric) {
	at := map[string]int{}
	for _, m := range ms {
		split, base := -1, m.name
		for i, sp := range splits {
			if b, ok := strings.CutPrefix(m.name, sp.prefix); ok && b != "" {
				split, base = i, b
				break
			}
		}
		if split < 0 {
			other = append(other, m)
			continue
		}
		i, ok := at[base]
		if !ok {
			i = len(rows)
			at[base] = i
			rows = append(rows, metricRow{name: base})
		}
		rows[i].value[split], rows[i].has[split] = m.value, true
	}
	slices.SortFunc(rows, func(a, b metricRow) int { return strings.Compare(a.name, b.name) })
	return rows, other
}
