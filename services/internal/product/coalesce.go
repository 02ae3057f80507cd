package product

import "sync"

// coalescer runs one load per key at a time and shares its result with the
// callers that asked meanwhile, so a popular product whose cache entry was
// just invalidated costs one database read, not one per waiting request.
type coalescer struct {
	mu       sync.Mutex
	inFlight map[string]*load
}

type load struct {
	done    chan struct{}
	body    []byte
	err     error
	waiters int // callers sharing this load; guarded by coalescer.mu
}

func (c *coalescer) do(key string, fn func() ([]byte, error)) ([]byte, error) {
	c.mu.Lock()
	if c.inFlight == nil {
		c.inFlight = map[string]*load{}
	}
	if l, ok := c.inFlight[key]; ok {
		l.waiters++
		c.mu.Unlock()
		<-l.done
		return l.body, l.err
	}
	l := &load{done: make(chan struct{})}
	c.inFlight[key] = l
	c.mu.Unlock()

	defer func() {
		c.mu.Lock()
		delete(c.inFlight, key)
		c.mu.Unlock()
		close(l.done)
	}()
	l.body, l.err = fn()
	return l.body, l.err
}
