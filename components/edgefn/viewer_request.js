import cf from 'cloudfront';

// Sends every request that may write to the master region's origin, where
// the primaries are, and leaves reads to latency routing (the
// distribution's origin answers from the nearest healthy region). A
// client that wrote a moment ago carries the sticky cookie: its reads go
// to the master region too until the cookie expires, so it reads its own
// writes whatever the replicas' lag. The placeholders are filled in by
// the program (components/edgefn).
var MASTER_ORIGIN = '__MASTER_ORIGIN__';
var STICKY_COOKIE = '__STICKY_COOKIE__';

var READS = { GET: true, HEAD: true, OPTIONS: true };

function handler(event) {
    var request = event.request;
    if (!READS[request.method] || recentWriter(request)) {
        cf.updateRequestOrigin({ domainName: MASTER_ORIGIN });
    }
    return request;
}

// recentWriter: the cookie holds the second (Unix time) its stickiness
// ends; an expired or malformed one counts as none.
function recentWriter(request) {
    var cookie = request.cookies[STICKY_COOKIE];
    if (!cookie) {
        return false;
    }
    var until = parseInt(cookie.value, 10);
    return until > Math.floor(Date.now() / 1000);
}
