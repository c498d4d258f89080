package cards

import (
	"slices"
	"strings"
)

// Text summary limits.
const (
	// DefaultTextWidth is the width Text uses when given none.
	DefaultTextWidth = 80
	// MaxTextLines is the most lines a text summary has.
	MaxTextLines = 20

	maxSummaryLines = 7
	maxWarningLines = 3
)

// TextOptions configures TextWith.
type TextOptions struct {
	// Width is the line width in columns; 0 means DefaultTextWidth.
	Width int
	// Color adds ANSI colours: the status, the warnings, the step name.
	Color bool
}

// Text returns a plain summary of the card for a terminal, at most
// MaxTextLines lines of at most width columns: step and status, run
// identifiers, the run summary, warnings and the key metrics as a small
// training / validation / test table.
func (c *Card) Text(width int) string { return c.TextWith(TextOptions{Width: width}) }

// ANSI escape sequences.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiBlue   = "\x1b[34m"
	ansiPurple = "\x1b[35m"
)

// TextWith is Text with options.
func (c *Card) TextWith(o TextOptions) string {
	width := o.Width
	if width <= 0 {
		width = DefaultTextWidth
	}
	width = max(width, 20)
	type line struct{ text, style string }
	var lines []line
	add := func(text, style string) { lines = append(lines, line{truncRunes(text, width), style}) }

	// Header: step, title, status, duration.
	head := "sous"
	if name := joinNonEmpty(" — ", c.Step, c.Title); name != "" {
		head += " · " + name
	}
	if c.Status != "" {
		head += " · " + c.Status
	}
	if c.Duration != 0 {
		head += " · " + FormatDuration(c.Duration)
	}
	add(head, "head")
	var meta []string
	if c.RunID != "" {
		meta = append(meta, "run "+c.RunID)
	}
	if c.CacheKey != "" {
		meta = append(meta, "key "+shortKey(c.CacheKey))
	}
	if !c.Created.IsZero() {
		meta = append(meta, c.Created.UTC().Format("2006-01-02 15:04:05Z"))
	}
	if len(meta) > 0 {
		add(strings.Join(meta, " · "), ansiDim)
	}

	// Run summary, keys aligned.
	keyW := 0
	for _, kv := range c.summary {
		keyW = max(keyW, runeLen(kv.Key))
	}
	keyW = min(keyW, 28)
	shown := len(c.summary)
	if shown > maxSummaryLines {
		shown = maxSummaryLines - 1
	}
	for _, kv := range c.summary[:shown] {
		add("  "+padRight(truncRunes(kv.Key, keyW), keyW)+"  "+kv.Value, "")
	}
	if shown < len(c.summary) {
		add("  … "+FormatCount(len(c.summary)-shown)+" more in the card", ansiDim)
	}

	// Warnings.
	shown = len(c.warnings)
	if shown > maxWarningLines {
		shown = maxWarningLines - 1
	}
	for _, w := range c.warnings[:shown] {
		add("! "+w, ansiYellow)
	}
	if shown < len(c.warnings) {
		add("! … "+FormatCount(len(c.warnings)-shown)+" more warnings in the card", ansiYellow)
	}

	// Metrics, as many as fit.
	if table := c.metricsText(width, MaxTextLines-len(lines)); len(table) > 0 {
		for i, t := range table {
			style := ""
			if i == 0 {
				style = ansiDim
			}
			add(t, style)
		}
	}

	var b strings.Builder
	for _, l := range lines {
		text := l.text
		if o.Color {
			switch l.style {
			case "head":
				text = colorHeader(text, c.Step, c.Status)
			case "":
			default:
				text = l.style + text + ansiReset
			}
		}
		b.WriteString(strings.TrimRight(text, " "))
		b.WriteByte('\n')
	}
	return b.String()
}

func colorHeader(text, step, status string) string {
	if step != "" {
		text = strings.Replace(text, "sous · "+step, "sous · "+ansiBold+step+ansiReset, 1)
	}
	if status != "" {
		color := ansiDim
		switch statusClass(status) {
		case "ok":
			color = ansiGreen
		case "bad":
			color = ansiRed
		case "cached":
			color = ansiPurple
		case "run":
			color = ansiBlue
		}
		if i := strings.LastIndex(text, " · "+status); i >= 0 {
			j := i + len(" · ") + len(status)
			text = text[:i] + " · " + color + ansiBold + status + ansiReset + text[j:]
		}
	}
	return text
}

