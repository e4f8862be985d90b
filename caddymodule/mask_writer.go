package caddymodule

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	htmlcharset "golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"

	"github.com/piigate/piigate/caddymodule/rewrite"
	"github.com/piigate/piigate/config"
)

// How the writer treats a response, decided when the upstream sends its
// header.
type writeMode uint8

const (
	modeUndecided writeMode = iota
	modeBuffer              // read whole, rewrite, write
	modeStream              // rewrite line by line (NDJSON) or event by event (SSE), flushing
	modePass                // a pass_types body: through untouched
	modeNoBody              // HEAD, 204, 304: headers only
	modeUpgraded            // an allowed WebSocket the upstream switched to: the connection is handed over
	modeRefuse              // cannot be inspected: discard, answer with an error
)

var nosniff = []string{"nosniff"}

var (
	bufPool  = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	viewPool = sync.Pool{New: func() any { return new([]byte) }}
)

// maskWriter is the ResponseWriter pii_mask gives the handlers after it. It
// exposes only what it controls: Write and ReadFrom go through the
// rewrite, Flush flushes only what has been rewritten, Hijack is refused.
type maskWriter struct {
	w   http.ResponseWriter
	r   *http.Request
	m   *Mask
	d   *config.Decision
	out *Outcome

	status      int
	wroteHeader bool // the upstream's header was received
	sentHeader  bool // a header went to the client
	mode        writeMode
	format      rewrite.Format
	sniff       bool // decide between JSON and text from the body
	encodings   []string
	charset     encoding.Encoding // a buffered body's declared charset other than UTF-8, or nil
	html        bool              // the upstream said text/html
	xml         bool              // the upstream said XML
	media       string            // the upstream's media type, lower case
	// charsetDeclared: the Content-Type named a charset (any, UTF-8
	// included), which then wins over what the body says of itself.
	charsetDeclared bool
	textLabel       bool     // the upstream said a kind of text other than plain or HTML
	upgrade         bool     // an allowed WebSocket opening: a 101 hands the connection over
	trailers        []string // the trailers the upstream announced, never passed on
	reason          string   // why modeRefuse
	buf             *bytes.Buffer
	stream          *streamer
	hdr             [3]string // storage for the header values the writer sets
	// headerChanged: maskHeaders changed the header. (Summary.Changed
	// says whether the body's view is the engine's own buffer, not the
	// upstream's: the header does not set it.)
	headerChanged bool
	// early counts what the headers of 1xx and 101 responses showed.
	early *rewrite.Summary
	// upstream: how long the handlers after pii_mask took to hand over a
	// buffered body, which the rewrite duration leaves out.
	upstream time.Duration
}

func (mw *maskWriter) release() {
	if mw.stream != nil && mw.stream.dec != nil {
		mw.stream.dec.abort() // ended already unless the response was given up
	}
	if mw.buf != nil {
		if mw.buf.Cap() <= 4*DefaultMaxBody {
			mw.buf.Reset()
			bufPool.Put(mw.buf)
		}
		mw.buf = nil
	}
}

// Header returns the header the upstream fills; pii_mask fixes it before
// anything reaches the client.
func (mw *maskWriter) Header() http.Header { return mw.w.Header() }

