package caddymodule

import (
	"strings"
	"testing"
)

// Review 27 (text escapes through the gateway): a body, a string or an
// event's data that a page shows with its HTML references decoded, or a
// script with its percent-escapes or JSON escapes decoded, is read so by
// the rewrite wherever it is content-scanned: JSON sniffed under a text
// type, a text body that is one JSON string, event data, and strings under
// scan all. Each case leaked before (the text reading with those escapes
// ran only for Text bodies the gateway never produced for these).
func TestReview27TextEscapesThroughGateway(t *testing.T) {
	for _, c := range []struct {
		scan, ct, body string
		secrets        []string // digit runs that must not reach the agent
	}{
		// A text body that is one JSON string: as a page it shows an
		// ID, to JSON a mobile and a tail.
		{"names", "text/plain", `"13010219900&#49;011237"`, []string{"1301021990", "011237"}},
		{"names", "text/html", `"13010219900%31011237"`, []string{"1301021990", "011237"}},
		// Sniffed JSON whose string a page shows decoded.
		{"names", "text/html", `["1381234567&#56;"]`, []string{"1234567"}},
		{"names", "text/html", `{"note":"1381234567%38"}`, []string{"1234567"}},
		// The references written as JSON escapes: JSON.parse gives
		// 1381234567&#56; to the script.
		{"names", "text/plain", `"1381234567\u0026#56;"`, []string{"1234567"}},
		// Form data's '+' between the groups, under scan all.
		{"all", "application/json", `{"note":"tel 138+1234+5678"}`, []string{"1234"}},
		// Event data that is not JSON.
		{"names", "text/event-stream", "data: 1381234567&#56;\n\n", []string{"1234567"}},
		{"names", "text/event-stream", "data: 13010219900%31011237\n\n", []string{"1301021990", "011237"}},
	} {
		m := provisionedMask(t, &Mask{RolesFrom: "online_agent", Scan: c.scan})
		rec, _, cut := serveRaw(t, m, []byte(c.body), "Content-Type", c.ct)
		if cut != nil {
			t.Errorf("%s %s: cut off: %v", c.ct, c.body, cut)
			continue
		}
		if rec.Code != 200 {
			t.Errorf("%s %s: status %d: %s", c.ct, c.body, rec.Code, rec.Body)
			continue
		}
		for _, s := range c.secrets {
			if strings.Contains(rec.Body.String(), s) {
				t.Errorf("%s %s (scan %s): %q reaches the agent: %s", c.ct, c.body, c.scan, s, rec.Body)
			}
		}
	}
}
