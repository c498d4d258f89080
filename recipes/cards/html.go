package cards

import (
	"html"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sous-ml/sous/recipes/frame"
)

// esc escapes s for HTML text and attribute values.
func esc(s string) string { return html.EscapeString(s) }

// HTML renders the card as one self-contained HTML document: inline CSS and
// SVG, no script, no external resource. The same card renders to the same bytes.
func (c *Card) HTML() []byte {
	var b strings.Builder
	b.Grow(16 << 10)
	title := c.Title
	if title == "" {
		title = c.Step
	}
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n" +
		"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n<title>")
	b.WriteString(esc(joinNonEmpty(" · ", "sous", joinNonEmpty(" — ", c.Step, c.Title))))
	b.WriteString("</title>\n<style>")
	b.WriteString(stylesheet)
	b.WriteString("</style>\n</head>\n<body>\n")

	// Header.
	b.WriteString(`<header class="top"><div class="brand">sous</div><div class="head"><h1>`)
	if c.Step != "" {
		b.WriteString(`<span class="step">` + esc(c.Step) + `</span>`)
	}
	if title != c.Step {
		b.WriteString(`<span class="title">` + esc(title) + `</span>`)
	}
	if c.Status != "" {
		b.WriteString(`<span class="badge ` + statusClass(c.Status) + `">` + esc(c.Status) + `</span>`)
	}
	b.WriteString(`</h1><div class="meta">`)
	if c.Duration != 0 {
		b.WriteString(`<span>duration <b>` + esc(FormatDuration(c.Duration)) + `</b></span>`)
	}
	if c.CacheKey != "" {
		b.WriteString(`<span>cache key <code title="` + esc(c.CacheKey) + `">` + esc(shortKey(c.CacheKey)) + `</code></span>`)
	}
	if c.RunID != "" {
		b.WriteString(`<span>run <code>` + esc(c.RunID) + `</code></span>`)
	}
	if !c.Created.IsZero() {
		b.WriteString(`<span>created <b>` + esc(c.Created.UTC().Format("2006-01-02 15:04:05Z")) + `</b></span>`)
	}
	b.WriteString("</div></div></header>\n")

	// Table of contents.
	if len(c.sections) > 1 {
		b.WriteString(`<nav>`)
		for i, s := range c.sections {
			b.WriteString(`<a href="#s` + strconv.Itoa(i+1) + `">` + esc(s.heading()) + `</a>`)
		}
		b.WriteString("</nav>\n")
	}

	b.WriteString("<main>\n")
	for _, w := range c.warnings {
		b.WriteString(`<div class="warn" role="alert"><span class="wi">!</span>` + esc(w) + "</div>\n")
	}
	if len(c.summary) > 0 {
		b.WriteString(`<dl class="summary">`)
		for _, kv := range c.summary {
			b.WriteString(`<div><dt>` + esc(kv.Key) + `</dt><dd>` + esc(kv.Value) + `</dd></div>`)
		}
		b.WriteString("</dl>\n")
	}
	for i, s := range c.sections {
		b.WriteString(`<details class="sec" id="s` + strconv.Itoa(i+1) + `" open><summary>` + esc(s.heading()) +
			"</summary><div class=\"body\">")
		s.render(&b)
		b.WriteString("</div></details>\n")
	}
	if len(c.sections) == 0 && len(c.summary) == 0 && len(c.warnings) == 0 {
		b.WriteString(`<p class="note">This card is empty.</p>` + "\n")
	}
	b.WriteString("</main>\n<footer>sous step card")
	if c.Step != "" {
		b.WriteString(" · " + esc(c.Step))
	}
	b.WriteString("</footer>\n</body>\n</html>\n")
	return []byte(b.String())
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" && (len(out) == 0 || out[len(out)-1] != p) {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

func statusClass(status string) string {
	switch strings.ToLower(status) {
	case StatusSucceeded, "success", "ok", "done":
		return "ok"
	case StatusFailed, "error":
		return "bad"
	case StatusCached:
		return "cached"
	case StatusRunning:
		return "run"
	}
	return "other"
}

