// Package cards renders step cards: what a recipe step did, for people.
//
// Every step (ingest, split, transform, train, evaluate, register,
// ingest_scoring, predict) builds one Card and stores two renderings of it:
//
//   - HTML: one self-contained document with inline CSS and inline SVG. It
//     has no script, loads no font, image or stylesheet, and links only to its
//     own sections, so it opens offline, from an artifact store or an email.
//   - Text: at most MaxTextLines lines for the terminal: step, status, the run
//     summary, warnings and the key metrics.
//
// # Building a card
//
// New starts a card; the exported fields carry the run identity (RunID,
// CacheKey, Created, Duration, Status). The Add methods append content and
// return the card so that calls chain:
//
//	c := cards.New("train", "Train model")
//	c.Status, c.Duration = cards.StatusSucceeded, took
//	c.AddSummary(cards.KV{Key: "rows", Value: cards.FormatCount(n)}).
//		AddWarning("1,204 rows with null target dropped").
//		AddMetrics("Metrics", metrics).
//		AddScatter("Predicted vs actual", y, yhat, "actual", "predicted", cards.WithIdentityLine())
//
// The run summary and the warnings are shown at the top of the card;
// sections follow in the order they were added, each one collapsible, with a
// table of contents linking to them.
//
// Metrics named training_X, val_X and test_X (the names the tracking store
// uses) are shown as one row X with a column per split.
//
// # Cost and size
//
// Add methods summarize their input when called: AddProfile reads each
// column in a few linear passes and sorts a sample of at most
// DefaultSampleRows values; AddScatter keeps at most MaxScatterPoints points;
// AddHistogram keeps only bin counts. A card's size therefore does not grow
// with the data.
//
// # Determinism
//
// Cards are stored content-addressed, so rendering is deterministic: the same
// card renders to the same bytes. Maps are read in sorted order, samples use
// fixed seeds, and nothing reads the clock (Created is set by the caller).
//
// # Numbers
//
// Counts are grouped (1,234,567); other numbers keep about five significant
// digits (FormatFloat). NaN shows as "NaN", infinities as "+Inf" and "-Inf",
// and absent values as Missing ("—"). Charts leave NaN and infinite values
// out and say how many they left out; no SVG coordinate is ever NaN.
package cards
