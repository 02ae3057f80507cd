package ingress

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/example/ecommerce-platform/components/workload"
)

// OriginHeader is the header CloudFront adds to every request it sends to
// the origin, with the stack's origin secret as its value. The listener
// forwards only requests that carry it: one that reached the load balancer
// some other way gets the default 403.
const OriginHeader = "X-Origin-Secret"

// Paths are the public path patterns of each service, in ALB path-pattern
// syntax (case-sensitive; * any characters, ? one). A collection and its
// members are two patterns ("/v1/orders" and "/v1/orders/*") rather than
// "/v1/orders*", which would also match "/v1/ordersX".
//
// auth's JWKS (appconfig.JWKSPath) falls under "/v1/auth/*"; the
// well-known location is the one discovery clients try first. The
// services' own /healthz, /readyz and /metrics match no pattern, so the
// internet never reaches them.
var Paths = map[string][]string{
	"auth":    {"/v1/auth/*", "/.well-known/jwks.json"},
	"user":    {"/v1/users/*"},
	"product": {"/v1/products", "/v1/products/*"},
	"order":   {"/v1/orders", "/v1/orders/*"},
}

// MaxConditionValues is how many condition values (path patterns, header
// values, ...) ELB accepts in one listener rule, all conditions together.
const MaxConditionValues = 5

// Route is one listener rule: a service's path patterns, with the origin
// header, forwarded to its target groups.
type Route struct {
	Service  string
	Patterns []string
	// Priority orders the rules of the listener; unique, lowest first.
	Priority int
}

// Routes are the listener rules of services, in the order given. A
// service's priority follows its place in that order (10, 20, ...), so
// adding a service at the end moves no other rule; the patterns do not
// overlap, so the order decides nothing else.
func Routes(services []string) ([]Route, error) {
	out := make([]Route, 0, len(services))
	for i, svc := range services {
		patterns, ok := Paths[svc]
		if !ok {
			return nil, fmt.Errorf("service %q has no public paths; known: %v", svc, knownServices())
		}
		// One more value: the origin header's.
		if n := len(patterns) + 1; n > MaxConditionValues {
			return nil, fmt.Errorf("service %q: %d condition values in one rule; ELB accepts %d", svc, n, MaxConditionValues)
		}
		out = append(out, Route{Service: svc, Patterns: slices.Clone(patterns), Priority: 10 * (i + 1)})
	}
	return out, nil
}

func knownServices() []string {
	out := make([]string, 0, len(Paths))
	for s := range Paths {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// Match returns the service whose route matches a request path under the
// ALB's path-pattern rules (a rule matches when any of its patterns does;
// the lowest priority wins), or "" when only the default 403 answers.
func Match(routes []Route, requestPath string) string {
	for _, r := range routes {
		for _, p := range r.Patterns {
			// path.Match's * stops at "/", the ALB's does not: compare
			// with "/" swapped for a byte no pattern uses.
			if ok, _ := path.Match(strings.ReplaceAll(p, "/", "\x00"), strings.ReplaceAll(requestPath, "/", "\x00")); ok {
				return r.Service
			}
		}
	}
	return ""
}

// Weights splits a rule's traffic between the stable and canary target
// groups: canaryPercent to the canary, the rest to stable.
func Weights(canaryPercent int) (stable, canary int) {
	return 100 - canaryPercent, canaryPercent
}

// TargetGroupName names a service's (or canary's) target group: the
// Kubernetes Service's name, then eight hex digits of a hash of the
// region's display name, the Service and every setting that replaces a
// target group (port, protocol, target type). ELB names are at most 32
// characters and unique per account and region, so the display name cannot
// be spelt out; and a replacement must come under a new name, since the
// new group is created before the old one is deleted.
func TargetGroupName(displayName, serviceName string) string {
	key := fmt.Sprintf("%s/%s/%d/HTTP/ip", displayName, serviceName, workload.HTTPPort)
	sum := sha256.Sum256([]byte(key))
	return serviceName + "-" + hex.EncodeToString(sum[:])[:8]
}

// MaxServiceNameLength keeps TargetGroupName within ELB's 32 characters.
const MaxServiceNameLength = 32 - 9

// elbAccounts are the Elastic Load Balancing accounts that deliver access
// logs in the regions that opened before August 2022; the regions opened
// since take the log delivery service principal instead. Source: the ELB
// user guide, "Enable access logs for your Application Load Balancer".
var elbAccounts = map[string]string{
	"us-east-1":      "127311923021",
	"us-east-2":      "033677994240",
	"us-west-1":      "027434742980",
	"us-west-2":      "797873946194",
	"af-south-1":     "098369216593",
	"ap-east-1":      "754344448648",
	"ap-southeast-3": "589379963580",
	"ap-south-1":     "718504428378",
	"ap-northeast-3": "383597477331",
	"ap-northeast-2": "600734575887",
	"ap-southeast-1": "114774131450",
	"ap-southeast-2": "783225319266",
	"ap-northeast-1": "582318560864",
	"ca-central-1":   "985666609251",
	"eu-central-1":   "054676820928",
	"eu-west-1":      "156460612806",
	"eu-west-2":      "652711504416",
	"eu-south-1":     "635631232127",
	"eu-west-3":      "009996457667",
	"eu-north-1":     "897822967062",
	"me-south-1":     "076674570225",
	"sa-east-1":      "507241528517",
}

// LogDeliveryService is the principal that writes access logs in the
// regions without an ELB account.
const LogDeliveryService = "logdelivery.elasticloadbalancing.amazonaws.com"

// LogDeliveryPrincipal is who writes a region's load balancer access logs
// into its bucket, as a bucket policy's Principal.
func LogDeliveryPrincipal(region string) map[string]any {
	if acct, ok := elbAccounts[region]; ok {
		return map[string]any{"AWS": "arn:aws:iam::" + acct + ":root"}
	}
	return map[string]any{"Service": LogDeliveryService}
}
