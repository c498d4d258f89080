package ml

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/sous-ml/sous/recipes/frame"
)

// The transformer names a GroupSpec may use.
const (
	StandardScaler = "standard_scaler"
	MinMaxScaler   = "min_max_scaler"
	RobustScaler   = "robust_scaler"
	OneHot         = "one_hot"
	Ordinal        = "ordinal"
	Impute         = "impute"
	Log1p          = "log1p"
	Passthrough    = "passthrough"
	Drop           = "drop"
	Binning        = "binning"
)

// TransformerNames lists the transformers FitTransformer accepts, sorted.
func TransformerNames() []string {
	return []string{Binning, Drop, Impute, Log1p, MinMaxScaler, OneHot, Ordinal, Passthrough, RobustScaler, StandardScaler}
}

// GroupSpec applies one transformer, with params, to each of a list of columns.
type GroupSpec struct {
	Columns     []string       `json:"columns"`
	Transformer string         `json:"transformer"`
	Params      map[string]any `json:"params,omitempty"`
}

// TransformSpec is the transform step's `columns` configuration.
type TransformSpec struct {
	Groups []GroupSpec `json:"groups"`
	// Remainder says what happens to the columns no group names: "drop"
	// (the default when empty) or "passthrough".
	Remainder string `json:"remainder,omitempty"`
	// Target is the label column. It is never a feature: naming it in a group
	// is an error and the remainder skips it.
	Target string `json:"target,omitempty"`
}

// Field is a named, typed column. Kind is a frame.Kind's String form:
// "float", "int", "bool", "string" or "timestamp".
type Field struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// Transformer is a fitted column transformer: plain state, so that
// encoding/json round-trips it and a decoded Transformer transforms exactly as
// the original did. Build one with FitTransformer.
type Transformer struct {
	Remainder string `json:"remainder"`
	Target    string `json:"target,omitempty"`
	// Inputs are the columns Transform reads, with their kinds at fit time, in
	// order of first use.
	Inputs []Field `json:"inputs"`
	// Columns hold one fitted transformer per (group, column) pair, in output
	// order: groups in spec order, then the remainder in frame order.
	Columns []ColumnState `json:"columns"`
}

// ColumnState is one transformer fitted on one input column. Exactly one of
// Numeric, Categorical and Bins is set, according to Transformer.
type ColumnState struct {
	Column      string `json:"column"`
	Kind        string `json:"kind"`
	Transformer string `json:"transformer"`
	// Features names the output columns, unique across the Transformer.
	Features    []string          `json:"features"`
	Numeric     *NumericState     `json:"numeric,omitempty"`
	Categorical *CategoricalState `json:"categorical,omitempty"`
	Bins        *BinState         `json:"bins,omitempty"`
}

// NumericState maps one numeric value x to one feature:
//
//	v   = Log1p ? log1p(x) : x          (x is seconds since the epoch for a timestamp)
//	v   = Fill                         if x is null or NaN
//	out = (v - Center) / Scale + Offset, clipped to [ClipMin, ClipMax] if Clip
//
// It serves standard_scaler, min_max_scaler, robust_scaler, impute, log1p and
// passthrough.
type NumericState struct {
	Log1p   bool    `json:"log1p,omitempty"`
	Fill    float64 `json:"fill"`
	Center  float64 `json:"center"`
	Scale   float64 `json:"scale"`
	Offset  float64 `json:"offset"`
	Clip    bool    `json:"clip,omitempty"`
	ClipMin float64 `json:"clip_min,omitempty"`
	ClipMax float64 `json:"clip_max,omitempty"`
}

// CategoricalState maps a category to an output slot (one_hot: the index of
// the feature set to 1; ordinal: the value itself). Categories are keys:
// the string for a string column, the decimal form for an int column,
// "false"/"true" for a bool column. A category unseen at fit time gets no
// slot: all zeros for one_hot, Unknown for ordinal.
type CategoricalState struct {
	// Categories have slots 0..len-1, sorted (strings by bytes, ints by value).
	Categories []string `json:"categories"`
	// Infrequent categories (one_hot with max_categories or min_frequency)
	// share InfrequentSlot; -1 when there is none.
	Infrequent     []string `json:"infrequent,omitempty"`
	InfrequentSlot int      `json:"infrequent_slot"`
	// NullSlot is the slot of a null; -1 when the training data had no null,
	// so that a null is then treated as an unseen category.
	NullSlot int `json:"null_slot"`
	// Unknown is the ordinal value of an unseen category.
	Unknown float64 `json:"unknown,omitempty"`
}

