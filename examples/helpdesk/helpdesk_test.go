package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/piigate/piigate/detectors/detectorstest"
)

func newTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(newHelpdesk(newStore(7, 30), "X-Remote-User"))
	t.Cleanup(s.Close)
	return s
}

// call makes a request and decodes the envelope's data into data.
func call(t *testing.T, method, url, body string, data any) (int, envelope) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s %s: Content-Type %q", method, url, ct)
	}
	var raw struct {
		envelope
		Data json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	if data != nil && raw.Data != nil {
		if err := json.Unmarshal(raw.Data, data); err != nil {
			t.Fatalf("%s %s: data: %v", method, url, err)
		}
	}
	return resp.StatusCode, raw.envelope
}

func TestCustomersAreTheSeededFakes(t *testing.T) {
	s := newTestServer(t)
	want := detectorstest.Customers(7, 30)

	var got Customer
	if status, e := call(t, "GET", s.URL+"/api/customers/10002", "", &got); status != 200 || e.Code != 0 || e.Message != "ok" {
		t.Fatalf("GET customer: %d %+v", status, e)
	}
	if !reflect.DeepEqual(got, withoutSpans(want[1])) {
		t.Errorf("customer 10002:\n got %+v\nwant %+v", got, want[1])
	}
	for _, v := range []string{got.Mobile, got.IDCard, got.BankCard, got.Email} {
		if v == "" {
			t.Errorf("customer 10002 lacks a value of personal data: %+v", got)
		}
	}

	var other Customer
	s2 := httptest.NewServer(newHelpdesk(newStore(8, 30), "X-Remote-User"))
	defer s2.Close()
	call(t, "GET", s2.URL+"/api/customers/10002", "", &other)
	if other.Mobile == got.Mobile && other.IDCard == got.IDCard {
		t.Errorf("seeds 7 and 8 gave the same customer %+v", other)
	}
}

func withoutSpans(c Customer) Customer {
	c.NoteSpans = nil
	return c
}

func TestListPagesAndSearch(t *testing.T) {
	s := newTestServer(t)
	var page []Customer
	status, e := call(t, "GET", s.URL+"/api/customers?page=2&pageSize=12", "", &page)
	if status != 200 || e.Total == nil || *e.Total != 30 || e.Page != 2 || e.PageSize != 12 {
		t.Fatalf("page 2: %d %+v", status, e)
	}
	if len(page) != 12 || page[0].ID != 10013 || page[11].ID != 10024 {
		t.Fatalf("page 2 holds %d customers from %d", len(page), page[0].ID)
	}
	call(t, "GET", s.URL+"/api/customers?page=3&pageSize=12", "", &page)
	if len(page) != 6 {
		t.Fatalf("last page holds %d customers, want 6", len(page))
	}

	target := detectorstest.Customers(7, 30)[20]
	for _, q := range []string{target.Mobile, target.IDCard, target.Email, target.Name} {
		call(t, "GET", s.URL+"/api/customers?q="+url.QueryEscape(q), "", &page)
		if !slices.ContainsFunc(page, func(c Customer) bool { return c.ID == target.ID }) {
			t.Errorf("search %q did not find customer %d", q, target.ID)
		}
	}
	status, e = call(t, "GET", s.URL+"/api/customers?q=no-such-customer", "", &page)
	if status != 200 || *e.Total != 0 || len(page) != 0 {
		t.Errorf("search without hits: %d %+v %v", status, e, page)
	}

	for _, bad := range []string{"page=0", "pageSize=x", "page=-1"} {
		if status, e := call(t, "GET", s.URL+"/api/customers?"+bad, "", nil); status != 400 || e.Code != 400 {
			t.Errorf("%s: %d %+v", bad, status, e)
		}
	}
}

