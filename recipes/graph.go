package recipes

import (
	"fmt"
	"github.com/sous-ml/sous/recipes/ml"
	"slices"
)

// StepName names a step of a recipe template.
type StepName string

// The steps, in graph order.
const (
	StepIngest        StepName = "ingest"
	StepSplit         StepName = "split"
	StepTransform     StepName = "transform"
	StepTrain         StepName = "train"
	StepEvaluate      StepName = "evaluate"
	StepRegister      StepName = "register"
	StepIngestScoring StepName = "ingest_scoring"
	StepPredict       StepName = "predict"
)

// DefaultTarget is the step `sous run` runs to without --step.
const DefaultTarget = StepRegister

// The two graphs of a template.
const (
	GraphTraining = "training"
	GraphScoring  = "scoring"
)

// StepSpec is one step of the template graph: the artifacts it reads and
// writes, and the steps that produce what it reads.
type StepSpec struct {
	Name  StepName
	Graph string // GraphTraining or GraphScoring
	// Upstream are the steps whose outputs this step reads.
	Upstream []StepName
	// Inputs are the artifacts this step reads, each an output of an
	// Upstream step.
	Inputs []string
	// Outputs are the artifacts this step writes.
	Outputs []string
	// External are inputs no step of the graph produces; the coordinator
	// resolves them (predict's model comes from model_uri or the registry).
	External []string
}

// Steps is the template graph, in topological order: the training graph
// ingest → split → transform → train → evaluate → register, then the scoring
// graph ingest_scoring → predict. Both templates share it.
var Steps = []StepSpec{
	{Name: StepIngest, Graph: GraphTraining,
		Outputs: []string{"ingested_data"}},
	{Name: StepSplit, Graph: GraphTraining, Upstream: []StepName{StepIngest},
		Inputs:  []string{"ingested_data"},
		Outputs: []string{"training_data", "validation_data", "test_data"}},
	{Name: StepTransform, Graph: GraphTraining, Upstream: []StepName{StepSplit},
		Inputs:  []string{"training_data", "validation_data"},
		Outputs: []string{"transformer", "transformed_training_data", "transformed_validation_data"}},
	{Name: StepTrain, Graph: GraphTraining, Upstream: []StepName{StepSplit, StepTransform},
		Inputs:  []string{"transformer", "training_data", "validation_data"},
		Outputs: []string{"model"}},
	{Name: StepEvaluate, Graph: GraphTraining, Upstream: []StepName{StepSplit, StepTrain},
		Inputs:  []string{"model", "training_data", "validation_data", "test_data"},
		Outputs: []string{"metrics"}},
	{Name: StepRegister, Graph: GraphTraining, Upstream: []StepName{StepTrain, StepEvaluate},
		Inputs:  []string{"model", "metrics"},
		Outputs: []string{"registered_model_version"}},
	// ingest_scoring describes the scoring data (files, row groups, schema)
	// and checks it against the model; predict scores it shard by shard.
	{Name: StepIngestScoring, Graph: GraphScoring,
		Outputs:  []string{"scoring_dataset"},
		External: []string{"model"}},
	{Name: StepPredict, Graph: GraphScoring, Upstream: []StepName{StepIngestScoring},
		Inputs:   []string{"scoring_dataset"},
		Outputs:  []string{"scored_data"},
		External: []string{"model"}},
}

// StepNames returns the names of all steps, in graph order.
func StepNames() []StepName {
	out := make([]StepName, len(Steps))
	for i, s := range Steps {
		out[i] = s.Name
	}
	return out
}

func stepNameStrings() []string {
	out := make([]string, len(Steps))
	for i, s := range Steps {
		out[i] = string(s.Name)
	}
	return out
}

// Spec returns the spec of a step.
func Spec(step StepName) (StepSpec, bool) {
	i := slices.IndexFunc(Steps, func(s StepSpec) bool { return s.Name == step })
	if i < 0 {
		return StepSpec{}, false
	}
	return Steps[i], true
}

