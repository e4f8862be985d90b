package caddymodule

// Twenty-eighth review (b): the HTTP-layer changes of d4e9637 (legacy
// charset relabelled utf-8, X-Sendfile family dropped, Sniff returning
// Text for a body that is one JSON string or number). Each test fails on
// the code as reviewed. Fake data only (13812345678 and 张三 are the
// suite's usual placeholders; a@example.com is reserved).

import (
	"net/http"
	"strings"
	"testing"

	"github.com/piigate/piigate/config"
)

// Sniff now returns Text for a body that is one JSON string, and
// walker.text reads such a string as JSON (walked, field rules and key
// names applied) only when holdsJSON sees '{' or '[' in the raw bytes
// after white space, quotes and backslashes. JSON whose first character
// is written as an escape ("\u007b…", "\u005b…", or a "\n" / "\t" before
// it) decodes, with JSON.parse, to the same object — and the JSON path
// (application/json, or the same string inside an array) walks it
// (startsJSONQuoted reads the escapes) — but the text path only
// content-scans it, so a value found by its key name (person_name under
// "name") reaches the agent in plain. Before d4e9637 the scalar went
// through document() and was masked; this is a regression under every
// sniffed type and in event data.
func TestReview28bScalarStringHoldingEscapedJSON(t *testing.T) {
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent", Scan: "names"})
	for _, scalar := range []string{
		`"\u007b\"name\":\"张三\"}"`,
		`"\u005b{\"name\":\"张三\"}]"`,
		`"\n{\"name\":\"张三\"}"`,
		`"\t[{\"name\":\"张三\"}]"`,
	} {
		// The premise: under application/json the same body is masked.
		rec, _, _ := serveRaw(t, m, []byte(scalar), "Content-Type", "application/json")
		if strings.Contains(rec.Body.String(), "张三") {
			t.Fatalf("premise: application/json %s gave %s", scalar, rec.Body.String())
		}
		for _, c := range []struct{ ct, body string }{
			{"text/plain", scalar},
			{"text/html", scalar},
			{"application/octet-stream", scalar},
			{"", scalar},
			{"text/event-stream", "data: " + scalar + "\n\n"},
		} {
			var hdr []string
			if c.ct != "" {
				hdr = []string{"Content-Type", c.ct}
			}
			rec, _, cut := serveRaw(t, m, []byte(c.body), hdr...)
			if rec.Code == http.StatusOK && cut == nil && strings.Contains(rec.Body.String(), "张三") {
				t.Errorf("%q %s: the name reached the agent: %s", c.ct, scalar, rec.Body.String())
			}
		}
	}
}

// A body (or event data) that is one JSON string is read at two levels
// of escapes (walker.text, levels 2), but an escaped backslash is never
// decoded (textEscapes.decode keeps "\\" as two bytes at both levels), so
// a JavaScript escape behind one ("138\\u00312345678", which JSON.parse
// gives as 138\u00312345678) is not read. The JSON path reads it
// (application/json masks the same body, and so does text/plain when the
// string is inside an array): the same value passes in plain only as a
// scalar under a sniffed type or as event data.
func TestReview28bScalarStringEscapedBackslash(t *testing.T) {
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent", Scan: "names"})
	const scalar = `"138\\u00312345678"`
	rec, _, _ := serveRaw(t, m, []byte(scalar), "Content-Type", "application/json")
	if rec.Body.String() == scalar {
		t.Fatalf("premise: application/json passes %s", scalar)
	}
	rec, _, _ = serveRaw(t, m, []byte("["+scalar+"]"), "Content-Type", "text/plain")
	if rec.Body.String() == "["+scalar+"]" {
		t.Fatalf("premise: text/plain passes [%s]", scalar)
	}
	for _, c := range []struct{ ct, body string }{
		{"text/plain", scalar},
		{"text/html", scalar},
		{"", scalar},
		{"text/event-stream", "data: " + scalar + "\n\n"},
	} {
		var hdr []string
		if c.ct != "" {
			hdr = []string{"Content-Type", c.ct}
		}
		rec, _, cut := serveRaw(t, m, []byte(c.body), hdr...)
		if rec.Code == http.StatusOK && cut == nil && strings.Contains(rec.Body.String(), `138\\u00312345678`) {
			t.Errorf("%q: the mobile behind an escaped \\u escape reached the agent: %s", c.ct, rec.Body.String())
		}
	}
}

// `caddy pii scan` sniffs its stdin: a body that is one JSON string is now
// Text (command_scan.go parseFormat → rewrite.Sniff), read by walker.text,
// while the gateway reads the same body from an application/json upstream
// as JSON (document). The readings differ: "138\t1234\t5678" is left as it
// is by the gateway and shown masked by scan ("138 **** 5678") — scan
// tells the admin the value is hidden while the agent gets it. Before
// d4e9637 both read JSON and agreed.
func TestReview28bScanScalarAgreesWithGateway(t *testing.T) {
	body := `"138\t1234\t5678"`
	gw, scan := compareScanWithGateway(t, `
	bind 127.0.0.1
	pii_mask {
		roles_from {http.request.header.X-Test-Role}
	}
	reverse_proxy UPSTREAM`, "/api/customers", "online_agent", body)
	if gw != scan {
		t.Errorf("gateway sends %s\ncaddy pii scan shows %s", gw, scan)
	}
}

// fixHeader drops X-Accel-Redirect, X-Sendfile, X-Sendfile2 and the
// lighttpd names, but not the other instructions a server in front acts
// on in the same way, sending what they name instead of the view:
// X-Sendfile-Temporary (Apache mod_xsendfile 1.0, an output filter that
// also applies to proxied responses), X-Reproxy-URL (Perlbal, H2O's
// proxy.reproxy, Apache mod_reproxy) and X-LiteSpeed-Location (LiteSpeed's
// internal redirect).
func TestReview28bSendFileFamilyDropped(t *testing.T) {
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent", Scan: "names",
		Fields: []config.Field{{Path: "mobile", Type: "cn_mobile"}}})
	names := []string{"X-Sendfile-Temporary", "X-Reproxy-Url", "X-Litespeed-Location"}
	hdr := []string{"Content-Type", "application/json"}
	for _, n := range names {
		hdr = append(hdr, n, "/internal/export/customers.json")
	}
	rec, _, _ := serveRaw(t, m, []byte(`{"mobile":"13812345678"}`), hdr...)
	if rec.Code != http.StatusOK {
		t.Fatalf("premise: %d %s", rec.Code, rec.Body.String())
	}
	for _, n := range names {
		if v := rec.Header().Get(n); v != "" {
			t.Errorf("%s: %s passed on to the server in front", n, v)
		}
	}
}
