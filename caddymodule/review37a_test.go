package caddymodule

import (
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// firefox2047 decodes the RFC 2047 encoded-words in s as current Firefox
// does it (nsMIMEHeaderParamImpl.cpp DecodeRFC2047Str): a word's text
// runs to the first "?=" and may hold spaces (only control characters end
// it); the texts of adjacent words in the same charset and encoding are
// joined before they are decoded (bug 493544: a character, or a base64
// quantum, split across two words), unless the earlier one ends in '='.
// UTF-8 words only.
func firefox2047(s string) string {
	var out, pending strings.Builder
	var prevCS string
	var prevEnc byte
	decode := func(text string, enc byte) string {
		var raw []byte
		if enc == 'B' {
			b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(text, "="))
			if err != nil {
				return text
			}
			raw = b
		} else {
			for i := 0; i < len(text); i++ {
				switch c := text[i]; {
				case c == '_':
					raw = append(raw, ' ')
				case c == '=' && i+2 < len(text) && isHex(text[i+1]) && isHex(text[i+2]):
					raw = append(raw, unhex(text[i+1])<<4|unhex(text[i+2]))
					i += 2
				case c == '=':
					return text
				default:
					raw = append(raw, c)
				}
			}
		}
		return strings.ToValidUTF8(string(raw), "\uFFFD")
	}
	flush := func() {
		if pending.Len() > 0 {
			out.WriteString(decode(pending.String(), prevEnc))
			pending.Reset()
		}
		prevCS, prevEnc = "", 0
	}
	begin, last := 0, false
	for {
		p := strings.Index(s[begin:], "=?")
		if p < 0 {
			break
		}
		p += begin
		if !last || strings.Trim(s[begin:p], " \t\r\n") != "" {
			flush()
			out.WriteString(s[begin:p])
			begin = p
		}
		q := strings.IndexByte(s[p+2:], '?')
		ok := q > 0 && p+2+q+2 < len(s) && s[p+2+q+2] == '?'
		var cs, text string
		var enc byte
		end := 0
		if ok {
			cs, enc = strings.ToUpper(s[p+2:p+2+q]), s[p+2+q+1]&^0x20
			ts := p + 2 + q + 3
			r := strings.Index(s[ts:], "?=")
			ok = (enc == 'B' || enc == 'Q') && r >= 0
			if ok {
				text, end = s[ts:ts+r], ts+r+2
				for i := 0; i < len(text); i++ {
					if text[i] < ' ' {
						ok = false
					}
				}
			}
		}
		if !ok {
			flush()
			out.WriteString(s[begin : p+2])
			begin, last = p+2, false
			continue
		}
		begin, last = end, true
		if text == "" {
			continue
		}
		if !strings.HasSuffix(text, "=") && (prevCS == "" || cs == prevCS && enc == prevEnc) {
			pending.WriteString(text)
			prevCS, prevEnc = cs, enc
			continue
		}
		if pending.Len() > 0 && cs == prevCS && enc == prevEnc {
			pending.WriteString(text)
			flush()
			continue
		}
		flush()
		out.WriteString(decode(text, enc))
	}
	flush()
	out.WriteString(s[begin:])
	return out.String()
}

// firefoxSavesAs is the name Firefox saves a download under: the
// filename parameter (RFC 2231 continuations joined, which Go's mime
// package does as Firefox does), its encoded-words decoded.
func firefoxSavesAs(t *testing.T, cd string) string {
	t.Helper()
	if cd == "" {
		return "" // removed: the browser names the file after the URL
	}
	_, params, err := mime.ParseMediaType(cd)
	if err != nil {
		t.Fatalf("%q: %v", cd, err)
	}
	return firefox2047(params["filename"])
}

