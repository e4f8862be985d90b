package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"
	"golang.org/x/net/http/httpguts"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/piigate/piigate/caddymodule/rewrite"
	"github.com/piigate/piigate/config"
	"github.com/piigate/piigate/detectors"
)

func init() {
	caddy.RegisterModule(Mask{})
}

// DefaultMaxBody is the largest response body pii_mask reads when
// max_body is not set.
const DefaultMaxBody = 16 << 20

// MaxMaxBody bounds max_body: a guarded body is held in memory whole.
const MaxMaxBody = 1 << 30

// Mask (module http.handlers.pii_mask) rewrites the responses of the routes
// it guards so each agent sees only what the agent's roles may see of the
// personal data in them: values are kept, masked, tokenized, hashed,
// redacted or dropped, as the pii app's policy says.
//
// It finds personal data by field rules (gjson paths), by key names
// (`mobile`, `身份证号`, …) and by content detectors, in JSON, NDJSON,
// server-sent events and text, compressed or not. It fails closed: a body
// it cannot inspect — an unknown Content-Encoding, more than max_body,
// malformed JSON, a type it cannot read, an upstream that dies mid-body —
// never reaches the agent; the agent gets an error with a request id.
//
// It also makes the response safe to cache-proof: validators (ETag,
// Last-Modified) are dropped, `Cache-Control: private, no-store` and
// `Vary` are merged in, Range requests are turned into full ones, and
// WebSocket upgrades are refused unless allowed.
type Mask struct {
	// RolesFrom is where the agent's gateway roles come from: any
	// placeholder, roles separated by commas or spaces (a placeholder
	// whose value is a list of strings gives one role per item). Default
	// `{http.auth.user.roles}`, which pii_oidc sets.
	RolesFrom string `json:"roles_from,omitempty"`

	// Fields assigns entity types to values by gjson path (`data.#.mobile`),
	// or with type `scan` has the value's content detected.
	Fields []config.Field `json:"fields,omitempty"`

	// Scan is the content detection for everything else: `off` (field
	// rules only), `names` (default: also values under keys that name
	// personal data) or `all` (also every string and number, keys
	// included).
	Scan string `json:"scan,omitempty"`

	// Roles overrides the pii app's rules for this route, rule by rule.
	Roles map[string]config.RoleRules `json:"roles,omitempty"`

	// MaxBody is the largest body read, compressed or not, in bytes
	// (default 16 MiB). A larger body is refused, not passed on.
	MaxBody int64 `json:"max_body,omitempty"`

	// MaxDepth is the deepest JSON nesting accepted (default 128).
	MaxDepth int `json:"max_depth,omitempty"`

	// StripRequestHeaders are removed from incoming requests, so a client
	// cannot pass itself off to the upstream (the identity headers
	// pii_oidc sets are removed too, unless pii_oidc set them for this
	// request).
	StripRequestHeaders []string `json:"strip_request_headers,omitempty"`

	// AllowWebSocket lets WebSocket upgrades through. Their messages are
	// not inspected, so the default refuses them (403).
	AllowWebSocket bool `json:"allow_websocket,omitempty"`

	// PassTypes are media types passed through without inspection, such
	// as `image/*` or `application/pdf`. Everything else that is not JSON
	// or text is refused on a guarded route.
	PassTypes []string `json:"pass_types,omitempty"`

	// DataFormats is what becomes of a successful (2xx) response in a
	// data format other than JSON — XML, CSV, YAML, form data — on a
	// route whose rules read JSON's structure (field rules, or key names
	// under scan names or all): `refuse` (default: those rules cannot be
	// applied to it, and a client can often choose the format, with
	// Accept, ?format=xml or .xml) or `scan` (content-scanned as text,
	// where only the detectors apply). Pages, scripts and plain text are
	// content-scanned either way, and so are error responses.
	DataFormats string `json:"data_formats,omitempty"`

	// NoReencode leaves a rewritten body uncompressed (for the encode
	// directive to compress) instead of compressing it again as the
	// upstream had.
	NoReencode bool `json:"no_reencode,omitempty"`

	refs []ruleRef // the role rules read from a Caddyfile, checked against the pii option
	// rolesFromAt is where a Caddyfile gave roles_from, for parseMask's
	// check of literal roles.
	rolesFromAt string
	// roleAt and stripAt are where a Caddyfile gave each role override
	// and each strip_request_header name, for parseMask's checks.
	roleAt, stripAt map[string]string
	app             *App
	table           *config.Table
	engine          *rewrite.Engine
	// headerEngine reads response headers (maskHeaders), when
	// headerScanner, the detectors alone, finds something in one or it
	// holds more than text; customTypes: the policy defines types of its
	// own, which a value may hold without any byte MayMatch looks for.
	headerEngine  *rewrite.Engine
	headerScanner *detectors.Scanner
	customTypes   bool
	logger        *zap.Logger
	metrics       *metrics
	strip         []string
	// refuseData: 2xx responses in a data format other than JSON are
	// refused (DataFormats).
	refuseData bool
	// rolesKey is the placeholder's name when RolesFrom is exactly one
	// placeholder (the usual case): read with one lookup, no parsing.
	rolesKey string
}

