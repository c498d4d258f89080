package ml

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/sous-ml/sous/recipes/frame"
)

// BundleFormatVersion is the newest bundle format this package writes; it
// reads every version from 1 to this one. Version 2 adds the calibrator.
// Encode writes the lowest version that holds the bundle (see
// Bundle.FormatVersion), so a bundle without a calibrator is still version
// 1, byte for byte what earlier builds wrote and read. See FORMAT.md.
const BundleFormatVersion = 2

// bundleFormatCalibrated is the first format with a calibrator. A reader of
// version 1 would ignore the field and predict uncalibrated probabilities;
// it refuses version 2 instead.
const bundleFormatCalibrated = 2

// Derived is a column computed from an expression before the transformer
// runs. The bundle records it; the caller evaluates it (package ml does not
// evaluate expressions).
type Derived struct {
	Name string `json:"name"`
	Expr string `json:"expr"`
}

// Bundle is a trained model as one versioned document: what it reads, how
// it turns a frame into features, and the fitted estimator.
type Bundle struct {
	// FormatVersion is the version the bundle was decoded from, or the
	// lowest it may be encoded as; Encode raises it to the lowest version
	// that holds the bundle (0 means just that).
	FormatVersion int    `json:"format_version"`
	Template      string `json:"template"` // the recipe, e.g. "regression/v1"
	Target        string `json:"target"`
	// InputSchema lists the columns Predict requires, with their kinds.
	InputSchema []Field `json:"input_schema"`
	// Derive lists the derived columns, in evaluation order, that the caller
	// adds to a frame before Predict.
	Derive        []Derived       `json:"derive,omitempty"`
	Transformer   *Transformer    `json:"transformer"`
	EstimatorName string          `json:"estimator_name"`
	Estimator     json.RawMessage `json:"estimator"`
	// Calibrator, when set, calibrates the classifier's probabilities
	// (classification/v1's calibrate_proba); Model applies it. It needs
	// format version 2.
	Calibrator *Calibrator `json:"calibrator,omitempty"`
	// ClassLabels are the classes of a classifier, in the order of its
	// outputs; empty for a regressor.
	ClassLabels  []string           `json:"class_labels,omitempty"`
	FeatureNames []string           `json:"feature_names"`
	Created      time.Time          `json:"created"`
	Metrics      map[string]float64 `json:"metrics,omitempty"`
}

// NewBundle returns a bundle of a fitted transformer and estimator, with
// InputSchema set to the transformer's inputs and FeatureNames to its
// features, and format version 1. The caller sets Derive, ClassLabels,
// Calibrator, Created (from its clock) and Metrics.
func NewBundle(template, target string, t *Transformer, e Estimator) (*Bundle, error) {
	if err := t.check(); err != nil {
		return nil, fmt.Errorf("ml: new bundle: %w", err)
	}
	if e == nil {
		return nil, errors.New("ml: new bundle: nil estimator")
	}
	raw, err := MarshalEstimator(e)
	if err != nil {
		return nil, fmt.Errorf("ml: new bundle: %w", err)
	}
	return &Bundle{
		FormatVersion: 1,
		Template:      template,
		Target:        target,
		InputSchema:   t.InputSchema(),
		Transformer:   t,
		EstimatorName: e.Name(),
		Estimator:     raw,
		FeatureNames:  t.FeatureNames(),
	}, nil
}

// metricFloat encodes NaN and ±Inf, which JSON numbers cannot hold, as the
// strings "NaN", "+Inf" and "-Inf".
type metricFloat float64

func (f metricFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte(strconv.Quote(strconv.FormatFloat(v, 'g', -1, 64))), nil
	}
	return json.Marshal(v)
}

func (f *metricFloat) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		s, err := strconv.Unquote(string(b))
		if err != nil {
			return err
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("metric %s is not a number", b)
		}
		*f = metricFloat(v)
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = metricFloat(v)
	return nil
}

type bundleJSON Bundle

type bundleWire struct {
	*bundleJSON
	Metrics map[string]metricFloat `json:"metrics,omitempty"`
}

