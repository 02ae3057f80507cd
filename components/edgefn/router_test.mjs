// Runs the rendered CloudFront Functions under Node with the `cloudfront`
// module stubbed: `node router_test.mjs <viewer_request.js> <viewer_response.js>`
// (edgefn_test.go renders the code and runs this). CloudFront's runtime is
// not Node, so the code avoids anything Node has and CloudFront lacks.
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import test from 'node:test';
import assert from 'node:assert/strict';

const [requestFile, responseFile] = process.argv.slice(2);
const MASTER = 'api.us-east-1.shop.example.com';
const STICKY = 5;

// load evaluates a function's code with `cf` recording origin changes and
// Date.now pinned, and returns its handler.
function load(file, now) {
    const code = readFileSync(file, 'utf8').replace("import cf from 'cloudfront';", '');
    const origins = [];
    const context = vm.createContext({
        // A copy made in this realm: objects from the function's context
        // have other prototypes and never compare equal.
        cf: { updateRequestOrigin: (o) => origins.push(JSON.parse(JSON.stringify(o))) },
        Date: { now: () => now * 1000 },
        parseInt, String, Math,
    });
    const handler = vm.runInContext(code + '\n;handler', context);
    return { handler, origins };
}

const NOW = 1_800_000_000;

function request(method, uri, cookies = {}) {
    return { request: { method, uri, querystring: {}, headers: {}, cookies } };
}

for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
    test(`${method} goes to the master region`, () => {
        const { handler, origins } = load(requestFile, NOW);
        const out = handler(request(method, '/v1/orders'));
        assert.equal(out.method, method);
        assert.deepEqual(origins, [{ domainName: MASTER }]);
    });
}

for (const method of ['GET', 'HEAD', 'OPTIONS']) {
    test(`${method} follows latency routing`, () => {
        const { handler, origins } = load(requestFile, NOW);
        handler(request(method, '/v1/products/42'));
        assert.deepEqual(origins, []);
    });
}

test('a recent writer reads from the master region', () => {
    const { handler, origins } = load(requestFile, NOW);
    handler(request('GET', '/v1/orders/1', { 'ecommerce-rw': { value: String(NOW + 3) } }));
    assert.deepEqual(origins, [{ domainName: MASTER }]);
});

test('an expired or malformed cookie is ignored', () => {
    for (const value of [String(NOW), String(NOW - 60), 'soon', '']) {
        const { handler, origins } = load(requestFile, NOW);
        handler(request('GET', '/v1/orders/1', { 'ecommerce-rw': { value } }));
        assert.deepEqual(origins, [], `cookie ${JSON.stringify(value)}`);
    }
});

test('other cookies do not route', () => {
    const { handler, origins } = load(requestFile, NOW);
    handler(request('GET', '/v1/products', { session: { value: String(NOW + 100) } }));
    assert.deepEqual(origins, []);
});

function response(method, status) {
    return { request: { method, uri: '/v1/orders', cookies: {} }, response: { statusCode: status, headers: {}, cookies: {} } };
}

test('a successful write sets the sticky cookie for its seconds', () => {
    const { handler } = load(responseFile, NOW);
    for (const status of [200, 201, 202, 204]) {
        const out = handler(response('POST', status));
        const c = out.cookies['ecommerce-rw'];
        assert.ok(c, `status ${status}`);
        assert.equal(c.value, String(NOW + STICKY));
        assert.match(c.attributes, new RegExp(`Max-Age=${STICKY}`));
        for (const attr of ['Secure', 'HttpOnly', 'SameSite=Lax', 'Path=/']) {
            assert.ok(c.attributes.includes(attr), attr);
        }
    }
});

test('reads and failed writes set no cookie', () => {
    const { handler } = load(responseFile, NOW);
    for (const [method, status] of [['GET', 200], ['HEAD', 200], ['POST', 400], ['PATCH', 409], ['POST', 421], ['PUT', 503]]) {
        const out = handler(response(method, status));
        assert.deepEqual(out.cookies, {}, `${method} ${status}`);
    }
});

test('the cookie a write sets routes the next read, then expires', () => {
    const resp = load(responseFile, NOW).handler(response('PUT', 200));
    const cookie = { 'ecommerce-rw': { value: resp.cookies['ecommerce-rw'].value } };
    const soon = load(requestFile, NOW + STICKY - 1);
    soon.handler(request('GET', '/v1/products/7', cookie));
    assert.deepEqual(soon.origins, [{ domainName: MASTER }]);
    const later = load(requestFile, NOW + STICKY);
    later.handler(request('GET', '/v1/products/7', cookie));
    assert.deepEqual(later.origins, []);
});
