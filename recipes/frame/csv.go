package frame

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// CSVOptions configures ReadCSV. The zero value reads comma-separated data
// with a header row and inferred types.
type CSVOptions struct {
	// Sep is the field separator; 0 means ','.
	Sep rune
	// NoHeader says the first row is data; columns are then named "0", "1", ...
	NoHeader bool
	// Schema fixes the kind of the named columns instead of inferring it.
	Schema map[string]Kind
}

// nullTokens are the cells read as nulls (pandas' default na_values).
var nullTokens = map[string]bool{
	"": true, "NA": true, "N/A": true, "n/a": true, "#N/A": true, "#N/A N/A": true, "#NA": true,
	"NaN": true, "nan": true, "-NaN": true, "-nan": true, "<NA>": true,
	"null": true, "NULL": true, "None": true,
	"-1.#IND": true, "1.#IND": true, "-1.#QNAN": true, "1.#QNAN": true,
}

// csvTimeLayouts are the timestamp forms ReadCSV recognises, tried in order.
// Times without a zone are taken as UTC.
var csvTimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// ReadCSVFile reads the CSV file at path; see ReadCSV.
func ReadCSVFile(path string, opts CSVOptions) (*Frame, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("frame: read csv %s: %w", path, err)
	}
	defer f.Close()
	return ReadCSV(f, path, opts)
}

// ReadCSV reads delimited text into a frame. name is used in error messages.
//
// Each column's kind is inferred from its non-null cells unless opts.Schema
// names it: Int if all are integers, else Float if all are numbers, Bool if
// all are true/false (any case), Time if all parse as RFC 3339,
// "2006-01-02 15:04:05" (optionally with fractional seconds) or
// "2006-01-02", else String. Empty cells and pandas' null markers (NA, NaN,
// null, None, ...) are nulls; a column of nulls only is Float. Quoted fields
// may hold separators, quotes and newlines. Empty header names become
// "Unnamed: i" and repeated ones get ".1", ".2" suffixes, as in pandas.
func ReadCSV(r io.Reader, name string, opts CSVOptions) (*Frame, error) {
	sep := opts.Sep
	if sep == 0 {
		sep = ','
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if b, err := br.Peek(3); err == nil && string(b) == "\xef\xbb\xbf" {
		br.Discard(3) // UTF-8 byte order mark
	}
	cr := csv.NewReader(br)
	cr.Comma = sep
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true

	var names []string
	var cells []string // row-major: cell (r, c) is cells[r*len(names)+c]
	var lines []int    // line number where each data row starts
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("frame: read csv %s: line %d: %w", name, pe.StartLine, pe.Err)
			}
			return nil, fmt.Errorf("frame: read csv %s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if names == nil {
			if opts.NoHeader {
				names = make([]string, len(rec))
				for i := range names {
					names[i] = strconv.Itoa(i)
				}
			} else {
				names = headerNames(rec)
			}
			if !opts.NoHeader {
				continue
			}
		}
		if len(rec) != len(names) {
			return nil, fmt.Errorf("frame: read csv %s: line %d: %d fields, want %d", name, line, len(rec), len(names))
		}
		cells = append(cells, rec...)
		lines = append(lines, line)
	}
	for col := range opts.Schema {
		found := false
		for _, n := range names {
			found = found || n == col
		}
		if !found {
			return nil, fmt.Errorf("frame: read csv %s: schema names column %q, which the file lacks (have %s)", name, col, quoteNames(names))
		}
	}
	f := &Frame{Cols: make([]*Column, len(names))}
	col := make([]string, len(lines))
	for i, n := range names {
		for r := range col {
			col[r] = cells[r*len(names)+i]
		}
		if kind, fixed := opts.Schema[n]; fixed {
			c, bad, err := parseColumn(n, kind, col)
			if err != nil {
				return nil, fmt.Errorf("frame: read csv %s: column %q, row %d (line %d): %w", name, n, bad+1, lines[bad], err)
			}
			f.Cols[i] = c
		} else {
			f.Cols[i] = inferColumn(n, col)
		}
	}
	return f, nil
}

// headerNames applies pandas' naming of empty and repeated header cells.
func headerNames(rec []string) []string {
	names := make([]string, len(rec))
	seen := make(map[string]int, len(rec))
	for i, s := range rec {
		if s == "" {
			s = "Unnamed: " + strconv.Itoa(i)
		}
		if k, dup := seen[s]; dup {
			base := s
			for {
				k++
				s = base + "." + strconv.Itoa(k)
				if _, taken := seen[s]; !taken {
					break
				}
			}
			seen[base] = k
		}
		seen[s] = 0
		names[i] = s
	}
	return names
}

func isNull(s string) bool { return nullTokens[s] }

