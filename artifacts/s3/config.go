package s3

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/sous-ml/sous/artifacts"
)

// DefaultRegion is the region used when none is configured.
const DefaultRegion = "us-east-1"

// DefaultEndpoint is the endpoint used when none is configured: AWS S3.
const DefaultEndpoint = "s3.amazonaws.com"

// Config says where a Store keeps its objects and how to reach it.
//
// Print it with %v or String, which redact the secrets; never log its fields.
type Config struct {
	// Endpoint is the S3 server as host[:port], without a scheme; empty means
	// AWS S3 (DefaultEndpoint). See ParseEndpoint to split a URL.
	Endpoint string
	// Bucket holds the objects, under Prefix ("" or ending in "/").
	Bucket, Prefix string
	// Region is the bucket's region; empty means DefaultRegion.
	Region string
	// Static credentials. If AccessKeyID and SecretAccessKey are both empty,
	// the store uses ~/.aws/credentials, then the EC2/ECS instance role.
	AccessKeyID, SecretAccessKey, SessionToken string
	// Insecure selects plain http.
	Insecure bool
	// PathStyle addresses the bucket as endpoint/bucket rather than
	// bucket.endpoint, as MinIO and most S3-compatible servers need.
	PathStyle bool
	// CreateBucket makes New create a missing bucket instead of failing.
	CreateBucket bool
}

// Validate reports the first problem with c, if any.
func (c Config) Validate() error {
	if err := c.validateLocation(); err != nil {
		return fmt.Errorf("s3: %w", err)
	}
	if strings.Contains(c.Endpoint, "://") {
		return fmt.Errorf("s3: endpoint %q: give host[:port] without a scheme, and set Insecure for http", c.Endpoint)
	}
	if strings.ContainsAny(c.Endpoint, "/?#@ ") {
		return fmt.Errorf("s3: endpoint %q: want host[:port]", c.Endpoint)
	}
	if (c.AccessKeyID == "") != (c.SecretAccessKey == "") {
		return errors.New("s3: set both the access key ID and the secret access key, or neither")
	}
	if c.SessionToken != "" && c.AccessKeyID == "" {
		return errors.New("s3: a session token needs an access key ID and secret access key")
	}
	return nil
}

// validateLocation checks the bucket and prefix.
func (c Config) validateLocation() error {
	if c.Bucket == "" {
		return errors.New("no bucket")
	}
	if err := s3utils.CheckValidBucketNameStrict(c.Bucket); err != nil {
		return fmt.Errorf("bucket %q: %w", c.Bucket, err)
	}
	if c.Prefix != "" {
		if !strings.HasSuffix(c.Prefix, "/") {
			return fmt.Errorf("prefix %q must end with /", c.Prefix)
		}
		if err := artifacts.CheckName(strings.TrimSuffix(c.Prefix, "/")); err != nil {
			return fmt.Errorf("prefix: %w", err)
		}
	}
	return nil
}

// endpoint returns the configured endpoint or the default.
func (c Config) endpoint() string {
	if c.Endpoint == "" {
		return DefaultEndpoint
	}
	return c.Endpoint
}

func (c Config) region() string {
	if c.Region == "" {
		return DefaultRegion
	}
	return c.Region
}

// URL returns the store's location as "s3://bucket/prefix".
func (c Config) URL() string { return "s3://" + c.Bucket + "/" + c.Prefix }

// String describes c without its secrets, e.g.
// "s3://bucket/prefix/ (endpoint http://127.0.0.1:9000, region us-east-1, path-style, access key AKIA…)".
func (c Config) String() string {
	scheme := "https://"
	if c.Insecure {
		scheme = "http://"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s (endpoint %s%s, region %s", c.URL(), scheme, c.endpoint(), c.region())
	if c.PathStyle {
		b.WriteString(", path-style")
	}
	switch {
	case c.AccessKeyID != "":
		fmt.Fprintf(&b, ", access key %s", redact(c.AccessKeyID))
		if c.SessionToken != "" {
			b.WriteString(" with session token")
		}
	default:
		b.WriteString(", ambient credentials")
	}
	if c.CreateBucket {
		b.WriteString(", create bucket")
	}
	b.WriteString(")")
	return b.String()
}

// GoString is String, so that %#v does not print secrets either.
func (c Config) GoString() string { return "s3.Config{" + c.String() + "}" }

// redact keeps the first four characters of an access key ID, enough to tell
// keys apart in logs.
func redact(id string) string {
	if len(id) <= 4 {
		return "…"
	}
	return id[:4] + "…"
}

// ParseURL parses "s3://bucket[/prefix]" into a Config holding the bucket and
// the prefix (normalized to end in "/"). Other fields are left zero.
func ParseURL(s string) (Config, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Config{}, fmt.Errorf("s3: parse store URL: %w", err)
	}
	if u.Scheme != "s3" {
		return Config{}, fmt.Errorf("s3: store URL %q: scheme must be s3://", s)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Port() != "" {
		return Config{}, fmt.Errorf("s3: store URL %q: want s3://bucket/prefix, with no user, port, query or fragment", s)
	}
	c := Config{Bucket: u.Host}
	if p := strings.Trim(u.Path, "/"); p != "" {
		c.Prefix = p + "/"
	}
	if err := c.validateLocation(); err != nil {
		return Config{}, fmt.Errorf("s3: store URL %q: %w", s, err)
	}
	return c, nil
}

// ParseEndpoint splits an endpoint URL such as "http://127.0.0.1:9000" into
// the host[:port] a Config wants and whether it is plain http. A bare
// host[:port] is taken as https.
func ParseEndpoint(s string) (host string, insecure bool, err error) {
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", false, fmt.Errorf("s3: endpoint: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", false, fmt.Errorf("s3: endpoint %q: scheme must be http or https", s)
	case u.Host == "":
		return "", false, fmt.Errorf("s3: endpoint %q: no host", s)
	case u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return "", false, fmt.Errorf("s3: endpoint %q: want scheme://host[:port] only", s)
	}
	return u.Host, u.Scheme == "http", nil
}

// ConfigFromEnv parses storeURL with ParseURL and fills in the rest from the
// environment, as the AWS tools do: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN, AWS_REGION (else AWS_DEFAULT_REGION, else
// DefaultRegion), and AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL (such as
// "http://127.0.0.1:9000"; its scheme sets Insecure, and a custom endpoint
// turns on PathStyle). getenv is os.Getenv, or a fake in tests.
func ConfigFromEnv(storeURL string, getenv func(string) string) (Config, error) {
	c, err := ParseURL(storeURL)
	if err != nil {
		return Config{}, err
	}
	c.AccessKeyID = getenv("AWS_ACCESS_KEY_ID")
	c.SecretAccessKey = getenv("AWS_SECRET_ACCESS_KEY")
	c.SessionToken = getenv("AWS_SESSION_TOKEN")
	c.Region = cmp.Or(getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION"), DefaultRegion)
	if ep := cmp.Or(getenv("AWS_ENDPOINT_URL_S3"), getenv("AWS_ENDPOINT_URL")); ep != "" {
		c.Endpoint, c.Insecure, err = ParseEndpoint(ep)
		if err != nil {
			return Config{}, err
		}
		c.PathStyle = true
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}