// WriteHeader decides, from the upstream's status and header, how the body
// will be handled.
func (mw *maskWriter) WriteHeader(status int) {
	if mw.wroteHeader {
		return
	}
	if status >= 100 && status < 200 && status != http.StatusSwitchingProtocols {
		// 103 Early Hints and the like carry no body, but their header
		// fields (Link) are read as the final response's are.
		mw.maskHeaders(mw.w.Header(), false)
		mw.w.WriteHeader(status)
		return
	}
	mw.wroteHeader = true
	mw.status = status
	mw.out.Status = status
	h := mw.w.Header()

	if status == http.StatusSwitchingProtocols {
		if mw.upgrade && strings.EqualFold(h.Get("Upgrade"), "websocket") {
			// allow_websocket: the messages are not inspected, and the
			// flow log says so.
			mw.mode = modeUpgraded
			mw.out.Result, mw.out.Reason = resultPassed, reasonWebSocket
			mw.sentHeader = true
			mw.maskHeaders(h, false)
			mw.w.WriteHeader(status)
			return
		}
		mw.refuse(reasonWebSocket)
		return
	}
	if status == http.StatusNoContent || status == http.StatusNotModified {
		mw.mode = modeNoBody
		mw.fixHeader(false)
		h.Del("Content-Length")
		mw.sendHeader()
		return
	}
	if status == http.StatusPartialContent {
		// A slice of a representation (the range headers are removed,
		// but an upstream may honour another way of asking): a value
		// cut in two is in neither slice for the rewrite to find.
		mw.refuse(reasonPartial)
		return
	}
	ce := h.Get("Content-Encoding")
	if vs := h["Content-Encoding"]; len(vs) > 1 {
		ce = strings.Join(vs, ",") // one list, as clients read it
	}
	encs, ok := contentEncodings(ce)
	if !ok {
		mw.refuse(reasonEncoding)
		return
	}
	mw.encodings = encs
	ct := h.Get("Content-Type")
	if len(h["Content-Type"]) > 1 || commaOutsideQuotes(ct) {
		// Two types, in two lines or one: clients disagree on which one
		// counts (browsers take the last).
		mw.refuse(reasonUninspectable)
		return
	}
	media := mediaType(ct)
	mw.media = media
	mw.charset, mw.charsetDeclared = legacyCharset(ct)
	mw.html = media == "text/html"
	mw.xml = media == "application/xml" || media == "text/xml" || strings.HasSuffix(media, "+xml")
	switch {
	case media == "text/event-stream":
		mw.format = rewrite.Events
		mw.mode = modeStream
		// EventSource, and the fetch-based readers of event streams,
		// decode them as UTF-8 whatever charset the label names (a
		// servlet's default ISO-8859-1, GBK): so does the rewrite, and
		// the stream keeps flowing. The view is labelled as what it was
		// read as.
		// Every charset parameter counts (clients differ on which one
		// wins): one that does not read ASCII as ASCII (UTF-16) keeps the
		// stream to be read whole and refused.
		mw.charset = nil
		for _, l := range charsetLabels(ct) {
			if e, err := htmlindex.Get(l); err == nil && !asciiCompatible(e) {
				mw.charset = e
			}
		}
		if mw.charset == nil && !utf8Labelled(ct) {
			h.Set("Content-Type", withUTF8(ct, media))
		}
	case media == "application/x-ndjson" || media == "application/ndjson" || media == "application/jsonl" ||
		media == "application/json-seq" || media == "application/x-jsonlines" ||
		media == "application/stream+json": // Spring WebFlux's older name for NDJSON
		mw.format = rewrite.NDJSON
		if media == "application/json-seq" {
			mw.format = rewrite.JSONSeq
		}
		mw.mode = modeStream
	case media == "application/json" || media == "text/json" || strings.HasSuffix(media, "+json") ||
		media == "text/x-json" || media == "application/x-json": // the older names
		mw.format, mw.mode = rewrite.JSON, modeBuffer
	case strings.HasPrefix(media, "image/") && mw.m.passes(media):
		// An image type pass_types names (SVG is XML, but an image).
		mw.mode = modePass
		mw.fixHeader(true)
		mw.sendHeader()
		return
	case media == "" || media == "application/octet-stream" || strings.HasPrefix(media, "text/") ||
		media == "application/xml" || strings.HasSuffix(media, "+xml") ||
		media == "application/javascript" || media == "application/x-javascript" ||
		media == "application/x-www-form-urlencoded":
		// Legacy apps serve JSON under any of these (text/javascript,
		// text/plain, text/html …): the body decides, so that field
		// rules and key names apply to JSON whatever its label, and
		// other text is content-scanned.
		mw.mode, mw.sniff = modeBuffer, true
		// A label that says text of its own kind (CSV, XML, a script …):
		// a body that is not JSON after all is that text.
		mw.textLabel = media != "" && media != "text/plain" && media != "text/html" && media != "application/octet-stream"
	case mw.m.passes(media):
		mw.mode = modePass
		mw.fixHeader(true)
		mw.sendHeader()
		return
	default:
		mw.refuse(reasonUninspectable)
		return
	}
	if mw.r.Method == http.MethodHead {
		// What a GET would get, without the body: refused where a GET
		// is (an unknown coding, a partial body, a type it cannot
		// inspect: above), else the header a GET's view would carry.
		mw.mode = modeNoBody
		reencode := len(mw.encodings) > 0 && !mw.m.NoReencode
		mw.fixHeader(reencode)
		h.Del("Content-Length")
		if reencode {
			h.Set("Vary", mergeVary(h.Values("Vary"), "Accept-Encoding"))
		}
		mw.sendHeader()
		return
	}
	if mw.mode == modeStream && (len(mw.encodings) > 1 || mw.charset != nil) {
		mw.mode = modeBuffer // a stream coded twice, or in a legacy charset, is read whole
	}
	if mw.mode == modeStream {
		mw.fixHeader(false)
		h.Del("Content-Length")
		mw.sendHeader()
		mw.stream = newStreamer(mw)
		if len(mw.encodings) == 1 {
			// Decoded as it arrives, and sent uncoded (fixHeader
			// dropped Content-Encoding).
			s := mw.stream
			s.dec = newStreamDecoder(mw.encodings[0], func(p []byte) error {
				_, err := s.writeDecoded(p)
				return err
			})
		}
		return
	}
	mw.buf = bufPool.Get().(*bytes.Buffer)
}

// askedJSONP reports whether the request names callee as a query value
// (?callback=cb, ?jsonp=cb …): the client asked for a JSONP call of it.
func askedJSONP(r *http.Request, callee string) bool {
	if callee == "" {
		return false
	}
	for _, vs := range r.URL.Query() {
		for _, v := range vs {
			if v == callee {
				return true
			}
		}
	}
	return false
}

// framedJSON reports whether a body read as text holds JSON records in a
// framing: plain text or no type (Engine.IO's polling packets), or a
// script whose lines are SockJS frames (a["…"], c[…]). Pages and other
// scripts are content-scanned.
func framedJSON(media string, body []byte) bool {
	switch media {
	case "", "text/plain", "application/octet-stream":
		if rewrite.HoldsJSON(body) {
			return true
		}
	case "text/javascript", "application/javascript", "application/x-javascript":
		for line := range bytes.SplitSeq(body, []byte("\n")) {
			if bytes.HasPrefix(line, []byte(`a[`)) || bytes.HasPrefix(line, []byte(`c[`)) {
				return true
			}
		}
	}
	return framedCall(body)
}

// framedCall reports whether body passes a framed record to a callback
// as a string: SockJS's jsonp-polling and htmlfile transports
// (cb("a[…]"), p("a[…]")), Engine.IO's JSONP polling (___eio[0]("42[…]")),
// under a script or a page. The string must decode to a frame (a SockJS
// a[ or c[, or an Engine.IO packet, followed by JSON): a selector
// ($("a[href]")) or a message ("1[x]") is none.
func framedCall(body []byte) bool {
	for rest := body; ; {
		i := bytes.Index(rest, []byte(`("`))
		if i < 0 {
			return false
		}
		rest = rest[i+1:]
		// The string literal, as JSON reads it (JavaScript's double-
		// quoted strings escape as JSON's do).
		end := 1
		for end < len(rest) && rest[end] != '"' {
			if rest[end] == '\\' {
				end++
			}
			end++
		}
		if end >= len(rest) {
			return false
		}
		var frame string
		if json.Unmarshal(rest[:end+1], &frame) == nil && isFrame(frame) {
			return true
		}
		rest = rest[end:]
	}
}

