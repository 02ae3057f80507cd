package platform

import "strings"

// RegionOfARN returns the region field of an ARN
// (arn:partition:service:region:account:resource), or fallback when the
// ARN has none.
func RegionOfARN(arn, fallback string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" && parts[3] != "" {
		return parts[3]
	}
	return fallback
}
