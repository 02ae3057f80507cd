package product

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// The read path has two cache layers in front of the database:
//
//   - an in-process LRU (LOCAL_CACHE_MAX_ENTRIES entries, LOCAL_CACHE_TTL
//     each): a hit costs no system call, which is what brings a cached read
//     within reach of a bare handler (a Redis round trip is two syscalls and
//     a context switch to the Redis process);
//   - Redis (CACHE_TTL), shared by the region's replicas.
//
// A write drops the product from Redis and from this replica's LRU, then
// publishes the id on invalidationChannel; every replica subscribed drops
// its own copy, so a change is visible everywhere at once, or within
// LOCAL_CACHE_TTL if the message is lost (Redis pub/sub is at most once).

const invalidationChannel = "product:invalidate"

// entry is a cached product: its JSON and its ETag.
type entry struct {
	body []byte
	etag string
}

type cache struct {
	rdb   *redis.Client
	ttl   time.Duration
	local *expirable.LRU[uuid.UUID, entry] // nil when LOCAL_CACHE_TTL is 0
	log   *slog.Logger

	requests                                *prometheus.CounterVec
	hitLocal, hitRedis, missRedis, errRedis prometheus.Counter
}

func newCache(rdb *redis.Client, ttl, localTTL time.Duration, localSize int, log *slog.Logger, reg prometheus.Registerer) *cache {
	c := &cache{rdb: rdb, ttl: ttl, log: log,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cache_requests_total", Help: "Product cache lookups, by layer (local, redis) and result (hit, miss, error).",
		}, []string{"layer", "result"}),
	}
	reg.MustRegister(c.requests)
	// Resolved once: the hot path must not hash label values per request.
	c.hitLocal, c.hitRedis = c.requests.WithLabelValues("local", "hit"), c.requests.WithLabelValues("redis", "hit")
	c.missRedis, c.errRedis = c.requests.WithLabelValues("redis", "miss"), c.requests.WithLabelValues("redis", "error")
	if localTTL > 0 {
		c.local = expirable.NewLRU[uuid.UUID, entry](localSize, nil, localTTL)
		c.requests.WithLabelValues("local", "miss")
	}
	return c
}

func redisKey(id uuid.UUID) string { return "product:v2:" + id.String() }

// get looks in the LRU, then Redis; ok is false on a miss in both.
func (c *cache) get(ctx context.Context, id uuid.UUID) (e entry, layer string, ok bool) {
	if c.local != nil {
		if e, ok = c.local.Get(id); ok {
			c.hitLocal.Inc()
			return e, "local", true
		}
		c.requests.WithLabelValues("local", "miss").Inc()
	}
	raw, err := c.rdb.Get(ctx, redisKey(id)).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		c.missRedis.Inc()
		return entry{}, "", false
	case err != nil:
		c.errRedis.Inc()
		c.log.WarnContext(ctx, "cache read failed", "err", err)
		return entry{}, "", false
	}
	e, ok = decodeEntry(raw)
	if !ok {
		return entry{}, "", false
	}
	c.hitRedis.Inc()
	if c.local != nil {
		c.local.Add(id, e)
	}
	return e, "redis", true
}

// The Redis value is the ETag, a newline, then the JSON.
func encodeEntry(e entry) []byte {
	return append(append([]byte(e.etag), '\n'), e.body...)
}

func decodeEntry(raw []byte) (entry, bool) {
	for i, b := range raw {
		if b == '\n' {
			return entry{etag: string(raw[:i]), body: raw[i+1:]}, true
		}
	}
	return entry{}, false
}

func etagOf(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

func (c *cache) fill(ctx context.Context, id uuid.UUID, e entry) {
	if err := c.rdb.Set(ctx, redisKey(id), encodeEntry(e), c.ttl).Err(); err != nil {
		c.log.WarnContext(ctx, "cache fill failed", "err", err)
	}
	if c.local != nil {
		c.local.Add(id, e)
	}
}

// invalidate drops cached copies after a commit here and tells the other
// replicas. A failure only leaves a stale entry until its TTL, so it is
// logged, not returned.
func (c *cache) invalidate(ctx context.Context, ids ...uuid.UUID) {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = redisKey(id)
		if c.local != nil {
			c.local.Remove(id)
		}
	}
	if err := c.rdb.Del(ctx, keys...).Err(); err != nil {
		c.log.WarnContext(ctx, "cache invalidation failed", "err", err, "keys", keys)
	}
	if c.local == nil {
		return
	}
	for _, id := range ids {
		if err := c.rdb.Publish(ctx, invalidationChannel, id.String()).Err(); err != nil {
			c.log.WarnContext(ctx, "cache invalidation broadcast failed", "err", err)
			return
		}
	}
}

// listen drops local entries other replicas invalidated, until ctx ends.
func (c *cache) listen(ctx context.Context) {
	if c.local == nil {
		return
	}
	sub := c.rdb.Subscribe(ctx, invalidationChannel)
	defer func() { _ = sub.Close() }()
	ch := sub.Channel()
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-ch:
			if !ok {
				return
			}
			if id, err := uuid.Parse(m.Payload); err == nil {
				c.local.Remove(id)
			}
		}
	}
}
