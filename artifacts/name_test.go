package artifacts_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sous-ml/sous/artifacts"
)

func TestCheckName(t *testing.T) {
	tests := []struct {
		name  string
		valid bool
	}{
		{"a", true},
		{"objects/0123abcd", true},
		{"steps/train/k/manifest.json", true},
		{"with space/ünïcode-名前.json", true},
		{"a..b/c.d", true},
		{"x/y_z-1.2~3+4=5@6", true},
		{strings.Repeat("x", artifacts.MaxNameLen), true},
		{"", false},
		{"/abs", false},
		{"trailing/", false},
		{"a//b", false},
		{".", false},
		{"..", false},
		{"a/./b", false},
		{"a/../b", false},
		{"../a", false},
		{".hidden", false},
		{"a/.tmp-123", false},
		{`a\b`, false},
		{"nul\x00", false},
		{"tab\t", false},
		{"del\x7f", false},
		{"\xff", false},
		{strings.Repeat("x", artifacts.MaxNameLen+1), false},
	}
	for _, tt := range tests {
		err := artifacts.CheckName(tt.name)
		if tt.valid && err != nil {
			t.Errorf("CheckName(%q) = %v, want nil", tt.name, err)
		}
		if !tt.valid && !errors.Is(err, artifacts.ErrInvalidName) {
			t.Errorf("CheckName(%q) = %v, want ErrInvalidName", tt.name, err)
		}
	}
}

func TestCheckPrefix(t *testing.T) {
	tests := []struct {
		prefix string
		valid  bool
	}{
		{"", true},
		{"a", true},
		{"objects/", true},
		{"steps/tr", true},
		{"steps/train/", true},
		{".", true}, // matches nothing, escapes nothing
		{"..", true},
		{"/", false},
		{"/abs", false},
		{"../", false},
		{"a/../", false},
		{"a//", false},
		{"./", false},
		{".hidden/", false},
		{`a\b`, false},
		{"a/b\x00", false},
	}
	for _, tt := range tests {
		err := artifacts.CheckPrefix(tt.prefix)
		if tt.valid && err != nil {
			t.Errorf("CheckPrefix(%q) = %v, want nil", tt.prefix, err)
		}
		if !tt.valid && !errors.Is(err, artifacts.ErrInvalidName) {
			t.Errorf("CheckPrefix(%q) = %v, want ErrInvalidName", tt.prefix, err)
		}
	}
}

func FuzzCheckName(f *testing.F) {
	for _, s := range []string{"a/b", "../x", "a/./b", ".h", "objects/ab"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if artifacts.CheckName(name) != nil {
			return
		}
		// A valid name never escapes: no element is "." or "..", it is relative,
		// and it is its own clean form.
		if strings.HasPrefix(name, "/") || strings.Contains(name, `\`) {
			t.Fatalf("CheckName accepted %q", name)
		}
		for _, elem := range strings.Split(name, "/") {
			if elem == "" || elem == "." || elem == ".." {
				t.Fatalf("CheckName accepted %q with element %q", name, elem)
			}
		}
		if artifacts.CheckPrefix(name) != nil || artifacts.CheckPrefix(name+"/") != nil {
			t.Fatalf("valid name %q is not a valid prefix", name)
		}
	})
}
