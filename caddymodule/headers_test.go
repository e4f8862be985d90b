package caddymodule

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddytest"

	"github.com/piigate/piigate/config"
	"github.com/piigate/piigate/detectors"
)

// headerMask is a Mask for the header tests: the online agent masks
// mobiles, resident IDs and e-mail, redacts the rest; the minimal role
// drops everything; the supervisor sees everything.
func headerMask(t *testing.T, roles string) *Mask {
	t.Helper()
	app := &App{Roles: map[string]config.RoleRules{
		"online_agent": {"cn_mobile": "mask", "cn_resident_id": "mask", "email": "mask", "person_name": "mask", "*": "redact"},
		"minimal":      {"*": "drop"},
		"supervisor":   {"*": "plain"},
	}}
	if err := app.compile(); err != nil {
		t.Fatal(err)
	}
	m := &Mask{RolesFrom: roles, Scan: "off", Fields: []config.Field{{Path: "mobile", Type: "cn_mobile"}}}
	if err := m.provisionWith(app); err != nil {
		t.Fatal(err)
	}
	return m
}

// serveHeaders runs m over an upstream that sets hdr and answers status
// with a small JSON body, and returns the agent's response and outcome.
func serveHeaders(t *testing.T, m *Mask, method string, status int, hdr http.Header) (*httptest.ResponseRecorder, *Outcome) {
	t.Helper()
	rec, vars := serveMask(t, m, httptest.NewRequest(method, "/api/c", nil),
		func(w http.ResponseWriter, r *http.Request) error {
			for k, vs := range hdr {
				w.Header()[k] = append([]string(nil), vs...)
			}
			w.WriteHeader(status)
			_, err := io.WriteString(w, `{"ok":true}`)
			return err
		})
	out, _ := vars[varOutcome].(*Outcome)
	if out == nil {
		t.Fatal("no outcome")
	}
	return rec, out
}

