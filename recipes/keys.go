package recipes

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// KeySchemaVersion is the version of the KeyDoc layout; changing what goes
// into a key bumps it, which invalidates every cached output.
const KeySchemaVersion = 1

// KeyDoc is everything a step's output depends on (DESIGN §4). Its Key is
// the sha256 of its canonical JSON, so two KeyDocs that mean the same thing
// (map keys in another order, 1 written as 1.0) have the same key. A KeyDoc
// stored as JSON and read back keeps its key; decode it with
// json.Decoder.UseNumber to keep integers beyond 2^53 exact.
type KeyDoc struct {
	KeySchema int    `json:"key_schema"`
	Template  string `json:"template"`
	Step      string `json:"step"`
	// Settings are the step's settings with defaults applied (see
	// Recipe.StepSettings).
	Settings any `json:"settings"`
	// Recipe are the recipe-level settings the step reads (target_col,
	// positive_class, primary_metric, model_name...).
	Recipe map[string]any `json:"recipe"`
	// Inputs maps each input artifact name to the content digest of the
	// upstream output; for ingest, "source:<path>" to the digest of each
	// source file (or ETag and size of each object).
	Inputs map[string]string `json:"inputs"`
	// Impl is the version of the step's implementation (and extensions).
	Impl string `json:"impl"`
}

// Key is the hex sha256 of the document's canonical JSON.
func (d KeyDoc) Key() string {
	sum := sha256.Sum256(CanonicalJSON(d))
	return hex.EncodeToString(sum[:])
}

// KeyDoc builds the key document of step from the digests of its inputs and
// the version of its implementation.
func (r *Recipe) KeyDoc(step StepName, inputs map[string]string, impl string) KeyDoc {
	in := maps.Clone(inputs)
	if in == nil {
		in = map[string]string{}
	}
	return KeyDoc{
		KeySchema: KeySchemaVersion,
		Template:  r.Template,
		Step:      string(step),
		Settings:  r.StepSettings(step),
		Recipe:    r.recipeSettings(step),
		Inputs:    in,
		Impl:      impl,
	}
}

// recipeSettings returns the recipe-level settings a step reads.
func (r *Recipe) recipeSettings(step StepName) map[string]any {
	m := map[string]any{}
	switch step {
	case StepIngest, StepSplit, StepTransform, StepTrain:
		// ingest checks that the target column exists and fits the template.
		m["target_col"] = r.TargetCol
	case StepEvaluate:
		m["target_col"] = r.TargetCol
		m["primary_metric"] = r.PrimaryMetric
	case StepRegister:
		m["model_name"] = r.ModelRegistry.ModelName
		m["registry_uri"] = r.ModelRegistry.RegistryURI
	}
	if r.Classification() {
		switch step {
		case StepSplit, StepTrain, StepEvaluate, StepPredict:
			m["positive_class"] = r.PositiveClass
		}
	}
	return m
}

