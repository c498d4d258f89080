package recipes

import "maps"

// ShardKeyDoc is the key document of one shard of predict: the model, the
// bytes of the shard's file and the row groups it covers, how the file is
// read and the settings that shape the scored rows. Unlike predict's own
// key it leaves out the other files and the output location, so a re-run
// scores only the shards whose input bytes or model changed, and writing the
// same scores elsewhere scores nothing again.
func (r *Recipe) ShardKeyDoc(inputs map[string]string, rowGroups []int, impl string) KeyDoc {
	reading, _ := ingestMap(r.IngestScoring).(map[string]any)
	reading = maps.Clone(reading)
	delete(reading, "location") // the file's digest is in inputs
	settings := map[string]any{"reading": reading, "row_groups": intsAny(rowGroups)}
	if s := r.Predict; s != nil {
		settings["result_type"] = s.ResultType
	}
	return KeyDoc{
		KeySchema: KeySchemaVersion,
		Template:  r.Template,
		Step:      string(StepPredict) + "/shard",
		Settings:  settings,
		Recipe:    r.recipeSettings(StepPredict),
		Inputs:    maps.Clone(inputs),
		Impl:      impl,
	}
}

func intsAny(v []int) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}
