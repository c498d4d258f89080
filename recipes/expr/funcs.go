package expr

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode/utf8"
)

// function is a built-in function: its signature, for messages and the
// documentation, and the check that types a call and lowers it to a node.
type function struct {
	name     string
	sig      string
	doc      string
	min, max int // number of arguments; max < 0 means any number from min
	check    func(k *call) (*node, error)
}

func (f *function) arity() string {
	switch {
	case f.max == f.min:
		if f.min == 1 {
			return "1 argument"
		}
		return fmt.Sprintf("%d arguments", f.min)
	case f.max < 0:
		return fmt.Sprintf("at least %d arguments", f.min)
	}
	return fmt.Sprintf("%d to %d arguments", f.min, f.max)
}

// call is one call being checked.
type call struct {
	c    *checker
	e    *callExpr
	fn   *function
	args []*node
}

// errf reports an error at argument i.
func (k *call) errf(i int, format string, args ...any) error {
	return k.c.errf(k.e.args[i].start(), format, args...)
}

// want checks that argument i has one of the types ts (a null literal fits any).
func (k *call) want(i int, ts ...typ) error {
	t := k.args[i].typ
	if t == tNull {
		return nil
	}
	for _, w := range ts {
		if t == w {
			return nil
		}
	}
	names := make([]string, len(ts))
	for j, w := range ts {
		names[j] = w.String()
	}
	msg := fmt.Sprintf("%s: argument %d must be %s, got %s", k.fn.name, i+1, strings.Join(names, " or "), t)
	switch {
	case t == tString && len(ts) == 1 && ts[0] == tTime:
		msg += " (convert with timestamp(s))"
	case t == tString && len(ts) == 1 && ts[0] == tDur:
		msg += " (convert with duration(s))"
	case ts[0] == tDur && t.numeric():
		msg += " (subtract two timestamps to get a duration)"
	case t == tDur:
		msg += " (convert the duration with seconds(), minutes(), hours() or days())"
	case t == tTime:
		msg += ` (take a part with year(t), hour(t), ..., or seconds since the epoch with seconds(t - timestamp("1970-01-01")))`
	}
	return k.errf(i, "%s", msg)
}

// wantAll checks every argument with want.
func (k *call) wantAll(ts ...typ) error {
	for i := range k.args {
		if err := k.want(i, ts...); err != nil {
			return err
		}
	}
	return nil
}

// nulled reports whether an argument is the null literal, in which case a
// null-propagating function is null of its result type.
func (k *call) nulled() bool {
	for _, a := range k.args {
		if a.isNull() {
			return true
		}
	}
	return false
}

// unify returns the common type of the arguments: int and float mix to
// float; otherwise all must have one type. Null literals fit any type.
func (k *call) unify(args []*node, first int) (typ, error) {
	t := tNull
	for i, a := range args {
		switch {
		case a.typ == tNull || a.typ == t:
		case t == tNull:
			t = a.typ
		case t.numeric() && a.typ.numeric():
			t = tFloat
		default:
			return 0, k.errf(first+i, "%s: argument %d is %s, but the arguments before it are %s; all must have one type", k.fn.name, first+i+1, a.typ, t)
		}
	}
	return t, nil
}

// as converts a node to type t, which unify chose for it.
func as(n *node, t typ) *node {
	if t == tFloat {
		return toFloat(n)
	}
	return retype(n, t)
}

var functions map[string]*function