// StepSettings returns a step's settings as a generic map with every default
// applied, the form that goes into its key: writing a default explicitly or
// leaving it out gives the same map. It returns nil for a step the recipe
// does not configure.
func (r *Recipe) StepSettings(step StepName) any {
	switch step {
	case StepIngest:
		return ingestMap(r.Ingest)
	case StepIngestScoring:
		return ingestMap(r.IngestScoring)
	case StepSplit:
		if s := r.Split; s != nil {
			return map[string]any{
				"split_ratios":      []any{s.SplitRatios[0], s.SplitRatios[1], s.SplitRatios[2]},
				"post_split_filter": s.PostSplitFilter,
			}
		}
	case StepTransform:
		if s := r.Transform; s != nil {
			derive := make([]any, len(s.Derive))
			for i, d := range s.Derive {
				derive[i] = map[string]any{"name": d.Name, "expr": d.Expr}
			}
			groups := make([]any, len(s.Columns))
			for i, g := range s.Columns {
				groups[i] = map[string]any{
					"name":        stringsAny(g.Name),
					"transformer": g.Transformer,
					"params":      cloneParams(g.Params),
				}
			}
			return map[string]any{"using": s.Using, "derive": derive, "columns": groups, "remainder": s.Remainder}
		}
	case StepTrain:
		if s := r.Train; s != nil {
			m := map[string]any{
				"estimator":        s.Estimator,
				"estimator_params": cloneParams(s.EstimatorParams),
				"tuning":           map[string]any{"enabled": s.Tuning.Enabled},
			}
			if r.Classification() {
				// No calibration keeps the false of earlier builds, so an
				// uncalibrated recipe keeps its key; a method is part of it.
				var cal any = false
				if s.CalibrateProba != "" {
					cal = string(s.CalibrateProba)
				}
				m["calibrate_proba"] = cal
				m["rebalance_training_data"] = s.RebalanceTrainingData
			}
			return m
		}
	case StepEvaluate:
		if s := r.Evaluate; s != nil {
			crit := slices.Clone(s.ValidationCriteria)
			slices.SortStableFunc(crit, func(a, b ValidationCriterion) int { return cmp.Compare(a.Metric, b.Metric) })
			list := make([]any, len(crit))
			for i, c := range crit {
				list[i] = map[string]any{"metric": c.Metric, "threshold": c.Threshold}
			}
			return map[string]any{"validation_criteria": list}
		}
	case StepRegister:
		if s := r.Register; s != nil {
			return map[string]any{"allow_non_validated_model": s.AllowNonValidatedModel}
		}
	case StepPredict:
		if s := r.Predict; s != nil {
			return map[string]any{
				"model_uri":   s.ModelURI,
				"output":      map[string]any{"using": s.Output.Using, "location": s.Output.Location},
				"result_type": s.ResultType,
				"save_mode":   s.SaveMode,
			}
		}
	}
	return nil
}

func ingestMap(s *IngestSettings) any {
	if s == nil {
		return nil
	}
	schema := map[string]any{}
	for k, v := range s.Schema {
		schema[k] = v
	}
	m := map[string]any{
		"using":    s.Using,
		"location": stringsAny(s.Location),
		"schema":   schema,
		"columns":  nil,
	}
	if s.Columns != nil {
		m["columns"] = stringsAny(s.Columns)
	}
	if s.Using == FormatCSV {
		m["sep"] = s.Sep
		m["header"] = s.Header
	}
	return m
}

