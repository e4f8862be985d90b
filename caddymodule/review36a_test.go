package caddymodule

import (
	"context"
	"encoding/base64"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"golang.org/x/text/encoding/htmlindex"
)

// firefoxFilename returns the download name Firefox gives a
// Content-Disposition value: the filename parameter with its RFC 2047
// encoded-words decoded as nsMIMEHeaderParamImpl does it: the charset label
// looked up as the Encoding Standard says (mozilla::Encoding::ForLabel:
// "iso-8859-1" and "us-ascii" are windows-1252), base64 read by NSPR's
// PL_Base64Decode, which does not need the padding.
func firefoxFilename(t *testing.T, cd string) string {
	t.Helper()
	_, params, err := mime.ParseMediaType(cd)
	if err != nil {
		t.Fatalf("%q: %v", cd, err)
	}
	word := regexp.MustCompile(`=\?([^?]+)\?([bBqQ])\?([^?]*)\?=`)
	return word.ReplaceAllStringFunc(params["filename"], func(w string) string {
		m := word.FindStringSubmatch(w)
		if strings.ToUpper(m[2]) != "B" {
			d, err := new(mime.WordDecoder).DecodeHeader(w)
			if err != nil {
				return w
			}
			return d
		}
		raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(m[3], "="))
		if err != nil {
			return w
		}
		enc, err := htmlindex.Get(m[1])
		if err != nil {
			return w
		}
		s, err := enc.NewDecoder().String(string(raw))
		if err != nil {
			return w
		}
		return s
	})
}

// TestReview36aEncodedWordDecodedOnceWrittenBack: an encoded-word is
// decoded once for the engine, and when anything in the value is masked
// the decoded text goes out in place of the upstream's. A name that was
// encoded twice (an attachment name stored as its encoded-word, then
// encoded again by the app) reached the browser as the inner
// encoded-word's text; through pii_mask the browser gets the inner
// encoded-word itself, decodes it, and saves the file under the
// customer's mobile, which the engine never read.
func TestReview36aEncodedWordDecodedOnceWrittenBack(t *testing.T) {
	m := headerMask(t, "online_agent")
	inner := "=?UTF-8?B?" + base64.StdEncoding.EncodeToString([]byte(tMobile)) + "?="
	outer := "=?UTF-8?B?" + base64.StdEncoding.EncodeToString([]byte(inner+" "+tEmail+".eml")) + "?="
	cd := `attachment; filename="` + outer + `"`
	// Without pii_mask the browser shows the inner encoded-word's text.
	if name := firefoxFilename(t, cd); strings.Contains(name, tMobile) {
		t.Fatalf("the upstream's value shows the mobile already: %q", name)
	}
	rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
		"Content-Type": {"application/json"}, "Content-Disposition": {cd}})
	got := rec.Header().Get("Content-Disposition")
	if name := firefoxFilename(t, got); strings.Contains(name, tMobile) {
		t.Errorf("Content-Disposition %q: the browser saves the file as %q", got, name)
	}
}

// TestReview36aLatin1EncodedWord: the Encoding Standard (and so Firefox's
// RFC 2047 decoding of a download name) reads the labels iso-8859-1 and
// us-ascii as windows-1252; wordDecoder leaves them to mime.WordDecoder,
// which reads ISO-8859-1 as Latin-1 (0x96 a C1 control) and US-ASCII as
// ASCII (0xA0 a U+FFFD). "138–1234–5678" (en dashes, 0x96) and
// "138 1234 5678" (no-break spaces) are mobiles the engine masks when it
// sees them, but it is shown other text and the upstream's value goes out.
func TestReview36aLatin1EncodedWord(t *testing.T) {
	m := headerMask(t, "online_agent")
	for _, c := range []struct{ charset, name string }{
		{"iso-8859-1", "138\x961234\x965678.pdf"},
		{"us-ascii", "138\xa01234\xa05678.pdf"},
	} {
		cd := `attachment; filename="=?` + c.charset + `?B?` + base64.StdEncoding.EncodeToString([]byte(c.name)) + `?="`
		rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
			"Content-Type": {"application/json"}, "Content-Disposition": {cd}})
		got := rec.Header().Get("Content-Disposition")
		if name := firefoxFilename(t, got); strings.Contains(name, "1234") {
			t.Errorf("%s: Content-Disposition %q: Firefox saves the file as %q", c.charset, got, name)
		}
	}
}

