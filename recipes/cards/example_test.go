package cards_test

import (
	"fmt"
	"time"

	"github.com/sous-ml/sous/recipes/cards"
)

func Example() {
	c := cards.New("train", "Train model")
	c.Status = cards.StatusSucceeded
	c.Duration = 42*time.Second + 300*time.Millisecond
	c.RunID = "r-7f3a"
	c.CacheKey = "sha256:9c1e2d4a5b6f07182930"
	c.AddSummary(
		cards.KV{Key: "estimator", Value: "linear regression"},
		cards.KV{Key: "training rows", Value: cards.FormatCount(1203130)},
	).
		AddWarning("1,204 rows with null target dropped").
		AddMetrics("Metrics", map[string]float64{
			"training_root_mean_squared_error": 3.14159,
			"val_root_mean_squared_error":      3.30012,
			"test_root_mean_squared_error":     3.41,
			"training_r2_score":                0.91237,
			"val_r2_score":                     0.9011,
		})
	fmt.Print(c.Text(80))
	// Output:
	// sous · train — Train model · succeeded · 42.3s
	// run r-7f3a · key 9c1e2d4a5b6f
	//   estimator      linear regression
	//   training rows  1,203,130
	// ! 1,204 rows with null target dropped
	//   metric                   training  validation  test
	//   root_mean_squared_error    3.1416      3.3001  3.41
	//   r2_score                  0.91237      0.9011     —
}
