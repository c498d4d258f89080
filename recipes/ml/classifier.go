package ml

// Classifier is an Estimator of a class index: Fit takes y as class indexes
// 0..k-1 stored as float64, and Predict returns the predicted class index
// as a float64. Classification estimators implement it in addition to
// Estimator; callers find it with a type assertion:
//
//	if c, ok := est.(ml.Classifier); ok {
//		proba, err := c.PredictProba(X)
//		...
//	}
type Classifier interface {
	Estimator
	// PredictProba returns an X.Rows × Classes() matrix whose row i holds the
	// probability of each class for row i of X, summing to 1. A class index
	// below Classes() that was absent from the training target gets
	// probability 0. Predicting before Fit is an error.
	PredictProba(X *Matrix) (*Matrix, error)
	// Classes returns the number of classes, one more than the largest
	// class index seen in training, or 0 before Fit.
	Classes() int
}
