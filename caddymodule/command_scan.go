package caddymodule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	caddyrewrite "github.com/caddyserver/caddy/v2/modules/caddyhttp/rewrite"
	"github.com/spf13/cobra"
	"golang.org/x/net/http/httpguts"

	"github.com/piigate/piigate/caddymodule/rewrite"
	"github.com/piigate/piigate/config"
)

func scanCommand() *cobra.Command {
	var cfgFile, adapter, role, reqPath, format, contentType string
	var headers []string
	var summary bool
	cmd := &cobra.Command{
		Use:   "scan --config <Caddyfile> --role <role> [--path <path>]",
		Short: "Show what a role would receive: dry-run the masking rules on a JSON body from stdin",
		Long: `Reads a response body on stdin and prints what an agent with the given
role(s) would receive on the given request path, under the pii app and the
pii_mask handler of the configuration. Nothing is started.

The routes are followed as Caddy runs them for a GET of the path (route
order, handle blocks, terminal routes, a handler that answers before a
pii_mask); every pii_mask on the way applies, the innermost first. Only
path matchers are evaluated (others, such as host, are taken to match). --format chooses
json (default: sniffed), ndjson, events, jsonp or text. The body is read as one
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
			masks, err := loadMasksForPath(cfgFile, adapter, reqPath)
			if err != nil {
				return err
			}
			body, err := io.ReadAll(cmd.InOrStdin())
			if err != nil {
				return fmt.Errorf("reading stdin: %w", err)
			}
			if contentType != "" || len(headers) > 0 {
				if format != "" {
					return errors.New("--format and --content-type/--header exclude each other: the type decides the format")
				}
				return serveDryRun(cmd, masks, role, reqPath, body, contentType, headers, summary)
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
	cmd.Flags().StringVar(&reqPath, "path", "/", "the request path the body is the response to")
	cmd.Flags().StringVar(&format, "format", "", "json, ndjson, events, jsonp or text (default: sniffed)")
	cmd.Flags().BoolVar(&summary, "summary", false, "print the values found, by type and action, on stderr")
	cmd.Flags().StringVar(&contentType, "content-type", "", "the upstream's Content-Type: run the body through the handlers as the gateway reads that type")
	cmd.Flags().StringArrayVar(&headers, "header", nil, `an upstream response header field, "Name: value" (repeatable); the agent's header is printed on stderr`)
	return cmd
}

// serveDryRun runs body through the pii_mask handlers as the upstream's
// response (200, contentType, headers) to a GET of reqPath by an agent with
// role, and prints the agent's body on stdout and, with headers given, the
// agent's header on stderr. A refusal is an error giving its reason.
func serveDryRun(cmd *cobra.Command, masks []*Mask, role, reqPath string, body []byte, contentType string, headers []string, summary bool) error {
	upHeader := http.Header{}
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		if !ok || !httpguts.ValidHeaderFieldName(name) || !httpguts.ValidHeaderFieldValue(strings.TrimSpace(value)) {
			return fmt.Errorf("--header %q: want \"Name: value\"", h)
		}
		upHeader.Add(name, strings.TrimSpace(value))
	}
	if contentType != "" {
		upHeader.Set("Content-Type", contentType)
	}
	var next caddyhttp.Handler = caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error {
		for k, v := range upHeader {
			w.Header()[k] = append([]string(nil), v...)
		}
		w.WriteHeader(http.StatusOK)
		_, err := w.Write(body)
		return err
	})
	// The outermost pii_mask first, each calling the next; each one's
	// outcome is taken when it calls the one inside it (the var holds the
	// innermost's at the end).
	outcomes := make([]*Outcome, len(masks))
	unknown := false
	for i := len(masks) - 1; i >= 0; i-- {
		m, inner, i := masks[i], next, i
		var d config.Decision
		m.table.Decide(role, &d)
		unknown = unknown || d.Unknown
		m.RolesFrom, m.rolesKey = role, "" // the role given, whatever the configuration reads it from
		next = caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			return m.ServeHTTP(w, r, caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
				outcomes[i], _ = caddyhttp.GetVar(r.Context(), varOutcome).(*Outcome)
				return inner.ServeHTTP(w, r)
			}))
		})
	}
	req, err := http.NewRequest(http.MethodGet, "http://localhost"+reqPath, nil)
	if err != nil {
		return fmt.Errorf("path %s: %w", reqPath, err)
	}
	req.RemoteAddr = "127.0.0.1:1"
	ctx := context.WithValue(req.Context(), caddyhttp.VarsCtxKey, map[string]any{})
	ctx = context.WithValue(ctx, caddyhttp.ExtraLogFieldsCtxKey, new(caddyhttp.ExtraLogFields))
	req = req.WithContext(ctx)
	caddyhttp.NewTestReplacer(req)
	rec := httptest.NewRecorder()
	if err := next.ServeHTTP(rec, req); err != nil {
		return fmt.Errorf("the gateway fails the request: %w", err)
	}
	if rec.Code != http.StatusOK {
		reason := ""
		for _, o := range outcomes {
			if o != nil && o.Reason != "" {
				reason = " (" + o.Reason + ")"
			}
		}
		if o, _ := caddyhttp.GetVar(req.Context(), varOutcome).(*Outcome); o != nil && o.Reason != "" {
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
	if len(headers) > 0 {
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
	if _, err := cmd.OutOrStdout().Write(rec.Body.Bytes()); err != nil {
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
	case "jsonp":
		return rewrite.JSONP, nil
	case "events":
		return rewrite.Events, nil
	case "text":
		return rewrite.Text, nil
	}
	return 0, fmt.Errorf("--format %q: want json, ndjson, events, jsonp or text", name)
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
func loadMasksForPath(file, adapter, reqPath string) ([]*Mask, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if adapter == "" && strings.HasPrefix(strings.ToLower(filepath.Base(file)), "caddyfile") {
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
	var answered []string
	for _, n := range names {
		srv := httpApp.Servers[n]
		// A request of its own for each server: the rewrites on the way
		// (handle_path, uri, rewrite) change it.
		req, err := http.NewRequest(http.MethodGet, "http://localhost"+reqPath, nil)
		if err != nil {
			return nil, fmt.Errorf("path %s: %w", reqPath, err)
		}
		req = req.WithContext(context.WithValue(req.Context(), caddyhttp.VarsCtxKey, map[string]any{}))
		caddyhttp.NewTestReplacer(req) // the request's placeholders, for the rewrites' URIs
		c := chainWalk{named: srv.NamedRoutes, req: req}
		if err := c.server(srv); err != nil {
			return nil, fmt.Errorf("server %s: %w", n, err)
		}
		if len(c.masks) == 0 {
			// Another server (a redirect site, a site on another port)
			// may answer the path unguarded: the first server that
			// guards it is the one shown.
			if c.answered != "" {
				answered = append(answered, fmt.Sprintf("%s answers it in server %s", c.answered, n))
			}
			continue
		}
		var masks []*Mask
		for _, raw := range c.masks {
			m := new(Mask)
			if err := strictModule(raw, m); err != nil {
				return nil, fmt.Errorf("pii_mask: %w", err)
			}
			if err := m.provisionWith(app); err != nil {
				return nil, fmt.Errorf("pii_mask: %w", err)
			}
			masks = append(masks, m)
		}
		return masks, nil
	}
	if len(answered) > 0 {
		return nil, fmt.Errorf("no pii_mask handler guards path %s in %s: %s, before any pii_mask", reqPath, file, strings.Join(answered, "; "))
	}
	return nil, fmt.Errorf("no pii_mask handler guards path %s in %s", reqPath, file)
}

// strictModule decodes a module's JSON as Caddy does: without its module
// name key and "@id", refusing fields the module does not have.
func strictModule(raw json.RawMessage, v any) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return err
	}
	delete(fields, "handler")
	delete(fields, "@id")
	clean, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	return caddy.StrictUnmarshalJSON(clean, v)
}

// passOn lists the handlers that call the next one (middleware): any other
// handler answers the request itself, and the handlers after it never run.
var passOn = map[string]bool{
	"pii_mask": true, "pii_oidc": true, "subroute": true,
	"headers": true, "encode": true, "vars": true, "map": true, "request_body": true,
	"rewrite": true, "push": true, "templates": true, "tracing": true, "log_append": true,
	"authentication": true, "log_skip": true, "log_name": true, "copy_response_headers": true,
}

// chainWalk follows, for one request, the routes as Caddy's HTTP server
// runs them: in order, a route's handlers when its path matchers match,
// only the first matching route of a group (handle blocks), none after a
// terminal route or a handler that answers. The pii_mask handlers on the
// way are the ones the response passes through, outermost first. A
// handler that fails the request (error) hands it to the error routes,
// which answer on the client's own writer, outside every pii_mask.
type chainWalk struct {
	req      *http.Request
	masks    []json.RawMessage
	answered string                      // the handler that answers, when one was reached
	failed   bool                        // an error handler failed the request
	named    map[string]*caddyhttp.Route // the server's named routes, for invoke
	invoking []string                    // the named routes being run, against loops
	// The error routes of the subroutes entered: a subroute runs the
	// handlers after it inside its own call, so its error routes take an
	// error raised anywhere after it was entered, on the writer it was
	// given (inside the pii_mask handlers before it: masks[:outer]).
	frames []errFrame
	// The intercept handlers passed whose handle_response takes a 2xx in:
	// they run after the rest of the chain.
	intercepts []pendingIntercept
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
		c.masks = append([]json.RawMessage(nil), masks[:min(p.outer, len(masks))]...)
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
	groups := map[string]bool{}
	for _, route := range routes {
		if !pathMatches(route.MatcherSetsRaw, c.req) {
			continue
		}
		if route.Group != "" {
			if groups[route.Group] {
				continue // another route of its group ran
			}
			groups[route.Group] = true
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
		c.masks = append(c.masks, h)
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
	case "rewrite":
		// handle_path, uri and rewrite change the path the handlers
		// after them match (a pii_mask's own matcher included).
		var rw caddyrewrite.Rewrite
		if err := strictModule(h, &rw); err != nil {
			return false, fmt.Errorf("rewrite: %w", err)
		}
		if err := rw.Provision(caddy.Context{}); err != nil {
			return false, fmt.Errorf("rewrite: %w", err)
		}
		repl := c.req.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
		if !rewriteNeedsMatchers(&rw, repl) {
			rw.Rewrite(c.req, repl)
		}
		return false, nil
	case "error":
		c.failed, c.answered = true, "error"
		return true, nil
	}
	if passOn[head.Handler] {
		return false, nil
	}
	c.answered = head.Handler
	return true, nil
}

// rewriteNeedsMatchers reports whether a rewrite uses placeholders that
// only a matcher the dry run does not evaluate sets (try_files' file
// matcher, a regexp matcher's captures): such a rewrite is not followed,
// and the path stays as it was (as when no file matches).
func rewriteNeedsMatchers(rw *caddyrewrite.Rewrite, repl *caddy.Replacer) bool {
	vals := []string{rw.Method, rw.URI, rw.StripPathPrefix, rw.StripPathSuffix}
	for _, r := range rw.URISubstring {
		vals = append(vals, r.Find, r.Replace)
	}
	for _, r := range rw.PathRegexp {
		vals = append(vals, r.Replace)
	}
	for _, v := range vals {
		if _, err := repl.ReplaceOrErr(v, false, true); err != nil {
			return true
		}
	}
	return false
}

// reverseProxy walks a reverse_proxy: it answers with the upstream's
// response, unless a handle_response route takes a successful (2xx)
// response in, whose routes may answer or go on to the next handler, as
// forward_auth's do.
func (c *chainWalk) reverseProxy(h json.RawMessage) (done bool, err error) {
	var rp struct {
		HandleResponse []caddyhttp.ResponseHandler `json:"handle_response"`
	}
	if err := json.Unmarshal(h, &rp); err != nil {
		return false, fmt.Errorf("reverse_proxy: %w", err)
	}
	for _, rh := range rp.HandleResponse {
		if !matchesSuccess(rh.Match) {
			continue
		}
		if rh.StatusCode != "" {
			break // only the status changes: the upstream's response goes out
		}
		return c.routes(rh.Routes) // (none: straight on to the next handler)
	}
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
		if !matchesSuccess(rh.Match) {
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
// 2xx response (headers matchers are taken to match).
func matchesSuccess(m *caddyhttp.ResponseMatcher) bool {
	if m == nil || len(m.StatusCode) == 0 {
		return true
	}
	for _, code := range m.StatusCode {
		if code == 2 || code >= 200 && code < 300 {
			return true
		}
	}
	return false
}

// pathMatches evaluates the path matchers of matcher sets (any set may
// match; within a set, all matchers must); other matchers count as
// matching.
func pathMatches(sets caddyhttp.RawMatcherSets, req *http.Request) bool {
	if len(sets) == 0 {
		return true
	}
	for _, set := range sets {
		ok := true
		if raw, has := set["path"]; has {
			var mp caddyhttp.MatchPath
			if json.Unmarshal(raw, &mp) != nil {
				ok = false
			} else {
				_ = mp.Provision(caddy.Context{})
				ok = mp.Match(req)
			}
		}
		if ok {
			return true
		}
	}
	return false
}
