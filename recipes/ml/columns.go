package ml

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/sous-ml/sous/recipes/frame"
)

// numericValues writes col's values to dst as float64: NaN for a null or a
// NaN float, 0/1 for a bool, seconds since the epoch for a timestamp. It
// returns the first row holding ±Inf, or -1.
func numericValues(col *frame.Column, dst []float64) int {
	switch col.Kind {
	case frame.Float:
		copy(dst, col.Floats)
	case frame.Int:
		for i, v := range col.Ints {
			dst[i] = float64(v)
		}
	case frame.Time:
		for i, v := range col.Ints {
			dst[i] = float64(v) / 1e9
		}
	case frame.Bool:
		for i, v := range col.Bools {
			if v {
				dst[i] = 1
			} else {
				dst[i] = 0
			}
		}
	}
	if col.Valid != nil {
		for i, ok := range col.Valid {
			if !ok {
				dst[i] = math.NaN()
			}
		}
	}
	if col.Kind == frame.Float {
		for i, v := range dst {
			if math.IsInf(v, 0) {
				return i
			}
		}
	}
	return -1
}

// fitColumn fits cfg on one training column.
func fitColumn(cfg colConfig, col *frame.Column) (ColumnState, error) {
	cs := ColumnState{Column: col.Name, Kind: col.Kind.String(), Transformer: cfg.name}
	if isCategorical(cfg.name) {
		switch col.Kind {
		case frame.String, frame.Int, frame.Bool:
		case frame.Float:
			return cs, fmt.Errorf("%s: column %q is a float column; %s takes string, int or bool columns (use binning for a float)", cfg.name, col.Name, cfg.name)
		default:
			return cs, fmt.Errorf("%s: column %q is a %s column; derive parts such as hour(%s) first, or use passthrough", cfg.name, col.Name, col.Kind, col.Name)
		}
		return fitCategorical(cfg, col, cs)
	}
	if col.Kind == frame.String {
		hint := "use one_hot or ordinal"
		if cfg.name == Impute {
			hint = "use one_hot (a null becomes its own category) or ordinal"
		}
		return cs, fmt.Errorf("%s: column %q is a string column; %s", cfg.name, col.Name, hint)
	}
	n := col.Len()
	vals := make([]float64, n)
	if row := numericValues(col, vals); row >= 0 {
		return cs, fmt.Errorf("%s: column %q is %v at row %d; values must be finite", cfg.name, col.Name, vals[row], row)
	}
	xs := make([]float64, 0, n)
	for i, v := range vals {
		if math.IsNaN(v) {
			continue
		}
		if cfg.name == Log1p {
			if v <= -1 {
				return cs, fmt.Errorf("%s: column %q is %v at row %d; log1p needs values > -1", cfg.name, col.Name, v, i)
			}
			v = math.Log1p(v)
		}
		xs = append(xs, v)
	}
	if len(xs) == 0 && !(cfg.name == Impute && cfg.strategy == "constant") {
		return cs, fmt.Errorf("%s: column %q has no non-null values in the training data", cfg.name, col.Name)
	}
	var mu float64
	if len(xs) > 0 {
		mu = mean(xs)
	}
	s := &NumericState{Fill: mu, Scale: 1}
	cs.Features = []string{col.Name}
	switch cfg.name {
	case StandardScaler:
		variance := meanSquaredDev(xs, mu)
		if cfg.withMean {
			s.Center = mu
		}
		if cfg.withStd && !isConstantFeature(variance, mu, len(xs)) {
			s.Scale = math.Sqrt(variance)
		}
	case MinMaxScaler:
		lo, hi := minMax(xs)
		rng := hi - lo
		if rng < 10*eps {
			rng = 1
		}
		s.Center = lo
		s.Scale = rng / (cfg.rangeHi - cfg.rangeLo)
		s.Offset = cfg.rangeLo
		if cfg.clip {
			s.Clip, s.ClipMin, s.ClipMax = true, cfg.rangeLo, cfg.rangeHi
		}
	case RobustScaler:
		sorted := sortedCopy(xs)
		if cfg.withCentering {
			s.Center = percentile(sorted, 50)
		}
		if cfg.withScaling {
			if iqr := percentile(sorted, cfg.qHi) - percentile(sorted, cfg.qLo); iqr >= 10*eps {
				s.Scale = iqr
			}
		}
	case Impute:
		switch cfg.strategy {
		case "median":
			s.Fill = percentile(sortedCopy(xs), 50)
		case "most_frequent":
			s.Fill = mostFrequent(xs)
		case "constant":
			s.Fill = cfg.fillValue
		}
	case Log1p:
		s.Log1p = true
	case Passthrough:
	case Binning:
		b, err := fitBins(cfg, xs, mu)
		if err != nil {
			return cs, fmt.Errorf("%s: column %q: %w", cfg.name, col.Name, err)
		}
		cs.Bins = b
		if b.OneHot {
			cs.Features = make([]string, len(b.Edges)-1)
			for i := range cs.Features {
				cs.Features[i] = fmt.Sprintf("%s_bin%d", col.Name, i)
			}
		}
		return cs, nil
	}
	cs.Numeric = s
	if err := cs.check(); err != nil {
		return cs, fmt.Errorf("%s: column %q: values too large to scale (%v)", cfg.name, col.Name, err)
	}
	return cs, nil
}

