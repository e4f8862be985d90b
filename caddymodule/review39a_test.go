package caddymodule

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// chromeSavesAs is the name Chrome saves a download under
// (net/http/http_content_disposition.cc): the first filename* decoded in
// the charset it names (DecodeExtValue), else the first filename with its
// quoted-pairs undone; later duplicates are ignored. RFC 2231
// continuations are not read. "" for a value without a name.
func chromeSavesAs(t *testing.T, cd string) string {
	t.Helper()
	_, rest, _ := strings.Cut(cd, ";")
	plain, ext, haveExt := "", "", false
	for rest != "" {
		var item string
		item, rest = cutParam(rest)
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			continue
		}
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		switch {
		case k == "filename" && plain == "":
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = unquotePairs(v[1 : len(v)-1])
			}
			plain = v
		case k == "filename*" && !haveExt:
			cs, r, _ := strings.Cut(v, "'")
			_, enc, _ := strings.Cut(r, "'")
			raw, err := url.PathUnescape(enc)
			if err != nil {
				t.Fatalf("%q: %v", cd, err)
			}
			e, err := htmlindex.Get(cs)
			if err != nil {
				t.Fatalf("%q: %v", cd, err)
			}
			if ext, err = e.NewDecoder().String(raw); err != nil {
				t.Fatalf("%q: %v", cd, err)
			}
			haveExt = true
		}
	}
	if haveExt {
		return ext
	}
	return plain
}

// fullWidth writes s's digits as full-width forms (１３８…).
func fullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			r += '０' - '0'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// TestReview39aFallbackJoinedWithExtName: readParams keys parameters by
// their name without the '*', so the RFC 6266 form every framework sends
// for a download (ASP.NET Core's File(…, name), Express's res.attachment:
// filename="ASCII fallback"; filename*=UTF-8”name) becomes one
// filename, the fallback and the real name joined. That reading is the
// first to change, so it is what is sent: the agent's browser saves
// "??_138****5678.pdf客户_138****5678.pdf" instead of
// "客户_138****5678.pdf" (before the readings, the value was masked in
// place). Every masked download of this form gets a broken name.
func TestReview39aFallbackJoinedWithExtName(t *testing.T) {
	m := headerMask(t, "online_agent")
	for cd, want := range map[string]string{
		`attachment; filename="??_` + tMobile + `.pdf"; filename*=UTF-8''%E5%AE%A2%E6%88%B7_` + tMobile + `.pdf`: "客户_138****5678.pdf",
		`attachment; filename=report_` + tMobile + `.pdf; filename*=UTF-8''report_` + tMobile + `.pdf`:           "report_138****5678.pdf",
	} {
		rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
			"Content-Type": {"application/json"}, "Content-Disposition": {cd}})
		got := rec.Header().Get("Content-Disposition")
		if name := chromeSavesAs(t, got); name != want {
			t.Errorf("Content-Disposition %q: sent as %q, the browser saves %q, want %q", cd, got, name, want)
		}
	}
}

// TestReview39aFallbackHidesExtName: the same joining hides the name a
// browser uses. A legacy app names downloads in GBK (the charset
// TestReview38aExtValueCharset made readParams decode) with an ASCII
// fallback before it: readParams reads filename="report.pdf１３８…",
// where the letter before the digits means no mobile; the value as
// written holds only GBK bytes. Both readings unchanged: the value is
// sent as it is, and Chrome saves the file as １３８１２３４５６７８
// (filename* wins over filename).
func TestReview39aFallbackHidesExtName(t *testing.T) {
	m := headerMask(t, "online_agent")
	fw := fullWidth(tMobile)
	gbk, _ := simplifiedchinese.GBK.NewEncoder().String(fw)
	for _, cd := range []string{
		`attachment; filename="report.pdf"; filename*=GBK''` + url.PathEscape(gbk),
		`attachment; filename*=GBK''` + url.PathEscape(gbk) + `; filename="9.pdf"`,
	} {
		if name := chromeSavesAs(t, cd); name != fw {
			t.Fatalf("%q: Chrome reads %q", cd, name)
		}
		rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
			"Content-Type": {"application/json"}, "Content-Disposition": {cd}})
		got := rec.Header().Get("Content-Disposition")
		if name := chromeSavesAs(t, got); strings.Contains(name, fw) {
			t.Errorf("Content-Disposition %q: sent as %q, Chrome saves the file as %q", cd, got, name)
		}
	}
}