// TestReview37aSplitEncodedWords: Firefox joins the text of adjacent
// encoded-words of one charset and encoding before decoding it (bug
// 493544, for a character split across two words); decodeWords decodes
// each word on its own. A base64 text split off its 4-character quantum,
// or a UTF-8 character split across two Q words, reads as something else
// (or nothing) to the engine, and Firefox saves the file under the
// customer's mobile.
func TestReview37aSplitEncodedWords(t *testing.T) {
	m := headerMask(t, "online_agent")
	full := base64.RawStdEncoding.EncodeToString([]byte(tMobile)) // MTM4MTIzNDU2Nzg
	fw := ""                                                      // the mobile in full-width digits, which the detectors read
	for _, r := range tMobile {
		fw += string(r - '0' + '０')
	}
	q := ""
	for _, b := range []byte(fw) {
		q += "=" + strings.ToUpper(hex2(b))
	}
	for _, cd := range []string{
		`attachment; filename="=?UTF-8?B?` + full[:7] + `?= =?UTF-8?B?` + full[7:] + `?=.pdf"`,
		`attachment; filename="=?UTF-8?Q?` + q[:6] + `?= =?UTF-8?Q?` + q[6:] + `?=.pdf"`,
	} {
		if name := firefoxSavesAs(t, cd); !strings.Contains(name, tMobile) && !strings.Contains(name, fw) {
			t.Fatalf("%q: Firefox reads %q", cd, name)
		}
		rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
			"Content-Type": {"application/json"}, "Content-Disposition": {cd}})
		got := rec.Header().Get("Content-Disposition")
		if name := firefoxSavesAs(t, got); strings.Contains(name, tMobile) || strings.Contains(name, fw) {
			t.Errorf("Content-Disposition %q: Firefox saves the file as %q", got, name)
		}
	}
}

func hex2(b byte) string {
	const h = "0123456789abcdef"
	return string([]byte{h[b>>4], h[b&15]})
}

// TestReview37aQWordWithSpace: Firefox ends a word's text at the first
// "?=" and takes spaces in it (only control characters break a word);
// encodedWordAt takes a word with a space or tab for no word at all, so
// the engine reads =31=33=38…, and Firefox saves 13812345678 .pdf.
func TestReview37aQWordWithSpace(t *testing.T) {
	m := headerMask(t, "online_agent")
	q := ""
	for _, b := range []byte(tMobile) {
		q += "=" + hex2(b)
	}
	cd := `attachment; filename="=?UTF-8?Q?` + q + ` .pdf?="`
	if name := firefoxSavesAs(t, cd); !strings.Contains(name, tMobile) {
		t.Fatalf("Firefox reads %q", name)
	}
	rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
		"Content-Type": {"application/json"}, "Content-Disposition": {cd}})
	got := rec.Header().Get("Content-Disposition")
	if name := firefoxSavesAs(t, got); strings.Contains(name, tMobile) {
		t.Errorf("Content-Disposition %q: Firefox saves the file as %q", got, name)
	}
}

// TestReview37aRFC2231Continuations: Firefox (and Go's mime package)
// join RFC 2231 continuations, filename*0, filename*1, … (quoted, or
// percent-encoded with filename*0*=UTF-8”…), into one name. The engine
// reads the parameters as they are written: "138"; filename*1="1234"…
// holds no mobile, and the download is named after the customer's.
func TestReview37aRFC2231Continuations(t *testing.T) {
	m := headerMask(t, "online_agent")
	for _, cd := range []string{
		`attachment; filename*0="138"; filename*1="1234"; filename*2="5678.pdf"`,
		`attachment; filename*0*=UTF-8''%31%33%38; filename*1*=%31%32%33%34; filename*2*=%35%36%37%38.pdf`,
	} {
		if name := firefoxSavesAs(t, cd); name != tMobile+".pdf" {
			t.Fatalf("%q: read as %q", cd, name)
		}
		rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
			"Content-Type": {"application/json"}, "Content-Disposition": {cd}})
		got := rec.Header().Get("Content-Disposition")
		if name := firefoxSavesAs(t, got); strings.Contains(name, tMobile) {
			t.Errorf("Content-Disposition %q: the browser saves the file as %q", got, name)
		}
	}
}

// TestReview37aCookieJSONNotRead: a value holding JSON after other text
// reaches the engine only if needsReading says so, and it looks for JSON
// only at the value's start. A cookie last={"name":"张三"} has no escape,
// no digit the detectors find and does not start with '{': it is never
// read, and the name (found only by its key) reaches the agent. Only
// values that also hold a mobile or an escape were tested in 620e1e5.
func TestReview37aCookieJSONNotRead(t *testing.T) {
	m := headerMask(t, "online_agent")
	for _, v := range []string{
		`last={"name":"张三"}; Path=/`,
		`last=[{"name":"张三"}]; Path=/`,
	} {
		rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
			"Content-Type": {"application/json"}, "Set-Cookie": {v}})
		if got := rec.Header().Get("Set-Cookie"); strings.Contains(got, "张三") {
			t.Errorf("Set-Cookie %q: the agent receives %q", v, got)
		}
	}
}

