package e2e

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/piigate/piigate/detectors/detectorstest"
	"github.com/piigate/piigate/test/idp"
)

// helpdeskSeed seeds the sample helpdesk; the tests generate the same
// customers to know the real values behind what the browser shows.
const helpdeskSeed = 1

// startHelpdesk runs the sample legacy helpdesk (examples/helpdesk) and
// returns its address.
func startHelpdesk(t *testing.T) string {
	t.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	start(t, "helpdesk", nil, helpdeskBin, "-listen", addr, "-seed", strconv.Itoa(helpdeskSeed))
	waitHTTP(t, "http://"+addr+"/api/customers?pageSize=1", 200)
	return addr
}

// startExampleGateway runs the repository's Caddyfile.example, unchanged,
// in front of the helpdesk at upstream: the deployment values come from
// the environment, as the file intends.
func startExampleGateway(t *testing.T, h *hydra, c idp.Client, port int, upstream string) *gateway {
	t.Helper()
	return runGateway(t, "gateway", port, filepath.Join(repoRoot, "Caddyfile.example"),
		"HELPDESK_ORIGIN="+origin(port),
		"GATEWAY_BIND=127.0.0.1",
		"OIDC_ISSUER="+h.Issuer,
		"OIDC_CLIENT_ID="+c.ID,
		"OIDC_CLIENT_SECRET="+c.Secret,
		"HELPDESK_UPSTREAM="+upstream,
		"PII_SESSION_KEY="+sessionKey,
		"PII_HASH_KEY=aGFzaC1rZXktZm9yLWUyZS10ZXN0cy0wMDAwMDAwMDA=",
		"CADDY_ADMIN=127.0.0.1:"+strconv.Itoa(freePort(t)),
	)
}

// helpdeskPage waits until the helpdesk page on screen has loaded its data
// and returns the text of every element with an id, by id, and under
// "html" the whole document as rendered.
func (b *browser) helpdeskPage() map[string]string {
	b.t.Helper()
	b.run("load the helpdesk page", chromedp.WaitVisible(chromedp.CSS(`main[aria-busy="false"]`)))
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`(() => {
		const v = {html: document.documentElement.outerHTML};
		for (const el of document.querySelectorAll("[id]")) v[el.id] = el.textContent;
		return v;
	})()`))
	if err != nil {
		b.t.Fatalf("reading the helpdesk page: %v", err)
	}
	return v
}

// expectShown checks the elements of a page against want, by id.
func expectShown(t *testing.T, who string, page, want map[string]string) {
	t.Helper()
	for id, w := range want {
		if got := page[id]; got != w {
			t.Errorf("%s sees #%s = %q, want %q", who, id, got, w)
		}
	}
}

// expectAbsent checks that none of values is anywhere in the page.
func expectAbsent(t *testing.T, who string, page map[string]string, values ...string) {
	t.Helper()
	for _, v := range values {
		if v != "" && strings.Contains(page["html"], v) {
			t.Errorf("%s's page contains the real value %q", who, v)
		}
	}
}

// mask is the policy's default mask: first and last characters kept.
func mask(s string, first, last int) string {
	r := []rune(s)
	return string(r[:first]) + strings.Repeat("*", len(r)-first-last) + string(r[len(r)-last:])
}