// CaddyModule returns the Caddy module information.
func (Mask) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.pii_mask",
		New: func() caddy.Module { return new(Mask) },
	}
}

// Provision compiles the route's rules against the pii app's policy.
func (m *Mask) Provision(ctx caddy.Context) error {
	m.logger = ctx.Logger()
	appIface, err := ctx.App("pii")
	if err != nil {
		return fmt.Errorf("loading the pii app: %w", err)
	}
	if err := m.provisionWith(appIface.(*App)); err != nil {
		return err
	}
	m.metrics = registerMetrics(ctx)
	return nil
}

// Cleanup releases the handler's metrics when Caddy unloads its
// configuration.
func (m *Mask) Cleanup() error {
	// (The pointer stays: a request still being served, a WebSocket
	// after a reload, records into the released series, unread.)
	m.metrics.release()
	return nil
}

// provisionWith compiles the handler against app; `caddy pii scan` uses it
// without a running Caddy.
func (m *Mask) provisionWith(app *App) error {
	var err error
	m.app = app
	if m.logger == nil {
		m.logger = zap.NewNop()
	}
	if m.RolesFrom == "" {
		m.RolesFrom = "{" + placeholderUserRoles + "}"
	}
	if m.MaxBody <= 0 {
		m.MaxBody = DefaultMaxBody
	}
	if m.MaxBody > MaxMaxBody {
		return fmt.Errorf("max_body %d: at most %d (1GiB): the body is held in memory", m.MaxBody, MaxMaxBody)
	}
	m.rolesKey = singlePlaceholder(m.RolesFrom)
	route, err := config.CompileRoute(config.Route{Fields: m.Fields, Scan: m.Scan})
	if err != nil {
		return err
	}
	if m.table, err = m.app.Table().Override(m.Roles); err != nil {
		return err
	}
	switch m.DataFormats {
	case "", dataFormatsRefuse:
		// Only where the rules read JSON's structure.
		m.refuseData = len(m.Fields) > 0 || route.Scan != config.ScanOff
	case dataFormatsScan:
	default:
		return fmt.Errorf("data_formats %q: want refuse or scan", m.DataFormats)
	}
	if m.engine, err = rewrite.New(rewrite.Options{
		Route:          route,
		Table:          m.table,
		HashKey:        m.app.hashKey,
		MaxDepth:       m.MaxDepth,
		RefuseTextJSON: m.refuseData,
	}); err != nil {
		return err
	}
	// Response headers are read as one JSON object by an engine of their
	// own: every value content-scanned, every name a key name, whatever
	// the route's field rules and scan mode (maskHeaders).
	hdrRoute, err := config.CompileRoute(config.Route{Scan: config.ScanAll.String()})
	if err != nil {
		return err
	}
	if m.headerEngine, err = rewrite.New(rewrite.Options{
		Route:   hdrRoute,
		Table:   m.table,
		HashKey: m.app.hashKey,
	}); err != nil {
		return err
	}
	m.customTypes = len(m.table.Custom()) > 0
	if m.headerScanner, err = detectors.NewScanner(detectors.Options{Custom: m.table.Custom(), NoConfidence: true}); err != nil {
		return err
	}
	for role, rules := range m.Roles {
		for typ, action := range rules {
			if action == config.Tokenize.String() {
				// As the pii app warns for its own roles.
				m.logger.Warn("tokenize has no token key set in this build; tokenized values are redacted until one is configured",
					zap.String("role", role), zap.String("type", typ))
			}
		}
	}
	if m.table.Uses(config.Hash) && m.app.hashKey == nil {
		return fmt.Errorf("a role uses hash, which needs hash_key in the pii app")
	}
	for _, h := range m.StripRequestHeaders {
		if !httpguts.ValidHeaderFieldName(h) {
			return fmt.Errorf("strip_request_headers: %q is not a header field name", h)
		}
		if err := m.checkStrip(h); err != nil {
			return err
		}
		m.strip = append(m.strip, http.CanonicalHeaderKey(h))
	}
	for role := range m.Roles {
		if !m.app.Table().Defines(role) {
			return fmt.Errorf("role %q: the pii app defines no such role (a route's role block overrides one of the app's roles)", role)
		}
	}
	for i, p := range m.PassTypes {
		if strings.Contains(p, ";") {
			return fmt.Errorf("pass_types %q: a pattern is a media type without parameters (image/*, application/pdf)", p)
		}
		m.PassTypes[i] = strings.ToLower(p) // as response types are compared
	}
	for _, f := range m.Fields {
		if strings.HasPrefix(f.Type, detectors.CustomPrefix) && m.app.Custom[f.Type].Pattern == "" {
			return fmt.Errorf("field %q: entity type %q is not defined in the pii app", f.Path, f.Type)
		}
	}
	if !bracesPaired(m.RolesFrom) {
		return fmt.Errorf("roles_from %q: its braces do not pair up", m.RolesFrom)
	}
	if !strings.Contains(m.RolesFrom, "{") {
		// Literal roles: one the policy defines, or a placeholder whose
		// braces were forgotten (every agent would get the default).
		known := false
		for _, r := range strings.FieldsFunc(m.RolesFrom, isRoleSep) {
			known = known || m.table.Defines(r)
		}
		if !known {
			return fmt.Errorf("roles_from %q: holds no placeholder and names no role the pii app defines", m.RolesFrom)
		}
	}
	for _, t := range m.PassTypes {
		if _, err := path.Match(t, "x/y"); err != nil || !strings.Contains(t, "/") {
			return fmt.Errorf("pass_types: %q is not a media type pattern such as image/*", t)
		}
	}
	return nil
}

