package gbdt_test

import (
	"fmt"
	"math"

	"github.com/sous-ml/sous/recipes/ml/gbdt"
)

func ExampleFit() {
	// y = 1 when x0 > 0.5 (x1 is noise); NaN in x0 behaves like x0 > 0.5.
	const rows, cols = 1000, 2
	X := make([]float64, rows*cols)
	y := make([]float64, rows)
	for i := range rows {
		x0 := float64(i%100) / 100
		if i%10 == 0 {
			x0 = math.NaN()
		}
		X[i*cols], X[i*cols+1] = x0, float64(i%7)
		if !(x0 <= 0.5) {
			y[i] = 1
		}
	}
	m, err := gbdt.Fit(X, rows, cols, y, gbdt.Params{Loss: gbdt.LossLogLoss, NIter: 50, RandomState: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	p := m.Predict([]float64{0.2, 3, 0.9, 3, math.NaN(), 3}, 3, cols)
	fmt.Printf("P(y=1): %.2f %.2f %.2f\n", p[0], p[1], p[2])
	fmt.Printf("importances: %.2f\n", m.FeatureImportances())
	// Output:
	// P(y=1): 0.00 1.00 1.00
	// importances: [1.00 0.00]
}