func stringsAny(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

func cloneParams(p map[string]any) map[string]any {
	out := make(map[string]any, len(p))
	for k, v := range p {
		out[k] = cloneValue(v)
	}
	return out
}

// DiffKeyDocs explains why two key documents differ, one reason per changed
// part, for `sous plan`: "settings.split_ratios changed: [0.75,0.125,0.125] →
// [0.8,0.1,0.1]", "input training_data changed", "implementation changed".
// It returns nil when the documents have the same key.
func DiffKeyDocs(old, new KeyDoc) []string {
	var out []string
	if old.KeySchema != new.KeySchema {
		out = append(out, fmt.Sprintf("key schema changed (%d → %d)", old.KeySchema, new.KeySchema))
	}
	if old.Template != new.Template {
		out = append(out, fmt.Sprintf("template changed (%s → %s)", old.Template, new.Template))
	}
	if old.Step != new.Step {
		out = append(out, fmt.Sprintf("step changed (%s → %s)", old.Step, new.Step))
	}
	diffGeneric("settings", generic(old.Settings), generic(new.Settings), &out)
	diffGeneric("recipe", generic(old.Recipe), generic(new.Recipe), &out)
	for _, k := range slices.Sorted(maps.Keys(mergeKeys(old.Inputs, new.Inputs))) {
		a, inOld := old.Inputs[k]
		b, inNew := new.Inputs[k]
		switch {
		case !inOld:
			out = append(out, fmt.Sprintf("input %s added", k))
		case !inNew:
			out = append(out, fmt.Sprintf("input %s removed", k))
		case a != b:
			out = append(out, fmt.Sprintf("input %s changed (%s → %s)", k, shortDigest(a), shortDigest(b)))
		}
	}
	if old.Impl != new.Impl {
		out = append(out, fmt.Sprintf("implementation changed (%s → %s)", old.Impl, new.Impl))
	}
	return out
}

func mergeKeys(a, b map[string]string) map[string]bool {
	m := make(map[string]bool, len(a)+len(b))
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}

func shortDigest(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// generic turns v into plain JSON values (maps, slices, json.Number,
// strings, bools, nil) through its canonical form.
func generic(v any) any {
	dec := json.NewDecoder(bytes.NewReader(CanonicalJSON(v)))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil
	}
	return out
}

const maxShownValue = 48

func diffGeneric(path string, a, b any, out *[]string) {
	am, aMap := a.(map[string]any)
	bm, bMap := b.(map[string]any)
	if aMap && bMap {
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		for _, k := range slices.Sorted(maps.Keys(keys)) {
			av, inA := am[k]
			bv, inB := bm[k]
			p := path + "." + k
			switch {
			case !inA:
				*out = append(*out, p+" added"+shown(": ", bv))
			case !inB:
				*out = append(*out, p+" removed")
			default:
				diffGeneric(p, av, bv, out)
			}
		}
		return
	}
	ca, cb := CanonicalJSON(a), CanonicalJSON(b)
	if bytes.Equal(ca, cb) {
		return
	}
	msg := path + " changed"
	if len(ca) <= maxShownValue && len(cb) <= maxShownValue {
		msg += fmt.Sprintf(": %s → %s", ca, cb)
	}
	*out = append(*out, msg)
}

func shown(sep string, v any) string {
	c := CanonicalJSON(v)
	if len(c) > maxShownValue {
		return ""
	}
	return sep + string(c)
}

// CanonicalJSON encodes v as canonical JSON: object keys sorted, no
// insignificant space, numbers in one spelling whatever their Go type
// (integers and whole floats alike as integers, 1 and 1.0 and int64(1)
// and json.Number("1.0") all as 1; other floats in the shortest form that
// round-trips, as ECMAScript writes them: 0.1, 1e-7, 1e+21), nil maps as {} and nil slices as []. Structs are objects keyed
// by their json tag names. NaN and infinities, which JSON lacks, are the
// strings "NaN", "+Inf" and "-Inf". Values that cannot be JSON (channels,
// functions, cycles) are null.
func CanonicalJSON(v any) []byte {
	c := canonicalizer{onStack: map[uintptr]bool{}}
	c.write(reflect.ValueOf(v), 0)
	return c.buf.Bytes()
}

const maxCanonicalDepth = 200

var jsonNumberType = reflect.TypeFor[json.Number]()

type canonicalizer struct {
	buf     bytes.Buffer
	onStack map[uintptr]bool // maps, slices and pointers being written, to stop at cycles
}

func (c *canonicalizer) write(v reflect.Value, depth int) {
	b := &c.buf
	if !v.IsValid() || depth > maxCanonicalDepth {
		b.WriteString("null")
		return
	}
	if v.Type() == jsonNumberType {
		writeNumberString(b, v.String())
		return
	}
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			b.WriteString("null")
			return
		}
		c.write(v.Elem(), depth+1)
	case reflect.Pointer:
		if v.IsNil() {
			b.WriteString("null")
			return
		}
		if !c.enter(v.Pointer()) {
			b.WriteString("null")
			return
		}
		c.write(v.Elem(), depth+1)
		delete(c.onStack, v.Pointer())
	case reflect.Bool:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		b.WriteString(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32:
		// The float32's shortest decimal, so float32(0.1) is 0.1.
		f, _ := strconv.ParseFloat(strconv.FormatFloat(v.Float(), 'g', -1, 32), 64)
		writeFloat(b, f)
	case reflect.Float64:
		writeFloat(b, v.Float())
	case reflect.String:
		writeString(b, v.String())
	case reflect.Map:
		if v.IsNil() {
			b.WriteString("{}")
			return
		}
		if !c.enter(v.Pointer()) {
			b.WriteString("null")
			return
		}
		c.writeMap(v, depth)
		delete(c.onStack, v.Pointer())
	case reflect.Slice:
		if v.IsNil() {
			b.WriteString("[]")
			return
		}
		if v.Len() > 0 && !c.enter(v.Pointer()) {
			b.WriteString("null")
			return
		}
		c.writeList(v, depth)
		if v.Len() > 0 {
			delete(c.onStack, v.Pointer())
		}
	case reflect.Array:
		c.writeList(v, depth)
	case reflect.Struct:
		c.writeStruct(v, depth)
	default:
		b.WriteString("null")
	}
}

