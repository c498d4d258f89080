package recipes

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// The decoder walks yaml.Nodes into the typed settings, collecting every
// problem with its file, line and dotted key.

var (
	topKeys = []string{"recipe", "target_col", "positive_class", "primary_metric", "steps",
		"custom_metrics", "experiment", "model_registry"}
	ingestKeys     = []string{"using", "location", "sep", "header", "schema", "columns"}
	splitKeys      = []string{"split_ratios", "post_split_filter"}
	transformKeys  = []string{"using", "derive", "columns", "remainder"}
	groupKeys      = []string{"name", "transformer", "params"}
	trainKeys      = []string{"estimator", "estimator_params", "tuning", "calibrate_proba", "rebalance_training_data"}
	tuningKeys     = []string{"enabled", "max_trials", "parallelism", "algorithm", "sample_fraction", "early_stop_fn", "parameters"}
	evaluateKeys   = []string{"validation_criteria"}
	criterionKeys  = []string{"metric", "threshold"}
	registerKeys   = []string{"allow_non_validated_model"}
	predictKeys    = []string{"model_uri", "output", "result_type", "save_mode"}
	outputKeys     = []string{"using", "location"}
	experimentKeys = []string{"name", "tracking_uri", "artifact_location"}
	registryKeys   = []string{"model_name", "registry_uri"}
	executionKeys  = []string{"nats", "store"}
	transformUsing = []string{"columns"}
	remainders     = []string{RemainderDrop, RemainderPassthrough}
)

const customMetricsMsg = "custom_metrics need extensions, which this version of sous does not support yet"

type decoder struct {
	file     string
	template string // "" until known (or when invalid)
	binary   bool
	target   string
	subs     map[int][]substitution
	skip     map[int]bool // lines whose rendering failed: their values are placeholders
	errs     *[]*Error
	pos      map[string]pos
}

// field is one key: value of a mapping.
type field struct {
	key  *yaml.Node
	val  *yaml.Node // aliases followed; nil for an empty value
	path string
}

func (f field) line() int {
	if f.val != nil && f.val.Line > 0 {
		return f.val.Line
	}
	return f.key.Line
}

// fields is a decoded mapping.
type fields struct {
	line  int    // line of the key holding the mapping (0 at the top)
	path  string // dotted path of the mapping
	m     map[string]field
	order []string
}

func (fs fields) get(key string) (field, bool) {
	f, ok := fs.m[key]
	return f, ok
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (d *decoder) add(line int, key, msg string, allowed []string, sug string) {
	if d.skip[line] {
		return // the rendering error on this line says what is wrong
	}
	msg += note(d.subs[line])
	*d.errs = append(*d.errs, &Error{File: d.file, Line: line, Key: key, Msg: msg, Allowed: allowed, Suggest: sug})
}

func (d *decoder) wrongType(f field, want string, allowed []string) {
	d.add(f.line(), f.path, fmt.Sprintf("want %s, got %s", want, describe(f.val)), allowed, "")
}

func (d *decoder) missing(fs fields, key string, allowed []string) {
	d.add(fs.line, joinPath(fs.path, key), "missing required key", allowed, "")
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func describe(n *yaml.Node) string {
	n = deref(n)
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch tag := n.ShortTag(); tag {
		case "!!null":
			return "null"
		case "!!bool":
			return n.Value
		case "!!int", "!!float":
			return "the number " + clip(n.Value)
		case "!!str":
			return fmt.Sprintf("the string %q", clip(n.Value))
		default:
			return fmt.Sprintf("%s %q", tag, clip(n.Value))
		}
	}
	return "an unsupported YAML node"
}

// mapping decodes a mapping with the allowed keys (nil allows any key). A
// null or empty value is an empty mapping.
func (d *decoder) mapping(f field, allowed []string) fields {
	fs := fields{line: f.key.Line, path: f.path, m: map[string]field{}}
	return d.fillMapping(fs, f.val, allowed)
}

func (d *decoder) fillMapping(fs fields, n *yaml.Node, allowed []string) fields {
	if isNull(n) {
		return fs
	}
	if n.Kind != yaml.MappingNode {
		d.add(max(n.Line, fs.line), fs.path, fmt.Sprintf("want a mapping, got %s", describe(n)), allowed, "")
		return fs
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k == nil || k.Kind != yaml.ScalarNode {
			d.add(n.Content[i].Line, fs.path, "keys must be plain names, got "+describe(k), allowed, "")
			continue
		}
		if k.ShortTag() == "!!merge" {
			d.add(k.Line, joinPath(fs.path, "<<"), "YAML merge keys (<<) are not supported", nil, "")
			continue
		}
		name := k.Value
		path := joinPath(fs.path, name)
		if prev, dup := fs.m[name]; dup {
			d.add(k.Line, path, fmt.Sprintf("duplicate key (first at line %d)", prev.key.Line), nil, "")
			continue
		}
		if allowed != nil && !slices.Contains(allowed, name) {
			d.add(k.Line, path, "unknown key", allowed, suggest(name, allowed))
			continue
		}
		fs.m[name] = field{key: k, val: v, path: path}
		fs.order = append(fs.order, name)
		if d.pos != nil {
			d.pos[path] = pos{file: d.file, line: k.Line}
		}
	}
	return fs
}

// str accepts a string; numbers and dates are accepted as written (a column
// named 2020).
func (d *decoder) str(f field) (string, bool) {
	n := f.val
	if n != nil && n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!str", "!!int", "!!float", "!!timestamp":
			return n.Value, true
		}
	}
	d.wrongType(f, "a string", nil)
	return "", false
}