// TestReview37aQuotedCookieJSON: Python's http.cookies (Django's
// set_cookie) writes a JSON value as a quoted string with its quotes
// escaped, last="{\"name\": \"张三\"}", and ',' as \054. findJSON tries
// the '{' and finds no JSON (its quotes are \"), so the name is read as
// text; the browser's document.cookie (and the app's JSON.parse after
// unquoting) shows it.
func TestReview37aQuotedCookieJSON(t *testing.T) {
	m := headerMask(t, "online_agent")
	for _, v := range []string{
		`last="{\"name\": \"张三\"}"; Path=/`,
		`last="{\"name\": \"张三\"\054 \"id\": 7}"; Path=/`,
	} {
		rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
			"Content-Type": {"application/json"}, "Set-Cookie": {v}})
		if got := rec.Header().Get("Set-Cookie"); strings.Contains(got, "张三") {
			t.Errorf("Set-Cookie %q: the agent receives %q", v, got)
		}
	}
}

// TestReview37aOnlyFirstJSONRead: findJSON returns the first '{' or '['
// that starts JSON; a value with two JSON pieces (two query parameters)
// has its second read as text, so a name in it is not masked; a first
// piece that is only [7] hides the object after it, written or
// percent-encoded (embeddedJSON tries the percent-decoded value only when
// the value as written holds no JSON); and past eight '{' or '[' that
// start none, nothing is read.
func TestReview37aOnlyFirstJSONRead(t *testing.T) {
	m := headerMask(t, "online_agent")
	for _, loc := range []string{
		`/c?filter={"page":2}&last={"name":"张三"}`,
		`/c?ids=[7]&last={"name":"张三"}`,
		`/c?ids=[7]&last=%7B%22name%22%3A%22%E5%BC%A0%E4%B8%89%22%7D`,
		`/c?t=[a][b][c][d][e][f][g][h]&last={"name":"张三"}`,
	} {
		rec, _ := serveHeaders(t, m, http.MethodGet, 302, http.Header{
			"Content-Type": {"application/json"}, "Location": {loc}})
		got := rec.Header().Get("Location")
		if d, _ := url.QueryUnescape(got); strings.Contains(d, "张三") {
			t.Errorf("Location %q: the agent receives %q", loc, got)
		}
	}
}

// TestReview37aPercentJSONStrayPercent: embeddedJSON reads percent-encoded
// JSON only if url.PathUnescape takes the whole value; one '%' elsewhere
// that starts no escape (a discount of 50%) and the JSON is read as text:
// the name is not masked, though the browser decodes the JSON's escapes.
func TestReview37aPercentJSONStrayPercent(t *testing.T) {
	m := headerMask(t, "online_agent")
	loc := `/c?note=50%&last=%7B%22name%22%3A%22%E5%BC%A0%E4%B8%89%22%7D`
	rec, _ := serveHeaders(t, m, http.MethodGet, 302, http.Header{
		"Content-Type": {"application/json"}, "Location": {loc}})
	got := rec.Header().Get("Location")
	if strings.Contains(got, "%E5%BC%A0%E4%B8%89") || strings.Contains(got, "张三") {
		t.Errorf("Location %q: the agent receives %q", loc, got)
	}
}

