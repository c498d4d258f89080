package artifacts

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxNameLen is the longest object name a Store accepts, in bytes (S3's key limit).
const MaxNameLen = 1024

// CheckName returns nil if name is a valid object name, and otherwise an error
// wrapping ErrInvalidName that says what is wrong. A valid name is a relative,
// slash-separated path of at most MaxNameLen bytes of UTF-8 whose elements are
// non-empty and do not start with "." (so no "." or ".." elements, and room
// for backends' hidden temporary files), with no backslash and no control
// characters. Every backend applies these rules, so a name that works on one
// works on all.
func CheckName(name string) error {
	if err := checkPath(name); err != nil {
		return fmt.Errorf("%w %q: %s", ErrInvalidName, name, err)
	}
	return nil
}

// CheckPrefix returns nil if prefix may be passed to Store.List, and otherwise
// an error wrapping ErrInvalidName. The part of prefix up to its last "/" must
// be a valid name; the rest is any string without "/", backslash or control
// characters. The empty prefix is valid.
func CheckPrefix(prefix string) error {
	dir, base := "", prefix
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dir, base = prefix[:i], prefix[i+1:]
	}
	var err error
	switch {
	case dir == "" && strings.Contains(prefix, "/"):
		err = errMsg("starts with /")
	case dir != "":
		err = checkPath(dir)
	case len(prefix) > MaxNameLen:
		err = errMsg("too long")
	}
	if err == nil {
		err = checkChars(base)
	}
	if err != nil {
		return fmt.Errorf("%w: prefix %q: %s", ErrInvalidName, prefix, err)
	}
	return nil
}

type errMsg string

func (e errMsg) Error() string { return string(e) }

func checkPath(name string) error {
	switch {
	case name == "":
		return errMsg("empty")
	case len(name) > MaxNameLen:
		return errMsg("too long")
	case name[0] == '/':
		return errMsg("absolute")
	case name[len(name)-1] == '/':
		return errMsg("ends with /")
	}
	if err := checkChars(name); err != nil {
		return err
	}
	for elem := range strings.SplitSeq(name, "/") {
		switch {
		case elem == "":
			return errMsg("empty path element")
		case elem == "." || elem == "..":
			return errMsg("contains " + elem + " element")
		case elem[0] == '.':
			return errMsg("element starts with .")
		}
	}
	return nil
}

func checkChars(s string) error {
	if !utf8.ValidString(s) {
		return errMsg("not UTF-8")
	}
	for _, r := range s {
		switch {
		case r == '\\':
			return errMsg("contains a backslash")
		case r < 0x20 || r == 0x7f:
			return errMsg("contains a control character")
		}
	}
	return nil
}