func (d *decoder) nonEmpty(f field) (string, bool) {
	s, ok := d.str(f)
	if ok && strings.TrimSpace(s) == "" {
		d.add(f.line(), f.path, "must not be empty", nil, "")
		return "", false
	}
	return s, ok
}

func (d *decoder) enum(f field, allowed []string) (string, bool) {
	n := f.val
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" || n.ShortTag() == "!!bool" {
		d.wrongType(f, "one of the allowed values", allowed)
		return "", false
	}
	if !slices.Contains(allowed, n.Value) {
		d.add(f.line(), f.path, fmt.Sprintf("unknown value %q", clip(n.Value)), allowed, suggest(n.Value, allowed))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) boolean(f field) (bool, bool) {
	n := f.val
	if n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		var b bool
		if err := n.Decode(&b); err == nil {
			return b, true
		}
	}
	d.wrongType(f, "true or false", nil)
	return false, false
}

// scalarNumber parses an !!int or !!float scalar.
func scalarNumber(n *yaml.Node) (v float64, isInt bool, i int64, err error) {
	switch n.ShortTag() {
	case "!!int":
		if err := n.Decode(&i); err != nil {
			return 0, false, 0, fmt.Errorf("integer %s is out of range", clip(n.Value))
		}
		return float64(i), true, i, nil
	case "!!float":
		if err := n.Decode(&v); err != nil {
			return 0, false, 0, fmt.Errorf("invalid number %s", clip(n.Value))
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, false, 0, fmt.Errorf("must be a finite number, got %s", clip(n.Value))
		}
		return v, false, 0, nil
	}
	return 0, false, 0, errNotNumber
}

var errNotNumber = fmt.Errorf("not a number")

func (d *decoder) number(f field) (float64, bool) {
	n := f.val
	if n == nil || n.Kind != yaml.ScalarNode {
		d.wrongType(f, "a number", nil)
		return 0, false
	}
	v, _, _, err := scalarNumber(n)
	if err == errNotNumber {
		d.wrongType(f, "a number", nil)
		return 0, false
	}
	if err != nil {
		d.add(f.line(), f.path, err.Error(), nil, "")
		return 0, false
	}
	return v, true
}

// strList decodes a list of non-empty strings, or a single string when
// single is true. Duplicates are errors.
func (d *decoder) strList(f field, single bool) ([]string, bool) {
	n := f.val
	if single && n != nil && n.Kind == yaml.ScalarNode && !isNull(n) {
		s, ok := d.nonEmpty(f)
		if !ok {
			return nil, false
		}
		return []string{s}, true
	}
	if n == nil || n.Kind != yaml.SequenceNode {
		want := "a list of strings"
		if single {
			want = "a string or a list of strings"
		}
		d.wrongType(f, want, nil)
		return nil, false
	}
	if len(n.Content) == 0 {
		d.add(f.line(), f.path, "must not be an empty list", nil, "")
		return nil, false
	}
	out := make([]string, 0, len(n.Content))
	ok := true
	seen := map[string]int{}
	for i, c := range n.Content {
		item := field{key: f.key, val: deref(c), path: fmt.Sprintf("%s[%d]", f.path, i)}
		s, good := d.nonEmpty(item)
		if !good {
			ok = false
			continue
		}
		if prev, dup := seen[s]; dup {
			d.add(item.line(), item.path, fmt.Sprintf("%q is listed twice (also at %s[%d])", s, f.path, prev), nil, "")
			ok = false
			continue
		}
		seen[s] = i
		out = append(out, s)
	}
	return out, ok
}