// shortKey shortens a cache key to 12 characters, after any "algo:" prefix.
func shortKey(k string) string {
	if _, rest, ok := strings.Cut(k, ":"); ok && rest != "" {
		k = rest
	}
	if len(k) > 12 {
		return k[:12]
	}
	return k
}

// cell writes a table cell; numeric cells are right-aligned.
func cell(b *strings.Builder, text string, numeric bool) {
	if numeric {
		b.WriteString(`<td class="n">`)
	} else {
		b.WriteString(`<td>`)
	}
	b.WriteString(esc(text))
	b.WriteString("</td>")
}

func rawCell(b *strings.Builder, class, inner string) {
	if class != "" {
		b.WriteString(`<td class="` + class + `">`)
	} else {
		b.WriteString("<td>")
	}
	b.WriteString(inner)
	b.WriteString("</td>")
}

// headerRow writes a table head; the columns named in right are right-aligned.
func headerRow(b *strings.Builder, right string, cols ...string) {
	b.WriteString("<thead><tr>")
	for _, h := range cols {
		if strings.Contains(","+right+",", ","+h+",") {
			b.WriteString(`<th class="n">` + esc(h) + "</th>")
		} else {
			b.WriteString("<th>" + esc(h) + "</th>")
		}
	}
	b.WriteString("</tr></thead>")
}

func note(b *strings.Builder, parts ...string) {
	var keep []string
	for _, p := range parts {
		if p != "" {
			keep = append(keep, p)
		}
	}
	if len(keep) > 0 {
		b.WriteString(`<p class="note">` + esc(strings.Join(keep, " · ")) + "</p>")
	}
}

// Profile.

func (s *profileSection) heading() string {
	if s.name == "" {
		return "Profile"
	}
	return "Profile: " + s.name
}

func (s *profileSection) render(b *strings.Builder) {
	sampled := ""
	for _, p := range s.cols {
		if p.Sampled {
			sampled = "quantiles and some distinct counts (≈) from a " + FormatCount(p.SampleRows) + "-row sample"
			break
		}
	}
	note(b, FormatCount(s.rows)+" rows × "+FormatCount(len(s.cols))+" columns", sampled)
	if len(s.cols) == 0 {
		return
	}
	var numeric, categorical, times []*ColumnProfile
	for i := range s.cols {
		switch p := &s.cols[i]; p.Kind {
		case frame.Float, frame.Int:
			numeric = append(numeric, p)
		case frame.Time:
			times = append(times, p)
		default:
			categorical = append(categorical, p)
		}
	}
	if len(numeric) > 0 {
		b.WriteString(`<h3>Numeric columns</h3><div class="scroll"><table class="prof">`)
		headerRow(b, "count,missing,distinct,mean,std dev,zeros,min,p25,median,p75,max",
			"column", "kind", "count", "missing", "distinct", "mean", "std dev", "zeros",
			"min", "p25", "median", "p75", "max", "distribution")
		b.WriteString("<tbody>")
		for _, p := range numeric {
			b.WriteString("<tr>")
			profileLead(b, p)
			cell(b, stat(p, p.Mean), true)
			cell(b, stat(p, p.Std), true)
			cell(b, countPct(p.Zeros, p.Count), true)
			for _, v := range []float64{p.Min, p.P25, p.Median, p.P75, p.Max} {
				cell(b, stat(p, v), true)
			}
			b.WriteString(`<td class="sp">`)
			if p.Count > 0 {
				sparkline(b, p.Hist, histTip(p, FormatFloat))
			}
			b.WriteString("</td></tr>")
		}
		b.WriteString("</tbody></table></div>")
	}
	if len(categorical) > 0 {
		b.WriteString(`<h3>Categorical columns</h3><div class="scroll"><table class="prof">`)
		headerRow(b, "count,missing,distinct", "column", "kind", "count", "missing", "distinct", "top values")
		b.WriteString("<tbody>")
		for _, p := range categorical {
			b.WriteString("<tr>")
			profileLead(b, p)
			b.WriteString(`<td class="top">`)
			for _, vc := range p.Top {
				label := esc(truncRunes(vc.Value, 40))
				if vc.Value == "" {
					label = "<i>(empty)</i>"
				}
				b.WriteString(`<span class="chip" title="` + esc(FormatCount(vc.Count)+" rows") + `">` + label +
					` <b>` + esc(formatPct(vc.Count, p.Count)) + `</b></span>`)
			}
			if len(p.Top) == 0 {
				b.WriteString(Missing)
			}
			b.WriteString("</td></tr>")
		}
		b.WriteString("</tbody></table></div>")
	}
	if len(times) > 0 {
		b.WriteString(`<h3>Time columns</h3><div class="scroll"><table class="prof">`)
		headerRow(b, "count,missing,distinct,span",
			"column", "kind", "count", "missing", "distinct", "min", "max", "span", "distribution")
		b.WriteString("<tbody>")
		for _, p := range times {
			b.WriteString("<tr>")
			profileLead(b, p)
			if p.Count > 0 {
				cell(b, formatTimeMillis(p.MinTime), false)
				cell(b, formatTimeMillis(p.MaxTime), false)
				cell(b, formatSpan(p.MaxTime.Sub(p.MinTime)), true)
				b.WriteString(`<td class="sp">`)
				sparkline(b, p.Hist, histTip(p, func(v float64) string {
					return formatTimeMillis(time.Unix(0, int64(v)))
				}))
				b.WriteString("</td>")
			} else {
				for range 4 {
					cell(b, Missing, true)
				}
			}
			b.WriteString("</tr>")
		}
		b.WriteString("</tbody></table></div>")
	}
}

