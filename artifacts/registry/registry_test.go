package registry_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/sous-ml/sous/artifacts/local"
	"github.com/sous-ml/sous/artifacts/registry"
)

func newStore(t *testing.T) *local.Store {
	t.Helper()
	s, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRegisterAllocatesVersions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	for i := 1; i <= 3; i++ {
		v, err := registry.Register(ctx, s, registry.Version{Name: "m", ModelDigest: fmt.Sprint("d", i), RegisterKey: fmt.Sprint("k", i)})
		if err != nil {
			t.Fatal(err)
		}
		if v.Version != i {
			t.Fatalf("version %d, want %d", v.Version, i)
		}
	}
	// The same register step again (a redelivered job) gets its version back.
	v, err := registry.Register(ctx, s, registry.Version{Name: "m", ModelDigest: "d2", RegisterKey: "k2"})
	if err != nil || v.Version != 2 {
		t.Fatalf("re-register: %v, %v", v.Version, err)
	}
	all, err := registry.List(ctx, s, "m")
	if err != nil || len(all) != 3 {
		t.Fatalf("list: %d versions, %v", len(all), err)
	}
}

func TestConcurrentRegisterGetsDistinctVersions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	const n = 8
	got := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := registry.Register(ctx, s, registry.Version{Name: "m", ModelDigest: fmt.Sprint("d", i), RegisterKey: fmt.Sprint("k", i)})
			if err != nil {
				t.Error(err)
			}
			got[i] = v.Version
		}()
	}
	wg.Wait()
	seen := map[int]bool{}
	for _, v := range got {
		if v < 1 || v > n || seen[v] {
			t.Fatalf("versions %v are not 1..%d each once", got, n)
		}
		seen[v] = true
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	for i := 1; i <= 3; i++ {
		if _, err := registry.Register(ctx, s, registry.Version{Name: "taxi", ModelDigest: fmt.Sprint("d", i), RegisterKey: fmt.Sprint("k", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := registry.SetAlias(ctx, s, "taxi", "champion", 2); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		uri     string
		want    int
		wantErr string
	}{
		{uri: "models:/taxi/latest", want: 3},
		{uri: "models:/taxi/1", want: 1},
		{uri: "models:/taxi@champion", want: 2},
		{uri: "models:/taxi/7", wantErr: "not found"},
		{uri: "models:/taxi@nobody", wantErr: "no alias"},
		{uri: "models:/other/latest", wantErr: "no versions"},
		{uri: "models:/taxi/x", wantErr: "not a positive number"},
		{uri: "models:/../etc/1", wantErr: "invalid name"},
		{uri: "runs:/abc", wantErr: "not a models:/ URI"},
	}
	for _, tc := range cases {
		t.Run(tc.uri, func(t *testing.T) {
			v, err := registry.Resolve(ctx, s, tc.uri)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || v.Version != tc.want {
				t.Fatalf("got %d, %v; want %d", v.Version, err, tc.want)
			}
		})
	}
	if _, err := registry.Resolve(ctx, s, "models:/taxi/9"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("missing version: %v is not ErrNotFound", err)
	}
}

// Two attempts of the same register step racing (a redelivery while the
// first attempt still runs) leave one version, and both get it.
func TestConcurrentAttemptsOfOneStepRegisterOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	const n = 6
	got := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := registry.Register(ctx, s, registry.Version{Name: "m", ModelDigest: "d", RegisterKey: "k"})
			if err != nil {
				t.Error(err)
			}
			got[i] = v.Version
		}()
	}
	wg.Wait()
	all, err := registry.List(ctx, s, "m")
	if err != nil || len(all) != 1 {
		t.Fatalf("%d versions (%v), want 1", len(all), err)
	}
	for _, v := range got {
		if v != all[0].Version {
			t.Fatalf("attempts got versions %v, the registry has %d", got, all[0].Version)
		}
	}
}
