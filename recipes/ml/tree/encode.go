package tree

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
)

// Binary format, version 1 (all integers uvarint unless noted, floats
// IEEE-754 little-endian 8 bytes):
//
//	"SOTR" version(byte) task(byte) nClass nFeatures nTrees
//	importances: nFeatures floats
//	per tree: nNodes nValues, then per node in preorder
//	          feat+1 (0 for a leaf), and for an internal node thr(float) right
//	          then nValues floats (leaf values in preorder, nClass per leaf
//	          for classification)
//	crc32 (IEEE, 4 bytes little-endian) of everything before it
const (
	magic         = "SOTR"
	formatVersion = 1
)

// MarshalBinary encodes the model.
func (m *Model) MarshalBinary() ([]byte, error) {
	if m == nil || len(m.trees) == 0 {
		return nil, errors.New("tree: marshal: model is not fitted")
	}
	b := make([]byte, 0, 64+m.NumNodes()*10)
	b = append(b, magic...)
	b = append(b, formatVersion, byte(m.task))
	b = binary.AppendUvarint(b, uint64(m.nClass))
	b = binary.AppendUvarint(b, uint64(m.nFeatures))
	b = binary.AppendUvarint(b, uint64(len(m.trees)))
	for _, v := range m.importances {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	for _, t := range m.trees {
		b = binary.AppendUvarint(b, uint64(len(t.nodes)))
		b = binary.AppendUvarint(b, uint64(len(t.values)))
		for _, n := range t.nodes {
			b = binary.AppendUvarint(b, uint64(n.feat+1))
			if n.feat >= 0 {
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(n.thr))
				b = binary.AppendUvarint(b, uint64(n.right))
			}
		}
		for _, v := range t.values {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b)), nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("tree: unmarshal: "+format, args...)
	}
}

func (d *decoder) uvarint(limit uint64) int {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("truncated data")
		return 0
	}
	d.b = d.b[n:]
	if v > limit {
		d.fail("value %d out of range (max %d)", v, limit)
		return 0
	}
	return int(v)
}

func (d *decoder) float() float64 {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 8 {
		d.fail("truncated data")
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	if math.IsNaN(v) {
		d.fail("NaN value")
	}
	return v
}

// UnmarshalBinary decodes a model written by MarshalBinary, checking its
// structure, so that a corrupt encoding is an error rather than a panic or
// a hang at prediction time.
func (m *Model) UnmarshalBinary(data []byte) error {
	if len(data) < len(magic)+2+4 || string(data[:len(magic)]) != magic {
		return errors.New("tree: unmarshal: not a tree model")
	}
	if v := data[len(magic)]; v != formatVersion {
		return fmt.Errorf("tree: unmarshal: format version %d, want %d", v, formatVersion)
	}
	body := data[:len(data)-4]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(data[len(data)-4:]) {
		return errors.New("tree: unmarshal: checksum mismatch")
	}
	d := &decoder{b: body[len(magic)+1:]}
	task := Task(d.b[0])
	d.b = d.b[1:]
	if task != Regression && task != Classification {
		return fmt.Errorf("tree: unmarshal: unknown task %d", task)
	}
	out := Model{task: task}
	out.nClass = d.uvarint(MaxClasses)
	// Every size is bounded by the bytes left, so corrupt data cannot make
	// a huge allocation.
	out.nFeatures = d.uvarint(min(math.MaxInt32-1, uint64(len(d.b))/8))
	nTrees := d.uvarint(uint64(len(d.b)))
	if d.err == nil && (task == Classification) != (out.nClass > 0) || out.nFeatures == 0 || nTrees == 0 {
		d.fail("bad header")
	}
	if d.err != nil {
		return d.err
	}
	width := max(out.nClass, 1)
	out.importances = make([]float64, out.nFeatures)
	for f := range out.importances {
		out.importances[f] = d.float()
	}
	out.trees = make([]treeModel, nTrees)
	for ti := range out.trees {
		nNodes := d.uvarint(uint64(len(d.b)))
		nValues := d.uvarint(uint64(len(d.b)) / 8)
		if d.err != nil {
			return d.err
		}
		if nNodes == 0 || nNodes > math.MaxInt32 {
			return fmt.Errorf("tree: unmarshal: tree %d has %d nodes", ti, nNodes)
		}
		t := treeModel{nodes: make([]node, nNodes), values: make([]float64, nValues)}
		leaves := 0
		for i := range t.nodes {
			f := d.uvarint(uint64(out.nFeatures))
			if f == 0 {
				t.nodes[i] = node{feat: -1, right: int32(leaves * width)}
				leaves++
				continue
			}
			thr := d.float()
			r := d.uvarint(uint64(nNodes - 1))
			if d.err == nil && r <= i+1 {
				d.fail("tree %d node %d: bad right child %d", ti, i, r)
			}
			t.nodes[i] = node{thr: thr, feat: int32(f - 1), right: int32(r)}
		}
		if d.err == nil && leaves*width != nValues {
			d.fail("tree %d: %d leaves but %d values", ti, leaves, nValues)
		}
		for i := range t.values {
			t.values[i] = d.float()
		}
		if d.err != nil {
			return d.err
		}
		out.trees[ti] = t
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return d.err
	}
	*m = out
	return nil
}
