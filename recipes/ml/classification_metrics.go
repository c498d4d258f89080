package ml

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// The classification metric names, as MLflow's evaluator reports them.
// Binary classification reports accuracy_score, precision_score,
// recall_score, f1_score, log_loss, roc_auc, precision_recall_auc, the four
// confusion counts and example_count; multiclass reports accuracy_score,
// the macro and micro averages below, roc_auc_ovr, log_loss and
// example_count.
const (
	MetricAccuracy       = "accuracy_score"
	MetricPrecision      = "precision_score"
	MetricRecall         = "recall_score"
	MetricF1             = "f1_score"
	MetricLogLoss        = "log_loss"
	MetricROCAUC         = "roc_auc"
	MetricPRAUC          = "precision_recall_auc"
	MetricTruePositives  = "true_positives"
	MetricFalsePositives = "false_positives"
	MetricTrueNegatives  = "true_negatives"
	MetricFalseNegatives = "false_negatives"
	MetricF1Macro        = "f1_score_macro"
	MetricF1Micro        = "f1_score_micro"
	MetricPrecisionMacro = "precision_score_macro"
	MetricRecallMacro    = "recall_score_macro"
	MetricROCAUCOvR      = "roc_auc_ovr"
)

// CheckClassificationInputs returns an error unless proba is a well-formed
// n×k matrix of finite, non-negative values with k >= 2, yTrue holds n class
// indexes in [0, k), labels is nil or has k entries, and positive is -1 or a
// class index (and -1 when k > 2 is allowed: multiclass).
func CheckClassificationInputs(yTrue []int, proba *Matrix, labels []string, positive int) error {
	if proba == nil {
		return errors.New("ml: metrics: proba is nil")
	}
	if proba.Rows < 0 || proba.Cols < 0 || len(proba.Data) != proba.Rows*proba.Cols {
		return fmt.Errorf("ml: metrics: proba is %d×%d but holds %d values", proba.Rows, proba.Cols, len(proba.Data))
	}
	if len(yTrue) != proba.Rows {
		return fmt.Errorf("ml: metrics: %d true values but %d rows of probabilities", len(yTrue), proba.Rows)
	}
	if len(yTrue) == 0 {
		return errors.New("ml: metrics: no examples")
	}
	k := proba.Cols
	if k < 2 {
		return fmt.Errorf("ml: metrics: %d classes; classification needs at least 2", k)
	}
	if labels != nil && len(labels) != k {
		return fmt.Errorf("ml: metrics: %d labels for %d classes", len(labels), k)
	}
	if positive < -1 || positive >= k {
		return fmt.Errorf("ml: metrics: positive class %d is not in [0, %d)", positive, k)
	}
	if positive >= 0 && k != 2 {
		return fmt.Errorf("ml: metrics: a positive class is given but there are %d classes", k)
	}
	for i, c := range yTrue {
		if c < 0 || c >= k {
			return fmt.Errorf("ml: metrics: true class %d of example %d is not in [0, %d)", c, i, k)
		}
	}
	for idx, v := range proba.Data {
		if !finite(v) || v < 0 {
			return fmt.Errorf("ml: metrics: probability [%d][%d] is %v", idx/k, idx%k, v)
		}
	}
	return nil
}

// argmaxRows returns the index of the largest value of each row, the first
// one on ties (numpy's argmax).
func argmaxRows(proba *Matrix) []int {
	out := make([]int, proba.Rows)
	for i := range out {
		row := proba.Row(i)
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		out[i] = best
	}
	return out
}

