package platform

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	alb := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16"), netip.MustParsePrefix("::1/128")}
	for _, c := range []struct {
		name, peer, xff string
		trusted         []netip.Prefix
		want            string
	}{
		{"no proxy trusted: the header is ignored", "203.0.113.9:5000", "198.51.100.1", nil, "203.0.113.9"},
		{"untrusted peer forging the header", "203.0.113.9:5000", "10.0.0.1", alb, "203.0.113.9"},
		{"behind the ALB", "10.0.3.4:443", "198.51.100.7", alb, "198.51.100.7"},
		{"client-written hops to the left are ignored", "10.0.3.4:443", "1.2.3.4, 198.51.100.7", alb, "198.51.100.7"},
		{"two trusted hops", "10.0.3.4:443", "198.51.100.7, 10.0.9.9", alb, "198.51.100.7"},
		{"malformed hop", "10.0.3.4:443", "198.51.100.7, junk", alb, "10.0.3.4"},
		{"trusted peer, no header", "10.0.3.4:443", "", alb, "10.0.3.4"},
		{"IPv6 loopback as run-local", "[::1]:8080", "192.0.2.5", alb, "192.0.2.5"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := ClientIP(r, c.trusted); got.String() != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}
