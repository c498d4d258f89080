package worker

import (
	"errors"
	"fmt"
	"time"

	"github.com/sous-ml/sous/proto"
)

// ErrStop is the cancellation cause of steps interrupted by a worker shutdown;
// such a job is handed back, not failed.
var ErrStop = errors.New("worker: stopping")

// ErrCancelled is the cancellation cause of steps whose run was cancelled.
var ErrCancelled = errors.New("worker: run cancelled")

// PermanentError is a failure that retrying cannot fix.
type PermanentError struct {
	Code proto.ErrorCode
	Err  error
}

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as not worth retrying; the job is terminated and the
// failure reported with code.
func Permanent(code proto.ErrorCode, err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Code: code, Err: err}
}

// RetryError asks for another attempt after a delay.
type RetryError struct {
	After time.Duration
	Err   error
}

func (e *RetryError) Error() string { return fmt.Sprintf("%v (retry in %s)", e.Err, e.After) }
func (e *RetryError) Unwrap() error { return e.Err }

// RetryAfter asks for another attempt after d.
func RetryAfter(d time.Duration, err error) error { return &RetryError{After: d, Err: err} }

// codeOf picks the wire code for a step error.
func codeOf(err error) proto.ErrorCode {
	var pe *PermanentError
	switch {
	case errors.As(err, &pe):
		return pe.Code
	case errors.Is(err, ErrCancelled):
		return proto.CodeCancelled
	case errors.Is(err, errTimeout):
		return proto.CodeTimeout
	}
	return proto.CodeInternal
}

var errTimeout = errors.New("step timed out")