// TestResponseHeadersMasked: personal data in response header fields is
// masked per role like a body's, found by content (Location,
// Content-Disposition, Set-Cookie, Link, with escapes decoded) and by a
// custom field's name (X-Customer-Mobile); a field whose name is personal
// data and a value that is not UTF-8 are removed; what the gateway needs
// (Content-Type, Date) is left alone; the outcome counts it all.
func TestResponseHeadersMasked(t *testing.T) {
	upstream := http.Header{
		"Content-Type":        {"application/json; charset=utf-8"},
		"Date":                {"Sat, 28 Nov 2026 03:20:28 GMT"},
		"Location":            {"/customers/" + tMobile + "/edit?email=zhang.san%40example.com"},
		"Content-Disposition": {`attachment; filename="客户_` + tID + `.json"`},
		"Set-Cookie":          {"last=" + tMobile + "; Path=/; HttpOnly", "session=8f14e45fceea167a; Path=/"},
		"X-Customer-Mobile":   {"138 1234 5678"},
		"X-Customer-Name":     {"张三"},
		"X-Trace-Id":          {"a1b2c3d4e5"},
		"X-" + tMobile:        {"1"},
		"X-Legacy-Note":       {"\xd5\xc5\xc8\xfd"}, // 张三 in GBK
		"Link":                {"</customers/" + tMobile + ">; rel=preload"},
		"Refresh":             {"0; url=/c?id=" + tID},
	}
	rec, out := serveHeaders(t, headerMask(t, "online_agent"), http.MethodGet, 200, upstream)
	h := rec.Header()
	want := map[string]string{
		"Content-Type":        "application/json; charset=utf-8",
		"Date":                "Sat, 28 Nov 2026 03:20:28 GMT",
		"Location":            "/customers/138****5678/edit?email=z***@example.com",
		"Content-Disposition": `attachment; filename="客户_110105********002X.json"`,
		"X-Customer-Mobile":   "138 **** 5678", // the mask keeps the separators
		"X-Customer-Name":     "张*",
		"X-Trace-Id":          "a1b2c3d4e5",
		"Link":                "</customers/138****5678>; rel=preload",
		"Refresh":             "0; url=/c?id=110105********002X",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	if got := strings.Join(h.Values("Set-Cookie"), " | "); got != "last=138****5678; Path=/; HttpOnly | session=8f14e45fceea167a; Path=/" {
		t.Errorf("Set-Cookie: %q", got)
	}
	for _, k := range []string{"X-" + tMobile, "X-Legacy-Note"} {
		if _, ok := h[k]; ok {
			t.Errorf("%s was not removed: %q", k, h[k])
		}
	}
	for k, vs := range h {
		for _, v := range append(vs, k) {
			for _, secret := range []string{tMobile, tID, "zhang.san", "138 1234 5678", "张三"} {
				if strings.Contains(v, secret) {
					t.Errorf("%s: %q shows %s", k, v, secret)
				}
			}
		}
	}
	if rec.Body.String() != `{"ok":true}` || out.Result != resultRewritten {
		t.Errorf("body %s, result %s (want the upstream's body, rewritten: its header was)", rec.Body, out.Result)
	}
	counts := map[string]int{}
	for _, c := range out.Summary.Counts {
		counts[c.Type.String()+" "+c.Action.String()] += c.N
	}
	// Mobiles: Location, Set-Cookie, X-Customer-Mobile, Link and the name
	// X-13812345678.
	if counts["cn_mobile mask"] != 5 || counts["cn_resident_id mask"] != 2 || counts["email mask"] != 1 ||
		counts["person_name mask"] != 1 {
		t.Errorf("counts %v", counts)
	}
	paths := " " + strings.Join(out.Summary.Paths, " ") + " "
	for _, p := range []string{"@header.Location", "@header.X-Customer-Mobile", "@header.Set-Cookie.#"} {
		if !strings.Contains(paths, " "+p+" ") {
			t.Errorf("no path %s in %s", p, paths)
		}
	}

	// The supervisor sees every field as sent (but the one that is not
	// UTF-8: nobody's view holds what the gateway could not read).
	rec, out = serveHeaders(t, headerMask(t, "supervisor"), http.MethodGet, 200, upstream)
	for k, vs := range upstream {
		if k == "X-Legacy-Note" {
			if _, ok := rec.Header()[k]; ok {
				t.Errorf("supervisor: %s not removed", k)
			}
			continue
		}
		if got := strings.Join(rec.Header()[k], "|"); got != strings.Join(vs, "|") {
			t.Errorf("supervisor: %s %q, want %q", k, got, strings.Join(vs, "|"))
		}
	}
	if out.Result != resultRewritten {
		t.Errorf("supervisor: result %s (a field was removed)", out.Result)
	}
	delete(upstream, "X-Legacy-Note")
	if _, out = serveHeaders(t, headerMask(t, "supervisor"), http.MethodGet, 200, upstream); out.Result != resultUnchanged {
		t.Errorf("supervisor, all UTF-8: result %s", out.Result)
	}
	upstream["X-Legacy-Note"] = []string{"\xd5\xc5\xc8\xfd"}

	// drop removes a value from a field's text, and a field its name
	// types.
	rec, _ = serveHeaders(t, headerMask(t, "minimal"), http.MethodGet, 200, upstream)
	for _, k := range []string{"X-Customer-Mobile", "X-Customer-Name"} {
		if v, ok := rec.Header()[k]; ok {
			t.Errorf("minimal: %s %q not dropped", k, v)
		}
	}
	for k, want := range map[string]string{"Location": "/customers//edit?email=", "Link": "</customers/>; rel=preload",
		"Refresh": "0; url=/c?id="} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("minimal: %s %q, want %q", k, got, want)
		}
	}
	if got := rec.Header().Get("X-Trace-Id"); got != "a1b2c3d4e5" {
		t.Errorf("minimal: X-Trace-Id %q", got)
	}
}

// TestResponseHeadersEveryMode: the header is read however the body is
// handled: HEAD and 204 (no body), a pass_types image, an event stream,
// an error status.
func TestResponseHeadersEveryMode(t *testing.T) {
	m := headerMask(t, "online_agent")
	m.PassTypes = []string{"image/*"}
	for _, c := range []struct {
		name, method string
		status       int
		ct           string
	}{
		{"HEAD", http.MethodHead, 200, "application/json"},
		{"204", http.MethodGet, 204, "application/json"},
		{"image", http.MethodGet, 200, "image/png"},
		{"stream", http.MethodGet, 200, "text/event-stream"},
		{"404", http.MethodGet, 404, "application/json"},
	} {
		rec, _ := serveHeaders(t, m, c.method, c.status, http.Header{
			"Content-Type": {c.ct}, "X-Customer-Mobile": {tMobile}, "Location": {"/c/" + tEmail}})
		if got := rec.Header().Get("X-Customer-Mobile") + " " + rec.Header().Get("Location"); got != "138****5678 /c/z***@example.com" {
			t.Errorf("%s: %q", c.name, got)
		}
	}
}

