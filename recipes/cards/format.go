package cards

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Missing is what a card shows for a value that is absent: a null, a
// statistic that does not apply, a metric one split did not report.
const Missing = "—"

// sigDigits is how many significant digits FormatFloat keeps.
const sigDigits = 5

// FormatCount formats a count with thousands separators: 1234567 -> "1,234,567".
func FormatCount(n int) string { return groupDigits(strconv.FormatInt(int64(n), 10)) }

// FormatFloat formats v compactly with about five significant digits:
// 0.98765, 3.1416, 1234.6, 12,346, 1.23e-07, 4.5e+18. Integral values print
// as integers (grouped from 10,000 up). NaN prints as "NaN" and infinities as
// "+Inf" and "-Inf". The result is the same for the same v on every platform.
func FormatFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case v == 0:
		return "0"
	}
	a := math.Abs(v)
	if a >= 1e15 || a < 1e-4 {
		s := strconv.FormatFloat(v, 'e', sigDigits-2, 64)
		mant, exp, _ := strings.Cut(s, "e")
		return trimZeros(mant) + "e" + exp
	}
	if v == math.Trunc(v) {
		return groupValue(strconv.FormatFloat(v, 'f', 0, 64))
	}
	dec := max(sigDigits-1-int(math.Floor(math.Log10(a))), 0)
	return groupValue(trimZeros(strconv.FormatFloat(v, 'f', dec, 64)))
}

// FormatDuration formats d compactly: 420µs, 85ms, 12.3s, 4m05s, 1h02m.
func FormatDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + FormatDuration(-d)
	case d < time.Millisecond:
		return strconv.FormatInt(d.Microseconds(), 10) + "µs"
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	case d < time.Hour:
		d = d.Round(time.Second)
		return pad2(int(d/time.Minute), false) + "m" + pad2(int(d%time.Minute/time.Second), true) + "s"
	}
	d = d.Round(time.Minute)
	return strconv.FormatInt(int64(d/time.Hour), 10) + "h" + pad2(int(d%time.Hour/time.Minute), true) + "m"
}

func pad2(n int, zero bool) string {
	s := strconv.Itoa(n)
	if zero && n < 10 {
		return "0" + s
	}
	return s
}

// formatPct formats part/total as a percentage: "12.3%", "<0.1%", "100%".
func formatPct(part, total int) string {
	if total <= 0 {
		return Missing
	}
	if part == 0 {
		return "0%"
	}
	if part == total {
		return "100%"
	}
	p := 100 * float64(part) / float64(total)
	switch {
	case p < 0.1:
		return "<0.1%"
	case p > 99.9:
		return ">99.9%"
	case p < 10:
		return strconv.FormatFloat(p, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(p, 'f', 0, 64) + "%"
}

// formatCompact formats an axis tick: 950, 1.2k, 34k, 1.5M, 2G; other values as FormatFloat.
func formatCompact(v float64) string {
	a := math.Abs(v)
	for _, u := range []struct {
		min, div float64
		suf      string
	}{{1e9, 1e9, "G"}, {1e6, 1e6, "M"}, {1e4, 1e3, "k"}} {
		if a >= u.min && a < 1e15 {
			d := 1
			if a/u.div >= 10 {
				d = 0
			}
			return trimZeros(strconv.FormatFloat(v/u.div, 'f', d, 64)) + u.suf
		}
	}
	return FormatFloat(v)
}

// trimZeros removes trailing zeros after a decimal point, and the point itself if bare.
func trimZeros(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// groupDigits inserts thousands separators into a decimal integer string.
func groupDigits(s string) string {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	if len(s) <= 3 {
		if neg {
			return "-" + s
		}
		return s
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	head := len(s) % 3
	if head > 0 {
		b.WriteString(s[:head])
	}
	for i := head; i < len(s); i += 3 {
		if b.Len() > 0 && !(neg && b.Len() == 1) {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// groupValue groups the integer part of a decimal string when it has five or more digits.
func groupValue(s string) string {
	intPart, frac, hasFrac := strings.Cut(s, ".")
	digits := strings.TrimPrefix(intPart, "-")
	if len(digits) < 5 {
		return s
	}
	intPart = groupDigits(intPart)
	if hasFrac {
		return intPart + "." + frac
	}
	return intPart
}

// truncRunes shortens s to at most n runes, ending it with "…" when cut.
func truncRunes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	i, count := 0, 0
	for j := range s {
		if count == n-1 {
			i = j
		}
		if count == n {
			return s[:i] + "…"
		}
		count++
	}
	return s
}

// runeLen is the number of runes in s.
func runeLen(s string) int {
	n := 0
	for range s {
		n++
	}
	return n
}