// ClassificationMetrics returns MLflow's classification metrics for true
// class indexes yTrue and predicted class probabilities proba (one row per
// example, one column per class; labels, if not nil, names the columns and
// only its length is checked). The predicted class is the most probable one
// (the first on ties). Each metric is computed as scikit-learn's function
// of the same name does:
//
// Binary (positive >= 0, proba has 2 columns), with positive the positive
// class: accuracy_score; precision_score, recall_score and f1_score of the
// positive class (0 when undefined, scikit-learn's zero_division); log_loss
// (probabilities clipped to [ε, 1-ε] and renormalised, ε the float64
// machine epsilon); roc_auc (roc_auc_score of the positive probability);
// precision_recall_auc (average_precision_score, as MLflow's evaluator
// computes it, not the trapezoidal area); true_positives, false_positives,
// true_negatives, false_negatives; example_count.
//
// Multiclass (positive == -1): accuracy_score; f1_score_macro,
// precision_score_macro and recall_score_macro, unweighted means over all
// k classes (scikit-learn with labels=range(k)); f1_score_micro;
// roc_auc_ovr, the unweighted mean of the one-vs-rest ROC AUCs; log_loss;
// example_count.
//
// A ROC AUC is NaN when yTrue lacks a class it needs (no positive or no
// negative example), as is precision_recall_auc without a positive example.
// For malformed input (see CheckClassificationInputs) it returns nil.
func ClassificationMetrics(yTrue []int, proba *Matrix, labels []string, positive int) map[string]float64 {
	if CheckClassificationInputs(yTrue, proba, labels, positive) != nil {
		return nil
	}
	n, k := proba.Rows, proba.Cols
	pred := argmaxRows(proba)
	cm := ConfusionMatrix(yTrue, pred, k)
	correct := 0
	for c := 0; c < k; c++ {
		correct += cm[c][c]
	}
	nf := float64(n)
	out := map[string]float64{
		MetricAccuracy: float64(correct) / nf,
		MetricLogLoss:  logLoss(yTrue, proba),
		MetricCount:    nf,
	}
	if positive >= 0 {
		neg := 1 - positive
		tp, fp := cm[positive][positive], cm[neg][positive]
		fn, tn := cm[positive][neg], cm[neg][neg]
		prec, rec, f1 := prf(tp, fp, fn)
		score := proba.colVector(positive)
		out[MetricPrecision] = prec
		out[MetricRecall] = rec
		out[MetricF1] = f1
		out[MetricROCAUC] = rocAUC(yTrue, score, positive)
		out[MetricPRAUC] = averagePrecision(yTrue, score, positive)
		out[MetricTruePositives] = float64(tp)
		out[MetricFalsePositives] = float64(fp)
		out[MetricTrueNegatives] = float64(tn)
		out[MetricFalseNegatives] = float64(fn)
		return out
	}
	var sp, sr, sf, sauc float64
	for c := 0; c < k; c++ {
		tp := cm[c][c]
		var fp, fn int
		for o := 0; o < k; o++ {
			if o != c {
				fp += cm[o][c]
				fn += cm[c][o]
			}
		}
		p, r, f := prf(tp, fp, fn)
		sp += p
		sr += r
		sf += f
		sauc += rocAUC(yTrue, proba.colVector(c), c)
	}
	kf := float64(k)
	out[MetricPrecisionMacro] = sp / kf
	out[MetricRecallMacro] = sr / kf
	out[MetricF1Macro] = sf / kf
	// Micro averaging over all classes of single-label data: every error is
	// one false positive and one false negative, so P = R = F1 = accuracy.
	_, _, out[MetricF1Micro] = prf(correct, n-correct, n-correct)
	out[MetricROCAUCOvR] = sauc / kf
	return out
}

// colVector returns a copy of column j.
func (m *Matrix) colVector(j int) []float64 {
	out := make([]float64, m.Rows)
	for i := range out {
		out[i] = m.Data[i*m.Cols+j]
	}
	return out
}

// prf returns precision, recall and F1 from confusion counts, 0 where a
// denominator is 0, with scikit-learn's formulas.
func prf(tp, fp, fn int) (p, r, f float64) {
	if tp+fp > 0 {
		p = float64(tp) / float64(tp+fp)
	}
	if tp+fn > 0 {
		r = float64(tp) / float64(tp+fn)
	}
	if p+r > 0 {
		f = 2 * p * r / (p + r)
	}
	return p, r, f
}

// logLoss is scikit-learn's log_loss with eps="auto".
func logLoss(yTrue []int, proba *Matrix) float64 {
	var s float64
	for i, c := range yTrue {
		row := proba.Row(i)
		var sum float64
		for _, v := range row {
			sum += clip(v, eps, 1-eps)
		}
		s -= math.Log(clip(row[c], eps, 1-eps) / sum)
	}
	return s / float64(len(yTrue))
}

func clip(v, lo, hi float64) float64 { return math.Min(math.Max(v, lo), hi) }

// ConfusionMatrix returns the k×k matrix whose [t][p] entry counts the
// examples of true class t predicted as p. Pairs with a class outside
// [0, k) are not counted.
func ConfusionMatrix(yTrue, yPred []int, k int) [][]int {
	if k < 0 {
		k = 0
	}
	cm := make([][]int, k)
	for i := range cm {
		cm[i] = make([]int, k)
	}
	for i := 0; i < len(yTrue) && i < len(yPred); i++ {
		t, p := yTrue[i], yPred[i]
		if t >= 0 && t < k && p >= 0 && p < k {
			cm[t][p]++
		}
	}
	return cm
}

// binaryCurve is scikit-learn's _binary_clf_curve: for each distinct score,
// in decreasing order, the counts of false and true positives among the
// examples scoring at least that much. It returns nils for mismatched or
// empty input; the callers check that the scores are finite.
func binaryCurve(yTrue []int, score []float64, positive int) (fps, tps, thr []float64) {
	n := len(yTrue)
	if n == 0 || len(score) != n {
		return nil, nil, nil
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return score[idx[a]] > score[idx[b]] })
	var tp, fp float64
	for r, i := range idx {
		if yTrue[i] == positive {
			tp++
		} else {
			fp++
		}
		if r == n-1 || score[idx[r+1]] != score[i] {
			fps = append(fps, fp)
			tps = append(tps, tp)
			thr = append(thr, score[i])
		}
	}
	return fps, tps, thr
}