const (
	dataFormatsRefuse = "refuse"
	dataFormatsScan   = "scan"
)

// dataFormat reports whether media, one of the text types pii_mask reads,
// is a data format other than JSON, whose structure field rules and key
// names cannot read: XML (not XHTML or SVG, a page and an image), form
// data, and every text/* type but those of pages, scripts, style sheets,
// prose and JSON (CSV, TSV, YAML, vCard … under any of their names).
// (Types outside text/* are refused unless pass_types lets them through.)
func dataFormat(media string) bool {
	switch {
	case media == "application/xml", media == "application/x-www-form-urlencoded":
		return true
	case strings.HasSuffix(media, "+xml"):
		return media != "application/xhtml+xml" && media != "image/svg+xml"
	case strings.HasPrefix(media, "text/"):
		switch media[len("text/"):] {
		case "plain", "html", "javascript", "ecmascript", "x-javascript", "x-ecmascript", "jscript",
			"javascript1.0", "javascript1.1", "javascript1.2", "javascript1.3", "javascript1.4",
			"javascript1.5", "livescript", "x-livescript", "x-component", "css",
			"markdown", "x-markdown", "json", "x-json", "richtext", "enriched":
			return false
		}
		return true
	}
	return false
}

// dataFile reports whether a Content-Disposition names a file of a data
// format (customers.csv): legacy apps label such exports
// application/octet-stream or text/plain. The header is searched as
// written, not parsed: browsers save a file under names no parser
// accepts (raw UTF-8, unquoted spaces, filename* in any charset).
func dataFile(dispositions []string) bool {
	for _, d := range dispositions {
		d = strings.ToLower(d)
		for _, ext := range [...]string{".csv", ".tsv", ".tab", ".psv", ".xml", ".yaml", ".yml", ".vcf",
			".vcard", ".ics", ".ldif", ".xls", ".xlsx", ".ods"} {
			for k := 0; ; {
				i := strings.Index(d[k:], ext)
				if i < 0 {
					break
				}
				k += i + len(ext)
				if k == len(d) || strings.IndexByte("\"'; ,\t", d[k]) >= 0 {
					return true
				}
			}
		}
	}
	return false
}