func (d *decoder) item(f field, i int, n *yaml.Node) field {
	return field{key: f.key, val: deref(n), path: fmt.Sprintf("%s[%d]", f.path, i)}
}

// decodeRecipe fills r from recipe.yaml's root node.
func (d *decoder) decodeRecipe(root *yaml.Node, r *Recipe) {
	if isNull(root) {
		d.add(0, "", "the file is empty; a recipe needs at least recipe and target_col", topKeys, "")
		return
	}
	top := d.fillMapping(fields{m: map[string]field{}}, root, topKeys)

	if f, ok := top.get("recipe"); ok {
		if t, ok := d.enum(f, templates); ok {
			r.Template, d.template = t, t
		}
	} else {
		d.missing(top, "recipe", templates)
	}
	if f, ok := top.get("target_col"); ok {
		if s, ok := d.nonEmpty(f); ok {
			r.TargetCol, d.target = s, s
		}
	} else {
		d.missing(top, "target_col", nil)
	}
	if f, ok := top.get("positive_class"); ok {
		switch {
		case d.template == TemplateRegression:
			d.add(f.key.Line, f.path, "applies only to "+TemplateClassification+" recipes", nil, "")
		case isNull(f.val):
			// Same as leaving it out: multiclass.
		default:
			n := f.val
			if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
				r.PositiveClass = n.Value
			} else if s, ok := d.str(f); ok {
				r.PositiveClass = s
			}
			if r.PositiveClass == "" && n.Kind == yaml.ScalarNode {
				d.add(f.line(), f.path, "must not be empty; leave positive_class out for multiclass classification", nil, "")
			}
			d.binary = r.PositiveClass != ""
		}
	}
	if f, ok := top.get("primary_metric"); ok {
		if d.template != "" {
			r.PrimaryMetric, _ = d.enum(f, MetricNames(d.template, d.binary))
		} else {
			r.PrimaryMetric, _ = d.nonEmpty(f)
		}
	}
	if r.PrimaryMetric == "" {
		switch {
		case d.template == TemplateClassification && d.binary:
			r.PrimaryMetric = DefaultBinaryMetric
		case d.template == TemplateClassification:
			r.PrimaryMetric = DefaultMulticlassMetric
		default:
			r.PrimaryMetric = DefaultRegressionMetric
		}
	}
	if f, ok := top.get("custom_metrics"); ok {
		d.add(f.key.Line, f.path, customMetricsMsg, nil, "")
	}
	if f, ok := top.get("experiment"); ok {
		r.Experiment = d.experiment(f)
	}
	if f, ok := top.get("model_registry"); ok {
		r.ModelRegistry = d.modelRegistry(f)
	}
	if f, ok := top.get("steps"); ok {
		d.steps(f, r)
	}
}

// decodeProfile reads the recipe-level settings a profile may set.
func (d *decoder) decodeProfile(root *yaml.Node, r *Recipe) {
	top := d.fillMapping(fields{m: map[string]field{}}, root, nil)
	if f, ok := top.get("experiment"); ok {
		r.Experiment = d.experiment(f)
	}
	if f, ok := top.get("model_registry"); ok {
		r.ModelRegistry = d.modelRegistry(f)
	}
	if f, ok := top.get("execution"); ok {
		r.Execution = d.execution(f)
	}
}

// execution reads a profile's cluster settings: where to submit runs.
func (d *decoder) execution(f field) Execution {
	var e Execution
	if f.val == nil || f.val.Kind != yaml.MappingNode {
		d.wrongType(f, "a mapping", executionKeys)
		return e
	}
	m := d.mapping(f, executionKeys)
	if g, ok := m.get("nats"); ok {
		e.NATS, _ = d.nonEmpty(g)
	}
	if g, ok := m.get("store"); ok {
		e.Store, _ = d.nonEmpty(g)
	}
	return e
}

