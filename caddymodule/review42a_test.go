package caddymodule

import (
	"mime"
	"net/http"
	"strings"
	"testing"
)

// TestReview42aQuotedTailNeverScanned: since 7c8c71a jsonPieces takes a
// quoted string that merely starts with JSON ("[2024]…", "{…}…") as a
// 'q' piece whose json is the prefix and whose tail is the rest; the
// tail is in no reading's text (appendReading writes the JSON only), so
// the detectors never see it. A filename such as "[2024]13812345678.csv"
// (Django's and Go's mime.FormatMediaType quoted form) or a Python cookie
// "[1] 13812345678" goes to online_agent unmasked. At 7c8c71a^ the
// quoted string was plain text and the mobile/ID/email was masked in
// place.
func TestReview42aQuotedTailNeverScanned(t *testing.T) {
	m := review41aMask(t, "online_agent")
	for _, c := range []struct{ field, v, secret string }{
		{"Content-Disposition", `attachment; filename="[2024]` + tMobile + `.csv"`, tMobile},
		{"Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": "[1]" + tEmail + ".txt"}), tEmail},
		{"Content-Disposition", `attachment; filename="[2024]客户_` + tID + `.xlsx"`, tID},
		{"Content-Disposition", `attachment; filename="{\"v\":1}_` + tMobile + `.json"`, tMobile},
		{"Set-Cookie", `last="[1] ` + tMobile + `"; Path=/`, tMobile},
		{"Set-Cookie", `prefs="{\"v\": 1}:` + tMobile + `"; Path=/`, tMobile},
	} {
		rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
			"Content-Type": {"application/json"}, c.field: {c.v}})
		for _, got := range rec.Header().Values(c.field) {
			if strings.Contains(got, c.secret) {
				t.Errorf("%s %q: sent as %q", c.field, c.v, got)
			}
		}
	}
}

// TestReview42aQuotedTailRewrittenPythonStyle: when the JSON of such a
// 'q' piece is masked, encode writes view+tail with Python's cookie
// quoting (\NNN octal for ',', ';' and U+007F..U+00FF). In a
// Content-Disposition quoted-string an RFC reader (a browser) reads \351
// as the quoted-pair "3" then "51" ("{…} café.json" is saved as
// "{…} caf351.json", "…_v1,2.json" as "…_v10542.json"), and Go's
// mime.ParseMediaType keeps the backslash ("caf\351.json"). At 7c8c71a^
// the mobile was masked in place and the rest of the name kept as it was.
func TestReview42aQuotedTailRewrittenPythonStyle(t *testing.T) {
	m := review41aMask(t, "online_agent")
	for _, tail := range []string{" café.json", "_v1,2.json", " 客户;导出.json"} {
		v := `attachment; filename="{\"mobile\":\"` + tMobile + `\"}` + tail + `"`
		want := `{"mobile":"138****5678"}` + tail
		rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
			"Content-Type": {"application/json"}, "Content-Disposition": {v}})
		got := rec.Header().Values("Content-Disposition")
		if len(got) != 1 {
			t.Errorf("%q: sent as %q", v, got)
			continue
		}
		_, ps, err := mime.ParseMediaType(got[0])
		if err != nil || ps["filename"] != want {
			t.Errorf("%q: sent as %q, saved as %q (err %v), want %q", v, got[0], ps["filename"], err, want)
		}
	}
}
