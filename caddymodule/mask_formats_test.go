package caddymodule

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddytest"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/piigate/piigate/config"
)

// TestMaskRefusesDataAfterTheStream: bytes after the end of a compressed
// stream (which the deflate decoder stops before) are refused, not passed
// on with an unchanged body that the agent could read them in.
func TestMaskRefusesDataAfterTheStream(t *testing.T) {
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent", Scan: "all"})
	zl := func(b string) []byte {
		var o bytes.Buffer
		w := zlib.NewWriter(&o)
		io.WriteString(w, b)
		w.Close()
		return o.Bytes()
	}
	fl := func(b string) []byte {
		var o bytes.Buffer
		w, _ := flate.NewWriter(&o, flate.BestSpeed)
		io.WriteString(w, b)
		w.Close()
		return o.Bytes()
	}
	secret := `{"mobile":"` + tMobile + `"}`
	for name, c := range map[string]struct {
		body []byte
		enc  string
	}{
		"zlib, then zlib":        {append(zl(`{"n":1}`), zl(secret)...), "deflate"},
		"zlib, then text":        {append(zl(`{"n":1}`), secret...), "deflate"},
		"raw deflate, then text": {append(fl(`{"n":1}`), secret...), "deflate"},
	} {
		rec, _ := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/x", nil),
			func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Encoding", c.enc)
				_, err := w.Write(c.body)
				return err
			})
		if rec.Code != http.StatusBadGateway || bytes.Contains(rec.Body.Bytes(), c.body[len(c.body)-8:]) {
			t.Errorf("%s: %d %q, want a 502 without the upstream's bytes", name, rec.Code, rec.Body)
		}
		if strings.Contains(rec.Body.String(), tMobile) {
			t.Errorf("%s: the mobile reached the agent: %q", name, rec.Body)
		}
	}
	// The stream alone still passes (and is masked).
	rec, _ := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/x", nil),
		func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "deflate")
			_, err := w.Write(zl(secret))
			return err
		})
	zr, err := zlib.NewReader(rec.Body)
	if rec.Code != 200 || err != nil {
		t.Fatalf("one stream: %d %v", rec.Code, err)
	}
	if got, _ := io.ReadAll(zr); !strings.Contains(string(got), "138****5678") {
		t.Errorf("one stream: %q", got)
	}
}

// TestMaskRefusesPartialContent: Range's old name, Request-Range (which
// Apache httpd still honours), is removed as Range is, and a 206 from an
// upstream that slices a body anyway is refused: a value cut in two
// slices is in neither for the detectors to find.
func TestMaskRefusesPartialContent(t *testing.T) {
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent", Scan: "all"})
	page := "<html><body><p>客户电话 " + tMobile + "</p></body></html>"
	j := strings.Index(page, tMobile)
	// As Apache's byterange filter: Range, or else Request-Range.
	ranged := func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		rng := r.Header.Get("Range")
		if rng == "" {
			rng = r.Header.Get("Request-Range")
		}
		if rng != "" {
			var a, b int
			if _, err := fmt.Sscanf(rng, "bytes=%d-%d", &a, &b); err != nil || a > b || b >= len(page) {
				return fmt.Errorf("bad range %q", rng)
			}
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", a, b, len(page)))
			w.WriteHeader(http.StatusPartialContent)
			_, err := io.WriteString(w, page[a:b+1])
			return err
		}
		_, err := io.WriteString(w, page)
		return err
	}
	for _, hdr := range []string{"Range", "Request-Range"} {
		req := httptest.NewRequest(http.MethodGet, "/api/page", nil)
		req.Header.Set(hdr, fmt.Sprintf("bytes=%d-%d", j, j+5))
		rec, _ := serveMask(t, m, req, ranged)
		if rec.Code != 200 || strings.Contains(rec.Body.String(), tMobile[:6]) || !strings.Contains(rec.Body.String(), "138****5678") {
			t.Errorf("%s: %d %q, want the whole page, masked", hdr, rec.Code, rec.Body)
		}
	}
	// Any other way to a 206: refused, the slice not passed on.
	rec, vars := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/page", nil),
		func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", j, j+5, len(page)))
			w.WriteHeader(http.StatusPartialContent)
			_, err := io.WriteString(w, page[j:j+6])
			return err
		})
	if rec.Code != http.StatusBadGateway || strings.Contains(rec.Body.String(), tMobile[:6]) {
		t.Errorf("206: %d %q, want a 502 without the slice", rec.Code, rec.Body)
	}
	if out := vars[varOutcome].(*Outcome); out.Reason != reasonPartial {
		t.Errorf("206: reason %q, want %q", out.Reason, reasonPartial)
	}
}