// isFrame reports whether s is a SockJS frame holding messages (a[…],
// c[…]) or an Engine.IO packet or payload holding JSON (42[…], 0{…},
// 90:42[…]).
func isFrame(s string) bool {
	if strings.HasPrefix(s, "a[") || strings.HasPrefix(s, "c[") {
		return json.Valid([]byte(s[1:]))
	}
	// Engine.IO: a payload's length (90:) and the packet's type; then
	// Socket.IO's: its type, attachments (451-), a namespace (/admin,)
	// and an ack id, before the JSON.
	i := 0
	digits := func() int {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - j
	}
	if digits() == 0 {
		return false
	}
	if i < len(s) && s[i] == ':' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i < len(s) && s[i] == '/' {
		j := strings.IndexByte(s[i:], ',')
		if j < 0 {
			return false
		}
		i += j + 1
	}
	digits()
	if i >= len(s) || s[i] != '[' && s[i] != '{' {
		return false
	}
	// A payload may hold several packets: the first one's JSON decides.
	dec := json.NewDecoder(strings.NewReader(s[i:]))
	var v json.RawMessage
	return dec.Decode(&v) == nil
}

// jsonpParams are the query parameters that name a JSONP callback.
var jsonpParams = map[string]bool{"callback": true, "jsonp": true, "jsoncallback": true, "jsonpcallback": true,
	"json_callback": true, "jsonp_callback": true, "cb": true}

// jsonpEchoed reports whether the body calls what the request named as
// its JSONP callback (?callback=x);y) with an object or array: the
// name, then "(" and "{" or "[" (white space between).
func jsonpEchoed(r *http.Request, body []byte) bool {
	if r.URL.RawQuery == "" {
		return false
	}
	// The distinct names asked for (a few at most: more are checked up
	// to a bound), then one walk of the body: at each "(" followed by
	// "{" or "[", whether a name ends just before it.
	var names [][]byte
	for k, vs := range r.URL.Query() {
		if !jsonpParams[strings.ToLower(k)] {
			continue
		}
		for _, v := range vs {
			if v != "" && len(names) < 32 && !slices.ContainsFunc(names, func(n []byte) bool { return string(n) == v }) {
				names = append(names, []byte(v))
			}
		}
	}
	if len(names) == 0 {
		return false
	}
	for i := 0; i < len(body); {
		j := bytes.IndexByte(body[i:], '(')
		if j < 0 {
			return false
		}
		at := i + j
		i = at + 1
		if k := i + skipSpace(body[i:]); k >= len(body) || body[k] != '{' && body[k] != '[' {
			continue
		}
		before := bytes.TrimRight(body[:at], " \t\r\n")
		for _, n := range names {
			if bytes.HasSuffix(before, n) {
				return true
			}
		}
	}
	return false
}

func skipSpace(b []byte) int {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// asciiProbe is every printable ASCII character and the white space.
const asciiProbe = "\t\n\r !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"

var asciiCompat sync.Map // encoding.Encoding → bool

// asciiCompatible reports whether e reads and writes ASCII text as the same
// bytes, so that what the detectors look for (digits, '@', Latin letters)
// is where the agent's browser will show it.
func asciiCompatible(e encoding.Encoding) bool {
	if v, ok := asciiCompat.Load(e); ok {
		return v.(bool)
	}
	d, err := e.NewDecoder().String(asciiProbe)
	ok := err == nil && d == asciiProbe
	if ok {
		b, err := e.NewEncoder().String(asciiProbe)
		ok = err == nil && b == asciiProbe
	}
	asciiCompat.Store(e, ok)
	return ok
}

// withUTF8 returns the Content-Type ct (of media type media) with its
// charset parameter, if any, replaced by utf-8.
func withUTF8(ct, media string) string {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		mt, params = media, nil
	}
	if params == nil {
		params = map[string]string{}
	}
	params["charset"] = "utf-8"
	if out := mime.FormatMediaType(mt, params); out != "" {
		return out
	}
	return media + "; charset=utf-8"
}

// charsetLabels returns the values of every charset parameter of a
// Content-Type.
func charsetLabels(ct string) []string {
	var out []string
	_, params, _ := strings.Cut(ct, ";")
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		if k, v, ok := strings.Cut(p, "="); ok && strings.EqualFold(strings.TrimSpace(k), "charset") {
			out = append(out, strings.Trim(strings.TrimSpace(v), `"`))
		}
	}
	return out
}

// utf8Labelled reports whether a Content-Type names no charset, or only
// UTF-8 (or US-ASCII, read as UTF-8 here).
func utf8Labelled(ct string) bool {
	if !strings.Contains(ct, ";") {
		return true
	}
	for _, l := range charsetLabels(ct) {
		if !strings.EqualFold(l, "utf-8") && !strings.EqualFold(l, "utf8") && !strings.EqualFold(l, "us-ascii") {
			return false
		}
	}
	return true
}

// isASCII reports whether b is all ASCII.
func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// legacyCharset returns the encoding of a Content-Type's charset parameter
// when it names one other than UTF-8 that the WHATWG Encoding Standard
// knows (gbk, gb2312, gb18030, big5, shift_jis, windows-1252 …), and nil
// otherwise: no charset, UTF-8 or ASCII (the usual case, read without
// allocating), or an unknown name, whose body is read as bytes (and
// refused if it does not look like text).
func legacyCharset(ct string) (enc encoding.Encoding, declared bool) {
	i := strings.IndexByte(ct, ';')
	if i < 0 {
		return nil, false
	}
	params := ct[i+1:]
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, v, ok := strings.Cut(p, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "charset") {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"`)
		if v == "" {
			return nil, false
		}
		if strings.EqualFold(v, "utf-8") || strings.EqualFold(v, "utf8") || strings.EqualFold(v, "us-ascii") {
			return nil, true
		}
		enc, err := htmlindex.Get(v)
		if err != nil || enc == unicode.UTF8 {
			return nil, err == nil
		}
		return enc, true
	}
	return nil, false
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// xmlDeclEncoding returns the encoding an XML declaration at the start of
// b names (<?xml version="1.0" encoding="GBK"?>), or "".
func xmlDeclEncoding(b []byte) string {
	if len(b) < 6 || !bytes.HasPrefix(b, []byte("<?xml")) || !isXMLSpace(b[5]) {
		return "" // <?xml-stylesheet … ?> is an instruction, not the declaration
	}
	end := bytes.Index(b[:min(len(b), 1024)], []byte("?>"))
	if end < 0 {
		return ""
	}
	decl := b[:end]
	i := 0
	for {
		j := bytes.Index(decl[i:], []byte("encoding"))
		if j < 0 {
			return ""
		}
		i += j
		if isXMLSpace(decl[i-1]) { // an attribute of its own, not foo-encoding
			break
		}
		i += len("encoding")
	}
	rest := bytes.TrimLeft(decl[i+len("encoding"):], " \t\r\n")
	if len(rest) == 0 || rest[0] != '=' {
		return ""
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) < 2 || rest[0] != '"' && rest[0] != '\'' {
		return ""
	}
	q := bytes.IndexByte(rest[1:], rest[0])
	if q < 0 {
		return ""
	}
	return string(rest[1 : 1+q])
}

// commaOutsideQuotes reports whether a header value lists more than one
// item.
func commaOutsideQuotes(v string) bool {
	if strings.IndexByte(v, ',') < 0 {
		return false
	}
	quoted := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			return true
		}
	}
	return false
}

