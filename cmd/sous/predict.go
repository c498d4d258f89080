package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing/fstest"
	"time"

	"github.com/spf13/cobra"

	"github.com/sous-ml/sous/recipes"
)

// predictCmd scores a data set with a registered model without a recipe:
// it builds the scoring graph (ingest_scoring → predict) from its flags and
// runs it through the same jobs as sous run --step predict.
func predictCmd(g *globals) *cobra.Command {
	var model, input, output, saveMode, reportFormat string
	cmd := &cobra.Command{
		Use:   "predict --model URI --input PATH --output PATH",
		Short: "Score a data set with a registered model, without a recipe",
		Long: `Score the parquet or csv file(s) at --input (a file, directory or glob) with the
model --model names (models:/NAME/latest, models:/NAME/3, models:/NAME@ALIAS,
or a bundle path on the embedded runtime) and write the input columns plus
the prediction columns to --output (.parquet or .csv). The registry is the
store of the recipe directory (-C, default .) or --store / --nats.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if model == "" || input == "" || output == "" {
				return withCode(exitBadInput, errors.New("--model, --input and --output are required"))
			}
			if reportFormat != "" {
				// --output is the data's destination here, so the report's format has its own flag.
				g.output = reportFormat
			}
			ctx := cmd.Context()
			log, err := g.logger()
			if err != nil {
				return err
			}
			in, err := filepath.Abs(input)
			if err != nil {
				return withCode(exitBadInput, err)
			}
			out := output // an s3:// location is written as it is
			if !strings.HasPrefix(output, "s3://") {
				if out, err = filepath.Abs(output); err != nil {
					return withCode(exitBadInput, err)
				}
			}
			recipe := fmt.Sprintf(`recipe: "regression/v1"
target_col: "prediction"
steps:
  ingest_scoring: {using: %s, location: %q}
  predict:
    model_uri: %q
    output: {using: %s, location: %q}
    save_mode: %s
`, format(in), in, model, format(out), out, saveMode)
			fsys := fstest.MapFS{
				recipes.RecipeFile:                {Data: []byte(recipe)},
				"profiles/" + g.profile + ".yaml": {Data: []byte("{}\n")},
			}
			s, err := g.open(ctx, string(recipes.StepPredict), log, fsys)
			if err != nil {
				return err
			}
			defer s.close()
			return g.submit(ctx, s, string(recipes.StepPredict), false, time.Now())
		},
	}
	cmd.Flags().StringVar(&model, "model", "", "model URI: models:/NAME/latest, models:/NAME/VERSION, models:/NAME@ALIAS or a bundle path")
	cmd.Flags().StringVar(&input, "input", "", "data to score: a .parquet or .csv file, a directory or a glob")
	cmd.Flags().StringVar(&output, "output", "", "where to write the scored data (.parquet or .csv)")
	cmd.Flags().StringVar(&saveMode, "save-mode", recipes.SaveOverwrite, "overwrite or error when --output exists")
	cmd.Flags().StringVar(&reportFormat, "format", "", "report format: text or json (what -o is for other commands)")
	g.nats.register(cmd.Flags())
	return cmd
}

// format guesses a file format from a path's extension: csv, else parquet.
func format(path string) string {
	if strings.HasSuffix(strings.ToLower(path), ".csv") {
		return recipes.FormatCSV
	}
	return recipes.FormatParquet
}