func (c *canonicalizer) enter(p uintptr) bool {
	if c.onStack[p] {
		return false
	}
	c.onStack[p] = true
	return true
}

func (c *canonicalizer) writeList(v reflect.Value, depth int) {
	c.buf.WriteByte('[')
	for i := range v.Len() {
		if i > 0 {
			c.buf.WriteByte(',')
		}
		c.write(v.Index(i), depth+1)
	}
	c.buf.WriteByte(']')
}

type canonicalEntry struct {
	key    string // the key as a JSON object key
	tie    []byte // the key's canonical encoding, to order keys that print alike
	encode func()
}

func (c *canonicalizer) writeEntries(entries []canonicalEntry) {
	slices.SortFunc(entries, func(a, b canonicalEntry) int {
		if x := cmp.Compare(a.key, b.key); x != 0 {
			return x
		}
		return bytes.Compare(a.tie, b.tie)
	})
	c.buf.WriteByte('{')
	for i, e := range entries {
		if i > 0 {
			c.buf.WriteByte(',')
		}
		writeString(&c.buf, e.key)
		c.buf.WriteByte(':')
		e.encode()
	}
	c.buf.WriteByte('}')
}

func (c *canonicalizer) writeMap(v reflect.Value, depth int) {
	entries := make([]canonicalEntry, 0, v.Len())
	iter := v.MapRange()
	for iter.Next() {
		k, val := iter.Key(), iter.Value()
		sub := canonicalizer{onStack: map[uintptr]bool{}}
		sub.write(k, depth+1)
		tie := sub.buf.Bytes()
		key := string(tie)
		ke := k
		for ke.Kind() == reflect.Interface && !ke.IsNil() {
			ke = ke.Elem()
		}
		if ke.Kind() == reflect.String && ke.Type() != jsonNumberType {
			key = ke.String()
		}
		entries = append(entries, canonicalEntry{key: key, tie: tie, encode: func() { c.write(val, depth+1) }})
	}
	c.writeEntries(entries)
}

func (c *canonicalizer) writeStruct(v reflect.Value, depth int) {
	t := v.Type()
	entries := make([]canonicalEntry, 0, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := f.Name
		if tag, ok := f.Tag.Lookup("json"); ok {
			n, _, _ := strings.Cut(tag, ",")
			if n == "-" {
				continue
			}
			if n != "" {
				name = n
			}
		}
		fv := v.Field(i)
		entries = append(entries, canonicalEntry{key: name, tie: []byte(name), encode: func() { c.write(fv, depth+1) }})
	}
	c.writeEntries(entries)
}

// writeFloat writes f as ECMAScript (and RFC 8785) would: the shortest
// decimal that round-trips, without exponent from 1e-6 up to 1e21.
func writeFloat(b *bytes.Buffer, f float64) {
	switch abs := math.Abs(f); {
	case math.IsNaN(f):
		b.WriteString(`"NaN"`)
	case math.IsInf(f, 1):
		b.WriteString(`"+Inf"`)
	case math.IsInf(f, -1):
		b.WriteString(`"-Inf"`)
	case f == 0:
		b.WriteByte('0')
	case abs >= 1e-6 && abs < 1e21:
		b.WriteString(strconv.FormatFloat(f, 'f', -1, 64))
	default:
		s := strconv.FormatFloat(f, 'e', -1, 64) // 1e-07, 1.5e+300
		mant, exp, _ := strings.Cut(s, "e")
		sign, digits := exp[:1], strings.TrimLeft(exp[1:], "0")
		b.WriteString(mant + "e" + sign + digits)
	}
}

// writeNumberString writes a json.Number canonically; a malformed one is
// written as a string.
func writeNumberString(b *bytes.Buffer, s string) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		b.WriteString(strconv.FormatInt(i, 10))
		return
	}
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		b.WriteString(strconv.FormatUint(u, 10))
		return
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			writeString(b, s)
			return
		}
	}
	writeFloat(b, f)
}

// writeString writes s as a JSON string with a fixed escaping: ", \ and
// control characters escaped, invalid UTF-8 replaced by U+FFFD.
func writeString(b *bytes.Buffer, s string) {
	const hexDigits = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\ufffd`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hexDigits[r>>4])
			b.WriteByte(hexDigits[r&0xf])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}
