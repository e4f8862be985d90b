package caddymodule

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A JSON text sequence whose records are pretty-printed (jq --seq) is
// rewritten record by record however its bytes arrive: every split gives
// the view of one write, a record goes out once its closing line has come
// (before the next record starts), and a record cut short by the next
// separator is refused, the stream cut.
func TestJSONSeqRecordsOverLines(t *testing.T) {
	m := r44bMask(t)
	body := "\x1e{\n  \"mobile\": \"13812345678\",\n  \"note\": \"a \\\"}\\n\\u001e\\\" b\",\n  \"list\": [1,\n 2]\n}\n" +
		"\x1e\"13912345678\"\n\x1e{\"mobile\":\"13712345678\"}\n"
	serve := func(step int) (*httptest.ResponseRecorder, any) {
		rec, _, cut := serveMaskCut(t, m, httptest.NewRequest(http.MethodGet, "/api/s", nil),
			func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", "application/json-seq")
				for i := 0; i < len(body); i += step {
					if _, err := w.Write([]byte(body[i:min(i+step, len(body))])); err != nil {
						return err
					}
				}
				return nil
			})
		return rec, cut
	}
	whole, cut := serve(len(body))
	if cut != nil {
		t.Fatalf("cut: %v", cut)
	}
	for _, want := range []string{`"mobile": "138****5678"`, `"mobile":"137****5678"`, "\x1e\"139****5678\"\n", `"list": [1,` + "\n 2]"} {
		if !strings.Contains(whole.Body.String(), want) {
			t.Errorf("view lacks %q: %q", want, whole.Body.String())
		}
	}
	for step := 1; step < len(body); step++ {
		if rec, cut := serve(step); cut != nil || rec.Body.String() != whole.Body.String() {
			t.Fatalf("writes of %d bytes: cut %v\n%q\nwant\n%q", step, cut, rec.Body.String(), whole.Body.String())
		}
	}

	// Each record goes out as soon as its last line has come.
	first := body[:strings.Index(body[1:], "\x1e")+1]
	seen := ""
	req := httptest.NewRequest(http.MethodGet, "/api/s", nil)
	if _, _, cut := serveMaskCut(t, m, req, func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json-seq")
		w.Write([]byte(first))
		seen = recBody(w)
		_, err := w.Write([]byte(body[len(first):]))
		return err
	}); cut != nil || !strings.Contains(seen, `"mobile": "138****5678"`) || strings.Contains(seen, "139") {
		t.Errorf("after the first record: %q (cut %v)", seen, cut)
	}

	// A record that the next separator cuts short.
	rec, _, cut := serveRaw(t, m, []byte("\x1e{\"ok\":true}\n\x1e{\"mobile\":\n\x1e{\"mobile\":\"13812345678\"}\n"),
		"Content-Type", "application/json-seq")
	if cut == nil || strings.Contains(rec.Body.String(), "13812345678") {
		t.Errorf("a record cut short: cut %v, %q", cut, rec.Body.String())
	}
}

// recBody is what a maskWriter over a recorder has sent so far.
func recBody(w http.ResponseWriter) string {
	return w.(*maskWriter).w.(*httptest.ResponseRecorder).Body.String()
}

// application/stream+json (Spring WebFlux's older name for NDJSON) is a
// stream of JSON lines, rewritten line by line as they come; before, it
// fell under +json, was read whole and refused as malformed.
func TestStreamPlusJSONIsNDJSON(t *testing.T) {
	m := r44bMask(t)
	rec, _, cut := serveRaw(t, m, []byte("{\"phone\":\"13812345678\"}\n{\"phone\":\"13912345678\"}\n"),
		"Content-Type", "application/stream+json")
	if cut != nil || rec.Code != http.StatusOK ||
		rec.Body.String() != "{\"phone\":\"138****5678\"}\n{\"phone\":\"139****5678\"}\n" {
		t.Errorf("cut %v, %d %q", cut, rec.Code, rec.Body.String())
	}
	if !wantsStream(http.Header{"Accept": {"application/stream+json"}}) {
		t.Error("a client asking for application/stream+json asks for a stream")
	}
}