// BinState maps a numeric value to a bin: bin i holds Edges[i] <= x < Edges[i+1],
// with the first and last bins open-ended. A null takes the value Fill. With
// OneHot the bins are one-hot encoded, else the output is the bin index.
type BinState struct {
	Fill   float64   `json:"fill"`
	Edges  []float64 `json:"edges"`
	OneHot bool      `json:"one_hot,omitempty"`
}

// colConfig is a transformer with its params checked.
type colConfig struct {
	name string

	withMean, withStd bool // standard_scaler
	rangeLo, rangeHi  float64
	clip              bool // min_max_scaler
	withCentering     bool // robust_scaler
	withScaling       bool
	qLo, qHi          float64

	maxCategories int     // one_hot; 0 = no limit
	minFrequency  float64 // one_hot; 0 = none, < 1 a fraction, else a count
	unknownValue  float64 // ordinal

	strategy  string // impute
	fillValue float64

	nBins       int // binning
	binEncode   string
	binStrategy string
}

func parseConfig(name string, params map[string]any) (colConfig, error) {
	c := colConfig{name: name}
	p := NewParams(name, params)
	switch name {
	case StandardScaler:
		c.withMean = p.Bool("with_mean", true)
		c.withStd = p.Bool("with_std", true)
	case MinMaxScaler:
		r := p.Floats("feature_range", 2, []float64{0, 1})
		c.rangeLo, c.rangeHi = r[0], r[1]
		if c.rangeLo >= c.rangeHi {
			p.Fail("feature_range", "must be [min, max] with min < max, got %v", r)
		}
		c.clip = p.Bool("clip", false)
	case RobustScaler:
		c.withCentering = p.Bool("with_centering", true)
		c.withScaling = p.Bool("with_scaling", true)
		r := p.Floats("quantile_range", 2, []float64{25, 75})
		c.qLo, c.qHi = r[0], r[1]
		if !(0 <= c.qLo && c.qLo <= c.qHi && c.qHi <= 100) {
			p.Fail("quantile_range", "must be [q_min, q_max] with 0 <= q_min <= q_max <= 100, got %v", r)
		}
	case OneHot:
		c.maxCategories = p.Int("max_categories", 0)
		if c.maxCategories < 0 {
			p.Fail("max_categories", "must be at least 1, got %d", c.maxCategories)
		}
		c.minFrequency = p.Float("min_frequency", 0)
		if c.minFrequency < 0 || (c.minFrequency > 1 && c.minFrequency != math.Trunc(c.minFrequency)) {
			p.Fail("min_frequency", "must be a count (an integer >= 1) or a fraction in (0, 1), got %v", c.minFrequency)
		}
	case Ordinal:
		c.unknownValue = p.Float("unknown_value", -1)
	case Impute:
		c.strategy = p.String("strategy", "mean", "mean", "median", "most_frequent", "constant")
		c.fillValue = p.Float("fill_value", 0)
		if _, set := params["fill_value"]; set && c.strategy != "constant" {
			p.Fail("fill_value", "applies only to strategy constant (strategy is %s)", c.strategy)
		}
	case Binning:
		c.nBins = p.Int("n_bins", 5)
		if c.nBins < 2 {
			p.Fail("n_bins", "must be at least 2, got %d", c.nBins)
		}
		c.binEncode = p.String("encode", "onehot", "onehot", "ordinal")
		c.binStrategy = p.String("strategy", "quantile", "quantile", "uniform")
	case Log1p, Passthrough, Drop:
	default:
		return c, fmt.Errorf("unknown transformer %q; allowed: %s", name, strings.Join(TransformerNames(), ", "))
	}
	return c, p.Err()
}

func isCategorical(name string) bool { return name == OneHot || name == Ordinal }

