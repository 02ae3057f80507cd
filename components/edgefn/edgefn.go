// Package edgefn renders the CloudFront Functions of the multi-region
// write path: on viewer request, writes (and a recent writer's reads) go
// to the master region's origin; on viewer response, a successful write
// sets the short-lived cookie that makes the writer's reads follow it.
//
// Writes are routed at the edge rather than forwarded between regions:
// CloudFront's edge location reaches the master region's load balancer
// over AWS's backbone in one hop, and no region's VPC needs a path to
// another's databases (docs/traffic.md has the latency of each option).
package edgefn

import (
	_ "embed"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

//go:embed viewer_request.js
var viewerRequest string

//go:embed viewer_response.js
var viewerResponse string

// Runtime is the CloudFront Functions runtime both functions need: 2.0
// has the cloudfront module and its origin helpers.
const Runtime = "cloudfront-js-2.0"

// MaxCodeBytes is CloudFront's limit on a function's code.
const MaxCodeBytes = 10 * 1024

// StickyCookie names the read-your-writes cookie.
const StickyCookie = "ecommerce-rw"

// Sticky bounds (seconds): at least a second; at most a minute, past which
// a client would lose its nearest region for longer than any sane replica
// lag.
const (
	MinStickySeconds = 1
	MaxStickySeconds = 60
	// DefaultStickySeconds covers a cross-region replica's typical lag
	// (under a second) several times over.
	DefaultStickySeconds = 5
)

var hostname = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

// Args are the functions' settings.
type Args struct {
	// MasterOrigin is the master region's origin host name
	// (api.<region>.<domain>): writes go there.
	MasterOrigin string
	// StickySeconds is how long a writer's reads follow its write.
	StickySeconds int
}

// Check names each field CloudFront or the design would refuse.
func (a Args) Check() error {
	var errs []string
	if !hostname.MatchString(a.MasterOrigin) {
		errs = append(errs, fmt.Sprintf("MasterOrigin: %q is not a DNS host name", a.MasterOrigin))
	}
	if a.StickySeconds < MinStickySeconds || a.StickySeconds > MaxStickySeconds {
		errs = append(errs, fmt.Sprintf("StickySeconds: %d is out of range; allowed %d to %d", a.StickySeconds, MinStickySeconds, MaxStickySeconds))
	}
	if len(errs) > 0 {
		return fmt.Errorf("edgefn: %s", strings.Join(errs, "; "))
	}
	return nil
}

// ViewerRequest is the viewer-request function's code.
func ViewerRequest(a Args) (string, error) {
	if err := a.Check(); err != nil {
		return "", err
	}
	return fill(viewerRequest, a)
}

// ViewerResponse is the viewer-response function's code.
func ViewerResponse(a Args) (string, error) {
	if err := a.Check(); err != nil {
		return "", err
	}
	return fill(viewerResponse, a)
}

func fill(code string, a Args) (string, error) {
	out := strings.NewReplacer(
		"__MASTER_ORIGIN__", a.MasterOrigin,
		"__STICKY_COOKIE__", StickyCookie,
		"__STICKY_SECONDS__", strconv.Itoa(a.StickySeconds),
	).Replace(code)
	if strings.Contains(out, "__") {
		return "", fmt.Errorf("edgefn: a placeholder is left unfilled")
	}
	if len(out) > MaxCodeBytes {
		return "", fmt.Errorf("edgefn: the function is %d bytes; CloudFront allows %d", len(out), MaxCodeBytes)
	}
	return out, nil
}