const eps = 0x1p-52 // float64 machine epsilon, numpy's finfo(float64).eps

// isConstantFeature is scikit-learn's test (sklearn.preprocessing._data) for a
// variance that is zero up to rounding.
func isConstantFeature(variance, mean float64, n int) bool {
	nf := float64(n)
	upper := nf*eps*variance + (nf*mean*eps)*(nf*mean*eps)
	return variance <= upper
}

// mean is a two-pass mean: the naive mean corrected by the mean residual.
func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	m := s / float64(len(xs))
	var r float64
	for _, x := range xs {
		r += x - m
	}
	return m + r/float64(len(xs))
}

func meanSquaredDev(xs []float64, mu float64) float64 {
	var s float64
	for _, x := range xs {
		d := x - mu
		s += d * d
	}
	return s / float64(len(xs))
}

func minMax(xs []float64) (lo, hi float64) {
	lo, hi = xs[0], xs[0]
	for _, x := range xs[1:] {
		lo = math.Min(lo, x)
		hi = math.Max(hi, x)
	}
	return lo, hi
}

func sortedCopy(xs []float64) []float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s
}

// percentile is numpy's percentile with linear interpolation on sorted values.
func percentile(sorted []float64, q float64) float64 {
	pos := q / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	if lo < 0 {
		return sorted[0]
	}
	t := pos - float64(lo)
	a, b := sorted[lo], sorted[lo+1]
	d := b - a
	if t >= 0.5 {
		return b - d*(1-t)
	}
	return a + d*t
}

// mostFrequent returns the mode, the smallest value among ties (as scikit-learn does).
func mostFrequent(xs []float64) float64 {
	s := sortedCopy(xs)
	best, bestN := s[0], 0
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] == s[i] {
			j++
		}
		if j-i > bestN {
			best, bestN = s[i], j-i
		}
		i = j
	}
	return best
}

// fitBins computes bin edges the way scikit-learn's KBinsDiscretizer does
// (quantile: numpy linear percentiles; uniform: equal widths), dropping
// edges closer than 1e-8 to the previous one.
func fitBins(cfg colConfig, xs []float64, fill float64) (*BinState, error) {
	sorted := sortedCopy(xs)
	lo, hi := sorted[0], sorted[len(sorted)-1]
	b := &BinState{Fill: fill, OneHot: cfg.binEncode == "onehot"}
	if lo == hi {
		b.Edges = []float64{lo, hi}
		return b, nil
	}
	edges := make([]float64, cfg.nBins+1)
	for i := range edges {
		q := float64(i) / float64(cfg.nBins)
		if cfg.binStrategy == "uniform" {
			edges[i] = lo + q*(hi-lo)
		} else {
			edges[i] = percentile(sorted, 100*q)
		}
	}
	edges[0], edges[cfg.nBins] = lo, hi
	b.Edges = []float64{edges[0]}
	for i := 1; i < len(edges); i++ {
		if edges[i]-edges[i-1] > 1e-8 {
			b.Edges = append(b.Edges, edges[i])
		}
	}
	if len(b.Edges) < 2 {
		b.Edges = []float64{lo, hi}
	}
	return b, nil
}

// bin returns the bin of v: the number of inner edges <= v.
func (b *BinState) bin(v float64) int {
	inner := b.Edges[1 : len(b.Edges)-1]
	return sort.Search(len(inner), func(i int) bool { return inner[i] > v })
}

// catKey is a category and its count at fit time.
type catKey struct {
	key   string
	ival  int64
	count int
}

