// Package registry is the model registry of sous, kept as documents in the
// artifact store so that it lives as long as the models it names:
//
//	registry/<model>/versions/<n>.json   one per version, created once
//	registry/<model>/aliases/<alias>.json the version an alias points at
//
// Version numbers are allocated with the store's create-only write: a writer
// tries the next free number and, if another writer took it first, the one
// after. Registering the same model from the same register step twice (a
// redelivered job) returns the version registered the first time.
package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sous-ml/sous/artifacts"
)

// ErrNotFound is returned for a model, version or alias that does not exist.
var ErrNotFound = errors.New("registry: not found")

// Version is one registered model version and its lineage.
type Version struct {
	Name    string `json:"name"`
	Version int    `json:"version"`
	// ModelDigest is the content digest of the model bundle.
	ModelDigest string `json:"model_digest"`
	ModelSize   int64  `json:"model_size"`
	// RegisterKey is the cache key of the register step that created the version.
	RegisterKey      string             `json:"register_key"`
	RunID            string             `json:"run_id"`
	ValidationStatus string             `json:"validation_status"`
	Metrics          map[string]float64 `json:"metrics,omitempty"`
	// Lineage maps each upstream step to its cache key, and data sources to their digests.
	Lineage map[string]string `json:"lineage,omitempty"`
	Created time.Time         `json:"created"`
}

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

// ValidateName checks that a model or alias name is safe as a path element.
func ValidateName(name string) error {
	if !validName.MatchString(name) || strings.Contains(name, "..") {
		return fmt.Errorf("registry: invalid name %q: use letters, digits, '_', '-' and '.'", name)
	}
	return nil
}

func versionName(model string, v int) string {
	return path.Join("registry", model, "versions", strconv.Itoa(v)+".json")
}

// Register allocates the next version of v.Name and records v under it. If a
// version with the same RegisterKey and ModelDigest exists, it is returned
// instead, so retries never create a second version.
func Register(ctx context.Context, s artifacts.Store, v Version) (Version, error) {
	if err := ValidateName(v.Name); err != nil {
		return Version{}, err
	}
	// The claim says which version this register step (key and model)
	// already created: a retry gets it back instead of adding another.
	if won, err := claimed(ctx, s, v); err == nil {
		return Get(ctx, s, v.Name, won)
	} else if !errors.Is(err, artifacts.ErrNotFound) {
		return Version{}, err
	}
	existing, err := List(ctx, s, v.Name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Version{}, err
	}
	next := 1
	for _, e := range existing {
		next = max(next, e.Version+1)
	}
	for range 1000 {
		v.Version = next
		data, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return Version{}, err
		}
		err = s.Create(ctx, versionName(v.Name, next), bytes.NewReader(data), int64(len(data)))
		if err == nil {
			return claim(ctx, s, v)
		}
		if !errors.Is(err, artifacts.ErrExists) {
			return Version{}, fmt.Errorf("registry: register %s: %w", v.Name, err)
		}
		next++
	}
	return Version{}, fmt.Errorf("registry: register %s: too much contention", v.Name)
}

// Get returns one version.
func Get(ctx context.Context, s artifacts.Store, name string, version int) (Version, error) {
	if err := ValidateName(name); err != nil {
		return Version{}, err
	}
	return readVersion(ctx, s, versionName(name, version))
}

func readVersion(ctx context.Context, s artifacts.Store, obj string) (Version, error) {
	rc, err := s.Get(ctx, obj)
	if errors.Is(err, artifacts.ErrNotFound) {
		return Version{}, fmt.Errorf("%w: %s", ErrNotFound, obj)
	}
	if err != nil {
		return Version{}, fmt.Errorf("registry: %w", err)
	}
	defer rc.Close()
	var v Version
	if err := json.NewDecoder(rc).Decode(&v); err != nil {
		return Version{}, fmt.Errorf("registry: %s: %w", obj, err)
	}
	return v, nil
}

