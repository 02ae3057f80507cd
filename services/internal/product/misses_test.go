package product

import (
	"errors"
	"testing"

	"golang.org/x/sync/singleflight"
)

// The cache-miss path relies on callers that arrive while a load runs
// sharing its result (and its error) instead of loading again.
func TestConcurrentMissesShareOneLoad(t *testing.T) {
	var s service
	calls := 0
	release := make(chan struct{})
	first := s.misses.DoChan("k", func() (any, error) {
		calls++
		<-release
		return []byte("v"), nil
	})
	// DoChan registers the caller before it returns, so these nine join the
	// running load deterministically.
	var followers []<-chan singleflight.Result
	for range 9 {
		followers = append(followers, s.misses.DoChan("k", func() (any, error) {
			calls++
			return []byte("other"), nil
		}))
	}
	close(release)
	for i, ch := range append(followers, first) {
		r := <-ch
		if r.Err != nil || string(r.Val.([]byte)) != "v" {
			t.Fatalf("caller %d got %v, %v", i, r.Val, r.Err)
		}
	}
	if calls != 1 {
		t.Fatalf("%d loads for one key, want 1", calls)
	}
	// A later call loads again, and an error reaches its caller.
	if _, err, _ := s.misses.Do("k", func() (any, error) { return nil, errors.New("down") }); err == nil {
		t.Fatal("error not returned")
	}
}