func (d *decoder) experiment(f field) Experiment {
	var e Experiment
	if f.val != nil && f.val.Kind == yaml.ScalarNode && !isNull(f.val) {
		e.Name, _ = d.nonEmpty(f)
		return e
	}
	if f.val == nil || f.val.Kind != yaml.MappingNode {
		d.wrongType(f, "an experiment name or a mapping", experimentKeys)
		return e
	}
	m := d.mapping(f, experimentKeys)
	if g, ok := m.get("name"); ok {
		e.Name, _ = d.nonEmpty(g)
	} else {
		d.missing(m, "name", nil)
	}
	if g, ok := m.get("tracking_uri"); ok {
		e.TrackingURI, _ = d.nonEmpty(g)
	}
	if g, ok := m.get("artifact_location"); ok {
		e.ArtifactLocation, _ = d.nonEmpty(g)
	}
	return e
}

func (d *decoder) modelRegistry(f field) ModelRegistry {
	var mr ModelRegistry
	if f.val == nil || f.val.Kind != yaml.MappingNode {
		d.wrongType(f, "a mapping", registryKeys)
		return mr
	}
	m := d.mapping(f, registryKeys)
	if g, ok := m.get("model_name"); ok {
		mr.ModelName, _ = d.nonEmpty(g)
	} else {
		d.missing(m, "model_name", nil)
	}
	if g, ok := m.get("registry_uri"); ok {
		mr.RegistryURI, _ = d.nonEmpty(g)
	}
	return mr
}

func (d *decoder) steps(f field, r *Recipe) {
	names := stepNameStrings()
	m := d.mapping(f, names)
	for _, name := range m.order {
		g := m.m[name]
		switch StepName(name) {
		case StepIngest:
			r.Ingest = d.ingest(g)
		case StepIngestScoring:
			r.IngestScoring = d.ingest(g)
		case StepSplit:
			r.Split = d.split(g)
		case StepTransform:
			r.Transform = d.transform(g)
		case StepTrain:
			r.Train = d.train(g)
		case StepEvaluate:
			r.Evaluate = d.evaluate(g)
		case StepRegister:
			r.Register = d.register(g)
		case StepPredict:
			r.Predict = d.predict(g)
		}
	}
}

func (d *decoder) ingest(f field) *IngestSettings {
	s := &IngestSettings{Sep: DefaultSep, Header: true}
	m := d.mapping(f, ingestKeys)
	if g, ok := m.get("using"); ok {
		s.Using, _ = d.enum(g, formats)
	} else {
		d.missing(m, "using", formats)
	}
	if g, ok := m.get("location"); ok {
		s.Location = d.locations(g)
	} else {
		d.missing(m, "location", nil)
	}
	csvOnly := func(g field) bool {
		if s.Using == FormatParquet {
			d.add(g.key.Line, g.path, "applies only to using: csv", nil, "")
			return false
		}
		return true
	}
	if g, ok := m.get("sep"); ok && csvOnly(g) {
		if sep, ok := d.str(g); ok {
			if utf8.RuneCountInString(sep) != 1 {
				d.add(g.line(), g.path, fmt.Sprintf("must be one character, got %q", clip(sep)), nil, "")
			} else {
				s.Sep = sep
			}
		}
	}
	if g, ok := m.get("header"); ok && csvOnly(g) {
		s.Header, _ = d.boolean(g)
	}
	if g, ok := m.get("schema"); ok {
		sm := d.mapping(g, nil)
		for _, col := range sm.order {
			h := sm.m[col]
			if strings.TrimSpace(col) == "" {
				d.add(h.key.Line, h.path, "column name must not be empty", nil, "")
				continue
			}
			if t, ok := d.enum(h, columnTypes); ok {
				if s.Schema == nil {
					s.Schema = map[string]string{}
				}
				s.Schema[col] = t
			}
		}
	}
	if g, ok := m.get("columns"); ok {
		s.Columns, _ = d.strList(g, false)
	}
	return s
}

// locations decodes ingest locations: a string or a list of strings.
func (d *decoder) locations(f field) []string {
	locs, ok := d.strList(f, true)
	if !ok {
		return nil
	}
	for i, loc := range locs {
		path := f.path
		if f.val.Kind == yaml.SequenceNode {
			path = fmt.Sprintf("%s[%d]", f.path, i)
		}
		d.checkLocation(f.line(), path, loc)
	}
	return locs
}

