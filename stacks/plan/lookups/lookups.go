// Package lookups is the one list of data-source lookups (invokes) the
// program makes, with the answer the offline runs give each: the mock
// engine (stacks/plan) and the stand-in provider of the real-engine
// preview (stacks/preview/stubprovider) both answer from here, and any
// other lookup is refused by both.
//
// A lookup earns a place here only when the value exists in AWS alone and
// no config value can stand for it (an AWS-managed prefix list's id differs
// by region and is published nowhere but the API). Keep the list short:
// each entry is a value the offline runs cannot check against AWS.
package lookups

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
)

// ManagedPrefixList is the token of the EC2 managed prefix list lookup.
const ManagedPrefixList = "aws:ec2/getManagedPrefixList:getManagedPrefixList"

// CloudFrontOriginFacing is the AWS-managed prefix list of the addresses
// CloudFront uses to reach origins (the only sources a load balancer
// behind CloudFront should admit).
const CloudFrontOriginFacing = "com.amazonaws.global.cloudfront.origin-facing"

// CloudFrontOriginFacingMaxEntries is the list's size as AWS declares it;
// a security group rule that references the list counts as this many
// rules against the group's quota (60 inbound by default), so a group can
// hold one such rule.
const CloudFrontOriginFacingMaxEntries = 55

// answer builds the result of one lookup for a region, or an error that
// names what was asked.
type answer func(args map[string]any, region string) (map[string]any, error)

var answers = map[string]answer{
	ManagedPrefixList: func(args map[string]any, region string) (map[string]any, error) {
		name, _ := args["name"].(string)
		if name != CloudFrontOriginFacing {
			return nil, fmt.Errorf("only the prefix list %s is answered offline, by name; asked %v", CloudFrontOriginFacing, args)
		}
		if region == "" {
			return nil, fmt.Errorf("the prefix list %s differs by region, and the lookup has no region", name)
		}
		sum := sha256.Sum256([]byte(name + "/" + region))
		id := "pl-" + hex.EncodeToString(sum[:])[:8]
		return map[string]any{
			"id":            id,
			"arn":           fmt.Sprintf("arn:aws:ec2:%s:aws:prefix-list/%s", region, id),
			"name":          name,
			"addressFamily": "IPv4",
			"maxEntries":    CloudFrontOriginFacingMaxEntries,
			"ownerId":       "AWS",
			"version":       1,
			"entries":       []any{},
			"tags":          map[string]any{},
		}, nil
	},
}

// Tokens are the lookups answered offline, sorted.
func Tokens() []string {
	out := make([]string, 0, len(answers))
	for t := range answers {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Answer returns the offline result of the lookup token with its plain
// arguments, made through a provider of region. ok is false for a lookup
// not on the list; err says why a listed lookup cannot be answered.
func Answer(token string, args map[string]any, region string) (result map[string]any, ok bool, err error) {
	a, ok := answers[token]
	if !ok {
		return nil, false, nil
	}
	result, err = a(args, region)
	return result, true, err
}