// trailerBody is a request body that, at its end, adds trailers to the
// request's Trailer map, as net/http does.
type trailerBody struct {
	r            io.Reader // not embedded: io.Copy would use its WriteTo
	trailer, add http.Header
}

func (b *trailerBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		for k, v := range b.add {
			b.trailer[k] = v
		}
	}
	return n, err
}

func (b *trailerBody) Close() error { return nil }

// TestMaskStripsIdentityTrailers: identity headers (and the stripped ones)
// sent as request trailers never reach the upstream, through pii_mask in
// a unit and through a real Caddy (whose reverse_proxy forwards request
// trailers).
func TestMaskStripsIdentityTrailers(t *testing.T) {
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent", StripRequestHeaders: []string{"X-Remote-User"}})
	req := httptest.NewRequest(http.MethodPost, "/api/x", nil)
	req.Trailer = http.Header{"X-Checksum": nil}
	req.Body = &trailerBody{r: strings.NewReader("q=1"), trailer: req.Trailer,
		add: http.Header{"X-Checksum": {"1"}, "X-Remote-User": {"admin"}, "X_remote_user": {"admin"}}}
	var got http.Header
	serveMask(t, m, req, func(w http.ResponseWriter, r *http.Request) error {
		io.Copy(io.Discard, r.Body)
		got = r.Trailer.Clone()
		w.Header().Set("Content-Type", "application/json")
		_, err := io.WriteString(w, `{}`)
		return err
	})
	if len(got) != 1 || got.Get("X-Checksum") != "1" {
		t.Errorf("trailers after pii_mask: %v, want only X-Checksum", got)
	}

	if testing.Short() {
		return
	}
	ensureAdmin(t)
	o := newOrigin(t)
	o.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"header":%q,"trailer":%q,"checksum":%q}`,
			r.Header.Get("X-Remote-User"), r.Trailer.Get("X-Remote-User"), r.Trailer.Get("X-Checksum"))
	})
	tc := caddytest.NewTester(t)
	tc.InitServer(`{
	skip_install_trust
	admin localhost:2999
	http_port 9080
	https_port 9443
	pii {
		role online_agent {
			* redact
		}
	}
}
http://localhost:9080 {
	pii_mask /api/* {
		roles_from {http.request.header.X-Test-Role}
		strip_request_header X-Remote-User
	}
	reverse_proxy `+o.Listener.Addr().String()+`
}
`, "caddyfile")
	pr, pw := io.Pipe()
	go func() {
		io.WriteString(pw, "q=1")
		pw.Close()
	}()
	r, _ := http.NewRequest(http.MethodPost, "http://localhost:9080/api/whoami", pr)
	r.ContentLength = -1
	r.Header.Set("X-Test-Role", "online_agent")
	r.Header.Set("X-Remote-User", "forged-in-header")
	r.Trailer = http.Header{"X-Remote-User": {"admin"}, "X-Checksum": {"1"}}
	resp, err := tcDo(tc, r)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `{"header":"","trailer":"","checksum":"1"}`; string(body) != want {
		t.Errorf("the upstream received %s, want %s", body, want)
	}
}

// TestMaskJSONP: the same record asked for as JSONP (?callback=cb, as
// Express's res.jsonp and many legacy APIs answer) gets the field rules
// and key names of the JSON, not only content detection; a script that
// only looks like such a call is content-scanned as text.
func TestMaskJSONP(t *testing.T) {
	const doc = `{"data":[{"id":1,"name":"张三","address":"北京市朝阳区建国路88号","mobile":"` + tMobile + `"}]}`
	legacy := func(w http.ResponseWriter, r *http.Request) error {
		if cb := r.URL.Query().Get("callback"); cb != "" {
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
			_, err := io.WriteString(w, "/**/ typeof "+cb+" === 'function' && "+cb+"("+doc+");")
			return err
		}
		w.Header().Set("Content-Type", "application/json")
		_, err := io.WriteString(w, doc)
		return err
	}
	for _, m := range []*Mask{
		provisionedMask(t, &Mask{RolesFrom: "online_agent", Scan: "off", Fields: []config.Field{
			{Path: "data.#.name", Type: "person_name"}, {Path: "data.#.address", Type: "address"},
			{Path: "data.#.mobile", Type: "cn_mobile"}}}),
		provisionedMask(t, &Mask{RolesFrom: "online_agent", Scan: "names"}),
	} {
		for _, target := range []string{"/api/customers", "/api/customers?callback=cb"} {
			rec, vars := serveMask(t, m, httptest.NewRequest(http.MethodGet, target, nil), legacy)
			v := rec.Body.String()
			if rec.Code != 200 || strings.Contains(v, "张三") || strings.Contains(v, "建国路") || strings.Contains(v, tMobile) {
				t.Errorf("scan %s, %s: %d %s", m.Scan, target, rec.Code, v)
			}
			if strings.Contains(target, "callback") {
				if !strings.HasPrefix(v, "/**/ typeof cb === 'function' && cb({") || !strings.HasSuffix(v, "});") {
					t.Errorf("scan %s: the call is not kept: %s", m.Scan, v)
				}
				if f := vars[varOutcome].(*Outcome).Format; f != "jsonp" {
					t.Errorf("scan %s: format %q", m.Scan, f)
				}
			}
		}
	}
	// A script that looks like a call but whose argument is not JSON.
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent", Scan: "off"})
	rec, vars := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/x.js", nil),
		func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "application/javascript")
			_, err := io.WriteString(w, `cb({phone: "`+tMobile+`"});`)
			return err
		})
	if v := rec.Body.String(); rec.Code != 200 || v != `cb({phone: "138****5678"});` {
		t.Errorf("script: %d %q", rec.Code, v)
	}
	if f := vars[varOutcome].(*Outcome).Format; f != "text" {
		t.Errorf("script: format %q", f)
	}
}

