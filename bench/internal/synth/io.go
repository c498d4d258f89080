package synth

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"unsafe"
)

// WriteF64 writes v to path as little-endian float64.
func WriteF64(path string, v []float64) error {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return os.WriteFile(path, b, 0o644)
}

// ReadF64 reads a little-endian float64 file straight into a []float64
// (no second copy, so the peak RSS counts the data once).
func ReadF64(path string) ([]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size()%8 != 0 {
		return nil, fmt.Errorf("%s: size %d is not a multiple of 8", path, st.Size())
	}
	v := make([]float64, st.Size()/8)
	if len(v) == 0 {
		return v, nil
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 8*len(v))
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		for i := range v {
			v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		}
	}
	return v, nil
}

// F64Writer writes float64 values to a file as little-endian, buffered, so
// that a large matrix can be written a row at a time.
type F64Writer struct {
	f   *os.File
	w   *bufio.Writer
	buf [8]byte
	n   int
}

// CreateF64 creates path for an F64Writer.
func CreateF64(path string) (*F64Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &F64Writer{f: f, w: bufio.NewWriterSize(f, 1<<20)}, nil
}

// Write appends vs.
func (w *F64Writer) Write(vs ...float64) {
	for _, v := range vs {
		binary.LittleEndian.PutUint64(w.buf[:], math.Float64bits(v))
		w.w.Write(w.buf[:]) // errors are sticky; Close reports them
	}
	w.n += len(vs)
}

// Len returns the number of values written.
func (w *F64Writer) Len() int { return w.n }

// Close flushes and closes the file.
func (w *F64Writer) Close() error {
	err := w.w.Flush()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// SourceDir returns the directory of a bench program's source, where its
// python peer sits: bench/<name> when run from the repository root, else
// the working directory.
func SourceDir(name, peer string) string {
	for _, d := range []string{filepath.Join("bench", name), "."} {
		if _, err := os.Stat(filepath.Join(d, peer)); err == nil {
			return d
		}
	}
	return filepath.Join("bench", name)
}

// FindPython returns the python that imports modules (comma-separated, as
// in an import statement): flagValue when set, else python3 or
// /usr/bin/python3 (Debian's, where python3-sklearn installs).
func FindPython(flagValue, modules string) (string, error) {
	cands := []string{"python3", "/usr/bin/python3"}
	if flagValue != "" {
		cands = []string{flagValue}
	}
	for _, c := range cands {
		if exec.Command(c, "-c", "import "+modules).Run() == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("no python3 imports %s: apt-get install python3-sklearn python3-xgboost (or pass -peers=false)", modules)
}
