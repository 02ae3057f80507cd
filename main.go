// Command ecommerce is the Pulumi program of the e-commerce platform. All of
// it lives in package stacks; main only hands over.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/stacks"
)

func main() {
	pulumi.Run(stacks.Program)
}
