package recipes

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Files of a recipe directory.
const (
	RecipeFile     = "recipe.yaml"
	ProfilesDir    = "profiles"
	DefaultProfile = "local"
)

func profilePath(name string) string { return ProfilesDir + "/" + name + ".yaml" }

// LoadOptions configures LoadWith.
type LoadOptions struct {
	// Profile is the profile to render with: profiles/<Profile>.yaml.
	// Empty means DefaultProfile.
	Profile string
	// Env looks up {{ VAR }} in the profile (MLflow renders profiles with
	// the environment). Nil means an empty environment; cmd/ passes
	// os.LookupEnv. recipe.yaml never sees the environment, only the
	// profile's top-level keys.
	Env func(name string) (string, bool)
}

// Load reads recipe.yaml and profiles/<profile>.yaml from fsys (the recipe
// directory), renders and validates them, and returns the recipe. An empty
// profile means DefaultProfile. Load does not read the environment; see
// LoadWith.
//
// Every problem is an *Error naming the file, line and key; when there are
// several, Load returns them all as Errors, sorted by file and line.
func Load(fsys fs.FS, profile string) (*Recipe, error) {
	return LoadWith(fsys, LoadOptions{Profile: profile})
}

// LoadWith is Load with options.
//
// Rendering follows MLflow Recipes: the profile is rendered first with the
// environment, then recipe.yaml with the profile's top-level keys as
// variables. The forms are {{ VAR }} and {{ VAR | default(x) }}, x a YAML flow
// value such as 3, "text", [0.75, 0.125, 0.125] or {using: parquet}. Lines
// whose first non-blank character is # are not rendered. Values are written
// on the placeholder's line (collections as YAML flow), so line numbers stay
// those of the file as written. The profile's experiment and model_registry
// keys are recipe settings (they override recipe.yaml's); its other keys are
// only variables.
func LoadWith(fsys fs.FS, opts LoadOptions) (*Recipe, error) {
	name := opts.Profile
	if name == "" {
		name = DefaultProfile
	}
	if !validProfileName(name) {
		avail := availableProfiles(fsys)
		return nil, &Error{File: ProfilesDir, Msg: fmt.Sprintf("invalid profile name %q", clip(name)), Allowed: avail, Suggest: suggest(name, avail)}
	}
	recipeSrc, err := fs.ReadFile(fsys, RecipeFile)
	if err != nil {
		msg := "cannot read the recipe: " + err.Error()
		if errors.Is(err, fs.ErrNotExist) {
			msg = "not found: a recipe directory holds recipe.yaml and profiles/<name>.yaml"
		}
		return nil, &Error{File: RecipeFile, Msg: msg, Err: err}
	}
	pfile := profilePath(name)
	profileSrc, err := fs.ReadFile(fsys, pfile)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, &Error{File: pfile, Msg: "cannot read the profile: " + err.Error(), Err: err}
		}
		avail := availableProfiles(fsys)
		msg := fmt.Sprintf("profile %q not found", name)
		if len(avail) == 0 {
			msg += "; " + ProfilesDir + "/ holds no .yaml profiles"
		}
		return nil, &Error{File: pfile, Msg: msg, Allowed: avail, Suggest: suggest(name, avail), Err: err}
	}

	var errs []*Error

	// The profile, rendered with the environment.
	env := opts.Env
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	pr := renderer{file: pfile, lookup: func(v string) (variable, bool) {
		s, ok := env(v)
		if !ok {
			return variable{}, false
		}
		return envVariable(v, s), true
	}}
	pres := pr.render(profileSrc)
	profileRoot, perr := parseFile(pfile, pres.text)
	if perr != nil {
		if len(pres.errs) > 0 {
			return nil, asError(pres.errs) // the parse error follows from them
		}
		return nil, perr
	}
	fillKeys(pres.errs, profileRoot)
	errs = append(errs, pres.errs...)

	vars := map[string]variable{}
	var names []string
	switch top := deref(profileRoot); {
	case top == nil:
	case top.Kind != yaml.MappingNode:
		errs = append(errs, &Error{File: pfile, Line: top.Line,
			Msg: "want a mapping of variables and settings (experiment, model_registry, VAR: value), got " + describe(top)})
		return nil, asError(errs)
	default:
		for i := 0; i+1 < len(top.Content); i += 2 {
			k := deref(top.Content[i])
			if k == nil || k.Kind != yaml.ScalarNode {
				continue
			}
			if _, dup := vars[k.Value]; !dup {
				names = append(names, k.Value)
				vars[k.Value] = variable{node: top.Content[i+1], source: fmt.Sprintf("%s:%d", pfile, k.Line)}
			}
		}
	}
	slices.Sort(names)

	// recipe.yaml, rendered with the profile.
	rr := renderer{file: RecipeFile, names: names, lookup: func(v string) (variable, bool) {
		x, ok := vars[v]
		return x, ok
	}}
	rres := rr.render(recipeSrc)
	root, rerr := parseFile(RecipeFile, rres.text)
	if rerr != nil {
		if len(rres.errs) == 0 {
			rerr.Msg += note(rres.subs[rerr.Line])
			errs = append(errs, rerr)
		}
		// Otherwise the parse error most likely follows from the rendering
		// errors: report those.
		return nil, asError(append(errs, rres.errs...))
	}
	fillKeys(rres.errs, root)
	errs = append(errs, rres.errs...)

	r := &Recipe{
		Profile:         name,
		RenderedRecipe:  rres.text,
		RenderedProfile: pres.text,
		pos:             map[string]pos{},
		subs:            rres.subs,
	}
	d := &decoder{file: RecipeFile, subs: rres.subs, skip: errLines(rres.errs), errs: &errs, pos: r.pos}
	d.decodeRecipe(deref(root), r)
	pd := &decoder{file: pfile, subs: pres.subs, skip: errLines(pres.errs), errs: &errs, pos: r.pos,
		template: d.template, binary: d.binary}
	pd.decodeProfile(deref(profileRoot), r)

	if err := asError(errs); err != nil {
		return nil, err
	}
	return r, nil
}