// profileLead writes the cells every profile table starts with.
func profileLead(b *strings.Builder, p *ColumnProfile) {
	rawCell(b, "name", esc(p.Name))
	rawCell(b, "kind", esc(p.Kind.String()))
	cell(b, FormatCount(p.Rows-p.Nulls), true)
	missing := countPct(p.Nulls, p.Rows)
	if p.Nulls > 0 {
		missing = `<span class="hot">` + esc(missing) + `</span>`
	} else {
		missing = esc(missing)
	}
	if p.NonFinite > 0 {
		missing += `<span class="sub">` + esc("+"+FormatCount(p.NonFinite)+" NaN/Inf") + `</span>`
	}
	if p.Empty > 0 {
		missing += `<span class="sub">` + esc("+"+FormatCount(p.Empty)+" empty") + `</span>`
	}
	rawCell(b, "n", missing)
	d := FormatCount(p.Distinct)
	if !p.DistinctExact {
		d = "≈" + d
	}
	cell(b, d, true)
}

// stat formats a statistic, or Missing when the column has no values.
func stat(p *ColumnProfile, v float64) string {
	if p.Count == 0 {
		return Missing
	}
	return FormatFloat(v)
}

func countPct(n, total int) string {
	if total == 0 {
		return Missing
	}
	if n == 0 {
		return "0"
	}
	return FormatCount(n) + " (" + formatPct(n, total) + ")"
}

// histTip returns the tooltip of each profile histogram bar.
func histTip(p *ColumnProfile, format func(float64) string) func(int) string {
	n := len(p.Hist)
	return func(i int) string {
		if p.Kind == frame.Int && p.HistHi-p.HistLo == float64(n) { // one bin per integer
			return FormatFloat(p.HistLo+0.5+float64(i)) + ": " + FormatCount(p.Hist[i])
		}
		a := p.HistLo + (p.HistHi-p.HistLo)*float64(i)/float64(n)
		z := p.HistLo + (p.HistHi-p.HistLo)*float64(i+1)/float64(n)
		return format(a) + " – " + format(z) + ": " + FormatCount(p.Hist[i])
	}
}

// formatTimeMillis formats t in UTC to the millisecond, for summaries.
func formatTimeMillis(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05.999Z")
}

// formatSpan formats a long duration in days, hours or the compact form.
func formatSpan(d time.Duration) string {
	if d >= 48*time.Hour {
		return FormatFloat(math.Round(d.Hours()/24*10)/10) + " days"
	}
	return FormatDuration(d)
}

// Schema.

func (s *schemaSection) heading() string { return "Schema" }

