package gbdt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
)

// Model is a fitted ensemble. It is safe for concurrent use once fitted or
// unmarshalled.
type Model struct {
	loss      lossKind
	k         int // outputs: trees per iteration
	nClass    int // 0 for regression
	nFeatures int
	nIter     int
	baseline  []float64
	gains     []float64 // total split gain per feature
	valScores []float64 // validation loss per iteration (early stopping)

	// The trees compiled into flat arrays: node and leaf indexes are
	// global; roots[t] is tree t's root node, or ^leaf for a one-leaf tree.
	nodes  []cnode
	leaves []float64
	roots  []int32
	// Tree t owns nodes[nodeOff[t]:nodeOff[t+1]] and likewise leaves.
	nodeOff, leafOff []int32

	// The prediction layout, built by compile.
	pnodes  []pnode
	pvals   []float64
	pnaLeft []bool
	ptrees  []ptree
}

// cnode is a compiled internal node: x[feat] <= thr goes left, NaN goes
// left when missLeft; children are node indexes, or ^leaf.
type cnode struct {
	thr         float64
	feat        int32
	left, right int32
	missLeft    bool
}

// NumFeatures returns the number of columns the model was fitted on.
func (m *Model) NumFeatures() int { return m.nFeatures }

// NumClass returns the number of classes, or 0 for regression.
func (m *Model) NumClass() int { return m.nClass }

// NumIter returns the number of boosting iterations kept (the best one
// with early stopping).
func (m *Model) NumIter() int { return m.nIter }

// Loss returns the loss the model was fitted with.
func (m *Model) Loss() string { return m.loss.String() }

// ValidationScores returns the validation loss before the first iteration
// and after each one when Fit ran with early stopping, else nil. It is not
// kept by MarshalBinary.
func (m *Model) ValidationScores() []float64 { return m.valScores }

func (m *Model) setTrees(trees []*tree) {
	m.gains = make([]float64, m.nFeatures)
	m.roots, m.nodes, m.leaves = nil, nil, nil
	m.nodeOff, m.leafOff = []int32{0}, []int32{0}
	for _, t := range trees {
		for _, nd := range t.nodes {
			m.gains[nd.feat] += nd.gain
		}
		m.appendTree(t.nodes, t.leaves)
	}
	m.compile()
}

// appendTree compiles a tree's nodes and leaves onto m.
func (m *Model) appendTree(nodes []treeNode, leaves []float64) {
	no, lo := int32(len(m.nodes)), int32(len(m.leaves))
	ref := func(r int32) int32 {
		if r >= 0 {
			return r + no
		}
		return ^(^r + lo)
	}
	for _, nd := range nodes {
		m.nodes = append(m.nodes, cnode{thr: nd.thr, feat: nd.feat, left: ref(nd.left), right: ref(nd.right), missLeft: nd.missLeft})
	}
	m.leaves = append(m.leaves, leaves...)
	root := no
	if len(nodes) == 0 {
		root = ^lo
	}
	m.roots = append(m.roots, root)
	m.nodeOff = append(m.nodeOff, int32(len(m.nodes)))
	m.leafOff = append(m.leafOff, int32(len(m.leaves)))
}

// CheckInput reports why X does not fit the model; Predict and
// PredictProba return nil for such input.
func (m *Model) CheckInput(X []float64, rows, cols int) error {
	if m.k == 0 {
		return errors.New("gbdt: model is not fitted")
	}
	if cols != m.nFeatures {
		return fmt.Errorf("gbdt: X has %d columns, the model %d", cols, m.nFeatures)
	}
	if rows < 0 || (rows > 0 && rows > math.MaxInt/cols) || len(X) != rows*cols {
		return fmt.Errorf("gbdt: len(X) = %d, want rows*cols = %d*%d", len(X), rows, cols)
	}
	return nil
}

