package steps

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"sort"

	"github.com/cespare/xxhash/v2"

	"github.com/sous-ml/sous/proto"
	"github.com/sous-ml/sous/recipes"
	"github.com/sous-ml/sous/recipes/cards"
	"github.com/sous-ml/sous/recipes/expr"
	"github.com/sous-ml/sous/recipes/frame"
	"github.com/sous-ml/sous/worker"
)

var splitNames = [3]string{"training_data", "validation_data", "test_data"}

// split assigns each row to training, validation or test by a hash of its
// values, so the same rows land in the same split on any machine with any
// number of workers; then drops rows with a null target and applies
// post_split_filter to each split.
func split(ctx context.Context, job *proto.Job, cfg *recipes.JobConfig, env *worker.Env) (*worker.Output, error) {
	var s recipes.SplitSettings
	if err := cfg.Decode(&s); err != nil {
		return nil, err
	}
	data, err := readTable(ctx, job, env, "ingested_data")
	if err != nil {
		return nil, err
	}
	ratios := s.SplitRatios[:]
	target, ok := data.Col(cfg.TargetCol)
	if !ok {
		return nil, badInput("split: target column %q is missing from the ingested data", cfg.TargetCol)
	}

	var filter *expr.Program
	if s.PostSplitFilter != "" {
		schema := map[string]frame.Kind{}
		for _, c := range data.Cols {
			schema[c.Name] = c.Kind
		}
		if filter, err = expr.Compile(s.PostSplitFilter, schema); err != nil {
			return nil, badInput("split: post_split_filter: %w", err)
		}
		if filter.Type() != frame.Bool {
			return nil, badInput("split: post_split_filter %q is a %s expression; it must be true or false for each row", s.PostSplitFilter, filter.Type())
		}
	}

	hashes := rowHashes(data)
	idx := [3][]int{}
	nullTarget := 0
	strata := map[string][]int{} // classification: rows by class
	for i, h := range hashes {
		if target.IsNull(i) || (target.Kind == frame.Float && math.IsNaN(target.Floats[i])) {
			nullTarget++
			continue
		}
		if isClassification(cfg) {
			strata[target.Str(i)] = append(strata[target.Str(i)], i)
			continue
		}
		k := assign(h, ratios)
		idx[k] = append(idx[k], i)
	}
	if isClassification(cfg) {
		idx = stratify(strata, hashes, ratios)
	}
	card := newCard(job, "Data split")
	outputs := map[string]proto.ArtifactRef{}
	metrics := map[string]float64{"null_target_rows": float64(nullTarget)}
	var parts [3]*frame.Frame
	filtered := [3]int{}
	for k := range 3 {
		part := data.Take(idx[k])
		if filter != nil {
			keep, err := filter.Filter(part)
			if err != nil {
				return nil, badInput("split: post_split_filter: %w", err)
			}
			before := part.Len()
			part = part.Filter(keep)
			filtered[k] = before - part.Len()
		}
		if part.Len() == 0 {
			why := fmt.Sprintf("%d rows were assigned to it", len(idx[k]))
			if filter != nil {
				why = fmt.Sprintf("post_split_filter %q keeps 0 of its %d rows", s.PostSplitFilter, len(idx[k]))
			}
			return nil, badInput("split: the %s split is empty: %s", splitNames[k], why)
		}
		parts[k] = part
		metrics[splitNames[k]+"_rows"] = float64(part.Len())
	}
	for k, part := range parts {
		ref, err := writeTable(ctx, env, splitNames[k], part)
		if err != nil {
			return nil, err
		}
		outputs[splitNames[k]] = ref
	}
	card.AddSummary(
		cards.KV{Key: "input rows", Value: fmt.Sprint(data.Len())},
		cards.KV{Key: "training rows", Value: fmt.Sprint(parts[0].Len())},
		cards.KV{Key: "validation rows", Value: fmt.Sprint(parts[1].Len())},
		cards.KV{Key: "test rows", Value: fmt.Sprint(parts[2].Len())},
		cards.KV{Key: "split ratios", Value: fmt.Sprint(ratios)},
	)
	if nullTarget > 0 {
		card.AddWarning(fmt.Sprintf("%d rows with a null target %q were dropped", nullTarget, cfg.TargetCol))
	}
	if filter != nil {
		f := filtered[0] + filtered[1] + filtered[2]
		metrics["filtered_rows"] = float64(f)
		card.AddSummary(cards.KV{Key: "post_split_filter", Value: s.PostSplitFilter},
			cards.KV{Key: "rows filtered out", Value: fmt.Sprint(f)})
	}
	card.AddTable("Rows per split", []string{"split", "assigned", "filtered out", "kept"}, [][]string{
		{"training", fmt.Sprint(len(idx[0])), fmt.Sprint(filtered[0]), fmt.Sprint(parts[0].Len())},
		{"validation", fmt.Sprint(len(idx[1])), fmt.Sprint(filtered[1]), fmt.Sprint(parts[1].Len())},
		{"test", fmt.Sprint(len(idx[2])), fmt.Sprint(filtered[2]), fmt.Sprint(parts[2].Len())},
	})
	card.AddProfile("training data", parts[0])
	return &worker.Output{Outputs: outputs, Metrics: metrics, Summary: card.Text(80), Card: card.HTML()}, nil
}