func fitCategorical(cfg colConfig, col *frame.Column, cs ColumnState) (ColumnState, error) {
	n := col.Len()
	var cats []catKey
	nulls := 0
	switch col.Kind {
	case frame.String:
		counts := make([]int, len(col.Dict))
		for i, c := range col.Codes {
			if col.IsNull(i) {
				nulls++
				continue
			}
			if c < 0 || int(c) >= len(col.Dict) {
				return cs, fmt.Errorf("%s: column %q row %d has code %d outside its dictionary of %d", cfg.name, col.Name, i, c, len(col.Dict))
			}
			counts[c]++
		}
		byKey := make(map[string]int)
		for c, k := range counts {
			if k == 0 {
				continue
			}
			if j, ok := byKey[col.Dict[c]]; ok {
				cats[j].count += k
				continue
			}
			byKey[col.Dict[c]] = len(cats)
			cats = append(cats, catKey{key: col.Dict[c], count: k})
		}
		sort.Slice(cats, func(i, j int) bool { return cats[i].key < cats[j].key })
	case frame.Int:
		counts := make(map[int64]int)
		for i, v := range col.Ints {
			if col.IsNull(i) {
				nulls++
				continue
			}
			counts[v]++
		}
		for v, k := range counts {
			cats = append(cats, catKey{key: strconv.FormatInt(v, 10), ival: v, count: k})
		}
		sort.Slice(cats, func(i, j int) bool { return cats[i].ival < cats[j].ival })
	case frame.Bool:
		var counts [2]int
		for i, v := range col.Bools {
			if col.IsNull(i) {
				nulls++
				continue
			}
			if v {
				counts[1]++
			} else {
				counts[0]++
			}
		}
		for b, k := range counts {
			if k > 0 {
				cats = append(cats, catKey{key: strconv.FormatBool(b == 1), count: k})
			}
		}
	}
	if len(cats) == 0 && nulls == 0 {
		return cs, fmt.Errorf("%s: column %q has no values", cfg.name, col.Name)
	}
	s := &CategoricalState{NullSlot: -1, InfrequentSlot: -1}
	cs.Categorical = s

	if cfg.name == Ordinal {
		for _, c := range cats {
			s.Categories = append(s.Categories, c.key)
		}
		if nulls > 0 {
			s.NullSlot = len(s.Categories)
		}
		codes := float64(len(s.Categories))
		if nulls > 0 {
			codes++
		}
		if u := cfg.unknownValue; u == math.Trunc(u) && u >= 0 && u < codes {
			return cs, fmt.Errorf("%s: column %q: unknown_value %v is also the code of a category (codes are 0..%v)", cfg.name, col.Name, u, codes-1)
		}
		s.Unknown = cfg.unknownValue
		cs.Features = []string{col.Name}
		return cs, nil
	}

	// one_hot: the null, if seen, is one more category, sorted last.
	all := cats
	if nulls > 0 {
		all = append(append([]catKey(nil), cats...), catKey{count: nulls})
	}
	isNull := func(i int) bool { return nulls > 0 && i == len(all)-1 }
	infrequent := infrequentMask(all, cfg, n)
	for i, c := range all {
		if infrequent[i] {
			continue
		}
		if isNull(i) {
			s.NullSlot = len(s.Categories)
			cs.Features = append(cs.Features, col.Name+"_null")
			continue
		}
		s.Categories = append(s.Categories, c.key)
		cs.Features = append(cs.Features, col.Name+"_"+c.key)
	}
	for i, c := range all {
		if !infrequent[i] {
			continue
		}
		if s.InfrequentSlot < 0 {
			s.InfrequentSlot = len(cs.Features)
			cs.Features = append(cs.Features, col.Name+"_infrequent")
		}
		if isNull(i) {
			s.NullSlot = s.InfrequentSlot
			continue
		}
		s.Infrequent = append(s.Infrequent, c.key)
	}
	return cs, nil
}

// infrequentMask marks the categories OneHotEncoder(min_frequency,
// max_categories) would treat as infrequent: below min_frequency first, then
// all but the max_categories-1 most frequent (a stable sort by count, so that
// of equal counts the later category is kept).
func infrequentMask(cats []catKey, cfg colConfig, n int) []bool {
	mask := make([]bool, len(cats))
	if f := cfg.minFrequency; f > 0 {
		limit := f // a count
		if f < 1 {
			limit = f * float64(n) // a fraction of the rows
		}
		for i, c := range cats {
			if float64(c.count) < limit {
				mask[i] = true
			}
		}
	}
	nInf := 0
	for _, m := range mask {
		if m {
			nInf++
		}
	}
	current := len(cats) - nInf
	if nInf > 0 {
		current++
	}
	if max := cfg.maxCategories; max > 0 && max < current {
		keep := max - 1
		order := make([]int, len(cats))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool { return cats[order[a]].count < cats[order[b]].count })
		for _, i := range order[:len(cats)-keep] {
			mask[i] = true
		}
	}
	return mask
}

