package kubeapi

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkStart measures starting etcd and kube-apiserver until /readyz,
// then stopping them: the fixed cost each test binary pays once.
//
//	go test -run '^$' -bench BenchmarkStart -benchtime 3x ./stacks/kubeapi
func BenchmarkStart(b *testing.B) {
	for b.Loop() {
		s, err := Start(context.Background(), Options{Emulate: "1.34"})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// BenchmarkDryRun measures one server-side dry-run apply of a Deployment,
// the cost per object of the stack check.
func BenchmarkDryRun(b *testing.B) {
	s := apiserver.Server(b)
	ctx := context.Background()
	if _, err := s.ApplyNamespaces(ctx, []Object{namespace("bench", restricted)}); err != nil {
		b.Fatal(err)
	}
	objects := make([]Object, 100)
	for i := range objects {
		objects[i] = deployment("bench", fmt.Sprintf("web-%d", i), 2, restrictedPod())
	}
	for b.Loop() {
		findings, err := s.DryRun(ctx, objects)
		if err != nil || len(findings) > 0 {
			b.Fatal(err, findings)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(objects)), "µs/object")
}