// Validate checks the configuration.
func (m *Mask) Validate() error {
	if len(m.Fields) > rewrite.MaxFieldRules {
		return fmt.Errorf("%d field rules; at most %d per pii_mask", len(m.Fields), rewrite.MaxFieldRules)
	}
	return nil
}

// guarded is what pii_mask allocates per guarded request.
type guarded struct {
	out   Outcome
	mw    maskWriter
	roles [2]string // Outcome.Roles' storage for one or two roles
}

// The request variable that holds the Outcome of a guarded response.
const varOutcome = "pii"

// varIdentitySet is the request variable in which pii_oidc lists the
// identity headers it set for this request.
const varIdentitySet = "pii.identity_headers"

// Outcome is what pii_mask did with one response, without the values: the
// flow log and access logs read it from the request variable "pii".
type Outcome struct {
	Roles         []string        `json:"roles"`
	UnknownRole   bool            `json:"unknown_role,omitempty"`
	Status        int             `json:"status"`
	Result        string          `json:"result"` // rewritten, unchanged, passed, refused, handler_error, client_gone
	Reason        string          `json:"reason,omitempty"`
	Format        string          `json:"format,omitempty"`
	PolicyVersion string          `json:"policy_version"`
	Summary       rewrite.Summary `json:"-"`
	Duration      time.Duration   `json:"duration"`
}

// MarshalJSON writes the outcome with what was found, as Caddy's
// log_append writes the request variable: counts per type and action,
// and the JSON paths, never the values.
func (o *Outcome) MarshalJSON() ([]byte, error) {
	type count struct {
		Type   string `json:"type"`
		Action string `json:"action"`
		N      int    `json:"n"`
	}
	type plain Outcome
	counts := make([]count, len(o.Summary.Counts))
	for i, c := range o.Summary.Counts {
		counts[i] = count{c.Type.String(), c.Action.String(), c.N}
	}
	return json.Marshal(struct {
		*plain
		Counts []count  `json:"counts,omitempty"`
		Paths  []string `json:"paths,omitempty"`
	}{(*plain)(o), counts, o.Summary.Paths})
}

// The results and the refusal reasons, as metrics and outcomes name them.
const (
	resultRewritten = "rewritten"
	resultUnchanged = "unchanged"
	resultPassed    = "passed"
	resultRefused   = "refused"
	// resultHandlerError: the next handler answered with a client error
	// of its own (a missing file) and Caddy's error handling answered.
	resultHandlerError = "handler_error"
	// resultClientGone: the agent left before the response was complete
	// (a closed tab, an aborted fetch).
	resultClientGone = "client_gone"

	reasonUnknownRole   = "unknown_role"
	reasonWebSocket     = "websocket"
	reasonTunnel        = "tunnel"
	reasonEncoding      = "unknown_encoding"
	reasonTooLarge      = "body_too_large"
	reasonMalformed     = "malformed"
	reasonTooDeep       = "too_deep"
	reasonUpstream      = "upstream_failed"
	reasonUninspectable = "uninspectable_type"
	reasonPartial       = "partial_content"
	reasonDataFormat    = "data_format"
	reasonInternal      = "internal"
	// reasonGraphQLAlias: a GraphQL request that renames fields (or one
	// too large to check).
	reasonGraphQLAlias = "graphql_alias"
)

