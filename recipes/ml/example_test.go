package ml_test

import (
	"fmt"

	"github.com/sous-ml/sous/recipes/frame"
	"github.com/sous-ml/sous/recipes/ml"
)

// Fit a transformer and a ridge model on a small frame, then predict from a
// bundle.
func Example() {
	train := &frame.Frame{Cols: []*frame.Column{
		{Name: "distance", Kind: frame.Float, Floats: []float64{1, 2, 3, 4, 5, 6}},
		{Name: "vendor", Kind: frame.String, Codes: []int32{0, 1, 0, 1, 0, 1}, Dict: []string{"a", "b"}},
		{Name: "fare", Kind: frame.Float, Floats: []float64{5, 9, 11, 15, 17, 21}},
	}}
	t, err := ml.FitTransformer(ml.TransformSpec{
		Groups: []ml.GroupSpec{
			{Columns: []string{"distance"}, Transformer: "standard_scaler"},
			{Columns: []string{"vendor"}, Transformer: "one_hot"},
		},
		Target: "fare",
	}, train)
	if err != nil {
		panic(err)
	}
	X, _ := t.Transform(train)
	fare, _ := train.Col("fare")
	est, _ := ml.NewEstimator("linear_regression", nil)
	if err := est.Fit(X, fare.Floats); err != nil {
		panic(err)
	}
	b, _ := ml.NewBundle("regression/v1", "fare", t, est)
	pred, _ := b.Predict(&frame.Frame{Cols: []*frame.Column{
		{Name: "distance", Kind: frame.Float, Floats: []float64{10}},
		{Name: "vendor", Kind: frame.String, Codes: []int32{0}, Dict: []string{"b"}},
	}})
	fmt.Println(t.FeatureNames())
	fmt.Printf("%.2f\n", pred[0])
	// Output:
	// [distance vendor_a vendor_b]
	// 33.00
}
