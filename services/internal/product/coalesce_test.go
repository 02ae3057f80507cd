package product

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCoalescerSharesOneLoad(t *testing.T) {
	var c coalescer
	var calls atomic.Int32
	release := make(chan struct{})
	started := make(chan struct{})
	var wg sync.WaitGroup
	results := make([]string, 10)
	wg.Add(1)
	go func() {
		defer wg.Done()
		b, _ := c.do("k", func() ([]byte, error) {
			calls.Add(1)
			close(started)
			<-release
			return []byte("v"), nil
		})
		results[0] = string(b)
	}()
	<-started
	for i := 1; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, _ := c.do("k", func() ([]byte, error) { calls.Add(1); return []byte("other"), nil })
			results[i] = string(b)
		}()
	}
	// Release only once all nine followers are waiting on the load.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if time.Now().After(deadline) {
			close(release)
			t.Fatal("the other callers did not wait on the running load")
		}
		c.mu.Lock()
		n := c.inFlight["k"].waiters
		c.mu.Unlock()
		if n == 9 {
			break
		}
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	for i, r := range results {
		if r != "v" {
			t.Fatalf("caller %d got %q", i, r)
		}
	}
	if calls.Load() != 1 {
		t.Fatalf("%d loads for one key, want 1", calls.Load())
	}
	// A later call loads again, and errors are shared too.
	_, err := c.do("k", func() ([]byte, error) { return nil, errors.New("down") })
	if err == nil {
		t.Fatal("error not returned")
	}
}