func errLines(errs []*Error) map[int]bool {
	m := map[int]bool{}
	for _, e := range errs {
		m[e.Line] = true
	}
	return m
}

// fillKeys gives rendering errors the key written on their line.
func fillKeys(errs []*Error, root *yaml.Node) {
	for _, e := range errs {
		if e.Key == "" && e.Line > 0 && root != nil {
			e.Key = keyAtLine(root, e.Line)
		}
	}
}

var profileNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

func validProfileName(name string) bool {
	return len(name) <= 255 && profileNameRE.MatchString(name) && !strings.Contains(name, "..")
}

// availableProfiles lists the profiles in fsys, sorted.
func availableProfiles(fsys fs.FS) []string {
	entries, err := fs.ReadDir(fsys, ProfilesDir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok && !e.IsDir() && validProfileName(n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseFile parses one YAML document. It returns a nil node for an empty
// file and turns parser errors (and panics) into an *Error with the line.
func parseFile(file string, src []byte) (root *yaml.Node, e *Error) {
	defer func() {
		if p := recover(); p != nil {
			root, e = nil, &Error{File: file, Msg: fmt.Sprintf("invalid YAML: parser failed: %v", p)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, yamlError(file, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, &Error{File: file, Line: extra.Line, Msg: "invalid YAML: the file holds more than one document (---); it must hold one"}
	case !errors.Is(err, io.EOF):
		return nil, yamlError(file, err)
	}
	return &doc, nil
}

// yamlParserErrors are yaml.v3 parser (not scanner) errors, whose line
// yaml.v3 reports 0-based.
var yamlParserErrors = []string{
	"did not find expected <document start>",
	"did not find expected node content",
	"did not find expected key",
	"did not find expected '-' indicator",
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
}

func yamlError(file string, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
		if slices.Contains(yamlParserErrors, msg) {
			line++
		}
	}
	return &Error{File: file, Line: line, Msg: "invalid YAML: " + msg, Err: err}
}
