package caddymodule

import (
	"mime"
	"net/http"
	"strings"
	"testing"

	"github.com/piigate/piigate/config"
)

// review40aMask is headerMask with the roles of the brief: online_agent
// masks cn_mobile, cn_resident_id, bank_card, email and person_name and
// redacts the rest; analyst hashes everything (hash_key set).
func review40aMask(t *testing.T, role string) *Mask {
	t.Helper()
	app := &App{HashKey: "0123456789abcdef0123456789abcdef", Roles: map[string]config.RoleRules{
		"online_agent": {"cn_mobile": "mask", "cn_resident_id": "mask", "bank_card": "mask", "email": "mask", "person_name": "mask", "*": "redact"},
		"analyst":      {"*": "hash"},
	}}
	if err := app.compile(); err != nil {
		t.Fatal(err)
	}
	m := &Mask{RolesFrom: role, Scan: "off", Fields: []config.Field{{Path: "mobile", Type: "cn_mobile"}}}
	if err := m.provisionWith(app); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestReview40aQuotedPairValueRemoved: valueReadings drops a reading
// whose text equals an earlier one, and marks a reading `look` when its
// text equals readParams' reading. readParams writes `; name="value"`
// with names in lower case and `\"` and `\\` escaped: exactly the form
// Go's mime.FormatMediaType, Django and Werkzeug/Flask write a filename
// holding a quote or a backslash in (and a Link title with quotes). For
// such a value the value as written IS readParams' reading: it is the
// only reading, it is `look`, and a mobile in it, plainly visible and
// masked in place before f780792, now removes the whole field. The
// agent gets no Content-Disposition (the download loses its name and
// turns inline) or no Link, for every role.
func TestReview40aQuotedPairValueRemoved(t *testing.T) {
	for _, role := range []string{"online_agent", "analyst"} {
		m := review40aMask(t, role)
		for _, c := range []struct{ field, v string }{
			{"Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": `exports\` + tMobile + `.csv`})},
			{"Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": `Zhang "VIP" ` + tMobile + `.pdf`})},
			{"Link", `</customers/` + tMobile + `>; rel="canonical"; title="Zhang \"VIP\""`},
		} {
			rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
				"Content-Type": {"application/json"}, c.field: {c.v}})
			got, ok := rec.Header()[c.field]
			if !ok {
				t.Errorf("%s %s %q: removed, want it masked in place", role, c.field, c.v)
				continue
			}
			if strings.Contains(strings.Join(got, ""), tMobile) {
				t.Errorf("%s %s %q: sent as %q", role, c.field, c.v, got)
			}
		}
	}
}

// TestReview40aMaskedJSONRetypedInParamsReading: pass 3 reads the value
// to send itself by content only ("| " + v, its JSON pieces not typed,
// since "a masked value masked again need not be what it is"), but
// readParams' reading of that value keeps its JSON pieces, whose keys
// type the masked output again: "138****5678" under "mobile" masks to
// "138********", a hash under any key hashes again. The check sees a
// change and removes the value. Any value with a JSON piece (a filter in
// a link, percent-encoded) and a parameter readParams reads (an RFC
// 8288 title*, a quoted-pair) is removed for every role whose action is
// not idempotent (mask, hash); before f780792 it was masked.
func TestReview40aMaskedJSONRetypedInParamsReading(t *testing.T) {
	for _, role := range []string{"online_agent", "analyst"} {
		m := review40aMask(t, role)
		for _, c := range []struct{ field, v string }{
			{"Link", `</api/customers?filter=%7B%22mobile%22%3A%22` + tMobile + `%22%7D>; rel="next"; title*=UTF-8''%E4%B8%8B%E4%B8%80%E9%A1%B5`},
			{"X-Export", `[{"email":"` + tEmail + `"}]; filename*=UTF-8''export.json`},
		} {
			rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
				"Content-Type": {"application/json"}, c.field: {c.v}})
			got, ok := rec.Header()[c.field]
			if !ok {
				t.Errorf("%s %s %q: removed, want it masked in place", role, c.field, c.v)
				continue
			}
			if s := strings.Join(got, ""); strings.Contains(s, tMobile) || strings.Contains(s, tEmail) {
				t.Errorf("%s %s %q: sent as %q", role, c.field, c.v, got)
			}
		}
	}
}
