package config

// Services are the bundled services. Each owns one database, one runtime
// secret, IAM role and access policy per region and, when it consumes
// events, one queue per region.
var Services = []string{"auth", "user", "product", "order"}

// TokenIssuer is the service that signs access tokens (the others verify
// them through its JWKS); it alone gets the signing key.
const TokenIssuer = "auth"

// Calls are the service-to-service calls inside a region: the caller gets
// the callee's in-cluster URL, and its network policy admits the caller.
var Calls = map[string][]string{"order": {"product"}}
