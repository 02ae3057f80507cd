package kubeapi

import (
	"context"
	"sync"
	"testing"
	"time"
)

// Shared is one server for a whole test binary, started by the first test
// that asks for it. Close it from TestMain after m.Run:
//
//	var apiserver kubeapi.Shared
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		apiserver.Close()
//		os.Exit(code)
//	}
type Shared struct {
	// Options are those Start gets.
	Options Options

	once   sync.Once
	server *Server
	err    error
}

// Server returns the running server, starting it on first use; a failure
// to start fails every test that asks.
func (sh *Shared) Server(t testing.TB) *Server {
	t.Helper()
	sh.once.Do(func() {
		sh.server, sh.err = Start(context.Background(), sh.Options)
		if sh.err == nil {
			t.Logf("kube-apiserver %s emulating %s, with etcd, ready in %s",
				sh.server.Version, sh.server.Emulated, sh.server.Startup.Round(time.Millisecond))
		}
	})
	if sh.err != nil {
		t.Fatal(sh.err)
	}
	return sh.server
}

// Close stops the server if it was started.
func (sh *Shared) Close() {
	if sh.server != nil {
		sh.server.Close()
	}
}