func (s *schemaSection) render(b *strings.Builder) {
	note(b, FormatCount(len(s.cols))+" columns")
	if len(s.cols) == 0 {
		return
	}
	b.WriteString(`<div class="scroll"><table>`)
	headerRow(b, "#,nulls", "#", "column", "kind", "nullable", "nulls")
	b.WriteString("<tbody>")
	for i, c := range s.cols {
		b.WriteString("<tr>")
		cell(b, strconv.Itoa(i+1), true)
		rawCell(b, "name", esc(c.name))
		rawCell(b, "kind", esc(c.kind.String()))
		nullable := "no"
		if c.nullable {
			nullable = "yes"
		}
		cell(b, nullable, false)
		cell(b, FormatCount(c.nulls), true)
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table></div>")
}

// Preview.

func (s *previewSection) heading() string { return "Preview" }

func (s *previewSection) render(b *strings.Builder) {
	note(b, "first "+FormatCount(len(s.cells))+" of "+FormatCount(s.rows)+" rows")
	if len(s.header) == 0 {
		return
	}
	b.WriteString(`<div class="scroll"><table class="preview"><thead><tr><th class="n">#</th>`)
	for j, h := range s.header {
		open := "<th>"
		if rightAligned(s.kinds[j]) {
			open = `<th class="n">`
		}
		b.WriteString(open + esc(h) + `<span class="sub">` + esc(s.kinds[j].String()) + "</span></th>")
	}
	b.WriteString("</tr></thead><tbody>")
	for i, row := range s.cells {
		b.WriteString("<tr>")
		cell(b, strconv.Itoa(i), true)
		for j, v := range row {
			if v == nullCell {
				if rightAligned(s.kinds[j]) {
					rawCell(b, "null n", "null")
				} else {
					rawCell(b, "null", "null")
				}
				continue
			}
			cell(b, v, rightAligned(s.kinds[j]))
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table></div>")
}

// rightAligned reports whether a preview column of kind k is right-aligned.
func rightAligned(k frame.Kind) bool { return k == frame.Float || k == frame.Int }

// Metrics.

func (s *metricsSection) heading() string {
	if s.title == "" {
		return "Metrics"
	}
	return s.title
}

func (s *metricsSection) render(b *strings.Builder) {
	if len(s.metrics) == 0 {
		note(b, "no metrics")
		return
	}
	rows, other := groupMetrics(s.metrics)
	if len(rows) > 0 {
		var used []int
		for k := range splits {
			for _, r := range rows {
				if r.has[k] {
					used = append(used, k)
					break
				}
			}
		}
		b.WriteString(`<div class="scroll"><table class="metrics"><thead><tr><th>metric</th>`)
		for _, k := range used {
			b.WriteString(`<th class="n">` + splits[k].name + "</th>")
		}
		b.WriteString("</tr></thead><tbody>")
		for _, r := range rows {
			b.WriteString("<tr>")
			rawCell(b, "name", esc(r.name))
			for _, k := range used {
				if r.has[k] {
					cell(b, FormatFloat(r.value[k]), true)
				} else {
					cell(b, Missing, true)
				}
			}
			b.WriteString("</tr>")
		}
		b.WriteString("</tbody></table></div>")
	}
	if len(other) > 0 {
		b.WriteString(`<div class="scroll"><table class="metrics"><thead><tr><th>metric</th><th class="n">value</th></tr></thead><tbody>`)
		for _, m := range other {
			b.WriteString("<tr>")
			rawCell(b, "name", esc(m.name))
			cell(b, FormatFloat(m.value), true)
			b.WriteString("</tr>")
		}
		b.WriteString("</tbody></table></div>")
	}
}

// Table.

func (s *tableSection) heading() string { return orDefault(s.title, "Table") }

func (s *tableSection) render(b *strings.Builder) {
	if len(s.header) == 0 && len(s.rows) == 0 {
		note(b, "empty table")
		return
	}
	width := len(s.header)
	for _, r := range s.rows {
		width = max(width, len(r))
	}
	// A column is numeric when every non-empty cell in it parses as a number.
	numeric := make([]bool, width)
	for j := range numeric {
		numeric[j] = true
		seen := false
		for _, r := range s.rows {
			if j < len(r) && r[j] != "" && r[j] != Missing {
				seen = true
				if !looksNumeric(r[j]) {
					numeric[j] = false
					break
				}
			}
		}
		numeric[j] = numeric[j] && seen
	}
	b.WriteString(`<div class="scroll"><table>`)
	if len(s.header) > 0 {
		b.WriteString("<thead><tr>")
		for j := range width {
			h := ""
			if j < len(s.header) {
				h = s.header[j]
			}
			if numeric[j] {
				b.WriteString(`<th class="n">` + esc(h) + "</th>")
			} else {
				b.WriteString("<th>" + esc(h) + "</th>")
			}
		}
		b.WriteString("</tr></thead>")
	}
	b.WriteString("<tbody>")
	for _, r := range s.rows {
		b.WriteString("<tr>")
		for j := range width {
			v := ""
			if j < len(r) {
				v = r[j]
			}
			cell(b, v, numeric[j])
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table></div>")
}

func looksNumeric(s string) bool {
	s = strings.TrimSuffix(strings.ReplaceAll(strings.TrimSpace(s), ",", ""), "%")
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// plural formats a count and a noun: "1 point", "2,000 points".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return FormatCount(n) + " " + noun + "s"
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Charts.

func (s *scatterSection) heading() string { return orDefault(s.title, "Scatter") }

func (s *scatterSection) render(b *strings.Builder) {
	shown := plural(s.total, "point")
	if len(s.x) < s.total {
		shown = FormatCount(len(s.x)) + " of " + FormatCount(s.total) + " points (deterministic sample)"
	}
	var extra []string
	if s.dropped > 0 {
		extra = append(extra, FormatCount(s.dropped)+" with NaN/Inf left out")
	}
	if s.mismatch {
		extra = append(extra, "x and y differ in length: extra values ignored")
	}
	if s.identity {
		extra = append(extra, "dashed line: y = x")
	}
	note(b, append([]string{shown}, extra...)...)
	s.svg(b)
}

func (s *histSection) heading() string { return orDefault(s.title, "Histogram") }

func (s *histSection) render(b *strings.Builder) {
	var parts []string
	parts = append(parts, plural(s.total, "value"))
	if s.total > 0 {
		parts = append(parts, "range "+FormatFloat(s.lo)+" to "+FormatFloat(s.hi), plural(len(s.counts), "bin"))
	}
	if s.nonFinite > 0 {
		parts = append(parts, FormatCount(s.nonFinite)+" NaN/Inf left out")
	}
	note(b, parts...)
	if s.total > 0 {
		s.svg(b)
	}
}

func (s *barsSection) heading() string { return orDefault(s.title, "Bars") }

func (s *barsSection) render(b *strings.Builder) {
	if s.total > len(s.values) {
		note(b, "first "+FormatCount(len(s.values))+" of "+FormatCount(s.total))
	}
	if len(s.values) == 0 {
		note(b, "nothing to show")
		return
	}
	s.svg(b)
}

func (s *textSection) heading() string { return orDefault(s.title, "Text") }

func (s *textSection) render(b *strings.Builder) {
	b.WriteString("<pre>" + esc(s.body) + "</pre>")
}

// stylesheet is the card's whole style: light, compact, system fonts only.
const stylesheet = `
:root{--fg:#1f2328;--mut:#59636e;--bd:#d1d9e0;--ln:#eaeef2;--bg:#f6f8fa;--acc:#0969da;--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700}
*{box-sizing:border-box}
html{background:var(--bg)}
body{margin:0;color:var(--fg);font:13px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:12px}
header.top{display:flex;gap:18px;align-items:center;padding:12px 24px;background:#fff;border-bottom:1px solid var(--bd)}
.brand{font-weight:800;font-size:18px;letter-spacing:.04em;color:#fff;background:var(--acc);border-radius:6px;padding:4px 10px}
h1{margin:0;font-size:18px;font-weight:600;display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}
h1 .step{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
h1 .title{color:var(--mut);font-weight:400}
.badge{font-size:11px;font-weight:600;padding:2px 8px;border-radius:10px;text-transform:uppercase;letter-spacing:.05em;color:#fff;background:#6e7781;align-self:center}
.badge.ok{background:var(--ok)}.badge.bad{background:var(--bad)}.badge.cached{background:#8250df}.badge.run{background:var(--acc)}
.meta{display:flex;gap:16px;flex-wrap:wrap;color:var(--mut);font-size:12px;margin-top:2px}
.meta b{color:var(--fg);font-weight:600}
.meta code{color:var(--fg);background:var(--bg);border:1px solid var(--ln);border-radius:4px;padding:0 4px}
nav{display:flex;gap:4px;flex-wrap:wrap;padding:6px 24px;background:#fff;border-bottom:1px solid var(--bd);position:sticky;top:0;z-index:1}
nav a{color:var(--acc);text-decoration:none;padding:2px 8px;border-radius:4px;font-size:12px}
nav a:hover{background:var(--bg)}
main{max-width:1280px;margin:0 auto;padding:16px 24px}
.warn{display:flex;gap:10px;align-items:center;background:#fff8c5;border:1px solid #d4a72c;border-left:4px solid #bf8700;border-radius:6px;padding:8px 12px;margin:0 0 10px;font-weight:500}
.wi{flex:none;width:18px;height:18px;border-radius:50%;background:#bf8700;color:#fff;font-weight:700;text-align:center;line-height:18px;font-size:12px}
dl.summary{display:flex;flex-wrap:wrap;gap:8px;margin:0 0 14px}
dl.summary div{background:#fff;border:1px solid var(--bd);border-radius:6px;padding:6px 12px;min-width:120px}
dt{color:var(--mut);font-size:11px;text-transform:uppercase;letter-spacing:.04em}
dd{margin:0;font-size:15px;font-weight:600;font-variant-numeric:tabular-nums}
details.sec{background:#fff;border:1px solid var(--bd);border-radius:6px;margin:0 0 14px;scroll-margin-top:40px}
details.sec>summary{cursor:pointer;padding:8px 14px;font-weight:600;font-size:14px;border-bottom:1px solid var(--ln)}
details.sec:not([open])>summary{border-bottom:0}
.body{padding:10px 14px 14px}
h3{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--mut);margin:14px 0 6px}
.note{color:var(--mut);font-size:12px;margin:0 0 8px}
.scroll{overflow-x:auto;max-width:100%}
.scroll+.scroll{margin-top:12px}
table{border-collapse:collapse;font-size:12px;font-variant-numeric:tabular-nums}
th,td{padding:4px 10px;text-align:left;border-bottom:1px solid var(--ln);white-space:nowrap;vertical-align:middle}
th{background:var(--bg);font-weight:600;color:var(--mut);border-bottom:1px solid var(--bd)}
tbody tr:hover{background:#f6f8fa}
.n{text-align:right}
td.name{font-weight:600}
td.kind{color:var(--mut)}
td.null{color:#afb8c1;font-style:italic}
td.sp{padding:2px 10px}
.sub{display:block;color:var(--mut);font-size:10px;font-weight:400}
.hot{color:var(--bad)}
td.top{white-space:normal;max-width:640px}
.chip{display:inline-block;background:#ddf4ff;border-radius:10px;padding:0 8px;margin:1px 3px 1px 0;white-space:nowrap}
.chip b{font-weight:600;color:var(--acc)}
pre{margin:0;padding:10px;background:var(--bg);border-radius:4px;overflow-x:auto;white-space:pre}
svg{display:block;overflow:visible}
svg.chart{max-width:100%;height:auto;margin:4px 0}
svg text{font-size:10px;fill:var(--mut)}
svg text.lbl{font-size:11px;fill:var(--fg)}
svg text.val{fill:var(--fg)}
.grid{stroke:var(--ln);fill:none}
.axis,.base{stroke:#8c959f;fill:none}
.ref{stroke:var(--bad);stroke-dasharray:5 4;fill:none;stroke-width:1.2}
.pts{fill:var(--acc);fill-opacity:.45}
.bars rect,.spark rect,rect.bar{fill:var(--acc);fill-opacity:.8}
rect.neg{fill:var(--bad)}
.bars rect:hover,.spark rect:hover{fill-opacity:1}
footer{color:var(--mut);font-size:11px;text-align:center;padding:8px 0 20px}
@media print{nav{display:none}details.sec{break-inside:avoid}}
`