var decisions = sync.Pool{New: func() any { return new(config.Decision) }}

// ServeHTTP guards one request.
func (m *Mask) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	start := time.Now()
	repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	m.stripRequest(r)

	d := decisions.Get().(*config.Decision)
	defer decisions.Put(d)
	m.table.Decide(m.roles(repl), d)
	// The outcome, the writer and their small slices in one allocation.
	g := new(guarded)
	out := &g.out
	*out = Outcome{
		Roles:         append(g.roles[:0:len(g.roles)], d.Roles...),
		UnknownRole:   d.Unknown,
		PolicyVersion: m.table.Version(),
	}
	caddyhttp.SetVar(r.Context(), varOutcome, out)

	if done, err := m.refuseEarly(w, r, out, d, next); done {
		m.observe(out, d, start)
		return err
	}
	switch graphQLRequest(r, m.MaxBody) {
	case graphQLAliased:
		err := m.refuse(w, r, out, http.StatusForbidden, reasonGraphQLAlias,
			"GraphQL aliases are not allowed here: they rename the answer's fields, which decide what is masked")
		m.observe(out, d, start)
		return err
	case graphQLGone:
		out.Result = resultClientGone
		m.observe(out, d, start)
		return nil
	case graphQLUnreadable:
		err := m.refuse(w, r, out, http.StatusUnsupportedMediaType, reasonGraphQLAlias,
			"the request's body is in a coding the privacy gateway cannot undo to check it for a GraphQL query")
		m.observe(out, d, start)
		return err
	case graphQLTooLarge:
		err := m.refuse(w, r, out, http.StatusRequestEntityTooLarge, reasonGraphQLAlias,
			"the request is too large for the privacy gateway to check for a GraphQL query")
		m.observe(out, d, start)
		return err
	}

	// A partial body cannot be parsed, and a cached validator would let a
	// client keep another view: always ask for the full representation.
	// Request-Range is Range's old name, which Apache httpd and others
	// still honour. If-Match and If-Unmodified-Since go too: the agent
	// never sees the upstream's validators, and a 412 against a guessed
	// one (an ETag that hashes the body) would tell masked digits apart.
	// A bare * holds no validator: it asks only whether the resource
	// exists (a PUT that must update, or must create), and is kept.
	for _, k := range [...]string{"Range", "Request-Range", "If-Range", "If-Modified-Since", "If-Unmodified-Since"} {
		delete(r.Header, k) // canonical keys: Del without canonicalizing
	}
	for _, k := range [...]string{"If-None-Match", "If-Match"} {
		if v, ok := r.Header[k]; ok && !(len(v) == 1 && strings.TrimSpace(v[0]) == "*") {
			delete(r.Header, k)
		}
	}
	if wantsStream(r.Header) {
		// A compressed stream can only be rewritten whole, which would
		// stop it flowing: ask for it uncompressed (encode, after
		// pii_mask, can still compress the agent's view).
		delete(r.Header, "Accept-Encoding")
	} else {
		filterAcceptEncoding(r.Header)
	}

	// Caddy makes the request's id on its first reading, by writing the
	// request's variables, which reverse_proxy's transport may still be
	// reading from a dial of its own after the response came: made now,
	// before anything after pii_mask runs, a refusal only reads it.
	repl.Get("http.request.uuid")

	mw := &g.mw
	*mw = maskWriter{w: w, r: r, m: m, d: d, out: out, upgrade: m.AllowWebSocket && isWebSocket(r)}
	defer mw.release()
	// Deferred, so that a response cut off by a panic (an upstream that
	// died mid-stream) is counted too.
	defer func() {
		if mw.early != nil {
			out.Summary.Merge(mw.early)
		}
		// The gateway's own time: a held response's wait for the
		// upstream left out.
		m.observe(out, d, start.Add(mw.upstream))
	}()
	return mw.serve(next)
}