func finiteScores(score []float64) bool { return allFinite(score) }

// ROCCurve returns scikit-learn's roc_curve (drop_intermediate=true) of
// score for the class positive: the false and true positive rates at each
// threshold, decreasing thresholds, the first being max(score)+1 so that the
// curve starts at (0, 0) (scikit-learn 1.2; later versions use +Inf, which
// JSON cannot hold). A rate is NaN throughout when yTrue has no negative
// (fpr) or no positive (tpr) example. It returns nils for empty,
// mismatched or non-finite input.
func ROCCurve(yTrue []int, score []float64, positive int) (fpr, tpr, thresholds []float64) {
	if !finiteScores(score) {
		return nil, nil, nil
	}
	fps, tps, thr := binaryCurve(yTrue, score, positive)
	if fps == nil {
		return nil, nil, nil
	}
	if len(fps) > 2 {
		keep := []int{0}
		for i := 1; i < len(fps)-1; i++ {
			if fps[i+1]-2*fps[i]+fps[i-1] != 0 || tps[i+1]-2*tps[i]+tps[i-1] != 0 {
				keep = append(keep, i)
			}
		}
		keep = append(keep, len(fps)-1)
		f, t, h := make([]float64, len(keep)), make([]float64, len(keep)), make([]float64, len(keep))
		for a, i := range keep {
			f[a], t[a], h[a] = fps[i], tps[i], thr[i]
		}
		fps, tps, thr = f, t, h
	}
	m := len(fps) + 1
	fpr, tpr, thresholds = make([]float64, m), make([]float64, m), make([]float64, m)
	thresholds[0] = thr[0] + 1
	copy(thresholds[1:], thr)
	nf, nt := fps[len(fps)-1], tps[len(tps)-1]
	for i := 1; i < m; i++ {
		fpr[i] = fps[i-1] / nf
		tpr[i] = tps[i-1] / nt
	}
	if nf == 0 {
		for i := range fpr {
			fpr[i] = math.NaN()
		}
	}
	if nt == 0 {
		for i := range tpr {
			tpr[i] = math.NaN()
		}
	}
	return fpr, tpr, thresholds
}

// PRCurve returns scikit-learn's (1.2) precision_recall_curve of score for
// the class positive: precision and recall at each threshold in increasing
// order, then the point (precision 1, recall 0), which has no threshold.
// Precision is 0 where no example is predicted positive; recall is 1 at
// every threshold when yTrue has no positive example. It returns nils for
// empty, mismatched or non-finite input.
func PRCurve(yTrue []int, score []float64, positive int) (precision, recall, thresholds []float64) {
	if !finiteScores(score) {
		return nil, nil, nil
	}
	fps, tps, thr := binaryCurve(yTrue, score, positive)
	if fps == nil {
		return nil, nil, nil
	}
	m := len(fps)
	precision, recall, thresholds = make([]float64, m+1), make([]float64, m+1), make([]float64, m)
	nt := tps[m-1]
	for i := 0; i < m; i++ {
		r := m - 1 - i
		if ps := tps[r] + fps[r]; ps != 0 {
			precision[i] = tps[r] / ps
		}
		if nt == 0 {
			recall[i] = 1
		} else {
			recall[i] = tps[r] / nt
		}
		thresholds[i] = thr[r]
	}
	precision[m] = 1
	return precision, recall, thresholds
}

// rocAUC is scikit-learn's roc_auc_score for one class: the trapezoidal area
// under ROCCurve, NaN unless yTrue has both positive and negative examples.
func rocAUC(yTrue []int, score []float64, positive int) float64 {
	fpr, tpr, _ := ROCCurve(yTrue, score, positive)
	if fpr == nil || math.IsNaN(fpr[0]) || math.IsNaN(tpr[0]) {
		return math.NaN()
	}
	var a float64
	for i := 1; i < len(fpr); i++ {
		a += (fpr[i] - fpr[i-1]) * (tpr[i] + tpr[i-1]) / 2
	}
	return a
}

// averagePrecision is scikit-learn's average_precision_score,
// Σ (R_n - R_{n-1}) P_n over decreasing thresholds; NaN without a positive
// example.
func averagePrecision(yTrue []int, score []float64, positive int) float64 {
	prec, rec, _ := PRCurve(yTrue, score, positive)
	if prec == nil {
		return math.NaN()
	}
	hasPos := false
	for _, c := range yTrue {
		if c == positive {
			hasPos = true
			break
		}
	}
	if !hasPos {
		return math.NaN()
	}
	var s float64
	for i := 0; i < len(rec)-1; i++ {
		s -= (rec[i+1] - rec[i]) * prec[i]
	}
	return s
}