var locationForms = []string{"a file", "a directory", "a glob", "a list of these", "s3://bucket/key"}

func (d *decoder) checkLocation(line int, path, loc string) {
	scheme, rest, isURL := strings.Cut(loc, "://")
	if !isURL {
		return
	}
	if scheme != "s3" {
		d.add(line, path, fmt.Sprintf("unsupported URL scheme %q in %q", scheme, clip(loc)), locationForms, "")
		return
	}
	if bucket, _, _ := strings.Cut(rest, "/"); bucket == "" {
		d.add(line, path, fmt.Sprintf("%q has no bucket", clip(loc)), locationForms, "")
	}
}

func (d *decoder) split(f field) *SplitSettings {
	s := &SplitSettings{SplitRatios: DefaultSplitRatios}
	m := d.mapping(f, splitKeys)
	if g, ok := m.get("split_ratios"); ok {
		if r, ok := d.splitRatios(g); ok {
			s.SplitRatios = r
		}
	}
	if g, ok := m.get("post_split_filter"); ok && !isNull(g.val) {
		s.PostSplitFilter, _ = d.nonEmpty(g)
	}
	return s
}

func (d *decoder) splitRatios(f field) ([3]float64, bool) {
	var r [3]float64
	const want = "a list of 3 positive numbers (training, validation, test)"
	n := f.val
	if n == nil || n.Kind != yaml.SequenceNode {
		d.wrongType(f, want, nil)
		return r, false
	}
	if len(n.Content) != 3 {
		d.add(f.line(), f.path, fmt.Sprintf("want %s, got %d numbers", want, len(n.Content)), nil, "")
		return r, false
	}
	ok := true
	for i, c := range n.Content {
		item := d.item(f, i, c)
		v, good := d.number(item)
		if !good {
			ok = false
			continue
		}
		if v <= 0 {
			d.add(item.line(), item.path, fmt.Sprintf("must be positive, got %s", item.val.Value), nil, "")
			ok = false
			continue
		}
		r[i] = v
	}
	if !ok {
		return r, false
	}
	if sum := r[0] + r[1] + r[2]; math.Abs(sum-1) > 1e-9 {
		d.add(f.line(), f.path, fmt.Sprintf("must sum to 1, got %s", strconv.FormatFloat(sum, 'g', -1, 64)), nil, "")
		return r, false
	}
	return r, true
}

func (d *decoder) transform(f field) *TransformSettings {
	s := &TransformSettings{Using: "columns", Remainder: RemainderDrop}
	m := d.mapping(f, transformKeys)
	if g, ok := m.get("using"); ok {
		if u, ok := d.enum(g, transformUsing); ok {
			s.Using = u
		}
	}
	if g, ok := m.get("derive"); ok {
		dm := d.mapping(g, nil)
		for _, name := range dm.order {
			h := dm.m[name]
			if strings.TrimSpace(name) == "" {
				d.add(h.key.Line, h.path, "derived column name must not be empty", nil, "")
				continue
			}
			if name == d.target {
				d.add(h.key.Line, h.path, fmt.Sprintf("%q is the target column; derive must not overwrite it", name), nil, "")
				continue
			}
			if expr, ok := d.nonEmpty(h); ok {
				s.Derive = append(s.Derive, Derived{Name: name, Expr: expr})
			}
		}
	}
	if g, ok := m.get("columns"); ok {
		s.Columns = d.groups(g)
	}
	remainderOK := true
	if g, ok := m.get("remainder"); ok {
		var r string
		if r, remainderOK = d.enum(g, remainders); remainderOK {
			s.Remainder = r
		}
	}
	if _, ok := m.get("columns"); !ok && remainderOK && s.Remainder == RemainderDrop {
		d.add(m.line, joinPath(m.path, "columns"),
			"missing: with remainder: drop (the default) and no column groups the model has no features; "+
				"add columns groups or set remainder: passthrough", nil, "")
	}
	return s
}

