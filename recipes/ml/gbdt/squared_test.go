package gbdt

import (
	"fmt"
	"testing"
)

// TestSquaredRecurrence checks that the squared-error shortcut (see
// squared.go) gives each tree the same root histogram and sums as
// building them from the rows' updated gradients would, across rescales.
func TestSquaredRecurrence(t *testing.T) {
	t.Parallel()
	// Without noise the residuals shrink, and the gradients are scaled
	// up; a learning rate of 5 overshoots, and they are scaled down.
	for _, lr := range []float64{0.3, 5} {
		t.Run(fmt.Sprintf("lr=%v", lr), func(t *testing.T) { testSquaredRecurrence(t, lr) })
	}
}

func testSquaredRecurrence(t *testing.T, lr float64) {
	d := quadratic(20000, 5)
	for i := range d.y {
		x := d.X[i*d.cols]
		d.y[i] = x * x
	}
	p := Params{Threads: 2, LearningRate: lr}.withDefaults()
	tm := newTeam(2)
	defer tm.close()
	n, cols := d.rows, d.cols
	bm := fitBins(d.X, cols, nil, n, p.MaxBins, 0, tm)
	rs := panels(cols) + 1
	colBins, rec := make([]uint8, n*cols), make([]uint64, n*rs)
	if err := bm.transform(binSink{cols: colBins, words: rec, wordStride: rs}, d.X, nil, n, tm); err != nil {
		t.Fatal(err)
	}
	raw := make([]float64, n)
	base := baseline(lossSquared, d.y, 1)
	for i := range raw {
		raw[i] = base[0]
	}
	gw := newGrower(colBins, rec, n, cols, bm, p, lossSquared, tm)
	if !gw.recur {
		t.Fatal("squared error does not use the recurrence")
	}
	gr := computeGradients(lossSquared, rec[rs-1:], rs, raw, d.y, nil, 0, 1, tm)
	ups, downs := 0, 0
	for it := range 40 {
		tr := gw.grow(&gr, nil)
		scale := gr.gScale
		gw.step(tr, &gr, true)
		switch {
		case gr.gScale > scale:
			ups++
		case gr.gScale < scale:
			downs++
		}
		want := nodeSums{c: int64(n)}
		for i := range n {
			want.g += wordGrad(rec[i*rs+rs-1], gr.packShift)
		}
		if gr.sums != want {
			t.Fatalf("tree %d: root sums %+v, from the rows %+v", it, gr.sums, want)
		}
		if gw.nextRoot == nil {
			continue
		}
		h := make([]featHist, cols)
		j := gw.job()
		j.build, j.n = h, n
		gw.runHist(j, &gr)
		for f := range h {
			if h[f] != gw.nextRoot[f] {
				t.Fatalf("tree %d: feature %d: root histogram differs from the rows'", it, f)
			}
		}
	}
	t.Logf("learning rate %v: scaled up %d times, down %d times", lr, ups, downs)
	if (lr < 1 && ups == 0) || (lr > 1 && downs == 0) {
		t.Fatal("the rescale the test is for did not happen")
	}
}
