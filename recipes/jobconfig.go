package recipes

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// JobConfig is what a step's job carries: the step's rendered settings and
// the recipe-level settings steps read. The coordinator builds it; the step
// code in recipes/steps decodes it.
type JobConfig struct {
	Template      string `json:"template"`
	TargetCol     string `json:"target_col"`
	PositiveClass string `json:"positive_class,omitempty"`
	PrimaryMetric string `json:"primary_metric,omitempty"`
	ModelName     string `json:"model_name,omitempty"`
	// Settings is the step's settings struct (IngestSettings, SplitSettings, ...) as JSON.
	Settings json.RawMessage `json:"settings"`
}

// Decode unmarshals the step settings into v (a pointer to the step's settings struct).
func (c *JobConfig) Decode(v any) error {
	if len(c.Settings) == 0 || string(c.Settings) == "null" {
		return nil
	}
	if err := json.Unmarshal(c.Settings, v); err != nil {
		return fmt.Errorf("job settings: %w", err)
	}
	return nil
}

// JobConfig returns the job configuration of a step.
func (r *Recipe) JobConfig(step StepName) (*JobConfig, error) {
	var settings any
	switch step {
	case StepIngest:
		settings = r.Ingest
	case StepSplit:
		settings = r.Split
	case StepTransform:
		settings = r.Transform
	case StepTrain:
		settings = r.Train
	case StepEvaluate:
		settings = r.Evaluate
	case StepRegister:
		settings = r.Register
	case StepIngestScoring:
		settings = r.IngestScoring
	case StepPredict:
		settings = r.Predict
	default:
		return nil, fmt.Errorf("recipes: unknown step %q", step)
	}
	data, err := json.Marshal(settings)
	if err != nil {
		return nil, fmt.Errorf("recipes: %s settings: %w", step, err)
	}
	return &JobConfig{
		Template:      r.Template,
		TargetCol:     r.TargetCol,
		PositiveClass: r.PositiveClass,
		PrimaryMetric: r.PrimaryMetric,
		ModelName:     r.ModelRegistry.ModelName,
		Settings:      data,
	}, nil
}

// PredictModelURI is predict's model_uri, empty when not set.
func (r *Recipe) PredictModelURI() string {
	if r.Predict == nil {
		return ""
	}
	return r.Predict.ModelURI
}

var unsafeID = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// Identity names the recipe in the store's index of last outputs: the
// experiment name when the profile gives one, else the recipe directory's name.
func (r *Recipe) Identity(recipeDir string) string {
	id := r.Experiment.Name
	if id == "" {
		id = filepath.Base(recipeDir)
	}
	id = strings.Trim(unsafeID.ReplaceAllString(id, "_"), "._")
	if id == "" {
		id = "recipe"
	}
	return id
}