func (d *decoder) groups(f field) []ColumnGroup {
	n := f.val
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.wrongType(f, "a list of column groups ({name: [...], transformer: ...})", nil)
		return nil
	}
	type seen struct {
		group int
		line  int
	}
	owner := map[string]seen{}
	var out []ColumnGroup
	for i, c := range n.Content {
		item := d.item(f, i, c)
		item.key = &yaml.Node{Line: item.line()}
		m := d.mapping(item, groupKeys)
		var g ColumnGroup
		if h, ok := m.get("name"); ok {
			if names, ok := d.strList(h, true); ok {
				for _, col := range names {
					switch prev, dup := owner[col]; {
					case col == d.target:
						d.add(h.line(), h.path, fmt.Sprintf("%q is the target column; the target is never a feature", col), nil, "")
					case dup:
						d.add(h.line(), h.path, fmt.Sprintf("column %q is already in %s[%d] (line %d); a column belongs to one group", col, f.path, prev.group, prev.line), nil, "")
					default:
						owner[col] = seen{group: i, line: h.line()}
						g.Name = append(g.Name, col)
					}
				}
			}
		} else {
			d.missing(m, "name", nil)
		}
		names := TransformerNames()
		if h, ok := m.get("transformer"); ok {
			g.Transformer, _ = d.enum(h, names)
		} else {
			d.missing(m, "transformer", names)
		}
		if specs, ok := transformerParams(g.Transformer); ok {
			pf, has := m.get("params")
			if !has {
				pf = field{key: item.key, path: joinPath(item.path, "params")}
			}
			g.Params = d.params(pf, specs, "transformer "+g.Transformer)
		}
		out = append(out, g)
	}
	return out
}

// params decodes estimator or transformer parameters against specs and fills
// in the defaults.
func (d *decoder) params(f field, specs []paramSpec, owner string) map[string]any {
	out := make(map[string]any, len(specs))
	from := map[string]field{}
	m := d.mapping(f, nil)
	for _, k := range m.order {
		g := m.m[k]
		spec, ok := findParam(specs, k)
		if !ok {
			if len(specs) == 0 {
				d.add(g.key.Line, g.path, owner+" takes no parameters", nil, "")
			} else {
				names := paramNames(specs)
				d.add(g.key.Line, g.path, "unknown parameter of "+owner, names, suggest(k, names))
			}
			continue
		}
		if prev, dup := from[spec.name]; dup {
			d.add(g.key.Line, g.path, fmt.Sprintf("%s and %s are the same parameter (line %d); give one",
				prev.key.Value, k, prev.key.Line), nil, "")
			continue
		}
		from[spec.name] = g
		if v, ok := d.param(g, spec); ok {
			out[spec.name] = v
		}
	}
	for _, p := range specs {
		if _, ok := out[p.name]; !ok {
			out[p.name] = cloneValue(p.def)
		}
	}
	return out
}

func cloneValue(v any) any {
	if f, ok := v.([]float64); ok {
		return slices.Clone(f)
	}
	return v
}

// param decodes one parameter value.
func (d *decoder) param(f field, spec paramSpec) (any, bool) {
	n := f.val
	fail := func() (any, bool) {
		var allowed []string
		if spec.kinds&kindString != 0 {
			allowed = spec.enum
		}
		d.wrongType(f, spec.kinds.String(), allowed)
		return nil, false
	}
	checked := func(v float64, out any) (any, bool) {
		if spec.check != nil {
			if problem := spec.check(v); problem != "" {
				d.add(f.line(), f.path, problem+", got "+clip(n.Value), nil, "")
				return nil, false
			}
		}
		return out, true
	}
	if isNull(n) {
		if spec.kinds&kindNull != 0 {
			return nil, true
		}
		return fail()
	}
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!bool":
			if spec.kinds&kindBool != 0 {
				return d.boolean(f)
			}
		case "!!int", "!!float":
			if spec.kinds&(kindInt|kindNumber) == 0 {
				return fail()
			}
			v, isInt, i, err := scalarNumber(n)
			if err != nil {
				d.add(f.line(), f.path, err.Error(), nil, "")
				return nil, false
			}
			switch {
			case spec.kinds&kindNumber != 0:
				return checked(v, v)
			case isInt:
				return checked(v, i)
			case v == math.Trunc(v) && math.Abs(v) < 1<<53:
				return checked(v, int64(v))
			}
			d.add(f.line(), f.path, "want an integer, got "+clip(n.Value), nil, "")
			return nil, false
		case "!!str":
			if spec.kinds&kindString == 0 {
				return fail()
			}
			if len(spec.enum) > 0 && !slices.Contains(spec.enum, n.Value) {
				d.add(f.line(), f.path, fmt.Sprintf("unknown value %q", clip(n.Value)), spec.enum, suggest(n.Value, spec.enum))
				return nil, false
			}
			return n.Value, true
		}
	case yaml.SequenceNode:
		if spec.kinds&kindPair == 0 {
			return fail()
		}
		if len(n.Content) != 2 {
			return fail()
		}
		var pair []float64
		for i, c := range n.Content {
			v, ok := d.number(d.item(f, i, c))
			if !ok {
				return nil, false
			}
			if spec.check != nil {
				if problem := spec.check(v); problem != "" {
					d.add(f.line(), fmt.Sprintf("%s[%d]", f.path, i), problem+", got "+clip(deref(c).Value), nil, "")
					return nil, false
				}
			}
			pair = append(pair, v)
		}
		if pair[0] >= pair[1] {
			d.add(f.line(), f.path, "want [low, high] with low < high", nil, "")
			return nil, false
		}
		return pair, true
	}
	return fail()
}