// TestReview36aUnpaddedBase64EncodedWord: Go's decoder refuses a B
// encoded-word without its '=' padding and leaves it as written, where the
// detectors find nothing; Firefox decodes it (PL_Base64Decode does not
// need the padding) into the customer's mobile.
func TestReview36aUnpaddedBase64EncodedWord(t *testing.T) {
	m := headerMask(t, "online_agent")
	// "客户_13812345678.json", base64 without its padding
	cd := `attachment; filename="=?UTF-8?B?` + base64.RawStdEncoding.EncodeToString([]byte("客户_"+tMobile+".json")) + `?="`
	rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
		"Content-Type": {"application/json"}, "Content-Disposition": {cd}})
	got := rec.Header().Get("Content-Disposition")
	if got == "" {
		return // removed: nothing shown
	}
	if name := firefoxFilename(t, got); strings.Contains(name, tMobile) {
		t.Errorf("Content-Disposition %q: Firefox saves the file as %q", got, name)
	}
}

// TestReview36aCookieJSON: a value is walked as JSON (its keys typing what
// they hold, the only way a name is found) only when the whole value
// starts like JSON. A cookie's value never does: it follows "name=". An
// app that keeps the customer it last opened in a cookie, as JSON or as
// encodeURIComponent(JSON.stringify(…)), gives the agent the customer's
// name in clear, though the same JSON in a field or a body is masked.
func TestReview36aCookieJSON(t *testing.T) {
	m := headerMask(t, "online_agent")
	for _, v := range []string{
		`lastCustomer={"name":"张三","mobile":"` + tMobile + `"}; Path=/`,
		`lastCustomer=%7B%22name%22%3A%22%E5%BC%A0%E4%B8%89%22%7D; Path=/`,
	} {
		rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
			"Content-Type": {"application/json"}, "Set-Cookie": {v}})
		for _, got := range rec.Header().Values("Set-Cookie") {
			if strings.Contains(got, "张三") || strings.Contains(got, "%E5%BC%A0%E4%B8%89") {
				t.Errorf("Set-Cookie %q: the agent receives %q", v, got)
			}
		}
	}
	// The same JSON as a whole value is masked.
	rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
		"Content-Type": {"application/json"}, "X-Last-Customer": {`{"name":"张三"}`}})
	if got := rec.Header().Get("X-Last-Customer"); got != `{"name":"张*"}` {
		t.Fatalf("X-Last-Customer %q", got)
	}
}

// TestReview36aEarlyHintsCountsLost: what a 103's header showed (masked)
// is added to the outcome, but the body's fallbacks (JSON that turns out
// to be JSON lines) and a refusal of the final response reset the
// summary: the flow log says nothing of the mobile the agent was shown
// masked in the hint.
func TestReview36aEarlyHintsCountsLost(t *testing.T) {
	m := headerMask(t, "online_agent")
	for _, c := range []struct {
		name string
		ct   string
		enc  string
		body string
	}{
		{"json lines under text/plain", "text/plain", "", "{\"a\":1}\n{\"b\":2}\n"},
		{"final refused", "application/json", "x-unknown", `{"ok":true}`},
	} {
		req := httptest.NewRequest(http.MethodGet, "/api/c", nil)
		ctx := context.WithValue(req.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer())
		vars := map[string]any{}
		ctx = context.WithValue(ctx, caddyhttp.VarsCtxKey, vars)
		rec := &earlyHintsRecorder{ResponseRecorder: httptest.NewRecorder()}
		err := m.ServeHTTP(rec, req.WithContext(ctx), caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Link", "</customers/"+tMobile+">; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			delete(w.Header(), "Link")
			w.Header().Set("Content-Type", c.ct)
			if c.enc != "" {
				w.Header().Set("Content-Encoding", c.enc)
			}
			_, err := io.WriteString(w, c.body)
			return err
		}))
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.hints) != 1 || rec.hints[0].Get("Link") != "</customers/138****5678>; rel=preload" {
			t.Fatalf("%s: hints %v", c.name, rec.hints)
		}
		out, _ := vars[varOutcome].(*Outcome)
		if out == nil {
			t.Fatal("no outcome")
		}
		n := 0
		for _, k := range out.Summary.Counts {
			if k.Type.String() == "cn_mobile" {
				n += k.N
			}
		}
		if n != 1 {
			t.Errorf("%s: the agent was shown a masked mobile in the 103; the outcome (%s) counts %d (%v)",
				c.name, out.Result, n, out.Summary.Counts)
		}
	}
}