// List returns every version of a model, oldest first; ErrNotFound if it has none.
func List(ctx context.Context, s artifacts.Store, name string) ([]Version, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	infos, err := s.List(ctx, path.Join("registry", name, "versions")+"/")
	if err != nil {
		return nil, fmt.Errorf("registry: list %s: %w", name, err)
	}
	var out []Version
	for _, info := range infos {
		v, err := readVersion(ctx, s, info.Name)
		if errors.Is(err, ErrNotFound) {
			continue // withdrawn by a losing attempt (see claim) since the listing
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: model %q has no versions", ErrNotFound, name)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Models lists the names of registered models.
func Models(ctx context.Context, s artifacts.Store) ([]string, error) {
	infos, err := s.List(ctx, "registry/")
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	seen := map[string]bool{}
	var out []string
	for _, info := range infos {
		parts := strings.Split(info.Name, "/")
		if len(parts) >= 3 && !seen[parts[1]] {
			seen[parts[1]] = true
			out = append(out, parts[1])
		}
	}
	return out, nil
}

// SetAlias points alias at a version of a model.
func SetAlias(ctx context.Context, s artifacts.Store, name, alias string, version int) error {
	if err := ValidateName(alias); err != nil {
		return err
	}
	if _, err := Get(ctx, s, name, version); err != nil {
		return err
	}
	data := []byte(strconv.Itoa(version))
	return s.Put(ctx, path.Join("registry", name, "aliases", alias+".json"), bytes.NewReader(data), int64(len(data)))
}

// Resolve finds the version a model URI names: models:/<name>/<version>,
// models:/<name>/latest or models:/<name>@<alias>.
func Resolve(ctx context.Context, s artifacts.Store, uri string) (Version, error) {
	rest, ok := strings.CutPrefix(uri, "models:/")
	if !ok {
		return Version{}, fmt.Errorf("registry: %q is not a models:/ URI", uri)
	}
	if name, alias, ok := strings.Cut(rest, "@"); ok {
		if err := ValidateName(name); err != nil {
			return Version{}, err
		}
		if err := ValidateName(alias); err != nil {
			return Version{}, err
		}
		rc, err := s.Get(ctx, path.Join("registry", name, "aliases", alias+".json"))
		if errors.Is(err, artifacts.ErrNotFound) {
			return Version{}, fmt.Errorf("%w: model %q has no alias %q", ErrNotFound, name, alias)
		}
		if err != nil {
			return Version{}, fmt.Errorf("registry: %w", err)
		}
		defer rc.Close()
		var n int
		if err := json.NewDecoder(rc).Decode(&n); err != nil {
			return Version{}, fmt.Errorf("registry: alias %s@%s: %w", name, alias, err)
		}
		return Get(ctx, s, name, n)
	}
	name, ver, ok := strings.Cut(rest, "/")
	if !ok {
		return Version{}, fmt.Errorf("registry: %q: want models:/<name>/<version|latest> or models:/<name>@<alias>", uri)
	}
	if err := ValidateName(name); err != nil {
		return Version{}, err
	}
	if ver == "latest" {
		all, err := List(ctx, s, name)
		if err != nil {
			return Version{}, err
		}
		return all[len(all)-1], nil
	}
	n, err := strconv.Atoi(ver)
	if err != nil || n < 1 {
		return Version{}, fmt.Errorf("registry: %q: version %q is not a positive number or 'latest'", uri, ver)
	}
	return Get(ctx, s, name, n)
}

func claimName(v Version) string {
	return path.Join("registry", v.Name, "claims", v.RegisterKey+"-"+v.ModelDigest+".json")
}

// claimed returns the version claimed for v's register step, or an error
// wrapping artifacts.ErrNotFound.
func claimed(ctx context.Context, s artifacts.Store, v Version) (int, error) {
	rc, err := s.Get(ctx, claimName(v))
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	var won int
	if err := json.NewDecoder(rc).Decode(&won); err != nil {
		return 0, fmt.Errorf("registry: claim of %s: %w", v.Name, err)
	}
	return won, nil
}

// claim records which version a register step (key and model) created. Two
// attempts of the same step running at once (a job redelivered while its
// first attempt still runs) can both allocate a version; the first claim
// wins and the loser withdraws its version, so the registry keeps one.
func claim(ctx context.Context, s artifacts.Store, v Version) (Version, error) {
	data := []byte(strconv.Itoa(v.Version))
	err := s.Create(ctx, claimName(v), bytes.NewReader(data), int64(len(data)))
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, artifacts.ErrExists) {
		return Version{}, fmt.Errorf("registry: register %s: %w", v.Name, err)
	}
	won, err := claimed(ctx, s, v)
	if err != nil {
		return Version{}, err
	}
	if won != v.Version {
		if err := s.Delete(ctx, versionName(v.Name, v.Version)); err != nil {
			return Version{}, fmt.Errorf("registry: withdraw %s/%d: %w", v.Name, v.Version, err)
		}
	}
	return Get(ctx, s, v.Name, won)
}
