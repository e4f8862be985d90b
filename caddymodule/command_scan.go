package caddymodule

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	// The handlers the dry run runs on its request.
	_ "github.com/caddyserver/caddy/v2/modules/caddyhttp/fileserver"
	caddyheaders "github.com/caddyserver/caddy/v2/modules/caddyhttp/headers"
	_ "github.com/caddyserver/caddy/v2/modules/caddyhttp/map"
	caddyrewrite "github.com/caddyserver/caddy/v2/modules/caddyhttp/rewrite"
	"github.com/spf13/cobra"
	"golang.org/x/net/http/httpguts"

	"github.com/piigate/piigate/caddymodule/rewrite"
	"github.com/piigate/piigate/config"
)

func scanCommand() *cobra.Command {
	var cfgFile, adapter, role, reqPath, host, remoteIP, method, server, format, contentType string
	var headers, reqHeaders []string
	var summary bool
	cmd := &cobra.Command{
		Use:   "scan --config <Caddyfile> --role <role> [--path <path>]",
		Short: "Show what a role would receive: dry-run the masking rules on a JSON body from stdin",
		Long: `Reads a response body on stdin and prints what an agent with the given
role(s) would receive on the given request path, under the pii app and the
pii_mask handler of the configuration. Nothing is started.

The routes are followed as Caddy runs them for a GET of the path (route
order, handle blocks, terminal routes, a handler that answers before a
pii_mask); every pii_mask on the way applies, the innermost first. The
matchers are Caddy's own, evaluated on a GET of --path from 127.0.0.1 with
the --request-header fields; host matchers are taken to match unless
--host is given. The handlers that change the request (rewrite, uri,
handle_path, vars, map, request headers) run on it. --format chooses
json (default: sniffed), ndjson, json-seq, events, jsonp or text. The body is read as one
labelled with that format's own type (application/json …; a body that is
one JSON string or number is JSON by default, and read as a text type's
with --format text); JSON that the
upstream labels otherwise (text/html, text/javascript …) is content-scanned
everywhere too, as under scan all; so is JSONP, a callback's call
(cb({…});), whose argument is rewritten as JSON. --summary prints what was found, by
entity type and action, on stderr.

With --content-type or --header, the body goes through the pii_mask
handlers themselves, as the upstream's response with that type and those
header fields: what the gateway does with the label (JSON under text/html
content-scanned everywhere, XML or CSV refused on a route whose rules read
JSON, a type it cannot inspect refused) is what is shown, and the header
fields the agent would get are printed on stderr. A response the gateway
refuses is an error that says why.

Exit status 1 with a message on stderr for a bad configuration or a body
that is not what --format says.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfgFile == "" || role == "" {
				return errors.New("--config and --role are required")
			}
			reqHeader, err := parseHeaderFlags("--request-header", reqHeaders)
			if err != nil {
				return err
			}
			upHeader, err := parseHeaderFlags("--header", headers)
			if err != nil {
				return err
			}
			serve := contentType != "" || len(headers) > 0
			switch {
			case serve && format != "":
				return errors.New("--format and --content-type/--header exclude each other: the type decides the format")
			case contentType != "" && len(upHeader["Content-Type"]) > 0:
				return errors.New("--content-type and --header \"Content-Type: …\" exclude each other")
			case contentType != "" && (!httpguts.ValidHeaderFieldValue(contentType) || strings.TrimSpace(contentType) != contentType):
				return fmt.Errorf("--content-type %q: not a header field value", contentType)
			case contentType != "":
				upHeader.Set("Content-Type", contentType)
			}
			opt := scanOptions{path: reqPath, host: host, header: reqHeader, role: role, remoteIP: remoteIP,
				method: strings.ToUpper(method), server: server}
			if serve {
				opt.respHeader = upHeader
			}
			if !httpguts.ValidHeaderFieldName(opt.method) {
				return fmt.Errorf("--method %q: not a method", method)
			}
			walk, err := loadMasksForPath(cfgFile, adapter, opt)
			if err != nil {
				return err
			}
			for _, n := range walk.notes {
				fmt.Fprintf(cmd.ErrOrStderr(), "note: %s\n", n)
			}
			masks := walk.masks
			body, err := io.ReadAll(cmd.InOrStdin())
			if err != nil {
				return fmt.Errorf("reading stdin: %w", err)
			}
			if serve {
				return serveDryRun(cmd, walk, role, body, upHeader, len(headers) > 0, summary)
			}
			f, err := parseFormat(format, body)
			if err != nil {
				return err
			}
			// The innermost pii_mask rewrites the upstream's body first;
			// each one outside it rewrites what the one inside sent.
			view := body
			unknown := false
			for i := len(masks) - 1; i >= 0; i-- {
				m := masks[i]
				var d config.Decision
				m.table.Decide(role, &d)
				if d.Deny {
					return fmt.Errorf("role %q is unknown to the policy, which denies such agents (unknown_role deny)", role)
				}
				unknown = unknown || d.Unknown
				if n := longestUnit(view, f); int64(n) > m.MaxBody {
					// As the gateway refuses a body over max_body (a
					// stream, one of its units).
					return fmt.Errorf("the gateway refuses this response with 502 (%s): %s (%d bytes, max_body %d)",
						reasonTooLarge, refusalMessage(reasonTooLarge), n, m.MaxBody)
				}
				var sum rewrite.Summary
				rewriteFn := m.engine.Rewrite
				if f == rewrite.JSONP {
					// Only ever found by sniffing a script or text type.
					rewriteFn = m.engine.RewriteScanned
				}
				out, err := rewriteFn(nil, view, f, &d, &sum)
				if err != nil {
					if i < len(masks)-1 {
						return fmt.Errorf("the view of the pii_mask inside: %w", err)
					}
					return fmt.Errorf("stdin: %w", err)
				}
				view = out
				if summary {
					printSummary(cmd.ErrOrStderr(), &sum)
				}
			}
			if _, err := cmd.OutOrStdout().Write(view); err != nil {
				return err
			}
			if unknown {
				fmt.Fprintf(cmd.ErrOrStderr(), "note: no role in %q is defined; the default (redact everything) applied\n", role)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&cfgFile, "config", "", "configuration file (Caddyfile or JSON)")
	cmd.Flags().StringVar(&adapter, "adapter", "", "config adapter (default: caddyfile for files named Caddyfile*, else JSON)")
	cmd.Flags().StringVar(&role, "role", "", "the agent's gateway role(s), comma-separated")
	cmd.Flags().StringVar(&reqPath, "path", "/", "the request path (and query) the body is the response to")
	cmd.Flags().StringVar(&host, "host", "", "the request's Host (default: host matchers are taken to match)")
	cmd.Flags().StringVar(&remoteIP, "remote-ip", "127.0.0.1", "the client's address, for remote_ip and client_ip matchers")
	cmd.Flags().StringVar(&method, "method", "GET", "the request's method")
	cmd.Flags().StringVar(&server, "server", "", "the server (as the adapted configuration names it, srv0 …) to walk; default: the first that guards the path")
	cmd.Flags().StringArrayVar(&reqHeaders, "request-header", nil, `a request header field, "Name: value" (repeatable), for the matchers and handlers on the way`)
	cmd.Flags().StringVar(&format, "format", "", "json, ndjson, json-seq, events, jsonp or text (default: sniffed)")
	cmd.Flags().BoolVar(&summary, "summary", false, "print the values found, by type and action, on stderr")
	cmd.Flags().StringVar(&contentType, "content-type", "", "the upstream's Content-Type: run the body through the handlers as the gateway reads that type")
	cmd.Flags().StringArrayVar(&headers, "header", nil, `an upstream response header field, "Name: value" (repeatable); the agent's header is printed on stderr`)
	return cmd
}

var errCut = errors.New("stream cut")

// serveCut serves, turning the panic with which a handler cuts a
// response it has begun (http.ErrAbortHandler) into errCut.
func serveCut(h caddyhttp.Handler, w http.ResponseWriter, r *http.Request) (err error) {
	defer func() {
		if rec := recover(); rec != nil {
			if rec != http.ErrAbortHandler {
				panic(rec)
			}
			err = errCut
		}
	}()
	return h.ServeHTTP(w, r)
}

// parseHeaderFlags reads "Name: value" flags into a header.
func parseHeaderFlags(flag string, vals []string) (http.Header, error) {
	h := http.Header{}
	for _, v := range vals {
		name, value, ok := strings.Cut(v, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || !httpguts.ValidHeaderFieldName(name) || !httpguts.ValidHeaderFieldValue(value) {
			return nil, fmt.Errorf("%s %q: want \"Name: value\"", flag, v)
		}
		h.Add(name, value)
	}
	return h, nil
}

// hopHeaders are the fields reverse_proxy never passes on (RFC 9110,
// section 7.6.1), besides those a Connection field names.
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// serveDryRun runs body through the pii_mask handlers the walk found as
// the upstream's response (200, upHeader) to the walk's request, each
// handler seeing the request as the walk reached it, and prints the
// agent's body on stdout and, with showHeader, the agent's header on
// stderr. A refusal is an error giving its reason.
func serveDryRun(cmd *cobra.Command, walk *scanWalk, role string, body []byte, upHeader http.Header, showHeader, summary bool) error {
	// What reverse_proxy drops before the handlers see the response.
	for _, v := range upHeader["Connection"] {
		for _, name := range strings.Split(v, ",") {
			upHeader.Del(strings.TrimSpace(name))
		}
	}
	for _, name := range hopHeaders {
		upHeader.Del(name)
	}
	if ce := upHeader.Values("Content-Encoding"); len(ce) > 0 {
		if encs, ok := contentEncodings(strings.Join(ce, ",")); ok && len(encs) > 0 {
			if _, err := decodeBody(body, encs, DefaultMaxBody); err != nil {
				return fmt.Errorf("stdin is not %s-coded as --header Content-Encoding says (%v): pipe the coded bytes, or give no Content-Encoding", strings.Join(encs, ", "), err)
			}
		}
	}
	var next caddyhttp.Handler = caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		h := upHeader.Clone()
		if ops := walk.upstreamOps; ops != nil && (ops.Require == nil || ops.Require.Match(http.StatusOK, h)) {
			ops.ApplyTo(h, r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)) // header_down
		}
		for k, v := range h {
			for _, x := range v {
				w.Header().Add(k, x) // as reverse_proxy copies them
			}
		}
		w.WriteHeader(http.StatusOK)
		// In pieces of 32 KiB, as reverse_proxy copies a body (a stream's
		// limit is on its pending unit, not on one write).
		for rest := body; len(rest) > 0; {
			n := min(len(rest), 32<<10)
			if _, err := w.Write(rest[:n]); err != nil {
				return err
			}
			rest = rest[n:]
		}
		return nil
	})
	// The outermost pii_mask first, each calling the next; each one's
	// outcome is taken when it calls the one inside it (the var holds the
	// innermost's at the end).
	masks := walk.masks
	outcomes := make([]*Outcome, len(masks))
	unknown := false
	for i := len(masks) - 1; i >= 0; i-- {
		for j := len(walk.after[i]) - 1; j >= 0; j-- {
			h, inner := walk.after[i][j], next
			next = caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
				return h.ServeHTTP(w, r, inner)
			})
		}
		m, inner, at := masks[i], next, walk.reqs[i]
		var d config.Decision
		m.table.Decide(role, &d)
		unknown = unknown || d.Unknown
		m.RolesFrom, m.rolesKey = role, "" // the role given, whatever the configuration reads it from
		next = caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			// The request as the walk reached this pii_mask; the handlers
			// after it change that same request in place (Caddy's
			// rewrites do), so by the time the response comes it is as
			// the walk left it.
			r2 := *r
			u := *at.URL
			r2.Method, r2.RequestURI, r2.URL = at.Method, at.RequestURI, &u
			return m.ServeHTTP(w, &r2, caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
				outcomes[i], _ = caddyhttp.GetVar(r.Context(), varOutcome).(*Outcome)
				fu := *walk.req.URL
				r2.Method, r2.RequestURI, r2.URL = walk.req.Method, walk.req.RequestURI, &fu
				return inner.ServeHTTP(w, r)
			}))
		})
	}
	for j := len(walk.before) - 1; j >= 0; j-- {
		h, inner := walk.before[j], next
		next = caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			return h.ServeHTTP(w, r, inner)
		})
	}
	rec := httptest.NewRecorder()
	if err := serveCut(next, rec, walk.req); errors.Is(err, errCut) {
		reason := ""
		if o, _ := caddyhttp.GetVar(walk.req.Context(), varOutcome).(*Outcome); o != nil && o.Reason != "" {
			reason = " (" + o.Reason + ")"
		}
		return fmt.Errorf("the gateway cuts this stream after %d bytes%s: the agent's connection is closed", rec.Body.Len(), reason)
	} else if err != nil {
		return fmt.Errorf("the gateway fails the request: %w", err)
	}
	if rec.Code != http.StatusOK {
		reason := ""
		if o, _ := caddyhttp.GetVar(walk.req.Context(), varOutcome).(*Outcome); o != nil && o.Reason != "" {
			reason = " (" + o.Reason + ")"
		}
		msg := strings.TrimSpace(rec.Body.String())
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(rec.Body.Bytes(), &e) == nil && e.Error != "" {
			msg = e.Error
		}
		return fmt.Errorf("the gateway refuses this response with %d%s: %s", rec.Code, reason, msg)
	}
	if showHeader {
		names := make([]string, 0, len(rec.Header()))
		for k := range rec.Header() {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			for _, v := range rec.Header()[k] {
				fmt.Fprintf(cmd.ErrOrStderr(), "< %s: %s\n", k, v)
			}
		}
	}
	if summary {
		for i := len(outcomes) - 1; i >= 0; i-- {
			if outcomes[i] != nil {
				printSummary(cmd.ErrOrStderr(), &outcomes[i].Summary)
			}
		}
	}
	view := rec.Body.Bytes()
	if ce := rec.Header().Values("Content-Encoding"); len(ce) > 0 {
		if encs, ok := contentEncodings(strings.Join(ce, ",")); ok && len(encs) > 0 {
			if dec, err := decodeBody(view, encs, MaxMaxBody); err == nil {
				view = dec
				fmt.Fprintf(cmd.ErrOrStderr(), "note: the agent's body is %s-coded; shown decoded\n", strings.Join(encs, ", "))
			}
		}
	}
	if _, err := cmd.OutOrStdout().Write(view); err != nil {
		return err
	}
	if unknown {
		fmt.Fprintf(cmd.ErrOrStderr(), "note: no role in %q is defined; the default (redact everything) applied\n", role)
	}
	return nil
}

