// Found by the eighth review (each failed before its fix, but TestDecodeValidBodies, which checks that valid compressed bodies still pass): data format labels, SVG under pass_types, scripts and JSONP through pii_mask.

package caddymodule

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/klauspost/compress/zstd"

	"github.com/piigate/piigate/config"
)

func upstreamAnswer(ct, body string) caddyhttp.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", ct)
		_, err := io.WriteString(w, body)
		return err
	}
}

// CSV under the other labels apps send it with escapes the refusal.
func TestDataFormatLabels(t *testing.T) {
	fields := []config.Field{{Path: "data.#.name", Type: "person_name"}}
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent", Scan: "off", Fields: fields})
	csv := "id,name,address\n1,张三,北京市朝阳区建国路88号\n"
	for _, ct := range []string{"text/x-csv", "text/comma-separated-values", "text/x-comma-separated-values", "TEXT/CSV; charset=utf-8", "application/rss+xml; charset=UTF-8"} {
		body := csv
		if strings.Contains(ct, "xml") {
			body = `<rss><item><name>张三</name></item></rss>`
		}
		rec, _ := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/customers.csv", nil), upstreamAnswer(ct, body))
		if rec.Code != http.StatusBadGateway || strings.Contains(rec.Body.String(), "张三") {
			t.Errorf("%s: %d %q, want a 502", ct, rec.Code, rec.Body)
		}
	}
}

// pass_types image/* (README: guard the whole site, "then pass_types for
// images and fonts") does not pass an SVG: +xml is sniffed before
// pass_types is read, and now refused as a data format.
func TestSVGUnderPassTypes(t *testing.T) {
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent", PassTypes: []string{"image/*"}})
	svg := `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><circle r="4"/></svg>`
	rec, vars := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/static/logo.svg", nil), upstreamAnswer("image/svg+xml", svg))
	if rec.Code != 200 || rec.Body.String() != svg {
		t.Errorf("svg: %d %q (reason %q)", rec.Code, rec.Body, vars[varOutcome].(*Outcome).Reason)
	}
}

// A data-format body that the JSONP recogniser accepts but whose argument
// is not JSON falls back to text after the data-format check.
func TestDataFormatViaJSONPFallback(t *testing.T) {
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent"}) // scan names
	csv := "f([name,address\n张三,北京市朝阳区建国路88号\n])"
	rec, vars := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/customers.csv", nil), upstreamAnswer("text/csv", csv))
	if rec.Code != http.StatusBadGateway || strings.Contains(rec.Body.String(), "张三") {
		t.Errorf("%d %q (format %q), want a 502", rec.Code, rec.Body, vars[varOutcome].(*Outcome).Format)
	}
}

// A one-cell CSV (or a YAML document that is one quoted string) is a JSON
// string: sniffed as JSON, not refused.
func TestDataFormatScalar(t *testing.T) {
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent"})
	for _, c := range []struct{ ct, body string }{
		{"text/csv", "\"张三,北京市朝阳区建国路88号\"\r\n"},
		{"text/yaml", "\"北京市朝阳区建国路88号\"\n"},
	} {
		rec, vars := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/x", nil), upstreamAnswer(c.ct, c.body))
		if rec.Code != http.StatusBadGateway || strings.Contains(rec.Body.String(), "建国路") {
			t.Errorf("%s: %d %q (format %q), want a 502", c.ct, rec.Code, rec.Body, vars[varOutcome].(*Outcome).Format)
		}
	}
}

// Valid encodings that must still decode.
func TestDecodeValidBodies(t *testing.T) {
	gz := func(s string) []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		io.WriteString(w, s)
		w.Close()
		return b.Bytes()
	}
	zs := func(s string) []byte {
		enc, _ := zstd.NewWriter(nil)
		return enc.EncodeAll([]byte(s), nil)
	}
	br := func(s string) []byte {
		var b bytes.Buffer
		w := brotli.NewWriter(&b)
		io.WriteString(w, s)
		w.Close()
		return b.Bytes()
	}
	skippable := []byte{0x50, 0x2A, 0x4D, 0x18, 4, 0, 0, 0, 1, 2, 3, 4}
	for name, c := range map[string]struct {
		b   []byte
		enc string
		ok  bool
	}{
		"gzip two members":      {append(gz(`{"a":`), gz(`1}`)...), "gzip", false}, // browsers read the first only
		"zstd two frames":       {append(zs(`{"a":`), zs(`1}`)...), "zstd", true},
		"zstd skippable after":  {append(zs(`{"a":1}`), skippable...), "zstd", true},
		"zstd skippable before": {append(append([]byte{}, skippable...), zs(`{"a":1}`)...), "zstd", true},
		"br":                    {br(`{"a":1}`), "br", true},
		"br then junk":          {append(br(`{"a":1}`), "13812345678"...), "br", false},
		"zstd then junk":        {append(zs(`{"a":1}`), "13812345678"...), "zstd", false},
		"zstd then 2 bytes":     {append(zs(`{"a":1}`), "13"...), "zstd", false},
		"gzip then zeros":       {append(gz(`{"a":1}`), make([]byte, 16)...), "gzip", false},
		"gzip then junk":        {append(gz(`{"a":1}`), "13812345678"...), "gzip", false},
	} {
		out, err := decodeBody(c.b, []string{c.enc}, 1<<20)
		if (err == nil) != c.ok {
			t.Errorf("%s: %q %v (want ok=%v)", name, out, err, c.ok)
		}
	}
}

// Through the gateway: a script with an escaped mobile gets, after its
// masked view, the tail of the upstream's bytes; a JSONP body's comments
// pass unscanned (they were content-scanned as text before JSONP).
func TestGatewayScriptAndJSONP(t *testing.T) {
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent", Scan: "all"})
	const a = `\u0031\u0033\u0038\u0031\u0032\u0033\u0034\u0035\u0036\u0037\u0038`
	const b = `\u0031\u0033\u0039\u0038\u0037\u0036\u0035\u0034\u0033\u0032\u0031`
	for _, c := range []struct{ body, secret string }{
		{`var a = "` + a + `"; var b = "` + b + `";`, b},
		{`/* debug: 13812345678 zhang.san@example.com */ cb({"id":1});`, "13812345678"},
	} {
		rec, vars := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/x.js", nil), upstreamAnswer("text/javascript", c.body))
		if rec.Code != 200 || strings.Contains(rec.Body.String(), c.secret) {
			t.Errorf("%d %q (format %q)", rec.Code, rec.Body, vars[varOutcome].(*Outcome).Format)
		}
	}
}