func init() {
	functions = make(map[string]*function)
	add := func(f *function) { functions[f.name] = f }

	for _, part := range []struct{ name, doc string }{
		{"year", "the year"},
		{"month", "the month, 1 to 12"},
		{"day", "the day of the month, 1 to 31"},
		{"hour", "the hour, 0 to 23"},
		{"minute", "the minute, 0 to 59"},
		{"second", "the second, 0 to 59 (fractions dropped)"},
		{"day_of_week", "the day of the week, Monday = 0 to Sunday = 6 (like pandas dayofweek)"},
		{"day_of_year", "the day of the year, 1 to 366"},
		{"week_of_year", "the ISO 8601 week, 1 to 53"},
	} {
		kernel := timePart(part.name)
		add(&function{name: part.name, sig: part.name + "(t timestamp) int", doc: part.doc, min: 1, max: 1,
			check: func(k *call) (*node, error) {
				if err := k.want(0, tTime); err != nil {
					return nil, err
				}
				if k.nulled() {
					return nullOf(tInt), nil
				}
				return mapInt(tInt, k.args[0], kernel), nil
			}})
	}
	add(&function{name: "date", sig: "date(t timestamp) timestamp", doc: "t truncated to midnight", min: 1, max: 1,
		check: func(k *call) (*node, error) {
			if err := k.want(0, tTime); err != nil {
				return nil, err
			}
			if k.nulled() {
				return nullOf(tTime), nil
			}
			return mapInt(tTime, k.args[0], timePart("date")), nil
		}})

	for _, unit := range []struct {
		name string
		ns   float64
	}{{"seconds", 1e9}, {"minutes", 60e9}, {"hours", 3600e9}, {"days", 86400e9}} {
		add(&function{name: unit.name, sig: unit.name + "(d duration) float", doc: "the duration in " + unit.name, min: 1, max: 1,
			check: func(k *call) (*node, error) {
				if err := k.want(0, tDur); err != nil {
					return nil, err
				}
				if k.nulled() {
					return nullOf(tFloat), nil
				}
				return arithNode[float64]('/', tFloat, toFloat(k.args[0]), constOf(tFloat, scalar{f: unit.ns})), nil
			}})
	}

	add(&function{name: "abs", sig: "abs(x int|float|duration) same", doc: "the absolute value", min: 1, max: 1,
		check: func(k *call) (*node, error) {
			if err := k.want(0, tInt, tFloat, tDur); err != nil {
				return nil, err
			}
			if k.nulled() {
				return k.args[0], nil
			}
			return absNode(k.args[0]), nil
		}})
	for _, m := range []struct {
		name, doc string
		fn        func(float64) float64
	}{
		{"sqrt", "the square root; null for x < 0", math.Sqrt},
		{"log", "the natural logarithm; null for x <= 0", math.Log},
		{"log1p", "log(1 + x), accurate near 0; null for x <= -1", math.Log1p},
		{"exp", "e to the x; null when it overflows", math.Exp},
		{"floor", "the largest integer <= x, as a float", math.Floor},
		{"ceil", "the smallest integer >= x, as a float", math.Ceil},
	} {
		add(&function{name: m.name, sig: m.name + "(x number) float", doc: m.doc, min: 1, max: 1,
			check: func(k *call) (*node, error) {
				if err := k.want(0, tInt, tFloat); err != nil {
					return nil, err
				}
				if k.nulled() {
					return nullOf(tFloat), nil
				}
				return mapFloat(toFloat(k.args[0]), m.fn), nil
			}})
	}
	add(&function{name: "pow", sig: "pow(x number, y number) float", doc: "x to the power y; null where undefined", min: 2, max: 2,
		check: func(k *call) (*node, error) {
			if err := k.wantAll(tInt, tFloat); err != nil {
				return nil, err
			}
			if k.nulled() {
				return nullOf(tFloat), nil
			}
			return map2Float(toFloat(k.args[0]), toFloat(k.args[1]), math.Pow), nil
		}})
	add(&function{name: "round", sig: "round(x number[, digits int]) float", doc: "x rounded half to even (like numpy) to digits decimals, default 0", min: 1, max: 2,
		check: func(k *call) (*node, error) {
			if err := k.want(0, tInt, tFloat); err != nil {
				return nil, err
			}
			digits := constOf(tInt, scalar{})
			if len(k.args) == 2 {
				if err := k.want(1, tInt); err != nil {
					return nil, err
				}
				digits = k.args[1]
			}
			if k.nulled() {
				return nullOf(tFloat), nil
			}
			if digits.konst && digits.val.i == 0 {
				return mapFloat(toFloat(k.args[0]), math.RoundToEven), nil
			}
			return roundNode(toFloat(k.args[0]), digits), nil
		}})
	for _, mm := range []struct {
		name string
		max  bool
	}{{"min", false}, {"max", true}} {
		add(&function{name: mm.name, sig: mm.name + "(a, b, ...) same", doc: "the " + map[bool]string{false: "smallest", true: "largest"}[mm.max] + " of numbers, timestamps or durations; nulls are skipped, null only when all are null", min: 1, max: -1,
			check: func(k *call) (*node, error) {
				if err := k.wantAll(tInt, tFloat, tTime, tDur); err != nil {
					return nil, err
				}
				t, err := k.unify(k.args, 0)
				if err != nil {
					return nil, err
				}
				var xs []*node
				for _, a := range k.args {
					if !a.isNull() {
						xs = append(xs, as(a, t))
					}
				}
				switch {
				case len(xs) == 0:
					return nullOf(t), nil
				case t == tFloat:
					return extremeNode[float64](t, mm.max, xs), nil
				}
				return extremeNode[int64](t, mm.max, xs), nil
			}})
	}
	add(&function{name: "clip", sig: "clip(x, lo, hi) same", doc: "x bounded to [lo, hi]; a null bound is no bound", min: 3, max: 3,
		check: func(k *call) (*node, error) {
			if err := k.wantAll(tInt, tFloat, tTime, tDur); err != nil {
				return nil, err
			}
			t, err := k.unify(k.args, 0)
			if err != nil {
				return nil, err
			}
			if k.args[0].isNull() {
				return nullOf(t), nil
			}
			x, lo, hi := as(k.args[0], t), as(k.args[1], t), as(k.args[2], t)
			if t == tFloat {
				return clipNode[float64](t, x, lo, hi), nil
			}
			return clipNode[int64](t, x, lo, hi), nil
		}})

	add(&function{name: "lower", sig: "lower(s string) string", doc: "s in lower case", min: 1, max: 1,
		check: func(k *call) (*node, error) { return k.strMap(strings.ToLower) }})
	add(&function{name: "upper", sig: "upper(s string) string", doc: "s in upper case", min: 1, max: 1,
		check: func(k *call) (*node, error) { return k.strMap(strings.ToUpper) }})
	add(&function{name: "length", sig: "length(s string) int", doc: "the number of characters (code points) in s", min: 1, max: 1,
		check: func(k *call) (*node, error) {
			if err := k.want(0, tString); err != nil {
				return nil, err
			}
			if k.nulled() {
				return nullOf(tInt), nil
			}
			return dictMap(tInt, k.args[0], func(s string) (int64, bool) { return int64(utf8.RuneCountInString(s)), true }), nil
		}})
	for _, p := range []struct {
		name, doc string
		fn        func(s, sub string) bool
	}{
		{"contains", "whether s contains sub", strings.Contains},
		{"starts_with", "whether s starts with prefix", strings.HasPrefix},
		{"ends_with", "whether s ends with suffix", strings.HasSuffix},
	} {
		add(&function{name: p.name, sig: p.name + "(s string, sub string) bool", doc: p.doc, min: 2, max: 2,
			check: func(k *call) (*node, error) {
				if err := k.wantAll(tString); err != nil {
					return nil, err
				}
				if k.nulled() {
					return nullOf(tBool), nil
				}
				return strPredNode(p.fn, k.args[0], k.args[1]), nil
			}})
	}
	add(&function{name: "substr", sig: "substr(s string, start int, n int) string", doc: "the n characters of s from start (0-based; negative counts from the end)", min: 3, max: 3,
		check: func(k *call) (*node, error) {
			if err := k.want(0, tString); err != nil {
				return nil, err
			}
			for i := 1; i < 3; i++ {
				if err := k.want(i, tInt); err != nil {
					return nil, err
				}
			}
			if k.nulled() {
				return nullOf(tString), nil
			}
			s, start, n := k.args[0], k.args[1], k.args[2]
			if start.konst && n.konst {
				a, b := start.val.i, n.val.i
				return dictMapStr(s, func(x string) string { return substr(x, a, b) }), nil
			}
			return substrNode(s, start, n), nil
		}})

	add(&function{name: "int", sig: "int(x) int", doc: "x as an int: floats truncated towards zero, bools 0 or 1, strings parsed; null when impossible", min: 1, max: 1,
		check: func(k *call) (*node, error) {
			if err := k.want(0, tInt, tFloat, tBool, tString); err != nil {
				return nil, err
			}
			x := k.args[0]
			switch x.typ {
			case tNull:
				return nullOf(tInt), nil
			case tInt:
				return x, nil
			case tFloat:
				return fromFloat(x, tInt), nil
			case tBool:
				return fromFloat(toFloat(x), tInt), nil
			}
			return dictMap(tInt, x, parseInt), nil
		}})
	add(&function{name: "float", sig: "float(x) float", doc: "x as a float: bools 0 or 1, strings parsed; null when impossible", min: 1, max: 1,
		check: func(k *call) (*node, error) {
			if err := k.want(0, tInt, tFloat, tBool, tString); err != nil {
				return nil, err
			}
			x := k.args[0]
			if x.typ == tString {
				return dictMap(tFloat, x, parseFloat), nil
			}
			return toFloat(x), nil
		}})
	add(&function{name: "string", sig: "string(x) string", doc: "x formatted as a string (timestamps in RFC 3339)", min: 1, max: 1,
		check: func(k *call) (*node, error) {
			x := k.args[0]
			switch x.typ {
			case tNull:
				return nullOf(tString), nil
			case tString:
				return x, nil
			}
			return toStringNode(x), nil
		}})
	add(&function{name: "timestamp", sig: "timestamp(s string) timestamp", doc: `s read as an RFC 3339 timestamp ("2016-01-01T00:00:00Z"; the zone defaults to UTC, the time to midnight, a space may replace the T); a literal must parse, a column's bad values become null`, min: 1, max: 1,
		check: func(k *call) (*node, error) { return k.parse(tTime) }})
	add(&function{name: "duration", sig: "duration(s string) duration", doc: `s read as a duration such as "90s", "1h30m" (units ns, us, ms, s, m, h)`, min: 1, max: 1,
		check: func(k *call) (*node, error) { return k.parse(tDur) }})

	add(&function{name: "is_null", sig: "is_null(x) bool", doc: "whether x is null; never null", min: 1, max: 1,
		check: func(k *call) (*node, error) {
			if k.args[0].typ == tNull {
				return constOf(tBool, scalar{b: true}), nil
			}
			return isNullNode(k.args[0]), nil
		}})
	add(&function{name: "coalesce", sig: "coalesce(a, b, ...) same", doc: "the first argument that is not null", min: 1, max: -1,
		check: func(k *call) (*node, error) {
			t, err := k.unify(k.args, 0)
			if err != nil {
				return nil, err
			}
			var xs []*node
			for _, a := range k.args {
				if !a.isNull() {
					xs = append(xs, as(a, t))
				}
			}
			switch {
			case len(xs) == 0:
				return nullOf(t), nil
			case len(xs) == 1:
				return xs[0], nil
			case t == tString:
				return strCoalesceNode(xs), nil
			}
			return coalesceNode(t, xs), nil
		}})
	add(&function{name: "if", sig: "if(cond bool, a, b) same", doc: "a where cond is true, b where it is false or null", min: 3, max: 3,
		check: func(k *call) (*node, error) {
			if err := k.want(0, tBool); err != nil {
				return nil, err
			}
			t, err := k.unify(k.args[1:], 1)
			if err != nil {
				return nil, err
			}
			cond, a, b := k.args[0], as(k.args[1], t), as(k.args[2], t)
			switch {
			case t == tNull:
				return nullOf(tNull), nil
			case cond.isNull():
				return b, nil
			case t == tString:
				return strSelectNode(cond, a, b), nil
			}
			return selectNode(t, cond, a, b), nil
		}})
}

// strMap applies fn to the string argument, once per dictionary entry.
func (k *call) strMap(fn func(string) string) (*node, error) {
	if err := k.want(0, tString); err != nil {
		return nil, err
	}
	if k.nulled() {
		return nullOf(tString), nil
	}
	return dictMapStr(k.args[0], fn), nil
}

// parse reads the string argument as a timestamp or duration: a literal at
// compile time, where failing is an error; a column once per dictionary
// entry, where failing is null.
func (k *call) parse(t typ) (*node, error) {
	if err := k.want(0, tString, t); err != nil {
		return nil, err
	}
	x := k.args[0]
	switch {
	case x.typ == t:
		return x, nil
	case x.konst:
		return k.c.parseLiteral(x, k.e.args[0].start(), t)
	case t == tTime:
		return dictMap(tTime, x, parseTime), nil
	}
	return dictMap(tDur, x, parseDuration), nil
}

// functionNames returns the names of the built-in functions, sorted.
func functionNames() []string {
	names := make([]string, 0, len(functions))
	for name := range functions {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