func TestTickets(t *testing.T) {
	s := newTestServer(t)
	c := detectorstest.Customers(7, 30)[4]
	var tickets []Ticket
	if status, e := call(t, "GET", s.URL+"/api/tickets?customer=10005", "", &tickets); status != 200 || e.Code != 0 {
		t.Fatalf("tickets: %d %+v", status, e)
	}
	if len(tickets) == 0 {
		t.Fatal("customer 10005 has no tickets")
	}
	for _, tk := range tickets {
		if tk.ID == 0 || tk.CustomerID != c.ID || tk.Channel == "" || tk.CreatedAt == "" || tk.Status == "" || tk.Content == "" {
			t.Errorf("incomplete ticket %+v", tk)
		}
	}
	if !strings.Contains(tickets[0].Content, c.Mobile) {
		t.Errorf("the first ticket does not mention the customer's mobile %s: %q", c.Mobile, tickets[0].Content)
	}

	if status, _ := call(t, "GET", s.URL+"/api/tickets?customer=1", "", nil); status != 404 {
		t.Errorf("tickets of an unknown customer: %d", status)
	}
	if status, _ := call(t, "GET", s.URL+"/api/tickets", "", nil); status != 400 {
		t.Errorf("tickets without a customer: %d", status)
	}
}

// TestPutStoresWhatItIsSent: the legacy app stores what it receives,
// masked values included; keeping those out is the gateway's job.
func TestPutStoresWhatItIsSent(t *testing.T) {
	s := newTestServer(t)
	var c Customer
	call(t, "GET", s.URL+"/api/customers/10003", "", &c)
	c.Mobile = "138****5678"
	c.Note = "客户改了手机号"
	c.ID = 99 // the path decides which record is replaced
	b, _ := json.Marshal(c)

	var saved Customer
	if status, e := call(t, "PUT", s.URL+"/api/customers/10003", string(b), &saved); status != 200 || e.Code != 0 || saved.ID != 10003 {
		t.Fatalf("PUT: %d %+v %+v", status, e, saved)
	}
	var again Customer
	call(t, "GET", s.URL+"/api/customers/10003", "", &again)
	c.ID = 10003
	if !reflect.DeepEqual(again, c) {
		t.Errorf("after PUT:\n got %+v\nwant %+v", again, c)
	}

	if status, e := call(t, "PUT", s.URL+"/api/customers/10003", `{"mobile":`, nil); status != 400 || e.Code != 400 {
		t.Errorf("PUT with broken JSON: %d %+v", status, e)
	}
	if status, _ := call(t, "PUT", s.URL+"/api/customers/1", string(b), nil); status != 404 {
		t.Errorf("PUT to an unknown customer: %d", status)
	}
	if status, _ := call(t, "GET", s.URL+"/api/customers/abc", "", nil); status != 404 {
		t.Errorf("GET customer abc: %d", status)
	}
	if status, e := call(t, "DELETE", s.URL+"/api/customers/10003", "", nil); status != 404 || e.Code != 404 {
		t.Errorf("DELETE, which the API does not have: %d %+v", status, e)
	}
}

func TestPages(t *testing.T) {
	s := newTestServer(t)
	get := func(path, agent string) (int, string) {
		req, _ := http.NewRequest("GET", s.URL+path, nil)
		if agent != "" {
			req.Header.Set("X-Remote-User", agent)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	status, body := get("/customers/10004", "<agent>")
	if status != 200 || !strings.Contains(body, `data-id="10004"`) || !strings.Contains(body, "&lt;agent&gt;") {
		t.Fatalf("customer page: %d\n%s", status, body)
	}
	c := detectorstest.Customers(7, 30)[3]
	if strings.Contains(body, c.Mobile) || strings.Contains(body, c.Name) {
		t.Errorf("the customer page's HTML carries customer data; it must come from the API")
	}
	if _, body := get("/", ""); strings.Contains(body, "Sign out") {
		t.Errorf("the list page offers to sign out without a gateway in front")
	}
	if status, _ := get("/customers/77", ""); status != 404 {
		t.Errorf("page of an unknown customer: %d", status)
	}
	if status, body := get("/static/helpdesk.js", ""); status != 200 || !strings.Contains(body, "/api/customers/") {
		t.Errorf("script: %d", status)
	}
}
