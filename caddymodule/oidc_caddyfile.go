package caddymodule

import (
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("pii_oidc", parseOIDCCaddyfile)
	// Authentication comes where Caddy's own does, so pii_mask (ordered
	// after encode) always sees the identity pii_oidc set.
	httpcaddyfile.RegisterDirectiveOrder("pii_oidc", httpcaddyfile.After, "forward_auth")
}

func parseOIDCCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	o := new(OIDC)
	err := o.UnmarshalCaddyfile(h.Dispenser)
	return o, err
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens:
//
//	pii_oidc {
//		issuer        <url>
//		client_id     <id>
//		client_secret <secret>
//		redirect_url  <url>
//		scopes        <scope...>
//		session_key   <base64 key>      # repeat to rotate: the first encrypts
//		cookie_name   <name>
//		insecure_cookie
//		session_lifetime <duration>
//		idle_timeout     <duration>|off
//		login_path    <path>
//		logout_path   <path>
//		post_logout_redirect_url <url>
//		user_id_claim <claim path>
//		name_claim    <claim path>
//		email_claim   <claim path>
//		roles_claim   <claim path>
//		role <gateway role> from <provider value...>
//		identity_header id|roles|name|email <Header-Name>
//		signing_algs  <alg...>
//		provider_timeout <duration>
//		bearer {
//			audience      <aud>
//			user_id_claim <claim path>
//			roles_claim   <claim path>
//		}
//	}
func (o *OIDC) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		switch sub := d.Val(); sub {
		case "issuer", "client_id", "client_secret", "redirect_url", "cookie_name",
			"login_path", "logout_path", "post_logout_redirect_url",
			"user_id_claim", "name_claim", "email_claim", "roles_claim":
			var v string
			if !d.AllArgs(&v) {
				return d.ArgErr()
			}
			*o.stringField(sub) = v
		case "scopes":
			o.Scopes = d.RemainingArgs()
			if len(o.Scopes) == 0 {
				return d.ArgErr()
			}
		case "signing_algs":
			o.SigningAlgs = d.RemainingArgs()
			if len(o.SigningAlgs) == 0 {
				return d.ArgErr()
			}
		case "session_key":
			var v string
			if !d.AllArgs(&v) {
				return d.ArgErr()
			}
			o.SessionKeys = append(o.SessionKeys, v)
		case "insecure_cookie":
			if d.NextArg() {
				return d.ArgErr()
			}
			o.InsecureCookie = true
		case "session_lifetime", "provider_timeout":
			dur, err := parseDurationArg(d, sub)
			if err != nil {
				return err
			}
			if sub == "session_lifetime" {
				o.SessionLifetime = dur
			} else {
				o.ProviderTimeout = dur
			}
		case "idle_timeout":
			if !d.NextArg() {
				return d.ArgErr()
			}
			if d.Val() == "off" {
				o.IdleTimeout = -1
			} else {
				d.Prev()
				dur, err := parseDurationArg(d, sub)
				if err != nil {
					return err
				}
				o.IdleTimeout = dur
			}
		case "role":
			args := d.RemainingArgs()
			if len(args) < 3 || args[1] != "from" {
				return d.Errf("role: want `role <gateway role> from <provider value...>`, got %q", args)
			}
			if o.Roles == nil {
				o.Roles = map[string][]string{}
			}
			o.Roles[args[0]] = append(o.Roles[args[0]], args[2:]...)
		case "identity_header":
			var field, header string
			if !d.AllArgs(&field, &header) {
				return d.ArgErr()
			}
			if o.IdentityHeaders == nil {
				o.IdentityHeaders = new(OIDCIdentityHeaders)
			}
			switch field {
			case "id":
				o.IdentityHeaders.ID = header
			case "roles":
				o.IdentityHeaders.Roles = header
			case "name":
				o.IdentityHeaders.Name = header
			case "email":
				o.IdentityHeaders.Email = header
			default:
				return d.Errf("identity_header: unknown field %q (want id, roles, name or email)", field)
			}
		case "bearer":
			if d.NextArg() {
				return d.ArgErr()
			}
			o.Bearer = new(OIDCBearer)
			for nesting := d.Nesting(); d.NextBlock(nesting); {
				var v string
				field := d.Val()
				if !d.AllArgs(&v) {
					return d.ArgErr()
				}
				switch field {
				case "audience":
					o.Bearer.Audience = v
				case "user_id_claim":
					o.Bearer.UserIDClaim = v
				case "roles_claim":
					o.Bearer.RolesClaim = v
				default:
					return d.Errf("bearer: unknown subdirective %q", field)
				}
			}
		default:
			return d.Errf("unknown subdirective %q", sub)
		}
	}
	return nil
}

func (o *OIDC) stringField(name string) *string {
	return map[string]*string{
		"issuer":                   &o.Issuer,
		"client_id":                &o.ClientID,
		"client_secret":            &o.ClientSecret,
		"redirect_url":             &o.RedirectURL,
		"cookie_name":              &o.CookieName,
		"login_path":               &o.LoginPath,
		"logout_path":              &o.LogoutPath,
		"post_logout_redirect_url": &o.PostLogoutRedirectURL,
		"user_id_claim":            &o.UserIDClaim,
		"name_claim":               &o.NameClaim,
		"email_claim":              &o.EmailClaim,
		"roles_claim":              &o.RolesClaim,
	}[name]
}

func parseDurationArg(d *caddyfile.Dispenser, name string) (caddy.Duration, error) {
	if !d.NextArg() {
		return 0, d.ArgErr()
	}
	dur, err := caddy.ParseDuration(d.Val())
	if err != nil {
		return 0, d.Errf("%s %q: %w", name, d.Val(), err)
	}
	if d.NextArg() {
		return 0, d.ArgErr()
	}
	return caddy.Duration(dur), nil
}

// Interface guard
var _ caddyfile.Unmarshaler = (*OIDC)(nil)
