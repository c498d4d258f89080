package ml

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
)

// Params reads the params map of a transformer or an estimator (as decoded
// from recipe.yaml or JSON), checking each value's type. Every getter names a
// param as allowed; Err then reports the first type error, or the params the
// map holds that no getter asked for, listing the allowed ones:
//
//	p := ml.NewParams("ridge", params)
//	alpha := p.Float("alpha", 1.0)
//	fitIntercept := p.Bool("fit_intercept", true)
//	if err := p.Err(); err != nil {
//		return nil, err
//	}
//
// Numbers may be any Go integer or float type or a json.Number; an integer
// param also accepts a float with an integral value (5.0), since JSON has
// only one number type.
type Params struct {
	owner   string
	m       map[string]any
	allowed []string
	err     error
}

// NewParams returns a reader for params; owner (the transformer or estimator
// name) prefixes every error.
func NewParams(owner string, params map[string]any) *Params {
	return &Params{owner: owner, m: params}
}

func (p *Params) lookup(name string) (any, bool) {
	p.allowed = append(p.allowed, name)
	v, ok := p.m[name]
	if !ok || v == nil {
		return nil, false
	}
	return v, true
}

// Fail records an error about param name (for range checks the caller makes);
// only the first error is kept.
func (p *Params) Fail(name, format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("%s: param %q %s", p.owner, name, fmt.Sprintf(format, args...))
	}
}

func (p *Params) typeErr(name, want string, got any) {
	p.Fail(name, "must be %s, got %T %v", want, got, got)
}

// Float returns param name as a finite float64, or def if it is absent.
func (p *Params) Float(name string, def float64) float64 {
	v, ok := p.lookup(name)
	if !ok {
		return def
	}
	f, ok := toFloat(v)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
		p.typeErr(name, "a finite number", v)
		return def
	}
	return f
}

// Int returns param name as an int, or def if it is absent.
func (p *Params) Int(name string, def int) int {
	v, ok := p.lookup(name)
	if !ok {
		return def
	}
	f, ok := toFloat(v)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		p.typeErr(name, "an integer", v)
		return def
	}
	return int(f)
}

// Bool returns param name as a bool, or def if it is absent.
func (p *Params) Bool(name string, def bool) bool {
	v, ok := p.lookup(name)
	if !ok {
		return def
	}
	b, ok := v.(bool)
	if !ok {
		p.typeErr(name, "true or false", v)
		return def
	}
	return b
}

// String returns param name as a string, or def if it is absent. With
// choices, the value must be one of them.
func (p *Params) String(name, def string, choices ...string) string {
	v, ok := p.lookup(name)
	if !ok {
		return def
	}
	s, ok := v.(string)
	if !ok {
		p.typeErr(name, "a string", v)
		return def
	}
	if len(choices) > 0 {
		for _, c := range choices {
			if s == c {
				return s
			}
		}
		p.Fail(name, "is %q; allowed: %s", s, strings.Join(choices, ", "))
		return def
	}
	return s
}

// Floats returns param name as a list of n finite numbers, or def if it is absent.
func (p *Params) Floats(name string, n int, def []float64) []float64 {
	v, ok := p.lookup(name)
	if !ok {
		return def
	}
	var out []float64
	switch xs := v.(type) {
	case []float64:
		out = append(out, xs...)
	case []int:
		for _, x := range xs {
			out = append(out, float64(x))
		}
	case []any:
		for _, x := range xs {
			f, ok := toFloat(x)
			if !ok {
				p.typeErr(name, fmt.Sprintf("a list of %d numbers", n), v)
				return def
			}
			out = append(out, f)
		}
	default:
		p.typeErr(name, fmt.Sprintf("a list of %d numbers", n), v)
		return def
	}
	for _, f := range out {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			p.typeErr(name, fmt.Sprintf("a list of %d finite numbers", n), v)
			return def
		}
	}
	if len(out) != n {
		p.typeErr(name, fmt.Sprintf("a list of %d numbers", n), v)
		return def
	}
	return out
}

// Err returns the first type or range error, or else an error naming the
// params that no getter asked for and listing the allowed ones.
func (p *Params) Err() error {
	if p.err != nil {
		return p.err
	}
	var unknown []string
	for k := range p.m {
		if !containsString(p.allowed, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	allowed := "none"
	if len(p.allowed) > 0 {
		a := append([]string(nil), p.allowed...)
		sort.Strings(a)
		allowed = strings.Join(a, ", ")
	}
	return fmt.Errorf("%s: unknown param %s; allowed params: %s", p.owner, quoteList(unknown), allowed)
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// quoteList renders names as "a", "b", "c".
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
