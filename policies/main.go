// Command policies is the platform's policy pack, run by the Pulumi engine:
//
//	pulumi preview --policy-pack policies [--policy-pack-config policies/config.example.json]
//
// The rules live in policies/rules, shared with `make plan` and
// `make policy-check`; policies/pack wraps them for the engine.
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/example/ecommerce-platform/policies/pack"
)

func main() {
	if err := policyx.Main(pack.New); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