// checkStrip refuses to strip a request field the roles are read from:
// every agent would get what an agent without a role gets.
func (m *Mask) checkStrip(name string) error {
	for _, p := range placeholderRE.FindAllStringSubmatch(m.RolesFrom, -1) {
		if f, ok := strings.CutPrefix(p[1], "http.request.header."); ok && http.CanonicalHeaderKey(f) == http.CanonicalHeaderKey(name) {
			return fmt.Errorf("strip_request_header %s: roles_from reads the roles from it (%s): stripped first, every agent would have no role", name, m.RolesFrom)
		}
	}
	return nil
}

// observe records the outcome in the metrics.
func (m *Mask) observe(out *Outcome, d *config.Decision, start time.Time) {
	out.Duration = time.Since(start)
	m.metrics.observe(out, d)
}

// refuseEarly answers, before anything goes upstream, the requests whose
// answers pii_mask could not inspect (WebSocket upgrades unless allowed,
// other CONNECT tunnels) and the agents the policy denies. done reports
// that it answered (or passed an allowed upgrade on).
func (m *Mask) refuseEarly(w http.ResponseWriter, r *http.Request, out *Outcome, d *config.Decision, next caddyhttp.Handler) (done bool, err error) {
	switch {
	case d.Deny:
		// First: an agent the policy denies gets nothing, an allowed
		// WebSocket included.
		return true, m.refuse(w, r, out, http.StatusForbidden, reasonUnknownRole,
			"your account has no role that may see this data")
	case isWebSocket(r):
		if m.AllowWebSocket && r.Method != http.MethodConnect {
			// The admin chose to let upgrades through: the request goes
			// on, guarded as any other, and only an upstream that really
			// switches to WebSocket (101) gets the connection (maskWriter).
			return false, nil
		}
		msg := "WebSocket connections are not allowed here: their messages cannot be checked for personal data"
		if r.Method == http.MethodConnect {
			// Over HTTP/2 and 3 Caddy answers an upgraded WebSocket with
			// a 200 that pii_mask could not tell from a response.
			msg = "WebSocket connections over HTTP/2 or HTTP/3 are not allowed here; HTTP/1.1 ones may be"
		}
		return true, m.refuse(w, r, out, http.StatusForbidden, reasonWebSocket, msg)
	case r.Method == http.MethodConnect:
		// Any other tunnel carries bytes no rule can read.
		return true, m.refuse(w, r, out, http.StatusForbidden, reasonTunnel,
			"tunnels (CONNECT) are not allowed here: what passes through them cannot be checked for personal data")
	}
	return false, nil
}

// wantsStream reports whether the client asks for a stream: server-sent
// events (EventSource always sends Accept: text/event-stream) or JSON lines.
func wantsStream(h http.Header) bool {
	for _, v := range h["Accept"] {
		v = strings.ToLower(v)
		if strings.Contains(v, "text/event-stream") || strings.Contains(v, "ndjson") ||
			strings.Contains(v, "jsonl") || strings.Contains(v, "json-seq") || strings.Contains(v, "stream+json") {
			return true
		}
	}
	return false
}

// roles returns the agent's roles as RolesFrom gives them.
func (m *Mask) roles(repl *caddy.Replacer) string {
	if m.rolesKey == "" {
		// A list among other text: one role per item, as when it is the
		// whole of roles_from (Caddy would write it [a b]).
		s, _ := repl.ReplaceFunc(m.RolesFrom, joinList)
		return s
	}
	v, _ := repl.Get(m.rolesKey)
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	}
	if l, ok := roleList(v); ok {
		return l
	}
	return repl.ReplaceAll(m.RolesFrom, "") // Caddy's own formatting of other types
}

// joinList writes a list placeholder's items separated by commas.
func joinList(_ string, v any) (any, error) {
	if l, ok := roleList(v); ok {
		return l, nil
	}
	return v, nil
}

// roleList writes a list of roles ([]string, or []any of strings as the
// vars handler keeps a JSON array) one role per item, separated by
// commas. An item that is not one role name (empty, holding a separator,
// not a string) stands for a role no policy defines: under
// least_revealing it restricts, as any role the policy does not know.
func roleList(v any) (string, bool) {
	var items []string
	switch v := v.(type) {
	case []string:
		items = v
	case []any:
		items = make([]string, len(v))
		for i, x := range v {
			if s, ok := x.(string); ok {
				items[i] = s
			}
		}
	default:
		return "", false
	}
	var b strings.Builder
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		if it == "" || strings.ContainsAny(it, ", \t") {
			it = invalidRole
		}
		b.WriteString(it)
	}
	return b.String(), true
}