// mediaType returns the lower-case type/subtype of a Content-Type value;
// its parameters do not change how the body is read.
func mediaType(ct string) string {
	ct, _, _ = strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(ct))
}

func (mw *maskWriter) refuse(reason string) {
	mw.mode = modeRefuse
	mw.reason = reason
}

func (mw *maskWriter) sendHeader() {
	if !mw.sentHeader {
		mw.sentHeader = true
		mw.w.WriteHeader(mw.status)
	}
}

// passes reports whether media matches pass_types.
func (m *Mask) passes(media string) bool {
	for _, p := range m.PassTypes {
		if ok, _ := path.Match(p, media); ok {
			return true
		}
	}
	return false
}

// fixHeader makes the header safe for a per-agent view: no validators a
// cache could reuse, private and not stored, varying with the identity.
func (mw *maskWriter) fixHeader(keepEncoding bool) {
	h := mw.w.Header()
	// The keys are canonical: the map is used directly, without the
	// canonicalization Header's methods do on every call.
	for _, k := range [...]string{"Etag", "Last-Modified", "Accept-Ranges", "Content-Md5", "Digest",
		"Content-Digest", "Repr-Digest", "Expires", "Age", "Content-Range",
		// Cache directives for shared caches that win over Cache-Control
		// there: a CDN or nginx in front of the gateway would store one
		// agent's view and serve it to others.
		"Surrogate-Control", "X-Accel-Expires", "Edge-Control",
		// Instructions to a server in front to send a file or an
		// internal location instead of this body (nginx, Apache's
		// mod_xsendfile, lighttpd): what they name never passed
		// through pii_mask.
		// (Perlbal, H2O and mod_reproxy fetch X-Reproxy-URL; LiteSpeed
		// serves X-LiteSpeed-Location.)
		"X-Accel-Redirect", "X-Sendfile", "X-Sendfile2", "X-Sendfile-Temporary", "X-Lighttpd-Send-File",
		"X-Lighttpd-Send-Tempfile", "X-Reproxy-Url", "X-Litespeed-Location"} {
		delete(h, k)
	}
	mw.maskHeaders(h, true)
	for k := range h {
		// CDN-Cache-Control and the targeted fields named after it
		// (RFC 9213: Cloudflare-CDN-Cache-Control, …).
		if len(k) >= len("Cdn-Cache-Control") && strings.EqualFold(k[len(k)-len("Cdn-Cache-Control"):], "Cdn-Cache-Control") {
			delete(h, k)
		}
	}
	if !keepEncoding {
		delete(h, "Content-Encoding")
	}
	mw.dropTrailers(h)
	// The agent's browser takes the view for what its type says, not
	// for what it may sniff in it.
	h["X-Content-Type-Options"] = nosniff
	mw.hdr[0] = mergeCacheControl(h["Cache-Control"])
	mw.hdr[1] = mergeVary(h["Vary"], "Cookie", "Authorization")
	h["Cache-Control"], h["Vary"] = mw.hdr[0:1:1], mw.hdr[1:2:2]
}

// dropTrailers removes the upstream's trailers: their announcement, the
// values reverse_proxy copies into the header map after the body (under
// their names, or with http.TrailerPrefix), which net/http would send as
// trailers, or as headers when the header goes out after the body. They
// are not inspected, so they do not reach the agent.
func (mw *maskWriter) dropTrailers(h http.Header) {
	if vs, ok := h["Trailer"]; ok {
		for _, v := range vs {
			for _, name := range strings.Split(v, ",") {
				if name = strings.TrimSpace(name); name != "" {
					mw.trailers = append(mw.trailers, http.CanonicalHeaderKey(name))
				}
			}
		}
		delete(h, "Trailer")
	}
	for _, name := range mw.trailers {
		delete(h, name)
	}
	for k := range h {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			delete(h, k)
		}
	}
}

// mergeCacheControl keeps the upstream's directives that restrict reuse
// further (no-cache, must-revalidate, proxy-revalidate, no-transform), by
// their names alone, and adds private and no-store. Nothing else of the
// upstream's value goes out: an extension directive or a field list
// (private="…") could carry anything, and the field is not read for
// personal data (unreadHeaders).
func mergeCacheControl(vals []string) string {
	if len(vals) == 0 {
		return "private, no-store"
	}
	out := "private, no-store"
	for _, name := range [...]string{"no-cache", "must-revalidate", "proxy-revalidate", "no-transform"} {
		for _, v := range vals {
			if hasDirective(v, name) {
				out += ", " + name
				break
			}
		}
	}
	return out
}

// hasDirective reports whether the Cache-Control value v holds the
// directive name (with or without an argument).
func hasDirective(v, name string) bool {
	for _, d := range strings.Split(v, ",") {
		d, _, _ = strings.Cut(d, "=")
		if strings.EqualFold(strings.TrimSpace(d), name) {
			return true
		}
	}
	return false
}