// TestResponseHeadersFastPath: a response whose header holds nothing a
// finding needs costs no engine call and no allocation.
func TestResponseHeadersFastPath(t *testing.T) {
	m := headerMask(t, "online_agent")
	var d config.Decision
	m.table.Decide("online_agent", &d)
	mw := &maskWriter{m: m, d: &d, out: &Outcome{}}
	h := http.Header{
		"Content-Type":   {"application/json; charset=utf-8"},
		"Content-Length": {"7460"},
		"Date":           {"Sat, 28 Nov 2026 03:20:28 GMT"},
		"Server":         {"Caddy"},
		"X-Powered-By":   {"Express"},
	}
	if n := testing.AllocsPerRun(100, func() { mw.maskHeaders(h, true) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
	// A Date or Content-Type that is not what HTTP says is read.
	h = http.Header{"Date": {tMobile}, "Content-Type": {"text/csv; name=" + tMobile + ".csv"}}
	mw.maskHeaders(h, true)
	if got := h.Get("Date") + " " + h.Get("Content-Type"); got != "138****5678 text/csv; name=138****5678.csv" {
		t.Errorf("%q", got)
	}
}

// TestResponseHeadersGateway: in a real Caddy, a redirect's Location and
// a 103 Early Hints response's Link reach the agent masked.
func TestResponseHeadersGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	ensureAdmin(t)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</customers/"+tMobile+">; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		w.Header().Set("Location", "/customers/"+tMobile+"?mail="+strings.ReplaceAll(tEmail, "@", "%40"))
		w.Header().Set("X-Customer-Mobile", tMobile)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusFound)
		io.WriteString(w, `{"redirect":true}`)
	}))
	defer up.Close()
	tc := caddytest.NewTester(t)
	tc.InitServer(`{
	skip_install_trust
	admin localhost:2999
	http_port 9080
	https_port 9443
	pii {
		role online_agent {
			cn_mobile mask
			email mask
			* redact
		}
	}
}
http://localhost:9080 {
	pii_mask {
		roles_from {http.request.header.X-Test-Role}
	}
	reverse_proxy `+up.Listener.Addr().String()+`
}
`, "caddyfile")
	var hints []string
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			hints = append(hints, h.Values("Link")...)
			return nil
		},
	})
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://localhost:9080/api/c", nil)
	req.Header.Set("X-Test-Role", "online_agent")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := retryDo(client, req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Location"); resp.StatusCode != 302 || got != "/customers/138****5678?mail=z***@example.com" {
		t.Errorf("%d Location %q", resp.StatusCode, got)
	}
	if got := resp.Header.Get("X-Customer-Mobile"); got != "138****5678" {
		t.Errorf("X-Customer-Mobile %q", got)
	}
	if len(hints) != 1 || hints[0] != "</customers/138****5678>; rel=preload" {
		t.Errorf("103 Link %q", hints)
	}
}

// TestResponseHeadersKeepBuffersApart: a header rewritten over a body the
// rewrite leaves as it is must not hand the body's buffer to the pool of
// views (the first version did: the next response's body was written
// over another's).
func TestResponseHeadersKeepBuffersApart(t *testing.T) {
	m := headerMask(t, "online_agent")
	scan := provisionedMask(t, &Mask{RolesFrom: "online_agent", Scan: "all"})
	for i := 0; i < 200; i++ {
		body := `{"n":` + strings.Repeat("1", 1+i%7) + `,"pad":"` + strings.Repeat("x", i) + `"}`
		rec, vars := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/c", nil),
			func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Location", "/c/"+tMobile)
				_, err := io.WriteString(w, body)
				return err
			})
		if rec.Body.String() != body || rec.Header().Get("Location") != "/c/138****5678" {
			t.Fatalf("response %d: %s %q, want %s", i, rec.Body, rec.Header().Get("Location"), body)
		}
		if out := vars[varOutcome].(*Outcome); out.Result != resultRewritten {
			t.Fatalf("result %s", out.Result)
		}
		// A body the rewrite changes, in between, takes a view from the
		// pool (a longer one: its writes run ahead of its reads).
		pad := strings.Repeat("y", 200-i)
		rec, _ = serveMask(t, scan, httptest.NewRequest(http.MethodGet, "/api/c", nil),
			func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", "application/json")
				_, err := io.WriteString(w, `{"note":"a@example.com","pad":"`+pad+`"}`)
				return err
			})
		if want := `{"note":"***@example.com","pad":"` + pad + `"}`; rec.Body.String() != want {
			t.Fatalf("view %d: %s, want %s", i, rec.Body, want)
		}
	}
}

// TestResponseHeadersEncodedWords: RFC 2047 encoded-words are read in the
// charset they name (GBK here, as a Chinese legacy app writes them); a
// masked one goes out decoded and masked, an unmasked one as sent, and
// one in a charset no browser knows is removed.
func TestResponseHeadersEncodedWords(t *testing.T) {
	m := headerMask(t, "online_agent")
	// "客户_13812345678.json" in GBK, base64.
	gbk := `attachment; filename="=?GBK?B?v827p18xMzgxMjM0NTY3OC5qc29u?="`
	plain := `attachment; filename="=?UTF-8?B?5a6i5oi3Lmpzb24=?="` // 客户.json
	rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
		"Content-Type": {"application/json"}, "Content-Disposition": {gbk},
		"X-Note": {plain}, "X-Other": {"=?x-unknown?B?MTM4MTIzNDU2Nzg=?="}})
	if got := rec.Header().Get("Content-Disposition"); got != `attachment; filename="客户_138****5678.json"` {
		t.Errorf("GBK encoded-word: %q", got)
	}
	if got := rec.Header().Get("X-Note"); got != plain {
		t.Errorf("an encoded-word with nothing to mask: %q, want it as sent", got)
	}
	if v, ok := rec.Header()["X-Other"]; ok {
		t.Errorf("an encoded-word in an unknown charset: %q not removed", v)
	}
}