func parseFormat(name string, body []byte) (rewrite.Format, error) {
	switch name {
	case "":
		// As under application/json, the type the default stands for: a
		// body that is one JSON string or number is JSON (the gateway
		// reads it as text under a text type: --format text).
		if f := rewrite.Sniff(body); f != rewrite.Text || !rewrite.IsJSONScalar(body) {
			return f, nil
		}
		return rewrite.JSON, nil
	case "json":
		return rewrite.JSON, nil
	case "ndjson":
		return rewrite.NDJSON, nil
	case "json-seq":
		return rewrite.JSONSeq, nil
	case "jsonp":
		return rewrite.JSONP, nil
	case "events":
		return rewrite.Events, nil
	case "text":
		return rewrite.Text, nil
	}
	return 0, fmt.Errorf("--format %q: want json, ndjson, json-seq, events, jsonp or text", name)
}

// longestUnit is the size max_body limits in a body of format f: the
// whole body, or a stream's longest unit (a line of NDJSON, a record of
// JSON text sequences, an event), which the gateway holds one at a time.
func longestUnit(body []byte, f rewrite.Format) int {
	var sep []byte
	switch f {
	case rewrite.NDJSON:
		sep = []byte("\n")
	case rewrite.JSONSeq:
		sep = []byte("\x1e")
	case rewrite.Events:
		sep = []byte("\n\n")
		body = bytes.ReplaceAll(bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n")), []byte("\r"), []byte("\n"))
	default:
		return len(body)
	}
	n := 0
	for unit := range bytes.SplitSeq(body, sep) {
		n = max(n, len(unit))
	}
	return n
}

func printSummary(w io.Writer, sum *rewrite.Summary) {
	counts := append([]rewrite.Count(nil), sum.Counts...)
	sort.Slice(counts, func(i, j int) bool {
		if counts[i].Type != counts[j].Type {
			return counts[i].Type < counts[j].Type
		}
		return counts[i].Action < counts[j].Action
	})
	for _, c := range counts {
		fmt.Fprintf(w, "%-20s %-8s %d\n", c.Type, c.Action, c.N)
	}
	for _, p := range sum.Paths {
		fmt.Fprintf(w, "path %s\n", p)
	}
}

// loadMaskForPath adapts the configuration and provisions, without
// starting anything, the pii app and the first pii_mask guarding reqPath.
func loadMasksForPath(file, adapter string, opt scanOptions) (*scanWalk, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	// As caddy run chooses: Caddyfile*, *.caddyfile, not *.json.
	if base := strings.ToLower(filepath.Base(file)); adapter == "" && filepath.Ext(base) != ".json" &&
		(strings.HasPrefix(base, "caddyfile") || strings.HasSuffix(base, ".caddyfile")) {
		adapter = "caddyfile"
	}
	if adapter != "" {
		a := caddyconfig.GetAdapter(adapter)
		if a == nil {
			return nil, fmt.Errorf("unknown config adapter %q", adapter)
		}
		if raw, _, err = a.Adapt(raw, map[string]any{"filename": file}); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
	}
	// Read as Caddy reads it, strictly: a misspelt field anywhere Caddy
	// would refuse is an error here too, not a configuration without it.
	var cfg caddy.Config
	if err := caddy.StrictUnmarshalJSON(caddy.RemoveMetaFields(raw), &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	app := new(App)
	if rawApp := cfg.AppsRaw["pii"]; len(rawApp) > 0 {
		if err := caddy.StrictUnmarshalJSON(rawApp, app); err != nil {
			return nil, fmt.Errorf("pii app: %w", err)
		}
	}
	if err := app.compile(); err != nil {
		return nil, err
	}
	var httpApp caddyhttp.App
	if rawHTTP := cfg.AppsRaw["http"]; len(rawHTTP) > 0 {
		if err := caddy.StrictUnmarshalJSON(rawHTTP, &httpApp); err != nil {
			return nil, fmt.Errorf("http app: %w", err)
		}
	}
	names := make([]string, 0, len(httpApp.Servers))
	for n := range httpApp.Servers {
		names = append(names, n)
	}
	sort.Strings(names)
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	var tree any
	if err := json.Unmarshal(raw, &tree); err == nil {
		opt.rolesFrom = rolesFromKeys(tree, nil)
	}
	var answered []string
	var found *scanWalk
	if opt.server != "" {
		if _, ok := httpApp.Servers[opt.server]; !ok {
			return nil, fmt.Errorf("--server %q: no such server (the adapted configuration has %s)", opt.server, strings.Join(names, ", "))
		}
		names = []string{opt.server}
	}
	for _, n := range names {
		srv := httpApp.Servers[n]
		// A request of its own for each server: the handlers on the way
		// (handle_path, uri, rewrite, vars, map) change it.
		req, dropped, err := scanRequest(opt, srv)
		if err != nil {
			return nil, err
		}
		c := chainWalk{named: srv.NamedRoutes, req: req, ctx: ctx, anyHost: opt.host == "", groups: map[string]bool{},
			trusted: len(srv.TrustedProxiesRaw) > 0, ipHeaders: srv.ClientIPHeaders, app: app, opt: opt, dropped: dropped}
		for _, k := range dropped {
			if strings.ContainsAny(k, "_.") {
				c.note(fmt.Sprintf("Caddy drops the request field %s before any route: its name holds '_' or '.' (the server's expected_underscore_headers or expected_dot_headers would keep it)", k))
			} else {
				c.note(fmt.Sprintf("Caddy drops the request field %s before any route: it is the hyphenated spelling of a name the server's expected_underscore_headers or expected_dot_headers keep", k))
			}
		}
		if len(c.ipHeaders) == 0 {
			c.ipHeaders = []string{"X-Forwarded-For"}
		}
		if err := c.server(srv); err != nil {
			if found != nil {
				found.notes = append(found.notes, fmt.Sprintf("server %s (%s): %v", n, strings.Join(srv.Listen, " "), err))
				continue
			}
			return nil, fmt.Errorf("server %s: %w", n, err)
		}
		if len(c.masks) == 0 {
			// Another server (a redirect site, a site on another port)
			// may answer the path unguarded: the first server that
			// guards it is the one shown, and the others are named.
			if c.answered != "" {
				answered = append(answered, fmt.Sprintf("%s answers it in server %s (%s)", c.answered, n, strings.Join(srv.Listen, " ")))
			}
			continue
		}
		if found != nil {
			found.notes = append(found.notes, fmt.Sprintf("server %s (%s) guards this path too, with pii_mask handlers of its own: its view may differ (--server %s shows it)",
				n, strings.Join(srv.Listen, " "), n))
			continue
		}
		w := &scanWalk{req: c.req, before: c.before, upstreamOps: c.upstreamOps}
		for _, at := range c.masks {
			w.masks = append(w.masks, at.mask)
			w.reqs = append(w.reqs, at.req)
			w.after = append(w.after, at.after)
		}
		w.notes = append(w.notes, c.notes...)
		if len(c.hosts) > 0 {
			slices.Sort(c.hosts)
			w.notes = append(w.notes, fmt.Sprintf("the routes of host(s) %s in server %s were taken to match; other sites on it may answer otherwise (--host chooses one)",
				strings.Join(slices.Compact(c.hosts), ", "), n))
		}
		found = w
	}
	if found != nil {
		for _, a := range answered {
			found.notes = append(found.notes, a+", unguarded: an agent who reaches the path there gets the upstream's body")
		}
		return found, nil
	}
	if len(answered) > 0 {
		return nil, fmt.Errorf("no pii_mask handler guards path %s in %s: %s, before any pii_mask", opt.path, file, strings.Join(answered, "; "))
	}
	return nil, fmt.Errorf("no pii_mask handler guards path %s in %s", opt.path, file)
}

// scanOptions describe the dry run's request.
type scanOptions struct {
	path     string      // the request target: a path and perhaps a query
	host     string      // the Host; empty: host matchers are taken to match
	header   http.Header // the request's header fields
	role     string      // the agent's roles, where roles_from reads them
	remoteIP string      // the client's address (default 127.0.0.1)
	// rolesFrom are the placeholders the configuration's pii_mask
	// handlers read the roles from.
	rolesFrom []string
	// respHeader is the upstream's header in serve mode (nil otherwise).
	respHeader http.Header
	method     string // the request's method (GET)
	server     string // the server to walk (all, the first that guards shown)
}

// scanWalk is what a walk found: the pii_mask handlers on the way,
// outermost first, the request as each one sees it and as the walk left
// it, and notes for the admin.
type scanWalk struct {
	masks []*Mask
	reqs  []*http.Request
	after [][]caddyhttp.MiddlewareHandler // each pii_mask's after (maskAt)
	// before and upstreamOps are chainWalk's.
	before      []caddyhttp.MiddlewareHandler
	upstreamOps *caddyheaders.RespHeaderOps
	req         *http.Request
	notes       []string
}

// scanRequest builds the dry run's GET request, prepared as Caddy's
// server prepares one (replacer, variables, original request).
func scanRequest(opt scanOptions, srv *caddyhttp.Server) (req *http.Request, dropped []string, err error) {
	if !strings.HasPrefix(opt.path, "/") {
		return nil, nil, fmt.Errorf("--path %q: want a path that starts with /, and perhaps a query", opt.path)
	}
	if _, err := url.ParseRequestURI(opt.path); err != nil {
		return nil, nil, fmt.Errorf("--path %q: %w", opt.path, err)
	}
	host := opt.host
	if host == "" {
		host = "localhost"
	}
	method := opt.method
	if method == "" {
		method = http.MethodGet
	}
	req, err = http.NewRequest(method, "http://"+host+opt.path, nil)
	if err != nil || req.Host != host {
		return nil, nil, fmt.Errorf("--host %q: not a host name", opt.host)
	}
	req.RequestURI = opt.path
	ip := opt.remoteIP
	if ip == "" {
		ip = "127.0.0.1"
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return nil, nil, fmt.Errorf("--remote-ip %q: %w", opt.remoteIP, err)
	}
	req.RemoteAddr = netip.AddrPortFrom(addr, 40000).String()
	req.Header = opt.header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	// The role, where the pii_mask handlers read it from a field of the
	// client's request or its login (what pii_oidc or basic_auth sets,
	// which the dry run does not run: the agent is taken to be logged in
	// with --role, and a pii_mask reached without a login handler on the
	// way is noted): the routes on the way may read it there too (a
	// header matcher on the same field). When they read it from several
	// request fields, the agent's client sends one of them, which the
	// admin names with --request-header: the dry run does not guess
	// (another field could take the request another way). Variables are
	// set by the configuration's own handlers, which the walk runs; a
	// pii_mask that then reads another role than --role is an error.
	var fields []string
	for _, key := range opt.rolesFrom {
		if name, ok := strings.CutPrefix(key, "http.request.header."); ok {
			fields = append(fields, http.CanonicalHeaderKey(name))
		}
	}
	slices.Sort(fields)
	fields = slices.Compact(fields)
	// Given, even empty: the agent's client sends it so.
	given := slices.ContainsFunc(fields, func(f string) bool { return len(req.Header.Values(f)) > 0 })
	switch {
	case len(fields) == 1 && !given:
		req.Header.Set(fields[0], opt.role)
	case len(fields) > 1 && !given:
		return nil, nil, fmt.Errorf("the pii_mask handlers read the roles from the request fields %s: give the one the agent's client sends with --request-header \"Name: %s\"",
			strings.Join(fields, ", "), opt.role)
	}
	// Caddy's server drops, before any route, the request fields whose
	// names hold '_' or '.' (GHSA-f59h-q822-g45g, GHSA-49wc-4hcv-v58q)
	// unless its expected_underscore_headers / expected_dot_headers keep
	// them.
	if dropped, err = dropAliasHeaders(req.Header, srv); err != nil {
		return nil, nil, err
	}
	req = caddyhttp.PrepareRequest(req, caddy.NewReplacer(), httptest.NewRecorder(), srv)
	repl := req.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	for _, key := range opt.rolesFrom {
		if strings.HasPrefix(key, "http.auth.user.") {
			repl.Set(key, opt.role)
		}
	}
	return req, dropped, nil
}

// dropAliasHeaders removes from h the fields Caddy's server drops before
// any route (Server.serveHTTP, Caddy 2.11): names holding '_' or '.'
// unless the server's allow lists keep them (an allowed one sent more
// than once is dropped too), and the hyphenated spellings of the names
// the lists keep. It returns the names dropped, sorted.
func dropAliasHeaders(h http.Header, srv *caddyhttp.Server) ([]string, error) {
	type rule struct{ allow, drop string }
	rules := func(entries []string, sep string) (exact map[string]bool, exactDrop map[string]bool, prefix []rule) {
		exact, exactDrop = map[string]bool{}, map[string]bool{}
		for _, e := range entries {
			name, glob := strings.CutSuffix(e, "*")
			allow := http.CanonicalHeaderKey(name)
			drop := http.CanonicalHeaderKey(strings.ReplaceAll(name, sep, "-"))
			if glob {
				prefix = append(prefix, rule{allow, drop})
			} else {
				exact[allow], exactDrop[drop] = true, true
			}
		}
		return exact, exactDrop, prefix
	}
	uExact, uDrop, uPrefix := rules(srv.ExpectedUnderscoreHeaders, "_")
	if err := checkAliasAllowlist(srv.ExpectedUnderscoreHeaders, '_', "expected_underscore_headers"); err != nil {
		return nil, err
	}
	if err := checkAliasAllowlist(srv.ExpectedDotHeaders, '.', "expected_dot_headers"); err != nil {
		return nil, err
	}
	dExact, dDrop, dPrefix := rules(srv.ExpectedDotHeaders, ".")
	allowed := func(k string, exact map[string]bool, prefix []rule) bool {
		return exact[k] || slices.ContainsFunc(prefix, func(r rule) bool { return strings.HasPrefix(k, r.allow) })
	}
	var dropped []string
	for k, v := range h {
		under, dot := strings.Contains(k, "_"), strings.Contains(k, ".")
		var drop bool
		switch {
		case under && dot:
			drop = !uExact[k] && !dExact[k] || len(v) > 1
		case under:
			drop = !allowed(k, uExact, uPrefix) || len(v) > 1
		case dot:
			drop = !allowed(k, dExact, dPrefix) || len(v) > 1
		default:
			drop = uDrop[k] || dDrop[k] ||
				slices.ContainsFunc(uPrefix, func(r rule) bool { return strings.HasPrefix(k, r.drop) }) ||
				slices.ContainsFunc(dPrefix, func(r rule) bool { return strings.HasPrefix(k, r.drop) })
		}
		if drop {
			delete(h, k)
			dropped = append(dropped, k)
		}
	}
	slices.Sort(dropped)
	return dropped, nil
}

// checkAliasAllowlist refuses the entries Caddy's server refuses to load
// (provisionHeaderAliasAllowlist), with its messages.
func checkAliasAllowlist(entries []string, sep rune, directive string) error {
	for _, entry := range entries {
		for i := 0; i < len(entry); i++ {
			if entry[i] >= 0x80 {
				return fmt.Errorf("%s: entry %q contains non-ASCII characters", directive, entry)
			}
		}
		name := strings.TrimSuffix(entry, "*")
		if strings.ContainsRune(name, '*') {
			return fmt.Errorf("%s: entry %q has '*' in an invalid position (only a trailing '*' is allowed)", directive, entry)
		}
		if !strings.ContainsRune(name, sep) {
			return fmt.Errorf("%s: entry %q does not contain a %q", directive, entry, sep)
		}
	}
	return nil
}

// strictModule decodes a module's JSON as Caddy does: without its module
// name key and "@id", refusing fields the module does not have.
func strictModule(raw json.RawMessage, v any) error {
	clean, err := moduleFields(raw)
	if err != nil {
		return err
	}
	return caddy.StrictUnmarshalJSON(clean, v)
}

// moduleFields is a handler's JSON without its module name key and "@id".
func moduleFields(raw json.RawMessage) (json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, err
	}
	delete(fields, "handler")
	delete(fields, "@id")
	return json.Marshal(fields)
}

// loadHandler provisions the handler module name from its JSON.
func (c *chainWalk) loadHandler(name string, raw json.RawMessage) (any, error) {
	clean, err := moduleFields(raw)
	if err != nil {
		return nil, err
	}
	mod, err := c.ctx.LoadModuleByID("http.handlers."+name, clean)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return mod, nil
}

// passOn lists the handlers that call the next one (middleware): any other
// handler answers the request itself, and the handlers after it never run.
var passOn = map[string]bool{
	"pii_mask": true, "pii_oidc": true, "subroute": true,
	"headers": true, "encode": true, "vars": true, "map": true, "request_body": true,
	"rewrite": true, "push": true, "templates": true, "tracing": true, "log_append": true,
	"authentication": true, "log_skip": true, "log_name": true, "copy_response_headers": true,
	"timeouts": true,
}

// answers lists the handlers that answer the request themselves.
var answers = map[string]bool{
	"static_response": true, "acme_server": true, "metrics": true,
	"copy_response": true, "error": true,
}

// chainWalk follows, for one request, the routes as Caddy's HTTP server
// runs them: in order, a route's handlers when its path matchers match,
// only the first matching route of a group (handle blocks), none after a
// terminal route or a handler that answers. The pii_mask handlers on the
// way are the ones the response passes through, outermost first. A
// handler that fails the request (error) hands it to the error routes,
// which answer on the client's own writer, outside every pii_mask.
type chainWalk struct {
	req     *http.Request
	masks   []maskAt
	ctx     caddy.Context // loads the matchers and the handlers that change the request
	anyHost bool          // no --host: host matchers are taken to match
	hosts   []string      // the host matchers taken to match
	notes   []string      // what the admin should know of the walk
	app     *App          // the pii app, for the pii_mask handlers on the way
	opt     scanOptions
	// before are the header directives passed before any pii_mask whose
	// response operations act at once; upstreamOps the answering
	// reverse_proxy's header_down.
	before      []caddyhttp.MiddlewareHandler
	upstreamOps *caddyheaders.RespHeaderOps
	// The server's trusted_proxies are configured: client_ip may be read
	// from ipHeaders, which the dry run does not do.
	trusted   bool
	ipHeaders []string
	groups    map[string]bool
	answered  string                      // the handler that answers, when one was reached
	failed    bool                        // an error handler failed the request
	named     map[string]*caddyhttp.Route // the server's named routes, for invoke
	invoking  []string                    // the named routes being run, against loops
	// The error routes of the subroutes entered: a subroute runs the
	// handlers after it inside its own call, so its error routes take an
	// error raised anywhere after it was entered, on the writer it was
	// given (inside the pii_mask handlers before it: masks[:outer]).
	frames []errFrame
	// The intercept handlers passed whose handle_response takes a 2xx in:
	// they run after the rest of the chain.
	intercepts []pendingIntercept
	// dropped are the request fields Caddy's server drops before any
	// route (dropAliasHeaders).
	dropped []string
	// loginID: the walk passed a login handler (pii_oidc,
	// authentication), which sets {http.auth.user.id}; loginAll: one
	// that may set the other {http.auth.user.*} (pii_oidc, a provider
	// other than http_basic).
	loginID, loginAll bool
}

// maskAt is a pii_mask on the way and the request as it reaches it (the
// rewrites before it applied).
type maskAt struct {
	raw  json.RawMessage
	req  *http.Request
	mask *Mask
	// after are the handlers the walk passed after this pii_mask (and
	// before the next) that change the response's header: they act on
	// the upstream's response before this pii_mask reads it.
	after []caddyhttp.MiddlewareHandler
}

type pendingIntercept struct {
	routes        caddyhttp.RouteList
	outer, frames int // len(masks), len(frames) when it was passed
}

type errFrame struct {
	errs       *caddyhttp.HTTPErrorConfig
	outer      int // len(masks) when the subroute was entered
	intercepts int // len(intercepts) then
}

// server walks a server's routes, then its error routes when the request
// failed.
func (c *chainWalk) server(srv *caddyhttp.Server) error {
	if _, err := c.routes(srv.Routes); err != nil {
		return err
	}
	serverErrors := false
	for {
		if !c.failed {
			// Answered: the intercepts passed on the way take the
			// response now.
			if err := c.intercepted(); err != nil {
				return err
			}
			if !c.failed {
				return nil
			}
		}
		if len(c.frames) > 0 {
			// The innermost subroute with error routes takes the error;
			// the handlers passed since it returned it, intercepts
			// included.
			f := c.frames[len(c.frames)-1]
			c.frames = c.frames[:len(c.frames)-1]
			c.masks, c.intercepts = c.masks[:min(f.outer, len(c.masks))], c.intercepts[:min(f.intercepts, len(c.intercepts))]
			c.failed, c.answered = false, ""
			if _, err := c.routes(f.errs.Routes); err != nil {
				return err
			}
			if !c.failed && c.answered == "" {
				// They go on to the handlers after the subroute, which
				// the dry run does not follow twice.
				return errors.New("a subroute's error routes go on to the handlers after the subroute; caddy pii scan cannot tell what answers")
			}
			continue
		}
		if serverErrors {
			// An error in handle_errors: Caddy's own empty error response.
			c.masks, c.intercepts, c.failed = nil, nil, false
			c.answered = "error (Caddy's default error response, empty)"
			return nil
		}
		serverErrors = true
		c.masks, c.intercepts = nil, nil // handle_errors writes to the client itself
		// Caddy gives the server's error routes the request as the
		// client sent it (method, URI), not as the rewrites left it.
		if orig, ok := c.req.Context().Value(caddyhttp.OriginalRequestCtxKey).(http.Request); ok {
			u := *orig.URL
			c.req.Method, c.req.RequestURI, c.req.URL = orig.Method, orig.RequestURI, &u
		}
		if err := c.onError(srv.Errors); err != nil {
			return err
		}
	}
}

// intercepted applies, once the chain has answered without an error, the
// intercept handlers passed on the way, innermost first: each whose
// handle_response takes a 2xx in and whose handlers write a response
// replaces the response, on the writer it was given (inside the pii_mask
// handlers before it, outside those after it); an error there is the
// request's.
func (c *chainWalk) intercepted() error {
	for !c.failed && len(c.intercepts) > 0 {
		// The innermost first; the outer ones stay pending, also when
		// this one's routes fail into error routes that answer.
		p := c.intercepts[len(c.intercepts)-1]
		c.intercepts = c.intercepts[:len(c.intercepts)-1]
		masks, frames, answered := c.masks, c.frames, c.answered
		c.masks = append([]maskAt(nil), masks[:min(p.outer, len(masks))]...)
		c.frames, c.answered = append([]errFrame(nil), frames[:min(p.frames, len(frames))]...), ""
		if _, err := c.routes(p.routes); err != nil {
			return err
		}
		if c.failed {
			return nil // to the error routes, as any error
		}
		if c.answered == "" {
			// Nothing written: the chain's own response goes out.
			c.masks, c.frames, c.answered = masks, frames, answered
			continue
		}
		c.answered = "intercept's handle_response (" + c.answered + ")"
	}
	return nil
}

// onError goes on in the error routes: the pii_mask handlers passed since
// the writer the error routes write to (the client's, for the server's
// handle_errors) returned the error without a response; the caller has
// dropped them from masks.
func (c *chainWalk) onError(errs *caddyhttp.HTTPErrorConfig) error {
	c.failed = false
	c.answered = "error (Caddy's default error response, empty)"
	if errs == nil {
		return nil
	}
	c.answered = ""
	n := len(c.masks)
	_, err := c.routes(errs.Routes)
	if c.answered == "" && len(c.masks) == n {
		c.answered = "the error routes (handle_errors)"
	}
	return err
}

// routes walks a route list; done reports that the chain ended in it.
func (c *chainWalk) routes(routes caddyhttp.RouteList) (done bool, err error) {
	for _, route := range routes {
		if route.Group != "" && c.groups[route.Group] {
			// Another route of its group ran: Caddy keeps the groups in
			// one set per request, across subroutes and named routes.
			continue
		}
		match, err := c.matches(&route)
		if err != nil {
			return false, err
		}
		if !match {
			continue
		}
		if route.Group != "" {
			c.groups[route.Group] = true
		}
		for _, h := range route.HandlersRaw {
			if done, err := c.handler(h); done || err != nil {
				return done, err
			}
		}
		if route.Terminal {
			return true, nil
		}
	}
	return false, nil
}

// handler walks one handler; done reports that the chain ended there.
func (c *chainWalk) handler(h json.RawMessage) (done bool, err error) {
	var head struct {
		Handler string `json:"handler"`
	}
	if err := json.Unmarshal(h, &head); err != nil {
		return false, err
	}
	switch head.Handler {
	case "pii_mask":
		m := new(Mask)
		if err := strictModule(h, m); err != nil {
			return false, fmt.Errorf("pii_mask: %w", err)
		}
		if err := m.provisionWith(c.app); err != nil {
			return false, fmt.Errorf("pii_mask: %w", err)
		}
		// Where this pii_mask reads the roles, the request must hold
		// --role: a handler on the way may have set or removed what it
		// reads (vars, forward_auth's copy_headers), and the agent's
		// roles are then not the ones given.
		// It removes the request fields it strips first (before reading
		// the roles, and before the handlers after it see the request).
		m.stripRequest(c.req)
		repl := c.req.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
		if got := m.roles(repl); !sameRoles(got, c.opt.role) {
			hint := "the configuration sets it on the way (vars, map, forward_auth), and caddy pii scan cannot show another role's view"
			switch {
			case strings.TrimSpace(got) != "":
			case slices.ContainsFunc(c.dropped, func(k string) bool {
				return strings.Contains(strings.ToLower(m.RolesFrom), "http.request.header."+strings.ToLower(k)+"}")
			}):
				hint = "Caddy drops that request field before any route (a name holding '_' or '.', or the hyphenated spelling of one the server's expected_underscore_headers or expected_dot_headers keep): every agent gets what an agent without a role gets"
			default:
				hint = "nothing on the way set it, or a handler removed it (strip_request_header, forward_auth); if the agent's client sends it (a header, a cookie, the query), give it with --request-header"
			}
			return false, fmt.Errorf("the pii_mask on the way reads its roles from %s, which holds %q there, not --role %q: %s", m.RolesFrom, got, c.opt.role, hint)
		}
		for _, p := range placeholderRE.FindAllStringSubmatch(m.RolesFrom, -1) {
			key := p[1]
			switch {
			case !strings.HasPrefix(key, "http.auth.user."), c.loginAll, c.loginID && key == "http.auth.user.id":
			case c.loginID:
				c.note(fmt.Sprintf("the login on the way to the pii_mask that reads its roles from {%s} is basic_auth, which sets the user's id alone ({http.auth.user.id}): in the gateway nothing sets {%s}, and every agent gets what an agent without a role gets; the view shown is --role's, as if a login had set it", key, key))
			default:
				c.note(fmt.Sprintf("no login handler (pii_oidc, basic_auth, authentication) is on the way to the pii_mask that reads its roles from {%s}: in the gateway nothing sets it here, and every agent gets what an agent without a role gets; the view shown is --role's, as if a login had set it", key))
			}
		}
		r := *c.req
		u := *c.req.URL
		r.URL = &u
		c.masks = append(c.masks, maskAt{raw: h, req: &r, mask: m})
		return false, nil
	case "subroute":
		var sr caddyhttp.Subroute
		if err := strictModule(h, &sr); err != nil {
			return false, fmt.Errorf("subroute: %w", err)
		}
		if sr.Errors != nil {
			c.frames = append(c.frames, errFrame{errs: sr.Errors, outer: len(c.masks), intercepts: len(c.intercepts)})
		}
		return c.routes(sr.Routes)
	case "intercept":
		return c.intercept(h)
	case "invoke":
		var inv caddyhttp.Invoke
		if err := strictModule(h, &inv); err != nil {
			return false, fmt.Errorf("invoke: %w", err)
		}
		nr, ok := c.named[inv.Name]
		if !ok {
			return false, fmt.Errorf("invoke: no named route %q", inv.Name)
		}
		for _, n := range c.invoking {
			if n == inv.Name {
				return false, fmt.Errorf("invoke: named route %q invokes itself", inv.Name)
			}
		}
		c.invoking = append(c.invoking, inv.Name)
		done, err := c.routes(caddyhttp.RouteList{*nr})
		c.invoking = c.invoking[:len(c.invoking)-1]
		return done, err
	case "reverse_proxy":
		return c.reverseProxy(h)
	case "file_server":
		return c.fileServer(h)
	case "rewrite", "vars", "map", "headers":
		// They change the request (its path, the variables and
		// placeholders a later rewrite or matcher reads, its header
		// fields): the real handler runs on the dry run's request.
		if c.anyHost && readsHost(h) {
			c.note(fmt.Sprintf("a %s handler that reads the host ran for Host localhost, and what it set decides the way from there; --host names the request's", head.Handler))
		}
		return false, c.run(head.Handler, h)
	case "error":
		// As Caddy's server does before the error routes: the error in
		// the request and its placeholders (handle_errors 410 matches
		// {http.error.status_code}).
		var se caddyhttp.StaticError
		if err := strictModule(h, &se); err != nil {
			return false, fmt.Errorf("error: %w", err)
		}
		herr := se.ServeHTTP(httptest.NewRecorder(), c.req, nil)
		c.req = (&caddyhttp.HTTPErrorConfig{}).WithError(c.req, herr)
		c.failed, c.answered = true, "error"
		return true, nil
	}
	if passOn[head.Handler] {
		if head.Handler == "authentication" || head.Handler == "pii_oidc" {
			// Not run (it would need credentials): the agent is taken
			// to be logged in with --role, in the placeholders it sets
			// that roles_from reads. Caddy's http_basic provider sets
			// the user's id alone ({http.auth.user.id}); pii_oidc and
			// other providers may set more.
			c.loginID = true
			var auth struct {
				Providers map[string]json.RawMessage `json:"providers"`
			}
			_ = json.Unmarshal(h, &auth)
			for p := range auth.Providers {
				c.loginAll = c.loginAll || p != "http_basic"
			}
			c.loginAll = c.loginAll || head.Handler == "pii_oidc"
			c.note(fmt.Sprintf("%s on the way is not run: of what it sets, only the placeholder roles_from reads holds --role", head.Handler))
		}
		return false, nil
	}
	if !answers[head.Handler] {
		return false, fmt.Errorf("caddy pii scan does not know whether the %s handler answers the request or calls the next one", head.Handler)
	}
	c.answered = head.Handler
	return true, nil
}

// reverseProxy walks a reverse_proxy: it answers with the upstream's
// response, unless a handle_response route takes a successful (2xx)
// response in, whose routes may answer or go on to the next handler, as
// forward_auth's do.
func (c *chainWalk) reverseProxy(h json.RawMessage) (done bool, err error) {
	var rp struct {
		HandleResponse []caddyhttp.ResponseHandler `json:"handle_response"`
		Headers        json.RawMessage             `json:"headers"`
	}
	if err := json.Unmarshal(h, &rp); err != nil {
		return false, fmt.Errorf("reverse_proxy: %w", err)
	}
	var ops *caddyheaders.RespHeaderOps
	if len(rp.Headers) > 0 {
		// header_down: applied to the upstream's response before the
		// handlers before it (pii_mask) read it; serve mode applies it.
		hh := new(caddyheaders.Handler)
		if err := json.Unmarshal(rp.Headers, hh); err != nil {
			return false, fmt.Errorf("reverse_proxy headers: %w", err)
		}
		if err := hh.Provision(c.ctx); err != nil {
			return false, fmt.Errorf("reverse_proxy headers: %w", err)
		}
		ops = hh.Response
	}
	for _, rh := range rp.HandleResponse {
		if !c.matchesSuccess(rh.Match) {
			continue
		}
		if rh.StatusCode != "" {
			break // only the status changes: the upstream's response goes out
		}
		c.note("a reverse_proxy's handle_response routes (forward_auth) were followed as if its upstream answered 2xx, with --role in the fields roles_from reads")
		// forward_auth's copy_headers copies the auth service's answer
		// into the request: where roles_from reads a request header,
		// the auth service is taken to answer --role in it.
		repl := c.req.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
		for _, key := range c.opt.rolesFrom {
			if name, ok := strings.CutPrefix(key, "http.request.header."); ok {
				repl.Set("http.reverse_proxy.header."+http.CanonicalHeaderKey(name), c.opt.role)
			}
		}
		c.upstreamOps = nil
		done, err := c.routes(rh.Routes) // (none: straight on to the next handler)
		if err == nil && c.answered == "copy_response" && c.upstreamOps == nil {
			// copy_response sends this upstream's response the way the
			// proxy would, header_down applied.
			c.upstreamOps = ops
		}
		return done, err
	}
	c.upstreamOps = ops
	c.answered = "reverse_proxy"
	return true, nil
}

// intercept walks an intercept handler: the rest of the chain runs
// first; a 2xx response that one of its handle_response matchers takes in
// is then given to that route's handlers (intercepted), unless it only
// changes the status.
func (c *chainWalk) intercept(h json.RawMessage) (done bool, err error) {
	var ic struct {
		HandleResponse []caddyhttp.ResponseHandler `json:"handle_response"`
	}
	if err := json.Unmarshal(h, &ic); err != nil {
		return false, fmt.Errorf("intercept: %w", err)
	}
	for _, rh := range ic.HandleResponse {
		if !c.matchesSuccess(rh.Match) {
			continue
		}
		if len(rh.Routes) == 0 {
			break // only the status changes: the chain's response goes out
		}
		c.intercepts = append(c.intercepts, pendingIntercept{routes: rh.Routes, outer: len(c.masks), frames: len(c.frames)})
		break
	}
	return false, nil
}

// matchesSuccess reports whether a handle_response matcher takes in a
// 2xx response (its header conditions on the upstream's fields given in
// serve mode, else taken to match, with a note).
func (c *chainWalk) matchesSuccess(m *caddyhttp.ResponseMatcher) bool {
	if m == nil {
		return true
	}
	// The dry run's upstream answers 200, as serve mode writes it.
	for _, code := range m.StatusCode {
		if code != 2 && code != http.StatusOK && code >= 200 && code < 300 {
			c.note(fmt.Sprintf("a handle_response matcher on status %d was evaluated for the dry run's upstream status, 200", code))
		}
	}
	if len(m.Headers) > 0 && c.opt.respHeader == nil {
		c.note("a handle_response matcher on the upstream's header fields was taken to match; --content-type/--header give the upstream's fields")
		return (&caddyhttp.ResponseMatcher{StatusCode: m.StatusCode}).Match(http.StatusOK, http.Header{})
	}
	// Serve mode: the upstream's header is known.
	return m.Match(http.StatusOK, c.opt.respHeader)
}

// fileServer runs file_server on the dry run's request, on the local disk
// (its root resolved): a file it finds answers; a missing one is its 404
// error (to the error routes), or, with pass_thru, the next handler's.
func (c *chainWalk) fileServer(h json.RawMessage) (done bool, err error) {
	mod, err := c.loadHandler("file_server", h)
	if err != nil {
		return false, err
	}
	passed := false
	herr := mod.(caddyhttp.MiddlewareHandler).ServeHTTP(httptest.NewRecorder(), c.req,
		caddyhttp.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) error {
			passed, c.req = true, r
			return nil
		}))
	switch {
	case passed:
		return false, nil
	case herr != nil:
		c.req = (&caddyhttp.HTTPErrorConfig{}).WithError(c.req, herr)
		c.failed, c.answered = true, "file_server (an error: "+herr.Error()+")"
		c.note("file_server looked on this machine's disk (its root resolved here): the server's files may differ")
		return true, nil
	}
	c.answered = "file_server"
	c.note("file_server looked on this machine's disk (its root resolved here): the server's files may differ")
	return true, nil
}

