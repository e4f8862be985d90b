// Found by the twelfth review (each failed before its fix).

// Found by the review of 0fc423f (each fails on 0fc423f).

package rewrite

import (
	"strings"
	"testing"

	"github.com/piigate/piigate/detectors"
)

// Legacy octal (0fc423f) makes "\1", "\13", "\110" escapes wherever a
// backslash stands before digits, also in a page's text, where the
// backslash is only a backslash (a Windows path). The plain scan's finding
// starts inside the "escape" and is narrowed to what follows it
// (outsideEscapes), so the rest is masked as some other number: the page
// shows digits the type's mask hides (the 4th and 5th of a mobile; the
// birth year's "194" of a resident ID). Before 0fc423f: \138****5678.
func TestOctalEscapeNarrowsFindingInPageText(t *testing.T) {
	for _, c := range []struct{ in, hidden string }{
		{`<p>D:\exports\13812345678.csv</p>`, "13812"},          // policy: 138****5678
		{`<p>D:\scans\11010519491231002X.jpg</p>`, "110105194"}, // policy: 110105********002X
	} {
		if out := textView(t, c.in); strings.Contains(out, c.hidden) {
			t.Errorf("%s\n  gives %s (%s shows; the type's mask hides it)", c.in, out, c.hidden)
		}
	}
}

// JavaScript escapes 0fc423f still does not read: \8 and \9 (sloppy mode's
// NonOctalDecimalEscapeSequence, read as 8 and 9), identity escapes of
// letters (\a is a, except b f n r t u v x), and a line continuation by
// U+2028/U+2029 (LineTerminatorSequence). Each value passes.
func TestJSEscapesStillUnread(t *testing.T) {
	for _, c := range []struct{ in, shown string }{
		{`<script>var m = "13\812345678";</script>`, "13812345678"},
		{`<script>var m = "1381234567\8";</script>`, "13812345678"},
		{`<script>var m = "zhang@ex\ample.com";</script>`, "zhang@example.com"},
		{`<script>var m = "zhang@example.c\om";</script>`, "zhang@example.com"},
		{"<script>var m = \"1381234\\\u20285678\";</script>", "13812345678"},
		{"<script>var m = \"1381234\\\u20295678\";</script>", "13812345678"},
	} {
		if len(detectors.Default.Scan(c.shown, nil)) == 0 {
			t.Fatalf("the detectors find nothing in %q", c.shown)
		}
		if out := textView(t, c.in); out == c.in {
			t.Errorf("%s passes unchanged (a browser reads %s)", c.in, c.shown)
		}
	}
}

// HTML named references a browser decodes to a character the detectors
// read, which namedRefs lacks: &nbsp without ';' (a legacy name, decoded
// in text all the same), &NonBreakingSpace; (U+00A0), &ZeroWidthSpace;
// (U+200B), &horbar; (U+2015), and &UnderBar; ('_', the local part's
// first half shows).
func TestHTMLNamedReferencesStillUnread(t *testing.T) {
	for _, c := range []struct{ in, shown, leak string }{
		{`<p>138&nbsp1234&nbsp5678</p>`, "138\u00a01234\u00a05678", "1234"},
		{`<p>138&NonBreakingSpace;1234&NonBreakingSpace;5678</p>`, "138\u00a01234\u00a05678", "1234"},
		{`<p>138&ZeroWidthSpace;1234&ZeroWidthSpace;5678</p>`, "138\u200b1234\u200b5678", "1234"},
		{`<p>138&horbar;1234&horbar;5678</p>`, "138\u20151234\u20155678", "1234"},
		{`<p>zhang&UnderBar;san@example.com</p>`, "zhang_san@example.com", "zhang"},
	} {
		if len(detectors.Default.Scan(c.shown, nil)) == 0 {
			t.Fatalf("the detectors find nothing in %q", c.shown)
		}
		if out := textView(t, c.in); strings.Contains(out, c.leak) {
			t.Errorf("%s\n  gives %s (a browser shows %s)", c.in, out, c.shown)
		}
	}
}

// gluedOn (0fc423f) keeps a hyphenated label whole unless five digits
// follow its '-'; but when that label is the top-level domain's
// (example.com-office), the detector then finds no top-level domain and
// drops the whole address. Before 0fc423f each ended at .com and was
// masked; now each passes.
func TestEmailHyphenAfterTLDDropsAddress(t *testing.T) {
	for _, in := range []string{
		"zhang@example.com-office",
		"li@qq.com-2024-05-01",
		"zhang@example.com-2024",
		"wang@163.com-138-1234-5678",
	} {
		found := false
		for _, f := range detectors.Default.Scan(in, nil) {
			found = found || f.Type == detectors.Email
		}
		if !found {
			t.Errorf("detectors find no e-mail in %q", in)
		}
		if out := textView(t, "<p>"+in+"</p>"); strings.Contains(out, in[:strings.IndexByte(in, '@')]) {
			t.Errorf("<p>%s</p>\n  gives %s", in, out)
		}
	}
}