// Predict returns one value per row: the regression value, P(class 1) for
// log_loss, or the most probable class index for softmax. NaN is a missing
// value. It returns nil when CheckInput fails.
func (m *Model) Predict(X []float64, rows, cols int) []float64 {
	if m.CheckInput(X, rows, cols) != nil {
		return nil
	}
	raw := m.predictRaw(X, rows, cols)
	switch m.loss {
	case lossLog:
		for i, v := range raw {
			raw[i] = sigmoid(v)
		}
	case lossSoftmax:
		out := make([]float64, rows)
		for i := range out {
			row := raw[i*m.k : i*m.k+m.k]
			best := 0
			for c, v := range row {
				if v > row[best] {
					best = c
				}
			}
			out[i] = float64(best)
		}
		return out
	}
	return raw
}

// PredictProba returns class probabilities, rows*k row-major (k = 2 for
// log_loss). For regression losses it returns Predict's values. It
// returns nil when CheckInput fails.
func (m *Model) PredictProba(X []float64, rows, cols int) []float64 {
	if m.CheckInput(X, rows, cols) != nil {
		return nil
	}
	raw := m.predictRaw(X, rows, cols)
	switch m.loss {
	case lossLog:
		out := make([]float64, 2*rows)
		for i, v := range raw {
			p := sigmoid(v)
			out[2*i], out[2*i+1] = 1-p, p
		}
		return out
	case lossSoftmax:
		for i := range rows {
			row := raw[i*m.k : i*m.k+m.k]
			softmaxInto(row, row)
		}
	}
	return raw
}

// FeatureImportances returns each feature's share of the total split gain;
// the shares sum to 1 (all zero when no tree split).
func (m *Model) FeatureImportances() []float64 {
	out := make([]float64, m.nFeatures)
	var s float64
	for _, g := range m.gains {
		s += g
	}
	if s > 0 {
		for i, g := range m.gains {
			out[i] = g / s
		}
	}
	return out
}

// Binary format: magic, version byte, loss byte, uvarints k, nClass,
// nFeatures, nIter, float64s baseline[k] and gains[nFeatures], uvarint tree
// count, then per tree uvarint node count, per node (uvarint feat, byte
// missLeft, float64 thr, varint left, varint right), uvarint leaf count
// and float64 leaves; a CRC-32 (IEEE) of all that ends it. Integers are
// little-endian.
const (
	binaryMagic   = "SGBT"
	binaryVersion = 1
)

// ErrBadModel is returned by UnmarshalBinary for data that is not a model
// this version can read.
var ErrBadModel = errors.New("gbdt: bad model data")

