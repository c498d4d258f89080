package ml

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Matrix is a dense row-major matrix of float64: element (i, j) is
// Data[i*Cols+j]. It is the design matrix a Transformer produces and an
// Estimator consumes.
type Matrix struct {
	Rows, Cols int
	Data       []float64
}

// NewMatrix returns a zeroed rows×cols matrix.
func NewMatrix(rows, cols int) *Matrix {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("ml: NewMatrix(%d, %d): negative dimension", rows, cols))
	}
	return &Matrix{Rows: rows, Cols: cols, Data: make([]float64, rows*cols)}
}

// At returns element (i, j).
func (m *Matrix) At(i, j int) float64 { return m.Data[i*m.Cols+j] }

// Set sets element (i, j) to v.
func (m *Matrix) Set(i, j int, v float64) { m.Data[i*m.Cols+j] = v }

// Row returns row i. The slice aliases m.Data.
func (m *Matrix) Row(i int) []float64 { return m.Data[i*m.Cols : (i+1)*m.Cols : (i+1)*m.Cols] }

// Dense returns a gonum view of m that shares its data. It panics on an empty matrix,
// as gonum does.
func (m *Matrix) Dense() *mat.Dense { return mat.NewDense(m.Rows, m.Cols, m.Data) }

// Check reports a malformed matrix (dimensions that do not match Data) or a
// non-finite element, naming its row and column. A nil or 0-row matrix is not
// an error here; estimators reject those themselves.
func (m *Matrix) Check() error {
	if m == nil {
		return errors.New("matrix is nil")
	}
	if m.Rows < 0 || m.Cols < 0 || len(m.Data) != m.Rows*m.Cols {
		return fmt.Errorf("matrix is %d×%d but holds %d values", m.Rows, m.Cols, len(m.Data))
	}
	for k, v := range m.Data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("X[%d][%d] is %v; features must be finite", k/m.Cols, k%m.Cols, v)
		}
	}
	return nil
}