// TestDecodeWords: encoded-words as browsers read them in a file name.
func TestDecodeWords(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"plain", "plain", true},
		{"=?UTF-8?B?5a6i5oi3?=", "客户", true},
		{"=?UTF-8?B?5a6i5oi3Xw?=", "客户_", true}, // no padding
		{"=?utf-8?q?a_b=3Dc?=", "a b=c", true},
		{"=?UTF-8?Q?a?= =?UTF-8?Q?b?=", "ab", true},       // white space between words dropped
		{"x =?UTF-8?Q?a?= y", "x a y", true},              // not elsewhere
		{"=?iso-8859-1?Q?138=961234?=", "138–1234", true}, // windows-1252, as browsers read the label
		{"=?GBK?B?1cXI/Q==?=", "张三", true},
		{"=?UTF-8*zh?B?5a6i5oi3?=", "客户", true},
		{"=?x-unknown?B?MTM4?=", "", false},
		{"=?UTF-8?B?not base64!?=", "=?UTF-8?B?not base64!?=", true}, // not a word: as it is
		{"a=?b", "a=?b", true},
		{"=?UTF-8?B?PT9VVEYtOD9CP01UTTQ/PQ==?=", "138", true}, // a word whose text is a word
	} {
		for _, firefox := range []bool{false, true} {
			got, ok := decodeWords(c.in, firefox)
			if got != c.want || ok != c.ok {
				t.Errorf("decodeWords(%q, firefox %v) = %q, %v; want %q, %v", c.in, firefox, got, ok, c.want, c.ok)
			}
		}
	}
	// Nested deeper than a few levels: removed.
	s := "13812345678"
	for range 6 {
		s = "=?UTF-8?B?" + base64.StdEncoding.EncodeToString([]byte(s)) + "?="
	}
	if _, ok := decodeWords(s, true); ok {
		t.Errorf("six levels of words: read")
	}
}

// TestResponseHeadersEmbeddedJSON: JSON after other text in a value (a
// cookie's), as written or percent-encoded, is read as JSON: its keys type
// its values, and the rest of the value stays as it was.
func TestResponseHeadersEmbeddedJSON(t *testing.T) {
	m := headerMask(t, "online_agent")
	rec, out := serveHeaders(t, m, http.MethodGet, 200, http.Header{
		"Content-Type": {"application/json"},
		"Set-Cookie": {
			`last={"name":"张三","id":7}; Path=/`,
			`enc=` + url.PathEscape(`{"name":"李四"}`) + `; Path=/`,
			`sid=abc123; Path=/`,
		},
	})
	got := rec.Header().Values("Set-Cookie")
	// A percent-encoded piece's view is percent-encoded but for the
	// unreserved characters, so that no '&' or '=' in it splits a query.
	want := []string{`last={"name":"张*","id":7}; Path=/`, `enc=%7B%22name%22%3A%22%E6%9D%8E%2A%22%7D; Path=/`, `sid=abc123; Path=/`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Set-Cookie %q\nwant %q", got, want)
	}
	if n := out.Summary.Total(); n != 2 {
		t.Errorf("%d values counted, want 2", n)
	}
}

// TestResponseHeadersJSONWithoutDigits: JSON after other text whose only
// personal data is a name (no byte the detectors look for) still reaches
// the engine.
func TestResponseHeadersJSONWithoutDigits(t *testing.T) {
	rec, _ := serveHeaders(t, headerMask(t, "online_agent"), http.MethodGet, 200, http.Header{
		"Content-Type": {"application/json"}, "Set-Cookie": {`last={"name":"张三"}; Path=/`}})
	if got := rec.Header().Get("Set-Cookie"); got != `last={"name":"张*"}; Path=/` {
		t.Errorf("Set-Cookie %q", got)
	}
}

// TestPlainHeaderNamesTypeNothing: the names maskHeaders looks up instead
// of classifying type nothing, and hold nothing the detectors find.
func TestPlainHeaderNamesTypeNothing(t *testing.T) {
	m := headerMask(t, "online_agent")
	for k := range plainHeaderNames {
		if _, typed := detectors.ClassifyField(k); typed || m.needsReading(k) || http.CanonicalHeaderKey(k) != k {
			t.Errorf("%s: typed %v, needs reading %v, canonical %v", k, typed, m.needsReading(k), http.CanonicalHeaderKey(k) == k)
		}
	}
}
