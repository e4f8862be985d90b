package caddymodule

import (
	"encoding/base64"
	"mime"
	"net/http"
	"strings"
	"testing"

	"github.com/piigate/piigate/config"
)

// review41aMask has the roles of the brief: online_agent masks
// cn_mobile, cn_resident_id, bank_card, email and person_name and
// redacts the rest; analyst hashes everything (hash_key set); minimal
// drops everything.
func review41aMask(t *testing.T, role string) *Mask {
	t.Helper()
	app := &App{HashKey: "0123456789abcdef0123456789abcdef", Roles: map[string]config.RoleRules{
		"online_agent": {"cn_mobile": "mask", "cn_resident_id": "mask", "bank_card": "mask", "email": "mask", "person_name": "mask", "*": "redact"},
		"analyst":      {"*": "hash"},
		"minimal":      {"*": "drop"},
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

const review41aName = "张三"

// review41aJSON is {"name":"张三"}: the name is typed by its key only (the
// detectors do not find a bare name by content).
const review41aJSON = `{"name":"` + review41aName + `"}`

// TestReview41aParamsReadingJSONNameSent: since 92d4f54 pass 3 reads
// every reading of the value to send by content only ("| " + text). The
// parameters' reading (readParams, look-only) is where RFC 2231
// continuations are joined, so JSON split across filename*0*/filename*1*
// (or filename*0/filename*1) is JSON only there. With a mobile in the
// fallback filename, the value as written is the reading chosen (the
// parameters' one is look-only), its mobile is masked, and the
// continuations go out as they came; pass 3 then reads the joined
// {"name":"张三"} as plain text, where nothing types the name, and passes
// it. Firefox joins the continuations and saves the file as
// {"name":"张三"}. At 92d4f54^ (b1de5b1) this value was removed for every
// role; now the name reaches online_agent, analyst and even minimal
// (`* drop`).
func TestReview41aParamsReadingJSONNameSent(t *testing.T) {
	for _, role := range []string{"online_agent", "analyst", "minimal"} {
		m := review41aMask(t, role)
		for _, v := range []string{
			`attachment; filename="` + tMobile + `.json"; filename*0*=UTF-8''%7B%22name%22%3A; filename*1*=%22%E5%BC%A0%E4%B8%89%22%7D`,
			`attachment; filename="` + tMobile + `.json"; filename*0="{\"name\":"; filename*1="\"` + review41aName + `\"}"`,
		} {
			rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
				"Content-Type": {"application/json"}, "Content-Disposition": {v}})
			for _, got := range rec.Header().Values("Content-Disposition") {
				p, _ := readParams(got)
				if strings.Contains(got, tMobile) || strings.Contains(got, "%E5%BC%A0%E4%B8%89") ||
					strings.Contains(got, review41aName) || strings.Contains(p, review41aName) {
					t.Errorf("%s %q: sent as %q (continuations joined: %q)", role, v, got, p)
				}
			}
		}
	}
}

// TestReview41aStrictWordsJSONNameSent: the same for a decoded reading.
// Two B words, the first unpadded ("QQ"), the second a padded
// {"name":"张三"}: Firefox joins adjacent words of one charset and
// encoding, the joined text (25 characters) is not base64, and the words
// stay as written, so Firefox's reading is the value as written and is
// the reading chosen (the mobile beside them is masked in place). A
// strict decoder decodes the second word on its own: Go's
// mime.WordDecoder reads `138****5678 =?UTF-8?B?QQ?= {"name":"张三"}`,
// and so does the gateway's own strict reading. Pass 3 reads that
// reading by content only and passes it. At 92d4f54^ the value was
// removed for every role; now the name goes to every role, minimal too.
func TestReview41aStrictWordsJSONNameSent(t *testing.T) {
	word := "=?UTF-8?B?" + base64.StdEncoding.EncodeToString([]byte(review41aJSON)) + "?="
	dec := new(mime.WordDecoder)
	for _, role := range []string{"online_agent", "analyst", "minimal"} {
		m := review41aMask(t, role)
		for _, c := range []struct{ field, v string }{
			{"Content-Disposition", `attachment; filename="` + tMobile + ` =?UTF-8?B?QQ?= ` + word + `"`},
			{"X-Note", tMobile + ` =?UTF-8?B?QQ?= ` + word},
		} {
			rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
				"Content-Type": {"application/json"}, c.field: {c.v}})
			for _, got := range rec.Header().Values(c.field) {
				strict, err := dec.DecodeHeader(got)
				if err != nil {
					strict = got
				}
				if strings.Contains(got, tMobile) || strings.Contains(strict, review41aName) {
					t.Errorf("%s %s %q: sent as %q, which a strict decoder reads as %q", role, c.field, c.v, got, strict)
				}
			}
		}
	}
}