func (d *decoder) train(f field) *TrainSettings {
	s := &TrainSettings{}
	if d.template == TemplateClassification {
		s.RebalanceTrainingData = true
	}
	m := d.mapping(f, trainKeys)
	var specs []paramSpec
	if g, ok := m.get("estimator"); ok {
		allowed := EstimatorNames(d.template)
		if d.template == "" {
			allowed = allEstimatorNames()
		}
		name, ok := d.str(g)
		if ok && !slices.Contains(allEstimatorNames(), name) {
			d.add(g.line(), g.path, fmt.Sprintf("unknown value %q", clip(name)), allowed, suggest(name, allowed))
			ok = false
		}
		if ok {
			if p, ok := estimatorParams(d.template, name); ok || d.template == "" {
				s.Estimator, specs = name, p
			} else {
				kind := "a regressor"
				if name == EstimatorLogisticRegression {
					kind = "a classifier"
				}
				d.add(g.line(), g.path, fmt.Sprintf("%s is %s; %s recipes may use", name, kind, d.template), allowed, "")
			}
		}
	} else {
		d.missing(m, "estimator", EstimatorNames(d.template))
	}
	if s.Estimator != "" && d.template != "" {
		pf, has := m.get("estimator_params")
		if !has {
			pf = field{key: &yaml.Node{Line: m.line}, path: joinPath(m.path, "estimator_params")}
		}
		s.EstimatorParams = d.params(pf, specs, s.Estimator)
	}
	if g, ok := m.get("tuning"); ok {
		tm := d.mapping(g, tuningKeys)
		if h, ok := tm.get("enabled"); ok {
			if on, ok := d.boolean(h); ok && on {
				d.add(h.line(), h.path, "hyperparameter tuning is not supported yet; set enabled: false", nil, "")
			}
		}
	}
	for _, key := range []string{"calibrate_proba", "rebalance_training_data"} {
		g, ok := m.get(key)
		if !ok {
			continue
		}
		if d.template == TemplateRegression {
			d.add(g.key.Line, g.path, "applies only to "+TemplateClassification+" recipes", nil, "")
			continue
		}
		if key == "calibrate_proba" {
			s.CalibrateProba = d.calibration(g)
		} else if b, ok := d.boolean(g); ok {
			s.RebalanceTrainingData = b
		}
	}
	return s
}

// calibration reads calibrate_proba: a method, as MLflow Recipes took it.
// null and false (what earlier builds of sous accepted to mean off) are no
// calibration; true is an error listing the methods, since it does not say
// which one to use.
func (d *decoder) calibration(f field) Calibration {
	n := f.val
	if isNull(n) {
		return ""
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		if on, ok := d.boolean(f); ok && on {
			d.add(f.line(), f.path, "want a calibration method, got true", CalibrationMethods(), "")
		}
		return ""
	}
	m, _ := d.enum(f, CalibrationMethods())
	return Calibration(m)
}