// keyMetrics are metric names shown first in the text summary, in this order.
var keyMetrics = []string{
	"root_mean_squared_error", "mean_absolute_error", "r2_score", "mean_squared_error",
	"mean_absolute_percentage_error", "max_error",
	"roc_auc", "accuracy_score", "f1_score", "precision_score", "recall_score", "log_loss",
}

// metricsText lays out the metrics of every metrics section in at most
// budget lines: a header, then one line per metric.
func (c *Card) metricsText(width, budget int) []string {
	var all []metric
	seen := map[string]bool{}
	for _, s := range c.sections {
		if m, ok := s.(*metricsSection); ok {
			for _, mt := range m.metrics {
				if !seen[mt.name] { // the first section to report a name wins
					seen[mt.name] = true
					all = append(all, mt)
				}
			}
		}
	}
	if len(all) == 0 || budget < 2 {
		return nil
	}
	slices.SortFunc(all, func(a, b metric) int { return strings.Compare(a.name, b.name) })
	rows, other := groupMetrics(all)
	rank := func(name string) int {
		if i := slices.Index(keyMetrics, name); i >= 0 {
			return i
		}
		return len(keyMetrics)
	}
	slices.SortStableFunc(rows, func(a, b metricRow) int { return rank(a.name) - rank(b.name) })
	slices.SortStableFunc(other, func(a, b metric) int { return rank(a.name) - rank(b.name) })

	// Columns: the splits that occur, then "value" for metrics without a split.
	type column struct {
		name  string
		split int // -1: value
	}
	var cols []column
	for k, sp := range splits {
		for _, r := range rows {
			if r.has[k] {
				cols = append(cols, column{sp.name, k})
				break
			}
		}
	}
	if len(other) > 0 {
		cols = append(cols, column{"value", -1})
	}
	type trow struct {
		name  string
		cells []string
	}
	var trows []trow
	for _, r := range rows {
		t := trow{name: r.name}
		for _, col := range cols {
			switch {
			case col.split < 0:
				t.cells = append(t.cells, "")
			case r.has[col.split]:
				t.cells = append(t.cells, FormatFloat(r.value[col.split]))
			default:
				t.cells = append(t.cells, Missing)
			}
		}
		trows = append(trows, t)
	}
	for _, m := range other {
		t := trow{name: m.name}
		for _, col := range cols {
			if col.split < 0 {
				t.cells = append(t.cells, FormatFloat(m.value))
			} else {
				t.cells = append(t.cells, "")
			}
		}
		trows = append(trows, t)
	}
	more := 0
	if len(trows) > budget-1 {
		keep := budget - 2
		more = len(trows) - keep
		trows = trows[:keep]
	}

	colW := make([]int, len(cols))
	nameW := len("metric")
	for i, col := range cols {
		colW[i] = runeLen(col.name)
	}
	for _, t := range trows {
		nameW = max(nameW, runeLen(t.name))
		for i, v := range t.cells {
			colW[i] = max(colW[i], runeLen(v))
		}
	}
	// Drop the rightmost columns that do not fit next to an 8-rune name.
	ncols := len(cols)
	rest := width - 2
	for _, w := range colW {
		rest -= w + 2
	}
	for ncols > 1 && rest < 8 {
		ncols--
		rest += colW[ncols] + 2
	}
	cols, colW = cols[:ncols], colW[:ncols]
	nameW = max(min(nameW, rest), 8)

	var out []string
	hdr := "  " + padRight("metric", nameW)
	for i, col := range cols {
		hdr += "  " + padLeft(col.name, colW[i])
	}
	out = append(out, hdr)
	for _, t := range trows {
		l := "  " + padRight(truncRunes(t.name, nameW), nameW)
		for i, v := range t.cells[:ncols] {
			l += "  " + padLeft(v, colW[i])
		}
		out = append(out, l)
	}
	if more > 0 {
		out = append(out, "  … "+FormatCount(more)+" more metrics in the card")
	}
	return out
}

func padRight(s string, w int) string {
	if n := runeLen(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}

func padLeft(s string, w int) string {
	if n := runeLen(s); n < w {
		return strings.Repeat(" ", w-n) + s
	}
	return s
}