// TestBrowserLoginRolesAndLogout: agents sign in through Hydra in Chromium
// and open the same customer page of the real sample helpdesk behind
// Caddyfile.example. The online agent, the phone agent and the supervisor
// each see the record as their role allows, and an agent without a role
// sees none of it; logout ends the session at the gateway and at the
// provider, so the next visit shows the provider's login form again.
func TestBrowserLoginRolesAndLogout(t *testing.T) {
	needE2E(t)
	h := startHydra(t)
	upstream := startHelpdesk(t)
	port := freePort(t)
	client := h.gatewayClient(t, origin(port))
	g := startExampleGateway(t, h, client, port, upstream)
	b := newBrowser(t)

	c := detectorstest.Customers(helpdeskSeed, 1)[0]
	customerURL := fmt.Sprintf("%s/customers/%d", g.URL, c.ID)
	var noteValues []string
	for _, sp := range c.NoteSpans {
		noteValues = append(noteValues, c.Note[sp.Start:sp.End])
	}
	logOut := func(who string) {
		b.run("log out "+who, chromedp.Navigate(g.URL+"/oauth2/logout"), chromedp.WaitVisible(chromedp.ID("idp-login")))
		if c := b.sessionCookie(g.URL); c != nil {
			t.Fatalf("session cookie survived logout: %+v", c)
		}
	}

	// The online agent: masks, placeholders and a dropped card number, and
	// no real value anywhere in the page, the notes and tickets included
	// (the first ticket records a call to the customer's mobile).
	b.run("open the customer page", chromedp.Navigate(customerURL))
	b.signIn("alice")
	page := b.helpdeskPage()
	expectShown(t, "online agent", page, map[string]string{
		"agent":    "alice",
		"name":     mask(c.Name, 1, 0),
		"mobile":   mask(c.Mobile, 3, 4),
		"idCard":   mask(c.IDCard, 6, 4),
		"bankCard": "—",
		"address":  "[address]",
		"birthday": "[birth_date]",
	})
	if !strings.Contains(page["tickets"], mask(c.Mobile, 3, 4)) {
		t.Errorf("online agent: the tickets do not show the masked mobile %s", mask(c.Mobile, 3, 4))
	}
	expectAbsent(t, "online agent", page, append([]string{c.Name, c.Mobile, c.Phone, c.IDCard, c.BankCard,
		c.Email, c.Address, c.Birthday, c.Plate}, noteValues...)...)
	if c := b.sessionCookie(g.URL); c == nil || !c.HTTPOnly || !c.Secure || c.SameSite != network.CookieSameSiteLax {
		t.Fatalf("session cookie in the browser: %+v", c)
	}
	logOut("alice")

	// The supervisor: back on the home page after login, then the same
	// customer as it is stored, except the card number.
	b.signIn("bob")
	page = b.helpdeskPage()
	if page["agent"] != "bob" || !strings.Contains(page["rows"], c.Name) || !strings.Contains(page["rows"], c.Mobile) {
		t.Errorf("supervisor's customer list: agent %q, rows %q", page["agent"], page["rows"])
	}
	b.run("open the customer page as supervisor", chromedp.Navigate(customerURL))
	page = b.helpdeskPage()
	expectShown(t, "supervisor", page, map[string]string{
		"agent":    "bob",
		"name":     c.Name,
		"mobile":   c.Mobile,
		"phone":    c.Phone,
		"idCard":   c.IDCard,
		"email":    c.Email,
		"address":  c.Address,
		"birthday": c.Birthday,
		"note":     c.Note,
		"bankCard": mask(c.BankCard, 6, 4),
	})
	expectAbsent(t, "supervisor", page, c.BankCard)
	logOut("bob")

	// The phone agent: what a call needs in full, the rest masked.
	b.signIn("carol")
	b.run("open the customer page as phone agent", chromedp.WaitVisible(chromedp.ID("customers")), chromedp.Navigate(customerURL))
	page = b.helpdeskPage()
	expectShown(t, "phone agent", page, map[string]string{
		"agent":    "carol",
		"name":     c.Name,
		"mobile":   c.Mobile,
		"birthday": c.Birthday,
		"idCard":   mask(c.IDCard, 6, 4),
		"bankCard": mask(c.BankCard, 6, 4),
	})
	expectAbsent(t, "phone agent", page, c.IDCard, c.BankCard, c.Email, c.Address)
	logOut("carol")

	// An agent whose groups map to no role is signed in, but the gateway
	// refuses the customer data (unknown_role deny) and the page says so.
	b.signIn("dave")
	b.run("open the customer page as dave", chromedp.WaitVisible(chromedp.ID("customers")), chromedp.Navigate(customerURL))
	page = b.helpdeskPage()
	if page["agent"] != "dave" || !strings.HasPrefix(page["error"], "HTTP 403: ") {
		t.Errorf("agent without a role: agent %q, error %q", page["agent"], page["error"])
	}
	expectAbsent(t, "agent without a role", page, c.Name, c.Mobile, c.IDCard, c.Email)
}