// transform writes this column's features into m at column offset off.
func (cs *ColumnState) transform(col *frame.Column, m *Matrix, off int, sc *scratch) error {
	fitKind, _ := kindFromString(cs.Kind)
	if err := compatibleKind(cs, fitKind, col.Kind); err != nil {
		return err
	}
	n := m.Rows
	switch {
	case cs.Numeric != nil:
		s := cs.Numeric
		vals := sc.floats(n)
		if row := numericValues(col, vals); row >= 0 {
			return fmt.Errorf("%s: column %q is %v at row %d; values must be finite", cs.Transformer, cs.Column, vals[row], row)
		}
		for i, v := range vals {
			if math.IsNaN(v) {
				v = s.Fill
			} else if s.Log1p {
				if v <= -1 {
					return fmt.Errorf("%s: column %q is %v at row %d; log1p needs values > -1", cs.Transformer, cs.Column, v, i)
				}
				v = math.Log1p(v)
			}
			v = (v-s.Center)/s.Scale + s.Offset
			if s.Clip {
				v = math.Min(math.Max(v, s.ClipMin), s.ClipMax)
			}
			if !finite(v) {
				return fmt.Errorf("%s: column %q row %d: value too large to scale", cs.Transformer, cs.Column, i)
			}
			m.Data[i*m.Cols+off] = v
		}
	case cs.Bins != nil:
		b := cs.Bins
		vals := sc.floats(n)
		if row := numericValues(col, vals); row >= 0 {
			return fmt.Errorf("%s: column %q is %v at row %d; values must be finite", cs.Transformer, cs.Column, vals[row], row)
		}
		for i, v := range vals {
			if math.IsNaN(v) {
				v = b.Fill
			}
			k := b.bin(v)
			if b.OneHot {
				m.Data[i*m.Cols+off+k] = 1
			} else {
				m.Data[i*m.Cols+off] = float64(k)
			}
		}
	case cs.Categorical != nil:
		slots := sc.ints(n)
		if err := cs.slots(col, slots); err != nil {
			return err
		}
		s := cs.Categorical
		if cs.Transformer == Ordinal {
			for i, k := range slots {
				v := s.Unknown
				if k >= 0 {
					v = float64(k)
				}
				m.Data[i*m.Cols+off] = v
			}
		} else {
			for i, k := range slots {
				if k >= 0 {
					m.Data[i*m.Cols+off+int(k)] = 1
				}
			}
		}
	}
	return nil
}

// compatibleKind accepts any numeric kind for a numeric transformer fitted
// on a numeric kind, and otherwise only the kind seen at fit time.
func compatibleKind(cs *ColumnState, fit, got frame.Kind) error {
	if fit == got {
		return nil
	}
	if cs.Categorical == nil && fit != frame.Time && got.Numeric() && fit.Numeric() {
		return nil
	}
	return fmt.Errorf("%s: column %q is a %s column but was %s when the transformer was fitted", cs.Transformer, cs.Column, got, fit)
}

// slots writes each row's category slot, -1 for a category unseen at fit time.
func (cs *ColumnState) slots(col *frame.Column, dst []int32) error {
	s := cs.Categorical
	slotOf := make(map[string]int32, len(s.Categories)+len(s.Infrequent))
	for i, k := range s.Categories {
		slotOf[k] = int32(i)
	}
	for _, k := range s.Infrequent {
		slotOf[k] = int32(s.InfrequentSlot)
	}
	lookup := func(k string) int32 {
		if v, ok := slotOf[k]; ok {
			return v
		}
		return -1
	}
	null := int32(s.NullSlot)
	switch col.Kind {
	case frame.String:
		codeSlot := make([]int32, len(col.Dict))
		for c, k := range col.Dict {
			codeSlot[c] = lookup(k)
		}
		for i, c := range col.Codes {
			if col.IsNull(i) {
				dst[i] = null
				continue
			}
			if c < 0 || int(c) >= len(codeSlot) {
				return fmt.Errorf("%s: column %q row %d has code %d outside its dictionary of %d", cs.Transformer, cs.Column, i, c, len(codeSlot))
			}
			dst[i] = codeSlot[c]
		}
	case frame.Int:
		intSlot := make(map[int64]int32, len(slotOf))
		for k, v := range slotOf {
			x, err := strconv.ParseInt(k, 10, 64)
			if err != nil {
				return fmt.Errorf("%s: column %q: category %q is not an int", cs.Transformer, cs.Column, k)
			}
			intSlot[x] = v
		}
		for i, x := range col.Ints {
			if col.IsNull(i) {
				dst[i] = null
				continue
			}
			if v, ok := intSlot[x]; ok {
				dst[i] = v
			} else {
				dst[i] = -1
			}
		}
	case frame.Bool:
		f, t := lookup("false"), lookup("true")
		for i, x := range col.Bools {
			switch {
			case col.IsNull(i):
				dst[i] = null
			case x:
				dst[i] = t
			default:
				dst[i] = f
			}
		}
	}
	return nil
}