func mergeVary(vals []string, add ...string) string {
	if len(vals) == 0 && len(add) == 2 && add[0] == "Cookie" && add[1] == "Authorization" {
		return "Cookie, Authorization" // the common case, without allocating
	}
	var out []string
	seen := map[string]bool{}
	for _, v := range append(vals, add...) {
		for _, f := range strings.Split(v, ",") {
			f = strings.TrimSpace(f)
			if f == "" || seen[strings.ToLower(f)] {
				continue
			}
			seen[strings.ToLower(f)] = true
			out = append(out, f)
		}
	}
	return strings.Join(out, ", ")
}

// Write takes the upstream's body.
func (mw *maskWriter) Write(p []byte) (int, error) {
	if !mw.wroteHeader {
		mw.WriteHeader(http.StatusOK)
	}
	switch mw.mode {
	case modeBuffer:
		if int64(mw.buf.Len()+len(p)) > mw.m.MaxBody {
			mw.refuse(reasonTooLarge)
			return 0, errRefused
		}
		return mw.buf.Write(p)
	case modeStream:
		return mw.stream.write(p)
	case modePass, modeUpgraded:
		return mw.w.Write(p)
	case modeNoBody:
		return len(p), nil
	default:
		return 0, errRefused // stop reading what will not be sent
	}
}

// ReadFrom copies through Write, so io.Copy cannot bypass the rewrite.
func (mw *maskWriter) ReadFrom(r io.Reader) (int64, error) {
	return io.Copy(writerOnly{mw}, r)
}

type writerOnly struct{ io.Writer }

// FlushError sends what has been rewritten so far; a buffered body is not
// flushed before it is complete.
func (mw *maskWriter) FlushError() error {
	switch mw.mode {
	case modeStream:
		if err := mw.stream.flush(); err != nil {
			return err
		}
		return http.NewResponseController(mw.w).Flush()
	case modePass, modeNoBody, modeUpgraded:
		return http.NewResponseController(mw.w).Flush()
	}
	return nil
}

// Flush implements http.Flusher.
func (mw *maskWriter) Flush() { _ = mw.FlushError() }

// Hijack is refused: a hijacked connection would bypass the rewrite. Only
// a WebSocket the admin allowed, once the upstream has switched to it,
// gets the connection.
func (mw *maskWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if mw.mode == modeUpgraded {
		return http.NewResponseController(mw.w).Hijack()
	}
	return nil, nil, fmt.Errorf("pii_mask: hijacking a guarded connection is not allowed: %w", http.ErrNotSupported)
}

// SetReadDeadline and SetWriteDeadline pass through: they move no data.
func (mw *maskWriter) SetReadDeadline(t time.Time) error {
	return http.NewResponseController(mw.w).SetReadDeadline(t)
}

// SetWriteDeadline implements the deadline part of http.ResponseController.
func (mw *maskWriter) SetWriteDeadline(t time.Time) error {
	return http.NewResponseController(mw.w).SetWriteDeadline(t)
}

// serve runs the next handler and completes the response. A handler that
// fails, or aborts the stream (reverse_proxy panics with
// http.ErrAbortHandler when the upstream dies mid-body), leaves nothing of
// its body for the agent: the buffered part is discarded and an error sent.
func (mw *maskWriter) serve(next caddyhttp.Handler) (err error) {
	t := time.Now()
	// held measures, when the handlers after pii_mask are done, whether
	// they returned or panicked (reverse_proxy aborts a body it could not
	// copy), the wait for a response that was held (no header sent yet):
	// that time is the upstream's, not the gateway's. A stream's or a
	// passed body's is the gateway's too, as it went out.
	held := func() {
		if !mw.sentHeader {
			mw.upstream = time.Since(t)
		}
	}
	defer func() {
		rec := recover()
		if rec == nil {
			return
		}
		held()
		if rec == http.ErrAbortHandler && mw.agentGone() {
			// reverse_proxy could not copy the body to an agent who left:
			// no failure of the upstream's, nor a refusal.
			mw.recordGone()
			panic(rec)
		}
		if rec != http.ErrAbortHandler || mw.sentHeader {
			if rec == http.ErrAbortHandler {
				mw.aborted(reasonUpstream)
			}
			panic(rec) // too late for an error page: the connection is cut
		}
		reason := reasonUpstream
		if mw.mode == modeRefuse {
			reason = mw.reason // the abort was ours: a body over max_body, an unknown encoding …
		}
		err = mw.fail(http.StatusBadGateway, reason, fmt.Errorf("upstream response aborted"))
	}()
	herr := next.ServeHTTP(mw, mw.r)
	held()
	if mw.agentGone() {
		// The agent left (reverse_proxy writes its 499): nothing more
		// goes out, and nothing failed.
		mw.recordGone()
		return herr
	}
	if herr != nil {
		if !mw.wroteHeader {
			// No response at all: Caddy's error handling answers, with
			// nothing from upstream. A handler's own client error
			// (file_server's 404 for a missing file, the error
			// directive's 403) is not a refusal of the gateway's; an
			// upstream that cannot be reached (reverse_proxy's 502, 504)
			// or any other failure is.
			var he caddyhttp.HandlerError
			if errors.As(herr, &he) && he.StatusCode >= 400 && he.StatusCode < 500 {
				mw.out.Result, mw.out.Status = resultHandlerError, he.StatusCode
				return herr
			}
			mw.out.Result = resultRefused
			mw.out.Reason = reasonUpstream
			mw.m.metrics.refused(reasonUpstream)
			return herr
		}
		if mw.sentHeader {
			if mw.mode == modeStream || mw.mode == modePass || mw.stream != nil {
				// A stream cut short (a unit refused, the upstream gone)
				// is cut on the agent too, not ended as if complete.
				mw.aborted(reasonUpstream)
				panic(http.ErrAbortHandler)
			}
			return herr
		}
		if mw.mode == modeRefuse {
			return mw.fail(http.StatusBadGateway, mw.reason, herr)
		}
		return mw.fail(http.StatusBadGateway, reasonUpstream, herr)
	}
	return mw.finish()
}

