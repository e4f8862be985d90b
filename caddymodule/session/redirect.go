package session

import "net/url"

// maxReturnLen bounds a return path: it travels inside the login-flow
// cookie, and browsers drop cookies over 4 KB.
const maxReturnLen = 1024

// SafeReturn reports whether raw is a same-origin path the gateway may
// redirect to after login, and returns it cleaned. Only a path (with
// optional query) that starts with exactly one "/" qualifies. Rejected:
// anything with a scheme or host ("https://evil", "//evil"), backslashes
// (browsers read "/\evil" as "//evil"), control characters and spaces
// (stripped by browsers, so "/\t/evil" becomes "//evil"), and the
// percent-encoded forms of those ("/%2F%2Fevil", "/%5Cevil"), which some
// upstreams and proxies decode before redirecting again.
func SafeReturn(raw string) (string, bool) {
	if raw == "" || len(raw) > maxReturnLen {
		return "", false
	}
	// Check the value as given and once decoded, so encoded variants get
	// the same verdict as their plain forms.
	dec, err := url.PathUnescape(raw)
	if err != nil {
		return "", false
	}
	for _, s := range []string{raw, dec} {
		if !plainPath(s) {
			return "", false
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	// Fragments never reach the server; drop one that was sent anyway.
	u.Fragment, u.RawFragment = "", ""
	return u.RequestURI(), true
}

func plainPath(s string) bool {
	if len(s) == 0 || s[0] != '/' {
		return false
	}
	if len(s) > 1 && (s[1] == '/' || s[1] == '\\') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f || c == '\\' {
			return false
		}
	}
	return true
}
