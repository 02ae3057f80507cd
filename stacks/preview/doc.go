// Package preview holds the real-engine rung of the test ladder: its tests
// run `pulumi preview` of every shipped stack with the Pulumi CLI built
// from the module proxy (scripts/build-pulumi.sh), offline, and compare
// what it would create with the offline plan. The stand-in providers
// (stubprovider) and the Go language host (gohost) the previews run with
// live beside it. It is its own package so that the stacks package's test
// binary stays lean and `go test ./...` runs it alongside the others.
package preview