// Upstream returns the steps whose outputs step reads; nil for an unknown step.
func Upstream(step StepName) []StepName {
	s, _ := Spec(step)
	return slices.Clone(s.Upstream)
}

// Producer returns the step that writes an artifact, such as "model" or
// "scored_data".
func Producer(artifact string) (StepName, bool) {
	for _, s := range Steps {
		if slices.Contains(s.Outputs, artifact) {
			return s.Name, true
		}
	}
	return "", false
}

// Has reports whether the recipe configures step.
func (r *Recipe) Has(step StepName) bool {
	switch step {
	case StepIngest:
		return r.Ingest != nil
	case StepSplit:
		return r.Split != nil
	case StepTransform:
		return r.Transform != nil
	case StepTrain:
		return r.Train != nil
	case StepEvaluate:
		return r.Evaluate != nil
	case StepRegister:
		return r.Register != nil
	case StepIngestScoring:
		return r.IngestScoring != nil
	case StepPredict:
		return r.Predict != nil
	}
	return false
}

// Plan returns the steps needed to reach target, in topological order, the
// target last. An empty target means DefaultTarget (register). It is an error
// if target is not a step, or if a needed step is missing from recipe.yaml,
// or if the steps need a setting the recipe does not give (register and
// predict need a model name).
func (r *Recipe) Plan(target string) ([]StepName, error) {
	if target == "" {
		target = string(DefaultTarget)
	}
	if _, ok := Spec(StepName(target)); !ok {
		names := stepNameStrings()
		return nil, &Error{Msg: fmt.Sprintf("unknown target step %q", target), Allowed: names, Suggest: suggest(target, names)}
	}
	need := map[StepName]bool{}
	var visit func(StepName)
	visit = func(s StepName) {
		if need[s] {
			return
		}
		need[s] = true
		for _, u := range Upstream(s) {
			visit(u)
		}
	}
	visit(StepName(target))

	var plan []StepName
	var errs []*Error
	for _, s := range Steps {
		if !need[s.Name] {
			continue
		}
		plan = append(plan, s.Name)
		if !r.Has(s.Name) {
			p := r.position("steps")
			errs = append(errs, &Error{
				File: RecipeFile, Line: p.line, Key: "steps." + string(s.Name),
				Msg: fmt.Sprintf("missing from recipe.yaml; running %s needs it", target),
			})
		}
	}
	if need[StepTrain] && r.Train != nil && !slices.Contains(ml.Estimators(), r.Train.Estimator) {
		var built []string
		for _, e := range EstimatorNames(r.Template) {
			if slices.Contains(ml.Estimators(), e) {
				built = append(built, e)
			}
		}
		p := r.position("steps.train.estimator")
		errs = append(errs, &Error{File: p.file, Line: p.line, Key: "steps.train.estimator",
			Msg: fmt.Sprintf("estimator %q is not implemented in this version of sous yet", r.Train.Estimator), Allowed: built})
	}
	if need[StepRegister] && r.ModelRegistry.ModelName == "" {
		errs = append(errs, r.modelNameError("register"))
	}
	if need[StepPredict] && r.Predict != nil && r.Predict.ModelURI == "" && r.ModelRegistry.ModelName == "" {
		errs = append(errs, r.modelNameError("predict without steps.predict.model_uri"))
	}
	if err := asError(errs); err != nil {
		return nil, err
	}
	return plan, nil
}

func (r *Recipe) modelNameError(what string) *Error {
	p := r.position("model_registry")
	file := p.file
	if file == "" {
		file = r.ProfileFile()
	}
	return &Error{
		File: file, Line: p.line, Key: "model_registry.model_name",
		Msg: fmt.Sprintf("missing: %s needs a registered model name (model_registry: {model_name: ...} in %s)", what, r.ProfileFile()),
	}
}
