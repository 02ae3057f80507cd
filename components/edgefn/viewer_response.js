// After a write the master region accepted, tells the client's next
// reads to follow it there for a few seconds (see viewer_request.js):
// long enough to cover the replicas' lag, short enough that the client is
// soon back on its nearest region. The placeholders are filled in by the
// program (components/edgefn).
var STICKY_COOKIE = '__STICKY_COOKIE__';
var STICKY_SECONDS = __STICKY_SECONDS__;

var READS = { GET: true, HEAD: true, OPTIONS: true };

function handler(event) {
    var response = event.response;
    var status = parseInt(response.statusCode, 10);
    if (READS[event.request.method] || status >= 400) {
        return response;
    }
    var until = Math.floor(Date.now() / 1000) + STICKY_SECONDS;
    response.cookies[STICKY_COOKIE] = {
        value: String(until),
        attributes: 'Max-Age=' + STICKY_SECONDS + '; Path=/; Secure; HttpOnly; SameSite=Lax'
    };
    return response;
}