// agentGone reports whether the agent's request was cancelled (the
// client left) while the handlers after pii_mask ran, unless pii_mask
// had refused the response itself.
func (mw *maskWriter) agentGone() bool {
	return mw.r.Context().Err() != nil && mw.mode != modeRefuse && mw.out.Result != resultRefused
}

// recordGone records a response the agent left before it was complete:
// what was shown of it stays counted (a stream's units sent), a held
// response showed nothing.
func (mw *maskWriter) recordGone() {
	mw.out.Result, mw.out.Reason = resultClientGone, ""
	if !mw.sentHeader {
		mw.out.Summary.Reset()
	}
}

// aborted records a response cut off after its header went out (the
// connection is closed on the agent): refused, for reason, in the outcome
// and the metrics.
func (mw *maskWriter) aborted(reason string) {
	if mw.out.Result == resultRefused {
		return // recorded already
	}
	mw.out.Result, mw.out.Reason = resultRefused, reason
	mw.m.metrics.refused(reason)
}

// fail discards the upstream's body and answers with an error.
func (mw *maskWriter) fail(status int, reason string, cause error) error {
	if mw.sentHeader {
		mw.aborted(reason)
		panic(http.ErrAbortHandler)
	}
	mw.m.logger.Debug("guarded response failed", zap.String("reason", reason), zap.Error(cause))
	mw.out.Summary.Reset() // nothing of it was shown
	return mw.m.refuse(mw.w, mw.r, mw.out, status, reason, refusalMessage(reason))
}

func refusalMessage(reason string) string {
	switch reason {
	case reasonEncoding:
		return "the application answered in an encoding the privacy gateway cannot check"
	case reasonTooLarge:
		return "the application's answer is too large for the privacy gateway to check"
	case reasonMalformed:
		return "the application's answer is malformed; the privacy gateway cannot check it"
	case reasonTooDeep:
		return "the application's answer is nested too deeply for the privacy gateway to check"
	case reasonUninspectable:
		return "the application answered with content the privacy gateway cannot check"
	case reasonWebSocket:
		return "the application tried to switch protocols, which the privacy gateway does not allow"
	case reasonUpstream:
		return "the application's answer broke off; nothing of it was passed on"
	}
	return "the privacy gateway could not check the application's answer"
}

