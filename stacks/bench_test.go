package stacks_test

import (
	"testing"

	"github.com/example/ecommerce-platform/stacks/offline"
)

// BenchmarkPlan measures one full synthesis of each shipped stack under the
// mock engine: config load and validation, every resource registered.
func BenchmarkPlan(b *testing.B) {
	for _, stack := range shipped {
		b.Run(stack, func(b *testing.B) {
			b.ReportAllocs()
			var resources int
			for i := 0; i < b.N; i++ {
				inv, err := offline.PlanStack("..", stack)
				if err != nil {
					b.Fatal(err)
				}
				resources = len(inv.Resources)
			}
			b.ReportMetric(float64(resources), "resources")
		})
	}
}