// MarshalJSON encodes the bundle; non-finite metrics become strings.
func (b Bundle) MarshalJSON() ([]byte, error) {
	w := bundleWire{bundleJSON: (*bundleJSON)(&b)}
	if b.Metrics != nil {
		w.Metrics = make(map[string]metricFloat, len(b.Metrics))
		for k, v := range b.Metrics {
			w.Metrics[k] = metricFloat(v)
		}
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes what MarshalJSON writes.
func (b *Bundle) UnmarshalJSON(data []byte) error {
	w := bundleWire{bundleJSON: (*bundleJSON)(b)}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	b.Metrics = nil
	if w.Metrics != nil {
		b.Metrics = make(map[string]float64, len(w.Metrics))
		for k, v := range w.Metrics {
			b.Metrics[k] = float64(v)
		}
	}
	return nil
}

// minFormatVersion is the lowest format version that holds the bundle.
func (b *Bundle) minFormatVersion() int {
	if b.Calibrator != nil {
		return bundleFormatCalibrated
	}
	return 1
}

// unsupportedVersion is the error for a format version this build cannot read.
func unsupportedVersion(v int) string {
	return fmt.Sprintf("format version %d is not supported (this build reads versions 1 to %d)", v, BundleFormatVersion)
}

// Validate checks that the bundle is complete and consistent: a known
// format version that holds its fields, a valid transformer, a registered
// estimator whose state decodes, feature names matching the transformer,
// and a calibrator (if any) that fits the estimator and the class labels.
func (b *Bundle) Validate() error {
	if b.FormatVersion < 1 || b.FormatVersion > BundleFormatVersion {
		return fmt.Errorf("ml: bundle %s", unsupportedVersion(b.FormatVersion))
	}
	if b.FormatVersion < b.minFormatVersion() {
		return fmt.Errorf("ml: bundle: a calibrator needs format version %d, the bundle is version %d", bundleFormatCalibrated, b.FormatVersion)
	}
	if err := b.Transformer.check(); err != nil {
		return fmt.Errorf("ml: bundle: %w", err)
	}
	names := b.Transformer.FeatureNames()
	if len(b.FeatureNames) != len(names) {
		return fmt.Errorf("ml: bundle: %d feature names but the transformer makes %d features", len(b.FeatureNames), len(names))
	}
	for i := range names {
		if names[i] != b.FeatureNames[i] {
			return fmt.Errorf("ml: bundle: feature %d is %q but the transformer names it %q", i, b.FeatureNames[i], names[i])
		}
	}
	if _, err := b.Model(); err != nil {
		return err
	}
	return nil
}

// Encode writes the bundle as gzip-compressed JSON, as format version
// max(FormatVersion, the lowest version that holds it): 1 without a
// calibrator, so readers of version 1 keep reading such bundles, and 2 with
// one, so they refuse it rather than ignore its calibrator.
func (b *Bundle) Encode(w io.Writer) error {
	c := *b
	c.FormatVersion = max(c.FormatVersion, c.minFormatVersion())
	if err := c.Validate(); err != nil {
		return fmt.Errorf("ml: encode bundle: %w", err)
	}
	data, err := json.Marshal(&c)
	if err != nil {
		return fmt.Errorf("ml: encode bundle: %w", err)
	}
	zw := gzip.NewWriter(w)
	if _, err := zw.Write(data); err != nil {
		return fmt.Errorf("ml: encode bundle: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("ml: encode bundle: %w", err)
	}
	return nil
}

// DecodeBundle reads a bundle written by Encode (plain JSON is accepted
// too), rejecting a format version this build does not know and any bundle
// that fails Validate.
func DecodeBundle(r io.Reader) (*Bundle, error) {
	br := bufio.NewReader(r)
	var src io.Reader = br
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("ml: decode bundle: %w", err)
		}
		defer zr.Close()
		src = zr
	}
	data, err := io.ReadAll(src)
	if err != nil {
		return nil, fmt.Errorf("ml: decode bundle: %w", err)
	}
	var head struct {
		FormatVersion *int `json:"format_version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("ml: decode bundle: not a model bundle: %w", err)
	}
	if head.FormatVersion == nil {
		return nil, errors.New("ml: decode bundle: not a model bundle (no format_version)")
	}
	if v := *head.FormatVersion; v < 1 || v > BundleFormatVersion {
		return nil, fmt.Errorf("ml: decode bundle: %s", unsupportedVersion(v))
	}
	b := new(Bundle)
	if err := json.Unmarshal(data, b); err != nil {
		return nil, fmt.Errorf("ml: decode bundle: %w", err)
	}
	if err := b.Validate(); err != nil {
		return nil, fmt.Errorf("ml: decode bundle: %w", err)
	}
	return b, nil
}

// Model decodes the bundle's estimator. Each call returns a new Estimator.
// With a calibrator it is a *CalibratedClassifier around the estimator, so
// callers get calibrated probabilities (and predictions) without asking.
func (b *Bundle) Model() (Estimator, error) {
	if len(b.Estimator) == 0 {
		return nil, errors.New("ml: bundle has no estimator state")
	}
	e, err := UnmarshalEstimator(b.EstimatorName, b.Estimator)
	if err != nil {
		return nil, fmt.Errorf("ml: bundle: %w", err)
	}
	if b.Calibrator == nil {
		return e, nil
	}
	c, ok := e.(Classifier)
	if !ok {
		return nil, fmt.Errorf("ml: bundle: estimator %s has a calibrator but is not a classifier", b.EstimatorName)
	}
	if n := len(b.ClassLabels); n > 0 && n != b.Calibrator.Classes {
		return nil, fmt.Errorf("ml: bundle: %d class labels but the calibrator is for %d classes", n, b.Calibrator.Classes)
	}
	cc, err := NewCalibratedClassifier(c, b.Calibrator)
	if err != nil {
		return nil, fmt.Errorf("ml: bundle: %w", err)
	}
	return cc, nil
}

// Predict checks that f has every InputSchema column, transforms it and
// returns the estimator's predictions, one per row. Derived columns must
// already be in f.
func (b *Bundle) Predict(f *frame.Frame) ([]float64, error) {
	if f == nil {
		return nil, errors.New("ml: predict: frame is nil")
	}
	var missing []string
	for _, in := range b.InputSchema {
		if _, ok := f.Col(in.Name); !ok {
			missing = append(missing, in.Name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("ml: predict: input is missing columns %s", quoteList(missing))
	}
	if b.Transformer == nil {
		return nil, errors.New("ml: predict: bundle has no transformer")
	}
	X, err := b.Transformer.Transform(f)
	if err != nil {
		return nil, fmt.Errorf("ml: predict: %w", err)
	}
	e, err := b.Model()
	if err != nil {
		return nil, fmt.Errorf("ml: predict: %w", err)
	}
	out, err := e.Predict(X)
	if err != nil {
		return nil, fmt.Errorf("ml: predict: %s: %w", e.Name(), err)
	}
	return out, nil
}