// finish rewrites and sends a buffered body, or ends a stream.
func (mw *maskWriter) finish() error {
	if !mw.wroteHeader {
		return nil // the handler wrote nothing
	}
	if mw.sentHeader {
		// A stream or a passed body: the header went out before the
		// upstream's trailers came; they are not sent after it.
		defer mw.dropTrailers(mw.w.Header())
	}
	switch mw.mode {
	case modeRefuse:
		return mw.fail(http.StatusBadGateway, mw.reason, nil)
	case modeStream:
		if err := mw.stream.close(); err != nil {
			// A unit that could not be rewritten was recorded as
			// refused; otherwise the agent went away.
			mw.out.Result = mw.stream.result()
			panic(http.ErrAbortHandler)
		}
		mw.out.Result = mw.stream.result()
		return nil
	case modePass, modeUpgraded:
		mw.out.Result = resultPassed
		return nil
	case modeNoBody:
		mw.out.Result = resultUnchanged
		if mw.headerChanged {
			mw.out.Result = resultRewritten // the header was
		}
		return nil
	}

	body, err := decodeBody(mw.buf.Bytes(), mw.encodings, mw.m.MaxBody)
	switch {
	case errors.Is(err, errTooLarge):
		return mw.fail(http.StatusBadGateway, reasonTooLarge, err)
	case err != nil:
		return mw.fail(http.StatusBadGateway, reasonEncoding, err)
	}
	raw := body // as the upstream wrote it, content coding removed
	// Binary that pass_types lets through as such is not read as text:
	// the text checks below are not for it.
	binaryPass := (mw.media == "" || mw.media == "application/octet-stream") &&
		mw.m.passes("application/octet-stream") && !looksLikeText(body)
	switch {
	case binaryPass:
	case bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")):
		mw.charset = nil // a UTF-8 byte-order mark wins over the label, as in browsers
	case bytes.HasPrefix(body, []byte("\xFF\xFE")) || bytes.HasPrefix(body, []byte("\xFE\xFF")):
		return mw.fail(http.StatusBadGateway, reasonUninspectable, errors.New("UTF-16 body"))
	case !mw.charsetDeclared && mw.html:
		// Old pages name their charset only in a <meta> tag: one named
		// there is used, as browsers do when the header names none (a
		// guess, when none is, is not: such a text must be UTF-8, or it
		// is refused below).
		// (x-user-defined in a <meta> is windows-1252 to browsers.)
		if e, name, _ := htmlcharset.DetermineEncoding(body, "text/html"); e != nil && name != "windows-1252" &&
			name != "utf-8" && name != "x-user-defined" {
			mw.charset = e
		}
	case !mw.charsetDeclared && mw.xml:
		if name := xmlDeclEncoding(body); name != "" {
			e, err := htmlindex.Get(name)
			switch {
			case err != nil:
				return mw.fail(http.StatusBadGateway, reasonUninspectable, fmt.Errorf("unknown XML encoding %q", name))
			case e != unicode.UTF8:
				mw.charset = e
			}
		}
	}
	if mw.charset != nil && !binaryPass && asciiCompatible(mw.charset) && utf8.Valid(body) && !isASCII(body) {
		// Valid UTF-8 beyond ASCII under a legacy charset (its label, or
		// a page's <meta>, which may even be data inside the JSON):
		// fetch's text() and json() and EventSource read it as UTF-8
		// whatever the label says, a page and XHR in the charset. Text
		// in GBK, Big5 or a single-byte charset is almost never valid
		// UTF-8, so it is read as UTF-8, and the view is labelled
		// UTF-8, so that every client reads what the gateway read.
		mw.charset = nil
		mw.w.Header().Set("Content-Type", withUTF8(mw.w.Header().Get("Content-Type"), mw.media))
	}
	if mw.sniff && mw.charset == nil && !mw.charsetDeclared && !binaryPass && hasISO2022Escape(body) {
		// No charset named, and escapes a browser may take for
		// ISO-2022-JP (and decode to text the rewrite did not see), in
		// a body of a type it would read as text. (JSON and its streams
		// are read as UTF-8: the check stays off their path.)
		return mw.fail(http.StatusBadGateway, reasonUninspectable, errors.New("ISO-2022 escapes in a body of no declared charset"))
	}
	if mw.charset != nil {
		// A legacy charset (GBK, GB18030, Big5 …): the engine and the
		// detectors read UTF-8, and the view goes back in the charset.
		// One that does not read ASCII as ASCII (UTF-16, ISO-2022-KR, HZ
		// and the other "replacement" charsets) could hide the bytes
		// from the rewrite and show them to the agent: refused.
		if !asciiCompatible(mw.charset) {
			return mw.fail(http.StatusBadGateway, reasonUninspectable, errors.New("charset does not read ASCII as ASCII"))
		}
		if body, err = mw.charset.NewDecoder().Bytes(body); err != nil {
			return mw.fail(http.StatusBadGateway, reasonUninspectable, err)
		}
		// Digits the charset reads into other characters (GB18030's
		// four-byte forms hold digits) are seen by a client that reads the
		// body as UTF-8 (fetch's json() always does), not by the rewrite.
		if asciiDigits(body) < asciiDigits(raw) {
			return mw.fail(http.StatusBadGateway, reasonUninspectable, errors.New("the charset reads ASCII digits as other characters"))
		}
	}
	if mw.charset == nil && !binaryPass && !utf8Labelled(mw.w.Header().Get("Content-Type")) {
		// Read as UTF-8 (a byte-order mark won over the label, or the
		// label names a charset no browser knows, such as UTF-7, which a
		// client following it would decode into text the rewrite never
		// saw): labelled as what it was read as.
		mw.w.Header().Set("Content-Type", withUTF8(mw.w.Header().Get("Content-Type"), mw.media))
	}
	format := mw.format
	if mw.sniff {
		format = rewrite.Sniff(body)
		if format == rewrite.Text && !looksLikeText(body) {
			if (mw.media == "" || mw.media == "application/octet-stream") && mw.m.passes("application/octet-stream") {
				// Binary, as its type says or none does: passed as
				// binary, so no browser renders it as a page.
				h := mw.w.Header()
				h.Set("Content-Type", "application/octet-stream")
				h.Set("X-Content-Type-Options", "nosniff")
				return mw.send(mw.buf.Bytes(), true, resultPassed)
			}
			return mw.fail(http.StatusBadGateway, reasonUninspectable, nil)
		}
		if format != rewrite.Text && mw.charset == nil && !mw.charsetDeclared && !utf8.Valid(body) {
			// JSON under a type that named no charset, not UTF-8 (a
			// legacy page's GBK, which a browser of that locale reads):
			// its keys would type nothing. (Text is checked above.)
			return mw.fail(http.StatusBadGateway, reasonUninspectable, errors.New("JSON that is not UTF-8 under a type that names no charset"))
		}
	}
	mw.out.Format = formatName(format)
	// JSON found under a type that did not say JSON would have been
	// content-scanned as text: it is, everywhere, besides its field rules
	// and key names.
	rewriteFn := mw.m.engine.Rewrite
	if mw.sniff {
		rewriteFn = mw.m.engine.RewriteScanned
	}
	dst := viewPool.Get().(*[]byte)
	view, err := rewriteFn((*dst)[:0], body, format, mw.d, &mw.out.Summary)
	defer func() {
		if mw.out.Summary.Changed && cap(view) <= 4*DefaultMaxBody {
			*dst = view[:0]
		}
		viewPool.Put(dst)
	}()
	if err != nil && mw.sniff && format == rewrite.JSON && !errors.Is(err, rewrite.ErrTooDeep) {
		// Not one JSON value under a type that did not say JSON: JSON
		// lines (NDJSON) are read line by line. Anything else stays
		// refused below.
		mw.out.Summary.Reset()
		if v, lerr := rewriteFn((*dst)[:0], body, rewrite.NDJSON, mw.d, &mw.out.Summary); lerr == nil {
			view, err, format = v, nil, rewrite.NDJSON
			mw.out.Format = formatName(format)
		} else {
			mw.out.Summary.Reset()
			if mw.textLabel && looksLikeText(body) {
				// Under a label of its own kind of text (CSV, XML, a
				// script), it is that text: content-scanned whole.
				format = rewrite.Text
				view, err = mw.m.engine.Rewrite((*dst)[:0], body, format, mw.d, &mw.out.Summary)
				mw.out.Format = formatName(format)
			}
		}
	}
	success := mw.status >= 200 && mw.status < 300
	if err != nil && format == rewrite.JSONP && !errors.Is(err, rewrite.ErrTooDeep) && mw.m.refuseData && success &&
		askedJSONP(mw.r, rewrite.JSONPCallee(body)) {
		// A callback's call the client asked for (?callback=cb) whose
		// argument is not JSON (a JavaScript literal: cb({name:"张三"})),
		// on a route whose rules read JSON: as another data format,
		// refused rather than content-scanned. (A script that only looks
		// like one, define([…], function…), is content-scanned.)
		return mw.fail(http.StatusBadGateway, reasonDataFormat, fmt.Errorf("a JSONP call whose argument is not JSON: %w", err))
	}
	if err != nil && format == rewrite.JSONP && !errors.Is(err, rewrite.ErrTooDeep) {
		// It looked like a callback's call, but its argument is not JSON:
		// a script, content-scanned as text.
		mw.out.Summary.Reset()
		format = rewrite.Text
		view, err = mw.m.engine.Rewrite((*dst)[:0], body, format, mw.d, &mw.out.Summary)
		mw.out.Format = formatName(format)
	}
	if err == nil && format == rewrite.Text && mw.m.refuseData && success && framedJSON(mw.media, body) {
		// A JSON record inside a framing (a Socket.IO polling packet,
		// 42["customer",{…}]; a SockJS frame, a["…"]): its keys cannot
		// type its values. Refused, as another data format.
		return mw.fail(http.StatusBadGateway, reasonDataFormat, errors.New("JSON records inside text the gateway cannot read as JSON"))
	}
	if err == nil && format == rewrite.Text && mw.m.refuseData && success && jsonpEchoed(mw.r, body) {
		// The client asked for a JSONP call (?callback=…) and the answer
		// passes an object or array to something, but not as a call the
		// gateway reads (a callback name the app let through unchanged,
		// x);y(…): its keys cannot type its values: refused, as another
		// data format, rather than content-scanned.
		return mw.fail(http.StatusBadGateway, reasonDataFormat, errors.New("a JSONP answer the gateway cannot read as a call"))
	}
	if err == nil && mw.m.refuseData && success &&
		(dataFormat(mw.media) || mw.sniff && dataFile(mw.w.Header().Values("Content-Disposition"))) &&
		(format == rewrite.Text || format == rewrite.NDJSON || format == rewrite.JSONSeq || format == rewrite.JSON && !rewrite.StartsContainer(body)) {
		// XML, CSV … (by its type, or by the name of the file it is sent
		// as), read as text, as lines, or as one bare JSON string or
		// number (a one-cell CSV): the route's field rules and key names cannot
		// be applied to it, and a client can often ask for it instead of
		// JSON (Accept, ?format=xml): refused, not content-scanned only.
		return mw.fail(http.StatusBadGateway, reasonDataFormat,
			fmt.Errorf("%s: not JSON; the route's field rules and key names read JSON (data_formats scan lets it through, content-scanned)", mw.media))
	}
	if err != nil {
		reason := reasonMalformed
		if errors.Is(err, rewrite.ErrTooDeep) {
			reason = reasonTooDeep
		}
		return mw.fail(http.StatusBadGateway, reason, err)
	}
	result := resultUnchanged
	if mw.out.Summary.Changed {
		result = resultRewritten
	}
	same := !mw.out.Summary.Changed
	if mw.charset != nil {
		// The agent gets what the gateway read, written in the charset:
		// the upstream's own bytes only when that is what they are.
		if view, err = encoding.ReplaceUnsupported(mw.charset.NewEncoder()).Bytes(view); err != nil {
			return mw.fail(http.StatusInternalServerError, reasonInternal, err)
		}
		same = same && bytes.Equal(view, raw)
	}
	if same && len(mw.encodings) > 0 && !mw.m.NoReencode && codedAsIs(mw.buf.Bytes(), mw.encodings) {
		return mw.send(mw.buf.Bytes(), true, result) // unchanged: the upstream's compressed bytes
	}
	if len(mw.encodings) > 0 && !mw.m.NoReencode {
		enc, err := encodeBody(view, mw.encodings)
		if err != nil {
			return mw.fail(http.StatusInternalServerError, reasonInternal, err)
		}
		return mw.send(enc, true, result)
	}
	return mw.send(view, false, result)
}

