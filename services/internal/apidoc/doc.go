// Package apidoc holds the tests of the four services' OpenAPI documents
// as a whole: each loads, validates and shares the common parts (the
// problem shape, the platform routes, the security scheme) with the others.
// Each document lives beside its service (internal/<service>/openapi.yaml).
package apidoc