// TestReview39aDuplicateFilenameJoined: a second filename is joined to
// the first as if it were a continuation; Chrome takes the first and
// ignores the rest. 138\12345678 (a quoted-pair, found only unquoted)
// joined with "9.pdf" is 138123456789.pdf: no mobile; as written the
// backslash hides it. Chrome saves the file as 13812345678.
func TestReview39aDuplicateFilenameJoined(t *testing.T) {
	m := headerMask(t, "online_agent")
	cd := `attachment; filename="138\12345678"; filename="9.pdf"`
	if name := chromeSavesAs(t, cd); name != tMobile {
		t.Fatalf("%q: Chrome reads %q", cd, name)
	}
	rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
		"Content-Type": {"application/json"}, "Content-Disposition": {cd}})
	got := rec.Header().Get("Content-Disposition")
	if name := chromeSavesAs(t, got); strings.Contains(name, tMobile) {
		t.Errorf("Content-Disposition %q: sent as %q, Chrome saves the file as %q", cd, got, name)
	}
}

// TestReview39aContinuationSplitsCharacter: readParams decodes each
// filename*N* segment in its charset on its own; Firefox
// (nsMIMEHeaderParamImpl combineContinuations) joins the segments' bytes
// and decodes them once. A UTF-8 character split across two segments
// (JavaMail's splitlongparameters splits the encoded text, not the
// characters) is U+FFFD to the engine, so １３８１２３４５６７８ in
// full-width digits is not a mobile there; as written it is percent-
// escapes broken by "; filename*1*=". Firefox saves it as the mobile.
func TestReview39aContinuationSplitsCharacter(t *testing.T) {
	m := headerMask(t, "online_agent")
	fw := fullWidth(tMobile)
	enc := url.PathEscape(fw + ".pdf")
	cut := 9*3 + 3 // inside the fourth character's three bytes
	cd := `attachment; filename*0*=UTF-8''` + enc[:cut] + `; filename*1*=` + enc[cut:]
	firefox := func(cd string) string {
		var b strings.Builder
		for _, n := range []string{"filename*0*=UTF-8''", "filename*1*="} {
			_, v, ok := strings.Cut(cd, n)
			if !ok {
				return ""
			}
			v, _, _ = strings.Cut(v, ";")
			raw, _ := url.PathUnescape(v)
			b.WriteString(raw)
		}
		return b.String()
	}
	if name := firefox(cd); name != fw+".pdf" {
		t.Fatalf("%q: Firefox reads %q", cd, name)
	}
	rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
		"Content-Type": {"application/json"}, "Content-Disposition": {cd}})
	got := rec.Header().Get("Content-Disposition")
	if name := firefox(got); strings.Contains(name, fw) {
		t.Errorf("Content-Disposition %q: sent as %q, Firefox saves the file as %q", cd, got, name)
	}
}

// TestReview39aSentValueNotChecked: pass 3 skips the reading equal to the
// value to send ("the engine's own view"), but the engine's view of its
// own output is not that output: masking an e-mail shortens the text,
// which brings a context word within reach of a number that needs one
// (a 15-digit resident ID, a passport). The gateway sends
// 身份证 z***@example.com 110105491231002, a value it masks itself
// (110105********2) when it reads it: a second reading finds what the
// first let through, and nothing reads it.
func TestReview39aSentValueNotChecked(t *testing.T) {
	m := headerMask(t, "online_agent")
	for _, c := range []struct{ v, secret string }{
		{"身份证 zhang.san.with.a.very.long.mailbox.name@example.com 110105491231002", "110105491231002"},
		{"passport zhang.san.with.a.very.long.mailbox.name@example.com E12345678", "E12345678"},
	} {
		rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
			"Content-Type": {"application/json"}, "X-Note": {c.v}})
		got := rec.Header().Get("X-Note")
		if !strings.Contains(got, c.secret) {
			continue
		}
		again, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
			"Content-Type": {"application/json"}, "X-Note": {got}})
		if g2 := again.Header().Get("X-Note"); g2 != got {
			t.Errorf("X-Note %q: sent as %q, which the gateway itself masks as %q", c.v, got, g2)
		}
	}
}

// TestReview39aCookieAttributesRewritten: readParams reads any value with
// a ';' and a quoted-pair as parameters, Set-Cookie too, and writes back
// only the attributes with a '=' (HttpOnly and Secure are gone), each
// quoted (Path="/" is not a path to a browser: the cookie gets the
// request's directory). When that reading is the first that changes, it
// is what is sent: the session's cookie loses HttpOnly and Secure.
func TestReview39aCookieAttributesRewritten(t *testing.T) {
	m := headerMask(t, "online_agent")
	v := `last=` + tMobile + `; Path=/; HttpOnly; Secure; SameSite=Lax; Comment="call \"back\""`
	rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
		"Content-Type": {"application/json"}, "Set-Cookie": {v}})
	got := rec.Header().Get("Set-Cookie")
	if got == "" {
		return
	}
	for _, attr := range []string{"; Path=/;", "; HttpOnly;", "; Secure;"} {
		if !strings.Contains(got, attr) {
			t.Errorf("Set-Cookie %q: sent as %q, without %q", v, got, attr)
		}
	}
}
