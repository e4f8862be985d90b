package caddymodule

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// TestReview38aRawReadingMissing: when a value holds "=?", valueReadings
// reads only its encoded-words decoded (Firefox's and a strict decoder's),
// never the value as written. No client decodes RFC 2047 in a Location
// or a cookie (nor Chrome in a filename token that is not one whole
// encoded-word). 13812345678=?utf-8?q?9?= decodes to 138123456789, in
// which no mobile is found, so the value passes as it is and the browser
// shows /customers/13812345678=?utf-8?q?9?=.
func TestReview38aRawReadingMissing(t *testing.T) {
	m := headerMask(t, "online_agent")
	for k, v := range map[string]string{
		"Location":   "/customers/" + tMobile + "=?utf-8?q?9?=",
		"Set-Cookie": "last=" + tMobile + "=?utf-8?q?9?=; Path=/",
	} {
		rec, _ := serveHeaders(t, m, http.MethodGet, 302, http.Header{
			"Content-Type": {"application/json"}, k: {v}})
		if got := rec.Header().Get(k); strings.Contains(got, tMobile) {
			t.Errorf("%s %q: the agent receives %q", k, v, got)
		}
	}
}

// TestReview38aQuotedPairNotRead: a quoted-string's backslash escapes
// (RFC 9110 quoted-pair: a '\' before any character) are removed by
// browsers before the name is used (Chrome's HttpUtil::Unquote, Firefox's
// RemoveQuotedStringEscapes; Go's mime unescapes only tspecials, so
// firefoxSavesAs is not used here). The engine reads the value as written,
// 138\12345678, and finds nothing; a value with "*0" is unquoted
// (joinContinuations), one without is not. The same hides a Q word:
// \=31\=33… is =31=33… to Firefox, which then decodes it.
func TestReview38aQuotedPairNotRead(t *testing.T) {
	m := headerMask(t, "online_agent")
	savesAs := func(cd string) string { // the quoted filename as a browser reads it
		_, v, ok := strings.Cut(cd, `filename="`)
		if !ok {
			return ""
		}
		v = v[:strings.LastIndexByte(v, '"')]
		var b strings.Builder
		for i := 0; i < len(v); i++ {
			if v[i] == '\\' && i+1 < len(v) {
				i++
			}
			b.WriteByte(v[i])
		}
		return firefox2047(b.String())
	}
	q := ""
	for _, b := range []byte(tMobile) {
		q += `\=` + hex2(b)
	}
	for _, cd := range []string{
		`attachment; filename="138\12345678.pdf"`,
		`attachment; filename="\1\3\8\1\2\3\4\5\6\7\8.pdf"`,
		`attachment; filename="=?UTF-8?Q?` + q + `?=.pdf"`,
	} {
		if name := savesAs(cd); !strings.Contains(name, tMobile) {
			t.Fatalf("%q: the browser reads %q", cd, name)
		}
		rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
			"Content-Type": {"application/json"}, "Content-Disposition": {cd}})
		got := rec.Header().Get("Content-Disposition")
		if name := savesAs(got); strings.Contains(name, tMobile) {
			t.Errorf("Content-Disposition %q: sent as %q, the browser saves the file as %q", cd, got, name)
		}
	}
}

// TestReview38aFormEncodedJSON: Python's urlencode (quote_plus) of
// json.dumps's output, Java's URLEncoder and Go's url.QueryEscape write a
// space as '+': ctx=%7B%22name%22%3A+%22%E5%BC%A0…. percentDecode leaves
// the '+', {"name":+"张三"} is no JSON, and the name, found only by its
// key, reaches the agent (URLSearchParams / the app reads the JSON).
func TestReview38aFormEncodedJSON(t *testing.T) {
	m := headerMask(t, "online_agent")
	loc := "/c?ctx=" + url.QueryEscape(`{"name": "张三", "page": 2}`)
	rec, _ := serveHeaders(t, m, http.MethodGet, 302, http.Header{
		"Content-Type": {"application/json"}, "Location": {loc}})
	got := rec.Header().Get("Location")
	u, _ := url.Parse(got)
	if ctx := u.Query().Get("ctx"); strings.Contains(ctx, "张三") {
		t.Errorf("Location %q: the agent receives %q (ctx %s)", loc, got, ctx)
	}
}

// TestReview38aJSONTriesExhausted: jsonPieces stops after 16 '{' or '['
// that start no JSON; text before the JSON (a search box's [a] tags, a
// customer's note) hides it and the name read by its key.
func TestReview38aJSONTriesExhausted(t *testing.T) {
	m := headerMask(t, "online_agent")
	loc := `/c?t=` + strings.Repeat("[a]", 16) + `&last={"name":"张三"}`
	rec, _ := serveHeaders(t, m, http.MethodGet, 302, http.Header{
		"Content-Type": {"application/json"}, "Location": {loc}})
	if got := rec.Header().Get("Location"); strings.Contains(got, "张三") {
		t.Errorf("Location %q: the agent receives %q", loc, got)
	}
}