// MarshalBinary encodes the model in a compact, versioned binary format.
func (m *Model) MarshalBinary() ([]byte, error) {
	if m.k == 0 {
		return nil, errors.New("gbdt: marshal of an unfitted model")
	}
	b := make([]byte, 0, 64+8*(m.k+m.nFeatures)+14*len(m.nodes)+8*len(m.leaves))
	b = append(b, binaryMagic...)
	b = append(b, binaryVersion, byte(m.loss))
	for _, v := range []int{m.k, m.nClass, m.nFeatures, m.nIter, len(m.roots)} {
		b = binary.AppendUvarint(b, uint64(v))
	}
	for _, v := range m.baseline {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	for _, v := range m.gains {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	for t := range m.roots {
		no, lo := m.nodeOff[t], m.leafOff[t]
		nodes, leaves := m.nodes[no:m.nodeOff[t+1]], m.leaves[lo:m.leafOff[t+1]]
		b = binary.AppendUvarint(b, uint64(len(nodes)))
		local := func(r int32) int64 {
			if r >= 0 {
				return int64(r - no)
			}
			return int64(^(^r - lo))
		}
		for _, nd := range nodes {
			b = binary.AppendUvarint(b, uint64(nd.feat))
			ml := byte(0)
			if nd.missLeft {
				ml = 1
			}
			b = append(b, ml)
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(nd.thr))
			b = binary.AppendVarint(b, local(nd.left))
			b = binary.AppendVarint(b, local(nd.right))
		}
		b = binary.AppendUvarint(b, uint64(len(leaves)))
		for _, v := range leaves {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b)), nil
}

// UnmarshalBinary decodes a model written by MarshalBinary, validating it
// so that a decoded model never indexes out of range.
func (m *Model) UnmarshalBinary(data []byte) error {
	if len(data) < len(binaryMagic)+6 || string(data[:len(binaryMagic)]) != binaryMagic {
		return fmt.Errorf("%w: no %s header", ErrBadModel, binaryMagic)
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return fmt.Errorf("%w: checksum mismatch", ErrBadModel)
	}
	d := decoder{b: body[len(binaryMagic):]}
	if v := d.byte(); v != binaryVersion {
		return fmt.Errorf("%w: version %d, this reader knows %d", ErrBadModel, v, binaryVersion)
	}
	var out Model
	out.loss = lossKind(d.byte())
	if out.loss < lossSquared || out.loss > lossSoftmax {
		return fmt.Errorf("%w: unknown loss %d", ErrBadModel, out.loss)
	}
	out.k = d.count(1 << 20)
	out.nClass = d.count(1 << 20)
	out.nFeatures = d.count(maxFeatures - 1)
	out.nIter = d.count(math.MaxInt32)
	nTrees := d.count(len(d.b))
	switch {
	case d.err != nil:
		return d.err
	case out.k < 1 || (out.k > 1) != (out.loss == lossSoftmax):
		return fmt.Errorf("%w: %d outputs for %s", ErrBadModel, out.k, out.loss)
	case (out.loss == lossSoftmax && out.nClass != out.k) || (out.loss == lossLog && out.nClass != 2) ||
		(!out.loss.classification() && out.nClass != 0):
		return fmt.Errorf("%w: %d classes for %s", ErrBadModel, out.nClass, out.loss)
	case out.nFeatures < 1:
		return fmt.Errorf("%w: no features", ErrBadModel)
	case nTrees != out.nIter*out.k:
		return fmt.Errorf("%w: %d trees for %d iterations of %d", ErrBadModel, nTrees, out.nIter, out.k)
	}
	out.baseline = d.floats(out.k)
	out.gains = d.floats(out.nFeatures)
	out.nodeOff, out.leafOff = []int32{0}, []int32{0}
	for range nTrees {
		nn := d.count(min(len(d.b)/11, maxLeafNodes))
		nodes := make([]treeNode, nn)
		for i := range nodes {
			f := d.count(out.nFeatures - 1)
			ml := d.byte()
			thr := d.float()
			l, r := d.varint(), d.varint()
			if d.err != nil {
				return d.err
			}
			if ml > 1 || math.IsNaN(thr) {
				return fmt.Errorf("%w: bad node", ErrBadModel)
			}
			nodes[i] = treeNode{feat: int32(f), missLeft: ml == 1, thr: thr, left: int32(l), right: int32(r)}
		}
		nl := d.count(len(d.b) / 8)
		leaves := d.floats(nl)
		if d.err != nil {
			return d.err
		}
		if nl != nn+1 {
			return fmt.Errorf("%w: tree with %d nodes and %d leaves", ErrBadModel, nn, nl)
		}
		for i, nd := range nodes {
			for _, c := range [2]int32{nd.left, nd.right} {
				// Children after their parent: traversal always ends.
				if (c >= 0 && (int(c) <= i || int(c) >= nn)) || (c < 0 && int(^c) >= nl) {
					return fmt.Errorf("%w: bad child reference %d", ErrBadModel, c)
				}
			}
		}
		out.appendTree(nodes, leaves)
	}
	if d.err != nil {
		return d.err
	}
	if len(d.b) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrBadModel, len(d.b))
	}
	out.compile()
	*m = out
	return nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = fmt.Errorf("%w: truncated or malformed", ErrBadModel)
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

// count reads a uvarint no larger than limit.
func (d *decoder) count(limit int) int {
	v, n := binary.Uvarint(d.b)
	if n <= 0 || v > uint64(max(limit, 0)) {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return int(v)
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 || v < math.MinInt32 || v > math.MaxInt32 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) float() float64 {
	if len(d.b) < 8 {
		d.fail()
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}

func (d *decoder) floats(n int) []float64 {
	if n < 0 || len(d.b) < 8*n {
		d.fail()
		return nil
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = d.float()
	}
	return out
}