func (d *decoder) evaluate(f field) *EvaluateSettings {
	s := &EvaluateSettings{}
	m := d.mapping(f, evaluateKeys)
	g, ok := m.get("validation_criteria")
	if !ok || isNull(g.val) {
		return s
	}
	if g.val.Kind != yaml.SequenceNode {
		d.wrongType(g, "a list of {metric, threshold}", nil)
		return s
	}
	metrics := MetricNames(d.template, d.binary)
	seen := map[string]int{}
	for i, c := range g.val.Content {
		item := d.item(g, i, c)
		item.key = &yaml.Node{Line: item.line()}
		cm := d.mapping(item, criterionKeys)
		var vc ValidationCriterion
		ok := true
		if h, has := cm.get("metric"); has {
			if d.template != "" {
				vc.Metric, ok = d.enum(h, metrics)
			} else {
				vc.Metric, ok = d.nonEmpty(h)
			}
			if prev, dup := seen[vc.Metric]; ok && dup {
				d.add(h.line(), h.path, fmt.Sprintf("metric %q already has a criterion (line %d)", vc.Metric, prev), nil, "")
				ok = false
			}
			if ok {
				seen[vc.Metric] = h.line()
			}
		} else {
			d.missing(cm, "metric", metrics)
			ok = false
		}
		if h, has := cm.get("threshold"); has {
			var good bool
			vc.Threshold, good = d.number(h)
			ok = ok && good
		} else {
			d.missing(cm, "threshold", nil)
			ok = false
		}
		if ok {
			s.ValidationCriteria = append(s.ValidationCriteria, vc)
		}
	}
	return s
}

func (d *decoder) register(f field) *RegisterSettings {
	s := &RegisterSettings{}
	m := d.mapping(f, registerKeys)
	if g, ok := m.get("allow_non_validated_model"); ok {
		s.AllowNonValidatedModel, _ = d.boolean(g)
	}
	return s
}

var (
	modelURIRE    = regexp.MustCompile(`^[^/@\s]+(/(latest|[0-9]+)|@[A-Za-z0-9_.-]+)$`)
	modelURIForms = []string{"models:/<name>/latest", "models:/<name>/<version>", "models:/<name>@<alias>", "a path"}
)

func (d *decoder) predict(f field) *PredictSettings {
	s := &PredictSettings{ResultType: DefaultResultType, SaveMode: SaveOverwrite}
	m := d.mapping(f, predictKeys)
	if g, ok := m.get("model_uri"); ok && !isNull(g.val) {
		if uri, ok := d.nonEmpty(g); ok {
			if rest, isModels := strings.CutPrefix(uri, "models:/"); isModels && !modelURIRE.MatchString(rest) {
				d.add(g.line(), g.path, fmt.Sprintf("malformed model URI %q", clip(uri)), modelURIForms, "")
			} else {
				s.ModelURI = uri
			}
		}
	}
	if g, ok := m.get("output"); ok {
		if isNull(g.val) || g.val.Kind != yaml.MappingNode {
			d.wrongType(g, "a mapping {using, location}", outputKeys)
		} else {
			om := d.mapping(g, outputKeys)
			if h, ok := om.get("using"); ok {
				s.Output.Using, _ = d.enum(h, formats)
			} else {
				d.missing(om, "using", formats)
			}
			if h, ok := om.get("location"); ok {
				if loc, ok := d.nonEmpty(h); ok {
					d.checkLocation(h.line(), h.path, loc)
					s.Output.Location = loc
				}
			} else {
				d.missing(om, "location", nil)
			}
		}
	} else {
		d.missing(m, "output", outputKeys)
	}
	if g, ok := m.get("result_type"); ok {
		if t, ok := d.enum(g, resultTypes); ok {
			s.ResultType = t
		}
	}
	if g, ok := m.get("save_mode"); ok {
		if sm, ok := d.enum(g, saveModes); ok {
			s.SaveMode = sm
		}
	}
	return s
}

// keyAtLine returns the dotted path of the deepest key or list item written
// on line, or "".
func keyAtLine(root *yaml.Node, line int) string {
	best, bestDepth := "", -1
	var walk func(n *yaml.Node, path string, depth int)
	walk = func(n *yaml.Node, path string, depth int) {
		if n == nil || depth > maxFlowDepth {
			return
		}
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path, depth)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				p := joinPath(path, k.Value)
				if k.Line == line && depth > bestDepth {
					best, bestDepth = p, depth
				}
				walk(n.Content[i+1], p, depth+1)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				if c.Line == line && depth > bestDepth {
					best, bestDepth = p, depth
				}
				walk(c, p, depth+1)
			}
		}
	}
	walk(root, "", 0)
	return best
}