// FitTransformer fits spec on the training frame and returns the fitted
// Transformer. Only train is read: every statistic (means, scales,
// categories, bin edges) comes from it and is applied unchanged by Transform.
func FitTransformer(spec TransformSpec, train *frame.Frame) (*Transformer, error) {
	if train == nil {
		return nil, errors.New("ml: fit transformer: training frame is nil")
	}
	if err := train.Validate(); err != nil {
		return nil, fmt.Errorf("ml: fit transformer: %w", err)
	}
	remainder := spec.Remainder
	if remainder == "" {
		remainder = Drop
	}
	if remainder != Drop && remainder != Passthrough {
		return nil, fmt.Errorf("ml: fit transformer: remainder is %q; allowed: drop, passthrough", spec.Remainder)
	}
	if train.Len() == 0 {
		return nil, errors.New("ml: fit transformer: training frame has no rows")
	}

	type job struct {
		col       *frame.Column
		cfg       colConfig
		remainder bool
	}
	var jobs []job
	named := make(map[string]bool)
	var missing []string
	for gi, g := range spec.Groups {
		cfg, err := parseConfig(g.Transformer, g.Params)
		if err != nil {
			return nil, fmt.Errorf("ml: fit transformer: group %d: %w", gi+1, err)
		}
		if len(g.Columns) == 0 {
			return nil, fmt.Errorf("ml: fit transformer: group %d (%s) names no columns", gi+1, g.Transformer)
		}
		inGroup := make(map[string]bool, len(g.Columns))
		for _, name := range g.Columns {
			if inGroup[name] {
				return nil, fmt.Errorf("ml: fit transformer: group %d (%s) names column %q twice", gi+1, g.Transformer, name)
			}
			inGroup[name] = true
			if spec.Target != "" && name == spec.Target {
				return nil, fmt.Errorf("ml: fit transformer: group %d (%s): column %q is the target; the target is never a feature", gi+1, g.Transformer, name)
			}
			named[name] = true
			col, ok := train.Col(name)
			if !ok {
				if !containsString(missing, name) {
					missing = append(missing, name)
				}
				continue
			}
			if cfg.name != Drop {
				jobs = append(jobs, job{col: col, cfg: cfg})
			}
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("ml: fit transformer: columns not in the training data: %s (it has %s)", quoteList(missing), quoteList(train.Names()))
	}
	if remainder == Passthrough {
		cfg := colConfig{name: Passthrough}
		for _, col := range train.Cols {
			if named[col.Name] || (spec.Target != "" && col.Name == spec.Target) {
				continue
			}
			jobs = append(jobs, job{col: col, cfg: cfg, remainder: true})
		}
	}

	t := &Transformer{Remainder: remainder, Target: spec.Target}
	for _, j := range jobs {
		cs, err := fitColumn(j.cfg, j.col)
		if err != nil {
			if j.remainder {
				return nil, fmt.Errorf("ml: fit transformer: remainder %w", err)
			}
			return nil, fmt.Errorf("ml: fit transformer: %w", err)
		}
		t.Columns = append(t.Columns, cs)
		if !t.hasInput(j.col.Name) {
			t.Inputs = append(t.Inputs, Field{Name: j.col.Name, Kind: j.col.Kind.String()})
		}
	}
	if t.width() == 0 {
		return nil, errors.New("ml: fit transformer: no features: every column is dropped")
	}
	dedupeFeatures(t.Columns)
	return t, nil
}

func (t *Transformer) hasInput(name string) bool {
	for _, in := range t.Inputs {
		if in.Name == name {
			return true
		}
	}
	return false
}

func (t *Transformer) width() int {
	w := 0
	for i := range t.Columns {
		w += len(t.Columns[i].Features)
	}
	return w
}

// FeatureNames returns the names of the output columns, in order.
func (t *Transformer) FeatureNames() []string {
	out := make([]string, 0, t.width())
	for i := range t.Columns {
		out = append(out, t.Columns[i].Features...)
	}
	return out
}

// InputColumns returns the names of the columns Transform reads.
func (t *Transformer) InputColumns() []string {
	out := make([]string, len(t.Inputs))
	for i, in := range t.Inputs {
		out[i] = in.Name
	}
	return out
}

// InputSchema returns the columns Transform reads with their kinds at fit time.
func (t *Transformer) InputSchema() []Field { return append([]Field(nil), t.Inputs...) }

// dedupeFeatures makes feature names unique by suffixing _2, _3, ... to repeats.
func dedupeFeatures(cols []ColumnState) {
	seen := make(map[string]bool)
	for i := range cols {
		for j, name := range cols[i].Features {
			if seen[name] {
				for k := 2; ; k++ {
					cand := fmt.Sprintf("%s_%d", name, k)
					if !seen[cand] {
						name = cand
						break
					}
				}
			}
			seen[name] = true
			cols[i].Features[j] = name
		}
	}
}

// Transform applies the fitted transformers to f and returns the design
// matrix, one row per row of f and one column per FeatureNames entry. Every
// element is finite: a value that would not be (an infinite input, log1p of
// a value <= -1) is an error naming the column and row.
func (t *Transformer) Transform(f *frame.Frame) (*Matrix, error) {
	return t.TransformInto(nil, f)
}

// TransformInto is Transform writing into dst, whose Data is reused when its
// capacity suffices (dst may be nil). It returns the resized dst, or a new
// Matrix. Reusing one Matrix across the batches of a scoring run saves
// allocating, and faulting in, a large matrix per batch.
func (t *Transformer) TransformInto(dst *Matrix, f *frame.Frame) (*Matrix, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if f == nil {
		return nil, errors.New("ml: transform: frame is nil")
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("ml: transform: %w", err)
	}
	cols := make(map[string]*frame.Column, len(f.Cols))
	for _, c := range f.Cols {
		cols[c.Name] = c
	}
	var missing []string
	for _, in := range t.Inputs {
		if _, ok := cols[in.Name]; !ok {
			missing = append(missing, in.Name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("ml: transform: missing input columns %s", quoteList(missing))
	}
	n, w := f.Len(), t.width()
	m := dst
	if m == nil || cap(m.Data) < n*w {
		m = NewMatrix(n, w)
	} else {
		m.Rows, m.Cols, m.Data = n, w, m.Data[:n*w]
		clear(m.Data)
	}
	var sc scratch
	off := 0
	for i := range t.Columns {
		cs := &t.Columns[i]
		if err := cs.transform(cols[cs.Column], m, off, &sc); err != nil {
			return nil, fmt.Errorf("ml: transform: %w", err)
		}
		off += len(cs.Features)
	}
	return m, nil
}

// scratch holds per-row buffers reused across the columns of one Transform.
type scratch struct {
	vals  []float64
	slots []int32
}

func (s *scratch) floats(n int) []float64 {
	if cap(s.vals) < n {
		s.vals = make([]float64, n)
	}
	return s.vals[:n]
}

func (s *scratch) ints(n int) []int32 {
	if cap(s.slots) < n {
		s.slots = make([]int32, n)
	}
	return s.slots[:n]
}

func kindFromString(s string) (frame.Kind, bool) {
	for _, k := range []frame.Kind{frame.Float, frame.Int, frame.Bool, frame.String, frame.Time} {
		if k.String() == s {
			return k, true
		}
	}
	return 0, false
}

// check validates state that may have been decoded from a file, so that a
// corrupt Transformer fails with an error instead of a panic or NaNs.
func (t *Transformer) check() error {
	if t == nil {
		return errors.New("ml: transformer is nil")
	}
	if len(t.Columns) == 0 || t.width() == 0 {
		return errors.New("ml: transformer has no features")
	}
	kinds := make(map[string]string, len(t.Inputs))
	for _, in := range t.Inputs {
		if _, ok := kindFromString(in.Kind); !ok {
			return fmt.Errorf("ml: transformer: input %q has unknown kind %q", in.Name, in.Kind)
		}
		kinds[in.Name] = in.Kind
	}
	for i := range t.Columns {
		cs := &t.Columns[i]
		if err := cs.check(); err != nil {
			return fmt.Errorf("ml: transformer: %s: column %q: %w", cs.Transformer, cs.Column, err)
		}
		if k, ok := kinds[cs.Column]; !ok || k != cs.Kind {
			return fmt.Errorf("ml: transformer: %s: column %q is not among the inputs with kind %q", cs.Transformer, cs.Column, cs.Kind)
		}
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func (cs *ColumnState) check() error {
	if _, ok := kindFromString(cs.Kind); !ok {
		return fmt.Errorf("unknown kind %q", cs.Kind)
	}
	w := len(cs.Features)
	if w == 0 {
		return errors.New("no features")
	}
	switch cs.Transformer {
	case StandardScaler, MinMaxScaler, RobustScaler, Impute, Log1p, Passthrough:
		s := cs.Numeric
		if s == nil || w != 1 {
			return errors.New("numeric state missing or not one feature")
		}
		if !finite(s.Fill) || !finite(s.Center) || !finite(s.Scale) || s.Scale == 0 || !finite(s.Offset) ||
			(s.Clip && !(finite(s.ClipMin) && finite(s.ClipMax) && s.ClipMin <= s.ClipMax)) {
			return errors.New("numeric state is not finite or has a zero scale")
		}
	case OneHot, Ordinal:
		s := cs.Categorical
		if s == nil {
			return errors.New("categorical state missing")
		}
		limit := w
		if cs.Transformer == Ordinal {
			if w != 1 || !finite(s.Unknown) {
				return errors.New("ordinal state must have one feature and a finite unknown value")
			}
			limit = len(s.Categories) + 1
		}
		if len(s.Categories) > limit || s.NullSlot < -1 || s.NullSlot >= limit || s.InfrequentSlot < -1 || s.InfrequentSlot >= limit ||
			(len(s.Infrequent) > 0 && s.InfrequentSlot < 0) {
			return errors.New("categorical slots out of range")
		}
	case Binning:
		s := cs.Bins
		if s == nil || len(s.Edges) < 2 || !finite(s.Fill) {
			return errors.New("bin state missing")
		}
		for i, e := range s.Edges {
			if !finite(e) || (i > 0 && e < s.Edges[i-1]) {
				return errors.New("bin edges are not finite and sorted")
			}
		}
		if (s.OneHot && w != len(s.Edges)-1) || (!s.OneHot && w != 1) {
			return errors.New("bin features do not match the edges")
		}
	default:
		return fmt.Errorf("unknown transformer %q", cs.Transformer)
	}
	return nil
}