// send writes the agent's view.
func (mw *maskWriter) send(body []byte, encoded bool, result string) error {
	mw.fixHeader(encoded)
	if result == resultUnchanged && mw.headerChanged {
		result = resultRewritten // the header was
	}
	mw.out.Result = result
	h := mw.w.Header()
	mw.hdr[2] = strconv.Itoa(len(body))
	h["Content-Length"] = mw.hdr[2:3:3]
	if encoded && len(mw.encodings) > 0 {
		h.Set("Vary", mergeVary(h.Values("Vary"), "Accept-Encoding"))
	}
	mw.sendHeader()
	if _, err := mw.w.Write(body); err != nil {
		return err
	}
	// The whole view is written: send it now rather than when net/http
	// finishes the request, so the client has it sooner and the server
	// does not have to interrupt its background read of the connection
	// for it (each costs several µs per request).
	return http.NewResponseController(mw.w).Flush()
}

// looksLikeText reports whether a body without a telling type is text the
// content detectors can read, rather than binary data they could corrupt.
// The whole body is checked: a page that turns to another charset after
// its first kilobytes is not text the rewrite could read.
func looksLikeText(b []byte) bool {
	return utf8.Valid(b) && bytes.IndexByte(b, 0) < 0
}

// asciiDigits counts the ASCII digits in b. Only GB18030's four-byte forms
// hold digit bytes; '@' is a trail byte of common Big5, Shift_JIS and GBK
// characters (Big5 A4 40 is 一), so it is not counted.
func asciiDigits(b []byte) int {
	n := 0
	for _, c := range b {
		if c >= '0' && c <= '9' {
			n++
		}
	}
	return n
}

// hasISO2022Escape reports whether b holds an escape sequence of ISO-2022
// (ESC followed by '$' or '('), which switches a decoder's character set.
func hasISO2022Escape(b []byte) bool {
	for {
		i := bytes.IndexByte(b, 0x1B)
		if i < 0 || i+1 >= len(b) {
			return false
		}
		if b[i+1] == '$' || b[i+1] == '(' {
			return true
		}
		b = b[i+1:]
	}
}

func formatName(f rewrite.Format) string {
	switch f {
	case rewrite.JSON:
		return "json"
	case rewrite.NDJSON:
		return "ndjson"
	case rewrite.JSONSeq:
		return "json-seq"
	case rewrite.Events:
		return "event-stream"
	case rewrite.JSONP:
		return "jsonp"
	}
	return "text"
}

// Interface guards
var (
	_ http.ResponseWriter = (*maskWriter)(nil)
	_ http.Flusher        = (*maskWriter)(nil)
	_ http.Hijacker       = (*maskWriter)(nil)
	_ io.ReaderFrom       = (*maskWriter)(nil)
)
