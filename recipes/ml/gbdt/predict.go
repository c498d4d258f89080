package gbdt

import (
	"math"
	"unsafe"
)

// Prediction walks a group of rows down a tree in lockstep with no
// data-dependent branches: the two children of a node sit next to each
// other, so a step is "next = left + (x goes right)", computed with
// conditional moves; leaves lead back to themselves, so rows that reach a
// leaf early just wait there until the group is done. The rows of a group
// advance independently, so the CPU overlaps their loads instead of
// stalling on mispredicted branches.

// pnode is a node of the prediction layout (16 bytes, four to a cache
// line). x goes to the child at byte offset kid (within its tree) when the
// float64 at byte offset off of the row is <= thr, and to the child after
// it when greater; NaN goes by m.pnaLeft. A leaf has thr = +Inf, kid
// pointing at itself and pnaLeft set.
type pnode struct {
	thr float64
	off uint32
	kid uint32
}

const pnodeSize = unsafe.Sizeof(pnode{})

// ptree locates one tree in the prediction layout: its nodes are
// pnodes[off:off+size] (root first, tree-local child indexes) and its
// leaf values pvals[off:off+size].
type ptree struct {
	off, size int32
	depth     int32
	out       int32 // output (class) the tree adds to
}

// compile builds the prediction layout from the canonical arrays.
func (m *Model) compile() {
	m.pnodes, m.pvals, m.pnaLeft = m.pnodes[:0], m.pvals[:0], m.pnaLeft[:0]
	m.ptrees = make([]ptree, len(m.roots))
	type item struct{ ref, slot int32 }
	var queue []item
	for t := range m.roots {
		no, lo := m.nodeOff[t], m.leafOff[t]
		ni, nl := m.nodeOff[t+1]-no, m.leafOff[t+1]-lo
		off := int32(len(m.pnodes))
		size := ni + nl
		for range size {
			m.pnodes = append(m.pnodes, pnode{})
			m.pvals = append(m.pvals, 0)
			m.pnaLeft = append(m.pnaLeft, true)
		}
		nodes, vals, naLeft := m.pnodes[off:], m.pvals[off:], m.pnaLeft[off:]
		// Breadth first: each internal node's children take the next two
		// slots.
		next := int32(1)
		queue = append(queue[:0], item{m.roots[t], 0})
		for len(queue) > 0 {
			it := queue[0]
			queue = queue[1:]
			if it.ref < 0 {
				nodes[it.slot] = pnode{thr: math.Inf(1), kid: uint32(it.slot) * uint32(pnodeSize)}
				vals[it.slot] = m.leaves[^it.ref]
				continue
			}
			nd := &m.nodes[it.ref]
			nodes[it.slot] = pnode{thr: nd.thr, off: uint32(nd.feat) * 8, kid: uint32(next) * uint32(pnodeSize)}
			naLeft[it.slot] = nd.missLeft
			queue = append(queue, item{nd.left, next}, item{nd.right, next + 1})
			next += 2
		}
		m.ptrees[t] = ptree{off: off, size: size, depth: int32(m.depth(m.roots[t])), out: int32(t % m.k)}
	}
}

func (m *Model) depth(ref int32) int {
	if ref < 0 {
		return 0
	}
	nd := &m.nodes[ref]
	return 1 + max(m.depth(nd.left), m.depth(nd.right))
}

// group is the number of rows walked down a tree in lockstep.
const group = 16

// predictRaw returns the raw scores, rows*k.
func (m *Model) predictRaw(X []float64, rows, cols int) []float64 {
	k := m.k
	out := make([]float64, rows*k)
	for i := range out {
		out[i] = m.baseline[i%k]
	}
	if rows == 0 {
		return out
	}
	var xs [group]unsafe.Pointer
	var sum [group]float64
	for r0 := 0; r0 < rows; r0 += group {
		// A short last group repeats its last row.
		for j := range xs {
			r := min(r0+j, rows-1)
			xs[j] = unsafe.Pointer(&X[r*cols])
		}
		n := min(group, rows-r0)
		nan := false
		for _, v := range X[r0*cols : (r0+n)*cols] {
			nan = nan || v != v
		}
		for t := range m.ptrees {
			pt := &m.ptrees[t]
			if nan {
				m.walkGroupNaN(pt, &xs, &sum)
			} else {
				m.walkGroup(pt, &xs, &sum)
			}
			ob := out[r0*k+int(pt.out):]
			for j := range n {
				ob[j*k] += sum[j]
			}
		}
	}
	return out
}

// walkGroup sets sum[j] to the value of the leaf tree pt sends row xs[j]
// to, for rows without NaN. xs[j] points at the row's first feature.
//
// It indexes without bounds checks: compile and UnmarshalBinary guarantee
// that every child offset is inside the tree and every feature offset is
// inside a row, and predictRaw checks the row shape.
func (m *Model) walkGroup(pt *ptree, xs *[group]unsafe.Pointer, sum *[group]float64) {
	nodes := unsafe.Pointer(unsafe.SliceData(m.pnodes[pt.off : pt.off+pt.size]))
	// st holds each row's current node as a byte offset into nodes.
	var st [group]uintptr
	for range pt.depth {
		// moved stays 0 once every row sits on its leaf.
		var moved uintptr
		for j := range st {
			nd := (*pnode)(unsafe.Add(nodes, st[j]))
			v := *(*float64)(unsafe.Add(xs[j], uintptr(nd.off)))
			// Selects on values already loaded compile to SETcc/CMOV.
			var right uintptr
			if v > nd.thr {
				right = pnodeSize
			}
			next := uintptr(nd.kid) + right
			moved |= next ^ st[j]
			st[j] = next
		}
		if moved == 0 {
			break
		}
	}
	vals := m.pvals[pt.off : pt.off+pt.size]
	for j, s := range st {
		sum[j] = vals[s/pnodeSize]
	}
}

// walkGroupNaN is walkGroup for rows that may hold NaN.
func (m *Model) walkGroupNaN(pt *ptree, xs *[group]unsafe.Pointer, sum *[group]float64) {
	nodes := unsafe.Pointer(unsafe.SliceData(m.pnodes[pt.off : pt.off+pt.size]))
	naLeft := m.pnaLeft[pt.off : pt.off+pt.size]
	var st [group]uintptr
	for range pt.depth {
		var moved uintptr
		for j := range st {
			nd := (*pnode)(unsafe.Add(nodes, st[j]))
			v := *(*float64)(unsafe.Add(xs[j], uintptr(nd.off)))
			var right uintptr
			if !(v <= nd.thr) {
				right = pnodeSize
			}
			if v != v && naLeft[st[j]/pnodeSize] {
				right = 0
			}
			next := uintptr(nd.kid) + right
			moved |= next ^ st[j]
			st[j] = next
		}
		if moved == 0 {
			break
		}
	}
	vals := m.pvals[pt.off : pt.off+pt.size]
	for j, s := range st {
		sum[j] = vals[s/pnodeSize]
	}
}