// TestReview37aPercentJSONWrittenDecoded: a value with percent-encoded
// JSON that holds nothing to mask comes back percent-decoded: partsView
// writes p.json (the decoded JSON) when the engine left it as it was, and
// the decoded text differs from the value read, so it replaces the
// upstream's. prefs=%7B%22lang%22…%7D becomes prefs={"lang":"zh","n":1},
// a cookie value with '"' and ',' that Go's net/http (and Tomcat's
// RFC 6265 parser) drop when the browser sends it back: the app loses the
// agent's preferences on every guarded response.
func TestReview37aPercentJSONWrittenDecoded(t *testing.T) {
	m := headerMask(t, "online_agent")
	v := `prefs=` + url.QueryEscape(`{"lang":"zh","n":1}`) + `; Path=/`
	rec, out := serveHeaders(t, m, http.MethodGet, 200, http.Header{
		"Content-Type": {"application/json"}, "Set-Cookie": {v}})
	got := rec.Header().Get("Set-Cookie")
	if got != v {
		t.Errorf("Set-Cookie %q (nothing to mask, %d found) is sent as %q", v, out.Summary.Total(), got)
	}
	req := cookieRequest37a(strings.SplitN(got, ";", 2)[0])
	if _, err := req.Cookie("prefs"); err != nil {
		t.Errorf("the browser sends back %q: the app reads no prefs cookie (%v)", strings.SplitN(got, ";", 2)[0], err)
	}
}

func cookieRequest37a(cookie string) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Cookie", cookie)
	return r
}

// TestReview37aPercentJSONRestDecoded: where the JSON was percent-encoded
// the whole value is percent-decoded (url.PathUnescape), and when the
// JSON is masked the value goes out as the decoded text before and after
// it plus url.PathEscape of the JSON's view. A redirect's next=%2Fa%3Fb%3D1%26c%3D2
// becomes next=/a?b=1&c=2 (c is now a parameter of its own), and the
// view's '&' and '=' (PathEscape leaves them, and ':' ',' '@') split the
// JSON parameter: the app gets a different URL, and ctx is no longer JSON.
func TestReview37aPercentJSONRestDecoded(t *testing.T) {
	m := headerMask(t, "online_agent")
	ctx := `{"name":"张三","q":"a&b=c"}`
	loc := `/cb?next=` + url.QueryEscape(`/a?b=1&c=2`) + `&ctx=` + url.QueryEscape(ctx)
	rec, _ := serveHeaders(t, m, http.MethodGet, 302, http.Header{
		"Content-Type": {"application/json"}, "Location": {loc}})
	got := rec.Header().Get("Location")
	u, err := url.Parse(got)
	if err != nil {
		t.Fatalf("Location %q: %v", got, err)
	}
	q := u.Query()
	if q.Get("next") != "/a?b=1&c=2" || len(q) != 2 {
		t.Errorf("Location %q is sent as %q: parameters %v", loc, got, q)
	}
	var v map[string]string
	if err := json.Unmarshal([]byte(q.Get("ctx")), &v); err != nil || v["q"] != "a&b=c" {
		t.Errorf("Location %q is sent as %q: ctx %q is not the app's JSON (%v)", loc, got, q.Get("ctx"), err)
	}
}

// TestReview37aDecodeWordsQuadratic: decodeWordsOnce tries every "=?",
// and encodedWordAt searched the rest of the value for "?=" each time: a
// value of "=?a?q?b" repeated and no "?=" cost time quadratic in its
// length (a 256 KiB value about half a second, 1 MiB several seconds, of
// one core, per response; Go's transport takes 10 MB of response header
// by default). Any value with "=?" reaches decodeWords. (Compared as a
// ratio of two sizes measured in one run, not against a clock.)
func TestReview37aDecodeWordsQuadratic(t *testing.T) {
	for _, c := range []struct{ unit, tail string }{
		{"=?a?q?b", ""}, {"=?a?q?b", "?="}, {"=?a?b?b", "?="}, {"=?a?b?\x01", "?="}, {"=?utf-8?b?MTM4 ", "?="},
	} {
		for _, firefox := range []bool{false, true} {
			cost := func(n int) time.Duration {
				s := strings.Repeat(c.unit, n/len(c.unit)) + c.tail
				best := time.Duration(1 << 62)
				for range 3 {
					start := time.Now()
					decodeWords(s, firefox)
					best = min(best, time.Since(start))
				}
				return best
			}
			small, large := cost(16<<10), cost(256<<10)
			if large > 64*small+5*time.Millisecond {
				t.Errorf("%q×n%q (firefox %v): 16 KiB took %v, 256 KiB %v (16 times the bytes)", c.unit, c.tail, firefox, small, large)
			}
		}
	}
}