// TestMaskDataFormats: a successful response in a data format other than
// JSON (XML, CSV, YAML, form data), which a client can often ask for
// instead (Accept: application/xml, ?format=xml), cannot have the
// route's field rules or key names applied: refused unless data_formats
// scan lets it through content-scanned. Pages, error responses, JSON
// under an XML label and routes without such rules are as before.
func TestMaskDataFormats(t *testing.T) {
	fields := []config.Field{{Path: "data.#.name", Type: "person_name"}, {Path: "data.#.mobile", Type: "cn_mobile"}}
	const doc = `{"data":[{"id":1,"name":"张三","mobile":"` + tMobile + `"}]}`
	const xml = `<?xml version="1.0" encoding="UTF-8"?><Response><data><item><id>1</id><name>张三</name><mobile>` + tMobile + `</mobile></item></data></Response>`
	// As ASP.NET Web API and Spring with an XML mapper answer: by Accept.
	legacy := func(status int, ct, body string) caddyhttp.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) error {
			if strings.Contains(r.Header.Get("Accept"), "json") {
				ct, body = "application/json", doc
			}
			w.Header().Set("Content-Type", ct)
			w.WriteHeader(status)
			_, err := io.WriteString(w, body)
			return err
		}
	}
	ask := func(m *Mask, accept string, next caddyhttp.HandlerFunc) (*httptest.ResponseRecorder, *Outcome) {
		req := httptest.NewRequest(http.MethodGet, "/api/customers", nil)
		req.Header.Set("Accept", accept)
		rec, vars := serveMask(t, m, req, next)
		return rec, vars[varOutcome].(*Outcome)
	}
	byDefault := provisionedMask(t, &Mask{RolesFrom: "online_agent", Scan: "off", Fields: fields})
	names := provisionedMask(t, &Mask{RolesFrom: "online_agent"}) // scan names, the default
	for _, c := range []struct{ ct, body string }{
		{"application/xml; charset=utf-8", xml},
		{"text/xml", xml},
		{"application/atom+xml", xml},
		{"text/csv", "id,name,mobile\n1,张三," + tMobile + "\n"},
		{"text/yaml", "data:\n- id: 1\n  name: 张三\n  mobile: '" + tMobile + "'\n"},
		{"application/x-www-form-urlencoded", "id=1&name=张三&mobile=" + tMobile},
	} {
		for _, m := range []*Mask{byDefault, names} {
			rec, out := ask(m, "application/xml", legacy(200, c.ct, c.body))
			if rec.Code != http.StatusBadGateway || strings.Contains(rec.Body.String(), "张三") || out.Reason != reasonDataFormat {
				t.Errorf("%s, scan %q: %d %q (reason %q), want a 502", c.ct, m.Scan, rec.Code, rec.Body, out.Reason)
			}
		}
		// The same resource as JSON: its rules apply.
		if rec, _ := ask(byDefault, "application/json", legacy(200, c.ct, c.body)); rec.Code != 200 ||
			rec.Body.String() != `{"data":[{"id":1,"name":"[person_name]","mobile":"138****5678"}]}` {
			t.Errorf("%s, as JSON: %d %q", c.ct, rec.Code, rec.Body)
		}
	}
	// data_formats scan: content-scanned as text, as before.
	scan := provisionedMask(t, &Mask{RolesFrom: "online_agent", Scan: "off", Fields: fields, DataFormats: "scan"})
	if rec, _ := ask(scan, "application/xml", legacy(200, "application/xml", xml)); rec.Code != 200 ||
		strings.Contains(rec.Body.String(), tMobile) || !strings.Contains(rec.Body.String(), "<mobile>138****5678</mobile>") {
		t.Errorf("data_formats scan: %d %q", rec.Code, rec.Body)
	}
	// Not refused: error responses, pages, JSON under an XML label, and
	// routes whose rules read no structure (scan off, no field rules).
	for _, c := range []struct {
		name   string
		m      *Mask
		status int
		ct     string
		body   string
	}{
		{"a 404 in XML", byDefault, 404, "application/xml", `<error><msg>客户 ` + tMobile + ` 不存在</msg></error>`},
		{"an XHTML page", byDefault, 200, "application/xhtml+xml", `<html xmlns="http://www.w3.org/1999/xhtml"><p>` + tMobile + `</p></html>`},
		{"an HTML page", byDefault, 200, "text/html", `<p>` + tMobile + `</p>`},
		{"JSON as application/xml", byDefault, 200, "application/xml", doc},
		{"XML, scan off", provisionedMask(t, &Mask{RolesFrom: "online_agent", Scan: "off"}), 200, "application/xml", xml},
	} {
		rec, out := ask(c.m, "application/xml", legacy(c.status, c.ct, c.body))
		if rec.Code != c.status || strings.Contains(rec.Body.String(), tMobile) || !strings.Contains(rec.Body.String(), "138****5678") || out.Reason != "" {
			t.Errorf("%s: %d %q (reason %q)", c.name, rec.Code, rec.Body, out.Reason)
		}
	}
	// A bad value is an error at provisioning.
	if err := (&Mask{DataFormats: "maybe"}).provisionWith(byDefault.app); err == nil || !strings.Contains(err.Error(), "want refuse or scan") {
		t.Errorf("data_formats maybe: %v", err)
	}
}
