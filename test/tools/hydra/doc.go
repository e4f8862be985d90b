// Package hydra only anchors this nested module, which exists to build Ory
// Hydra (a real OpenID Connect provider) as a `go tool` for piigate's
// end-to-end tests while keeping Hydra's dependencies out of the plugin's
// module graph. Build it with:
//
//	go build -tags sqlite,sqlite_omit_load_extension -o hydra github.com/ory/hydra/v2
//
// from this directory; test/e2e does so (once, cached under test/.cache/).
// The replace directive in go.mod repeats the one in Hydra's own go.mod,
// without which Hydra's dependencies do not resolve.
package hydra
