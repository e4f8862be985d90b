// Command caddy is Caddy with its standard modules plus piigate: what
// `xcaddy build --with github.com/piigate/piigate` produces.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"
	_ "github.com/piigate/piigate/caddymodule"
)

func main() {
	caddycmd.Main()
}