// TestReview38aExtValueCharset: an RFC 5987/2231 ext-value in a charset
// other than UTF-8 (filename*=GBK”%A3%B1…) is decoded by Chrome in the
// charset it names (DecodeExtValue → ConvertToUtf8AndNormalize). The
// engine percent-decodes it as UTF-8 (invalid, nothing found); the README
// says a value a browser reads in another charset is removed: it is passed
// as it is, and Chrome saves the file as １３８１２３４５６７８.pdf.
func TestReview38aExtValueCharset(t *testing.T) {
	m := headerMask(t, "online_agent")
	fw := ""
	for _, r := range tMobile {
		fw += string(r - '0' + '０')
	}
	gbk, _ := simplifiedchinese.GBK.NewEncoder().String(fw)
	cd := `attachment; filename*=GBK''` + url.PathEscape(gbk) + `.pdf`
	rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
		"Content-Type": {"application/json"}, "Content-Disposition": {cd}})
	got := rec.Header().Get("Content-Disposition")
	_, enc, ok := strings.Cut(got, "GBK''")
	if !ok {
		return // removed
	}
	raw, _ := url.PathUnescape(enc)
	if name, _ := simplifiedchinese.GBK.NewDecoder().String(raw); strings.Contains(name, fw) {
		t.Errorf("Content-Disposition %q: Chrome saves the file as %q", got, name)
	}
}

// TestReview38aContinuationsGoCannotParse: joinContinuations reads the
// joined filename only when Go's mime.ParseMediaType takes the whole
// value; one parameter it rejects (a value with a space or a '/' not
// quoted, a duplicate) and there is no joined reading. Firefox's
// parameter parser is lenient and still joins filename*0..*2 into
// 13812345678.pdf.
func TestReview38aContinuationsGoCannotParse(t *testing.T) {
	m := headerMask(t, "online_agent")
	parts := `filename*0="138"; filename*1="1234"; filename*2="5678.pdf"`
	for _, cd := range []string{
		`attachment; ` + parts + `; note=a b`,
		`attachment; ` + parts + `; path=/tmp/x`,
		`attachment; ` + parts + `; size=1; size=2`,
	} {
		rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
			"Content-Type": {"application/json"}, "Content-Disposition": {cd}})
		if got := rec.Header().Get("Content-Disposition"); strings.Contains(got, parts) {
			t.Errorf("Content-Disposition %q: the agent receives %q (Firefox joins the parts)", cd, got)
		}
	}
}

// TestReview38aReadTwiceCountedTwice: a value read two ways is two members
// of {"@read":[…]}, and the engine counts what it finds in each: one
// mobile in filename*0="13812345678" is found as written and joined, and
// the outcome (metrics, audit) counts 2.
func TestReview38aReadTwiceCountedTwice(t *testing.T) {
	m := headerMask(t, "online_agent")
	cd := `attachment; filename*0="` + tMobile + `"; filename*1=".pdf"`
	_, out := serveHeaders(t, m, http.MethodGet, 200, http.Header{
		"Content-Type": {"application/json"}, "Content-Disposition": {cd}})
	if n := out.Summary.Total(); n != 1 {
		t.Errorf("Content-Disposition %q: one mobile counted %d times (%v)", cd, n, out.Summary.Counts)
	}
}

// TestReview38aStarZeroRemovesMaskable: any "*0" in a value that
// mime.ParseMediaType takes adds a reading rewritten in Go's form
// (type; key="value"); a value not written in exactly that form (no space
// after ';', a token not quoted) reads differently although nothing is
// ambiguous, and a value with a mobile is removed instead of masked: the
// download loses its name (v*0 is a version tag, no continuation).
func TestReview38aStarZeroRemovesMaskable(t *testing.T) {
	m := headerMask(t, "online_agent")
	cd := `attachment;filename=` + tMobile + `_v*0.pdf`
	rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
		"Content-Type": {"application/json"}, "Content-Disposition": {cd}})
	if got := rec.Header().Get("Content-Disposition"); got != `attachment;filename=138****5678_v*0.pdf` {
		t.Errorf("Content-Disposition %q: sent as %q, want it masked in place", cd, got)
	}
}

// TestReview38aPythonOctalLatin1: Python's http.cookies writes a character
// U+0080–U+00FF as \NNN octal (json.dumps(ensure_ascii=False) of José:
// Jos\351), and SimpleCookie reads it back as that character.
// unquoteCookie writes the byte 0xE9, the piece is not UTF-8, and a
// cookie with a mobile in it is removed instead of masked (the app loses
// it).
func TestReview38aPythonOctalLatin1(t *testing.T) {
	m := headerMask(t, "online_agent")
	v := `last="{\"city\": \"Z\374rich\"\054 \"mobile\": \"` + tMobile + `\"}"; Path=/`
	rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
		"Content-Type": {"application/json"}, "Set-Cookie": {v}})
	got := rec.Header().Get("Set-Cookie")
	if !strings.Contains(got, `138****5678`) || !strings.Contains(got, `Z\374rich`) {
		t.Errorf("Set-Cookie %q: sent as %q, want the mobile masked and the rest as it was", v, got)
	}
}

// TestReview38aNeedsReadingQuadratic: needsReading, run on every value of
// every guarded response, calls utf8.ValidString(v) on the whole value at
// each byte >= 0x80: a valid UTF-8 value of Chinese text (a customer's
// note, a file name) costs time quadratic in its length (about 3.6 s for
// 64 KiB on one core, before the engine is even called). Compared as a
// ratio of two sizes measured in one run, not against a clock.
func TestReview38aNeedsReadingQuadratic(t *testing.T) {
	m := headerMask(t, "online_agent")
	cost := func(n int) time.Duration {
		v := strings.Repeat("张", n/3)
		best := time.Duration(1 << 62)
		for range 3 {
			start := time.Now()
			m.needsReading(v)
			best = min(best, time.Since(start))
		}
		return best
	}
	small, large := cost(4<<10), cost(32<<10)
	if large > 16*small+5*time.Millisecond {
		t.Errorf("needsReading: 4 KiB took %v, 32 KiB %v (8 times the bytes)", small, large)
	}
}
