// Found by the thirteenth review (each failed before its fix, but TestBrotliJunkAtBufferBoundary, which checks that brotli with junk at a read boundary stays refused).

package caddymodule

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"

	"github.com/piigate/piigate/config"
)

// R8-1: data formats the deny-list in dataFormat does not name — vCard
// (a helpdesk's "export contact", /api/customers/1.vcf), and the common
// aliases text/x-yml / text/yml — are content-scanned only on a route
// with field rules: a person name passes.
func TestDataFormatNotListed(t *testing.T) {
	fields := []config.Field{{Path: "data.#.name", Type: "person_name"}}
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent", Scan: "off", Fields: fields})
	for _, c := range []struct{ ct, body string }{
		{"text/vcard", "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:张三\r\nADR:;;北京市朝阳区建国路88号;;;;\r\nEND:VCARD\r\n"},
		{"text/x-vcard", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:张三\r\nEND:VCARD\r\n"},
		{"text/x-yml", "data:\n  - name: 张三\n"},
	} {
		rec, vars := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/customers/1.vcf", nil), upstreamAnswer(c.ct, c.body))
		if rec.Code != http.StatusBadGateway || strings.Contains(rec.Body.String(), "张三") {
			t.Errorf("%s: %d %q (format %q), want a 502 (data_format)", c.ct, rec.Code, rec.Body, vars[varOutcome].(*Outcome).Format)
		}
	}
}

// R8-2: a CSV export served as application/octet-stream (or text/plain)
// with Content-Disposition: attachment; filename=customers.csv — how many
// legacy apps answer ?format=csv — is content-scanned only.
func TestDataFormatByDisposition(t *testing.T) {
	fields := []config.Field{{Path: "data.#.name", Type: "person_name"}}
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent", Fields: fields})
	for _, ct := range []string{"application/octet-stream", "text/plain; charset=utf-8"} {
		rec, vars := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/customers?format=csv", nil),
			func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", ct)
				w.Header().Set("Content-Disposition", `attachment; filename="customers.csv"`)
				_, err := w.Write([]byte("id,name,address\n1,张三,北京市朝阳区建国路88号\n"))
				return err
			})
		if rec.Code != http.StatusBadGateway || strings.Contains(rec.Body.String(), "张三") {
			t.Errorf("%s + filename=customers.csv: %d %q (format %q), want a 502", ct, rec.Code, rec.Body, vars[varOutcome].(*Outcome).Format)
		}
	}
}

// R8-3: form data is content-scanned as text (data_formats scan, and error
// responses under the default) without its percent-escapes decoded: an
// e-mail address is always %40 in form data (URLSearchParams, PHP's
// http_build_query), and a client's URLSearchParams shows it decoded.
func TestFormDataPercentEscapes(t *testing.T) {
	const body = "name=%E5%BC%A0%E4%B8%89&email=zhang.san%40example.com&mobile=%31%33%38%31%32%33%34%35%36%37%38"
	for _, c := range []struct {
		m      *Mask
		status int
	}{
		{provisionedMask(t, &Mask{RolesFrom: "online_agent", Scan: "all", DataFormats: "scan"}), 200},
		{provisionedMask(t, &Mask{RolesFrom: "online_agent", Scan: "all"}), 422},
	} {
		rec, _ := serveMask(t, c.m, httptest.NewRequest(http.MethodGet, "/api/x", nil),
			func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
				w.WriteHeader(c.status)
				_, err := w.Write([]byte(body))
				return err
			})
		v := rec.Body.String()
		if strings.Contains(v, "zhang.san%40example.com") || strings.Contains(v, "%31%33%38%31%32%33%34%35%36%37%38") {
			t.Errorf("data_formats %q, status %d: %d %q: escaped e-mail/mobile passed", c.m.DataFormats, c.status, rec.Code, v)
		}
	}
}

// R8-4: under a data-format label, a body that starts like JSON but is
// JSON lines is read as NDJSON, where the bare-scalar refusal is not
// applied: a line that is one string passes content-scanned only.
func TestDataFormatNDJSONScalars(t *testing.T) {
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent"}) // scan names
	for _, ct := range []string{"text/csv", "application/xml", "text/yaml"} {
		rec, vars := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/x", nil),
			upstreamAnswer(ct, "[\"name\",\"address\"]\n\"张三\"\n\"北京市朝阳区建国路88号\"\n"))
		if rec.Code != http.StatusBadGateway || strings.Contains(rec.Body.String(), "张三") {
			t.Errorf("%s: %d %q (format %q), want a 502", ct, rec.Code, rec.Body, vars[varOutcome].(*Outcome).Format)
		}
	}
}

// Check (expected safe): a brotli stream whose last byte ends one Read of
// the source (as at the reader's 32 KB buffer), with bytes in a later
// Read, still gives an error (so decodeBody refuses it though src.Len()
// is 0: the reader buffered everything).
type chunks struct{ parts [][]byte }

func (c *chunks) Read(p []byte) (int, error) {
	if len(c.parts) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.parts[0])
	c.parts[0] = c.parts[0][n:]
	if len(c.parts[0]) == 0 {
		c.parts = c.parts[1:]
	}
	return n, nil
}

func TestBrotliJunkAtBufferBoundary(t *testing.T) {
	var b bytes.Buffer
	w := brotli.NewWriter(&b)
	w.Write([]byte(`{"a":1}`))
	w.Close()
	r := brotli.NewReader(&chunks{parts: [][]byte{b.Bytes(), []byte("13812345678")}})
	out, err := io.ReadAll(r)
	if err == nil {
		t.Errorf("br, then junk in a later read: %q without error", out)
	}
}

// R8-5 (policy gap, not a regression): the client chooses JSONP with
// ?callback=, as it chooses XML with Accept; a legacy JSONP writer that
// emits a JavaScript object literal (unquoted keys) falls back to text and
// gets content detection only — the same route's field rules, which the
// data_formats refusal exists to keep, do not apply, and nothing refuses.
func TestJSONPLiteralOnFieldRoute(t *testing.T) {
	fields := []config.Field{{Path: "data.#.name", Type: "person_name"}}
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent", Scan: "off", Fields: fields})
	rec, vars := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/customers?callback=cb", nil),
		upstreamAnswer("application/javascript", `cb({data:[{id:1,name:"张三"}]});`))
	if rec.Code == 200 && strings.Contains(rec.Body.String(), "张三") {
		t.Errorf("%d %q (format %q): a field-ruled name passed", rec.Code, rec.Body, vars[varOutcome].(*Outcome).Format)
	}
}