// inferColumn builds a column of the narrowest kind all non-null cells
// parse as, parsing each cell once per candidate kind at most.
func inferColumn(name string, cells []string) *Column {
	n := len(cells)
	canInt, canFloat, canBool, canTime := true, true, true, true
	var valid []bool
	ints := make([]int64, n) // Int, then Time candidates reuse it
	floats := make([]float64, n)
	var bools []bool
	var times []int64
	seen := false
	for i, s := range cells {
		if isNull(s) {
			if valid == nil {
				valid = allValid(n)
			}
			valid[i] = false
			continue
		}
		seen = true
		t := strings.TrimSpace(s)
		if canInt || canFloat {
			if canInt {
				if v, err := strconv.ParseInt(t, 10, 64); err == nil {
					ints[i], floats[i] = v, float64(v)
				} else {
					canInt = false
				}
			}
			if !canInt && canFloat {
				if v, err := strconv.ParseFloat(t, 64); err == nil || (errors.Is(err, strconv.ErrRange) && math.IsInf(v, 0)) {
					floats[i] = v
				} else {
					canFloat = false
				}
			}
		}
		if canBool {
			if v, ok := parseBool(t); ok {
				if bools == nil {
					bools = make([]bool, n)
				}
				bools[i] = v
			} else {
				canBool = false
			}
		}
		if canTime {
			if v, ok := parseTime(t); ok {
				if times == nil {
					times = make([]int64, n)
				}
				times[i] = v
			} else {
				canTime = false
			}
		}
		if !canInt && !canFloat && !canBool && !canTime {
			break
		}
	}
	c := &Column{Name: name, Valid: valid}
	switch {
	case !seen:
		c.Kind, c.Floats = Float, floats
	case canInt:
		c.Kind, c.Ints = Int, ints
	case canFloat:
		c.Kind, c.Floats = Float, floats
	case canBool:
		c.Kind, c.Bools = Bool, bools
	case canTime:
		c.Kind, c.Ints = Time, times
	default:
		c, _, _ = parseColumn(name, String, cells)
	}
	return c
}

func parseBool(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

func parseTime(s string) (int64, bool) {
	if len(s) < 10 || s[4] != '-' {
		return 0, false
	}
	for _, layout := range csvTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixNano(), true
		}
	}
	return 0, false
}

// parseColumn converts cells to a column of the given kind. On error it
// returns the index of the offending cell.
func parseColumn(name string, kind Kind, cells []string) (*Column, int, error) {
	n := len(cells)
	c := &Column{Name: name, Kind: kind}
	switch kind {
	case Float:
		c.Floats = make([]float64, n)
	case Int, Time:
		c.Ints = make([]int64, n)
	case Bool:
		c.Bools = make([]bool, n)
	case String:
		c.Codes = make([]int32, n)
		c.Dict = []string{}
	default:
		return nil, 0, fmt.Errorf("unknown kind %s", kind)
	}
	var index map[string]int32
	for i, s := range cells {
		if isNull(s) {
			if c.Valid == nil {
				c.Valid = allValid(n)
			}
			c.Valid[i] = false
			continue
		}
		t := strings.TrimSpace(s)
		switch kind {
		case Float:
			v, err := strconv.ParseFloat(t, 64)
			if err != nil && !(errors.Is(err, strconv.ErrRange) && math.IsInf(v, 0)) {
				return nil, i, fmt.Errorf("cannot parse %q as %s", s, kind)
			}
			c.Floats[i] = v
		case Int:
			v, err := strconv.ParseInt(t, 10, 64)
			if err != nil {
				return nil, i, fmt.Errorf("cannot parse %q as %s", s, kind)
			}
			c.Ints[i] = v
		case Bool:
			v, ok := parseBool(t)
			if !ok {
				return nil, i, fmt.Errorf("cannot parse %q as %s", s, kind)
			}
			c.Bools[i] = v
		case Time:
			v, ok := parseTime(t)
			if !ok {
				return nil, i, fmt.Errorf("cannot parse %q as %s", s, kind)
			}
			c.Ints[i] = v
		case String:
			if index == nil {
				index = make(map[string]int32)
			}
			code, ok := index[s]
			if !ok {
				code = int32(len(c.Dict))
				index[s] = code
				c.Dict = append(c.Dict, s)
			}
			c.Codes[i] = code
		}
	}
	return c, 0, nil
}

// WriteCSV writes f as comma-separated text with a header row. Nulls are
// empty cells, times are RFC 3339 with nanoseconds in UTC, floats use the
// shortest representation that reads back exactly.
func WriteCSV(w io.Writer, f *Frame) error {
	if err := f.Validate(); err != nil {
		return fmt.Errorf("frame: write csv: %w", err)
	}
	if err := checkCodes(f); err != nil {
		return fmt.Errorf("frame: write csv: %w", err)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(f.Names()); err != nil {
		return fmt.Errorf("frame: write csv: %w", err)
	}
	rec := make([]string, len(f.Cols))
	var buf []byte
	for i := 0; i < f.Len(); i++ {
		for k, c := range f.Cols {
			if c.IsNull(i) {
				rec[k] = ""
				continue
			}
			switch c.Kind {
			case Float:
				buf = strconv.AppendFloat(buf[:0], c.Floats[i], 'g', -1, 64)
				rec[k] = string(buf)
			case Int:
				buf = strconv.AppendInt(buf[:0], c.Ints[i], 10)
				rec[k] = string(buf)
			case Bool:
				rec[k] = strconv.FormatBool(c.Bools[i])
			case String:
				rec[k] = c.Dict[c.Codes[i]]
			case Time:
				buf = time.Unix(0, c.Ints[i]).UTC().AppendFormat(buf[:0], time.RFC3339Nano)
				rec[k] = string(buf)
			}
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("frame: write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("frame: write csv: %w", err)
	}
	return nil
}