// matches evaluates a route's matchers on the dry run's request, as
// Caddy's server does (any set may match; within a set, all matchers
// must). Without --host, a host matcher is taken to match, and noted.
func (c *chainWalk) matches(route *caddyhttp.Route) (bool, error) {
	if len(route.MatcherSetsRaw) == 0 {
		return true, nil
	}
	// (Provisioning empties the raw matchers.)
	for _, set := range route.MatcherSetsRaw {
		for name, raw := range set {
			low := strings.ToLower(string(raw))
			switch {
			case c.anyHost && name != "host" && strings.Contains(low, "host"):
				c.note(fmt.Sprintf("a %s matcher that reads the host was evaluated for Host localhost; --host names the request's", name))
			case (name == "client_ip" || strings.Contains(low, "client_ip")) && c.trusted && c.forwarded():
				return false, fmt.Errorf("a client_ip matcher behind the server's trusted_proxies, with %s given: caddy pii scan does not read the forwarded address; give the client's with --remote-ip instead", strings.Join(c.ipHeaders, "/"))
			case name == "remote_ip" || name == "client_ip" || strings.Contains(low, "remote") || strings.Contains(low, "client_ip"):
				c.note(fmt.Sprintf("a matcher on the client's address was evaluated for %s (the server's trusted_proxies are not read); --remote-ip names the client's", clientAddr(c.req)))
			}
			if name == "method" || strings.Contains(low, "method") {
				c.note(fmt.Sprintf("a %s matcher that reads the method was evaluated for %s; --method names another", name, c.req.Method))
			}
			if name == "protocol" || strings.Contains(low, "scheme") || strings.Contains(low, "tls") || strings.Contains(low, "proto") {
				c.note(fmt.Sprintf("a %s matcher that reads the protocol was evaluated for plain HTTP/1.1 (no TLS): an agent on HTTPS may take another way", name))
			}
		}
	}
	if err := route.ProvisionMatchers(c.ctx); err != nil {
		return false, fmt.Errorf("route matchers: %w", err)
	}
	for _, set := range route.MatcherSets {
		ok := true
		for _, m := range set {
			if hosts, isHost := hostMatcher(m); isHost && c.anyHost {
				c.hosts = append(c.hosts, hosts...)
				continue
			}
			match, err := caddyhttp.MatcherSet{m}.MatchWithError(c.req)
			if err != nil {
				return false, fmt.Errorf("route matcher: %w", err)
			}
			if !match {
				ok = false
				break
			}
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// readsHost reports whether a handler's JSON holds a placeholder of the
// request's host ({host}, {hostport}, {http.request.host…}, {labels.N}).
func readsHost(raw json.RawMessage) bool {
	low := strings.ToLower(string(raw))
	return strings.Contains(low, "{host}") || strings.Contains(low, "{hostport}") ||
		strings.Contains(low, "{http.request.host") || strings.Contains(low, "{labels.") ||
		strings.Contains(low, "{http.request.hostport")
}

// forwarded reports whether the request carries a client address header
// the server reads behind trusted proxies.
func (c *chainWalk) forwarded() bool {
	for _, h := range c.ipHeaders {
		if c.req.Header.Get(h) != "" {
			return true
		}
	}
	return false
}

// sameRoles reports whether two role lists name the same roles.
func sameRoles(a, b string) bool {
	split := func(s string) []string {
		l := strings.FieldsFunc(s, isRoleSep)
		slices.Sort(l)
		return slices.Compact(l)
	}
	return slices.Equal(split(a), split(b))
}

// note records a note once.
func (c *chainWalk) note(n string) {
	if !slices.Contains(c.notes, n) {
		c.notes = append(c.notes, n)
	}
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

var placeholderRE = regexp.MustCompile(`\{([^{}\\]+)\}`)

// rolesFromKeys collects the placeholders the pii_mask handlers in a
// configuration read the roles from (pii_oidc's by default).
func rolesFromKeys(v any, keys []string) []string {
	switch v := v.(type) {
	case map[string]any:
		if v["handler"] == "pii_mask" {
			rf, _ := v["roles_from"].(string)
			if rf == "" {
				rf = "{" + placeholderUserRoles + "}"
			}
			for _, m := range placeholderRE.FindAllStringSubmatch(rf, -1) {
				if !slices.Contains(keys, m[1]) {
					keys = append(keys, m[1])
				}
			}
		}
		for _, x := range v {
			keys = rolesFromKeys(x, keys)
		}
	case []any:
		for _, x := range v {
			keys = rolesFromKeys(x, keys)
		}
	}
	return keys
}

func hostMatcher(m any) ([]string, bool) {
	switch m := m.(type) {
	case caddyhttp.MatchHost:
		return m, true
	case *caddyhttp.MatchHost:
		return *m, true
	}
	return nil, false
}

// run runs a handler that changes the request on the dry run's request;
// the request it passes on is the one the walk goes on with.
func (c *chainWalk) run(name string, raw json.RawMessage) error {
	mod, err := c.loadHandler(name, raw)
	if err != nil {
		return err
	}
	if rw, ok := mod.(*caddyrewrite.Rewrite); ok {
		// Its ServeHTTP would log each rewrite to the admin's terminal.
		rw.Rewrite(c.req, c.req.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer))
		return nil
	}
	mh, ok := mod.(caddyhttp.MiddlewareHandler)
	if !ok {
		return fmt.Errorf("%s is not a middleware handler", name)
	}
	if hh, ok := mod.(*caddyheaders.Handler); ok && hh.Response != nil {
		// Its response operations act on the upstream's response before
		// the pii_mask before it reads it, or (not deferred) on the
		// header before the upstream's fields are added (serve mode
		// applies them).
		resp := *hh
		resp.Request = nil
		if len(c.masks) > 0 {
			last := &c.masks[len(c.masks)-1]
			last.after = append(last.after, &resp)
		} else {
			c.before = append(c.before, &resp)
		}
	}
	return mh.ServeHTTP(httptest.NewRecorder(), c.req, caddyhttp.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) error {
		c.req = r
		return nil
	}))
}