// stratify splits each class by the ratios, so every split has the class
// proportions of the data: within a class, rows are ordered by their hash
// (the same order on any machine) and cut at the ratios.
func stratify(strata map[string][]int, hashes []uint64, ratios []float64) [3][]int {
	var idx [3][]int
	classes := make([]string, 0, len(strata))
	for c := range strata {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	for _, c := range classes {
		rows := strata[c]
		sort.Slice(rows, func(a, b int) bool { return hashes[rows[a]] < hashes[rows[b]] })
		n := float64(len(rows))
		cut1 := int(math.Round(n * ratios[0]))
		cut2 := int(math.Round(n * (ratios[0] + ratios[1])))
		idx[0] = append(idx[0], rows[:cut1]...)
		idx[1] = append(idx[1], rows[cut1:cut2]...)
		idx[2] = append(idx[2], rows[cut2:]...)
	}
	for k := range idx {
		sort.Ints(idx[k])
	}
	return idx
}

// assign maps a row hash to a split by the ratios.
func assign(h uint64, ratios []float64) int {
	u := float64(h>>11) / (1 << 53)
	switch {
	case u < ratios[0]:
		return 0
	case u < ratios[0]+ratios[1]:
		return 1
	}
	return 2
}

// rowHashes hashes each row's values, column by column, independent of row
// order and of how the data was cut into files.
func rowHashes(f *frame.Frame) []uint64 {
	n := f.Len()
	h := make([]uint64, n)
	for i := range h {
		h[i] = 0x9E3779B97F4A7C15
	}
	var buf [8]byte
	word := func(v uint64) uint64 {
		binary.LittleEndian.PutUint64(buf[:], v)
		return xxhash.Sum64(buf[:])
	}
	const nullMark = 0xA5A5A5A5A5A5A5A5
	for _, c := range f.Cols {
		var dict []uint64
		if c.Kind == frame.String {
			dict = make([]uint64, len(c.Dict))
			for j, s := range c.Dict {
				dict[j] = xxhash.Sum64String(s)
			}
		}
		for i := 0; i < n; i++ {
			var v uint64
			switch {
			case c.IsNull(i):
				v = nullMark
			case c.Kind == frame.Float:
				x := c.Floats[i]
				if x == 0 {
					x = 0 // -0 and 0 are the same value
				}
				v = word(math.Float64bits(x))
			case c.Kind == frame.Int || c.Kind == frame.Time:
				v = word(uint64(c.Ints[i]))
			case c.Kind == frame.Bool:
				if c.Bools[i] {
					v = word(1)
				} else {
					v = word(2)
				}
			case c.Kind == frame.String:
				v = dict[c.Codes[i]]
			}
			h[i] = (h[i]^v)*0x100000001B3 + 0x9E3779B97F4A7C15
		}
	}
	for i := range h {
		x := h[i]
		x ^= x >> 33
		x *= 0xff51afd7ed558ccd
		x ^= x >> 33
		h[i] = x
	}
	return h
}