// invalidRole stands for a list item that names no role: no role name
// may start with '('.
const invalidRole = "(invalid)"

// singlePlaceholder returns the name of the placeholder s is made of
// ("{http.vars.role}" → "http.vars.role"), or "" when s is anything else.
func singlePlaceholder(s string) string {
	if len(s) < 3 || s[0] != '{' || s[len(s)-1] != '}' || strings.ContainsAny(s[1:len(s)-1], "{}\\:") {
		return ""
	}
	return s[1 : len(s)-1]
}

// stripRequest removes identity headers a client might forge. The names
// are canonical (CanonicalHeaderKey when configured), so the map is used
// directly.
func (m *Mask) stripRequest(r *http.Request) {
	h := r.Header
	for _, k := range m.strip {
		delete(h, k)
	}
	ids := m.app.identityHeaders()
	// No gateway sets a name with '_': such a spelling of a stripped or
	// identity header is always the client's.
	deleteUnderscoreVariants(h, m.strip, ids)
	// None of them comes in as a trailer either: the gateway sets none
	// there.
	stripTrailers(r, m.strip, ids)
	if len(ids) == 0 {
		return
	}
	var set []string
	loaded := false
	for _, k := range ids {
		if _, ok := h[k]; !ok {
			continue
		}
		if !loaded {
			set, _ = caddyhttp.GetVar(r.Context(), varIdentitySet).([]string)
			loaded = true
		}
		if !containsFold(set, k) {
			delete(h, k)
		}
	}
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// isWebSocket reports a WebSocket opening handshake: an HTTP/1.1 upgrade,
// or an extended CONNECT (RFC 8441 over HTTP/2, RFC 9220 over HTTP/3),
// whose protocol Go's HTTP/2 server puts in the ":protocol" header.
func isWebSocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket") ||
		r.Method == http.MethodConnect && (strings.EqualFold(r.Header.Get(":protocol"), "websocket") ||
			strings.EqualFold(r.Proto, "websocket"))
}

// refuse answers the agent with an error and a request id; the flow log
// and the metrics record why.
func (m *Mask) refuse(w http.ResponseWriter, r *http.Request, out *Outcome, status int, reason, msg string) error {
	out.Result, out.Reason, out.Status = resultRefused, reason, status
	m.metrics.refused(reason)
	id := requestID(r)
	m.logger.Warn("refused a guarded response",
		zap.String("reason", reason),
		zap.String("request_id", id),
		zap.String("path", r.URL.Path),
		zap.Strings("roles", out.Roles))
	writeError(w, r, status, msg, id)
	return nil
}

// requestID is Caddy's per-request UUID, which access logs can show too.
func requestID(r *http.Request) string {
	repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	id, _ := repl.GetString("http.request.uuid")
	return id
}

// writeError writes a small error body: JSON for API clients, text
// otherwise. It never echoes anything from the upstream.
func writeError(w http.ResponseWriter, r *http.Request, status int, msg, id string) {
	h := w.Header()
	for k := range h {
		delete(h, k)
	}
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Request-Id", id)
	if wantsJSON(r) {
		h.Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":%q,"request_id":%q}`+"\n", msg, id)
		return
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "%s\nrequest id: %s\n", msg, id)
}

func wantsJSON(r *http.Request) bool {
	a := r.Header.Get("Accept")
	return strings.Contains(a, "json") || r.Header.Get("X-Requested-With") != "" ||
		!strings.Contains(a, "text/html")
}

var errRefused = errors.New("pii_mask: response refused")

// Interface guards
var (
	_ caddy.Provisioner           = (*Mask)(nil)
	_ caddy.Validator             = (*Mask)(nil)
	_ caddyhttp.MiddlewareHandler = (*Mask)(nil)
)
