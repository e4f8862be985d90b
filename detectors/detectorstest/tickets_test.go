package detectorstest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestTicketsAreSparselyLabelled(t *testing.T) {
	const size = 256 << 10
	c := LabelledTickets(1, size)
	if len(c.Text) < size || len(c.Text) > size+2000 {
		t.Fatalf("LabelledTickets(1, %d) is %d bytes", size, len(c.Text))
	}
	if Tickets(1, size) != c.Text {
		t.Fatal("Tickets is not the text of LabelledTickets")
	}
	perKB := float64(len(c.Spans)) / float64(len(c.Text)) * 1024
	if perKB < 1 || perKB > 6 {
		t.Errorf("%.1f values of personal data a KB, want a few (1–6)", perKB)
	}
	types := map[string]bool{}
	for _, s := range c.Spans {
		types[s.Type] = true
	}
	if len(types) < 10 {
		t.Errorf("tickets hold %d entity types, want most of them", len(types))
	}
	// Check ticket by ticket so a failure names a small text.
	off := 0
	for _, tk := range strings.SplitAfter(c.Text, "\n\n") {
		var spans []Span
		for _, s := range c.Spans {
			if s.Start >= off && s.End <= off+len(tk) {
				spans = append(spans, Span{s.Type, s.Start - off, s.End - off})
			}
		}
		checkCase(t, fmt.Sprintf("ticket at byte %d", off), Case{Text: tk, Spans: spans})
		off += len(tk)
	}
	for _, want := range []string{"工单 #", "https://", "Agent:", "status=", "¥"} {
		if !strings.Contains(c.Text, want) {
			t.Errorf("tickets lack %q", want)
		}
	}
}

func TestCleanTicketsHaveNoPII(t *testing.T) {
	const size = 256 << 10
	s := CleanTickets(2, size)
	if len(s) < size || len(s) > size+2000 {
		t.Fatalf("CleanTickets(2, %d) is %d bytes", size, len(s))
	}
	for _, tk := range strings.SplitAfter(s, "\n\n") {
		if hits := oracle(tk); hits != nil {
			t.Fatalf("clean ticket holds %s:\n%s", show(tk, hits), tk)
		}
		if strings.Contains(tk, "您好，问题已处理") {
			t.Fatalf("clean ticket addresses a customer by name:\n%s", tk)
		}
	}
	clean1, clean2 := CleanTickets(2, 4096), CleanTickets(2, 4096)
	pii1, pii2 := Tickets(3, 4096), Tickets(3, 4096)
	if clean1 != clean2 || pii1 != pii2 {
		t.Fatal("tickets are not deterministic")
	}
}

func TestHelpdeskJSON(t *testing.T) {
	for _, size := range []int{1024, 8 << 10, 64 << 10} {
		b := HelpdeskJSON(4, size)
		var page struct {
			Code int        `json:"code"`
			Data []Customer `json:"data"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			t.Fatalf("HelpdeskJSON(4, %d): %v", size, err)
		}
		if len(page.Data) == 0 || len(b) > size && len(page.Data) > 1 || len(b) < size-3000 {
			t.Fatalf("HelpdeskJSON(4, %d) is %d bytes with %d records", size, len(b), len(page.Data))
		}
		for _, c := range page.Data {
			checkCustomer(t, c)
		}
	}
	if a, b := HelpdeskJSON(5, 8192), HelpdeskJSON(5, 8192); string(a) != string(b) {
		t.Fatal("HelpdeskJSON is not deterministic")
	}
	cs := Customers(6, 30)
	for _, c := range cs {
		checkCustomer(t, c)
		checkCase(t, fmt.Sprintf("note of customer %d", c.ID), Case{Text: c.Note, Spans: c.NoteSpans})
		if len(c.NoteSpans) == 0 {
			t.Errorf("note of customer %d has no personal data: %q", c.ID, c.Note)
		}
	}
}

// checkCustomer checks that a record's fields are valid and agree: birthday
// and sex from the resident ID, region of address and landline.
func checkCustomer(t *testing.T, c Customer) {
	t.Helper()
	ok := ValidMobile(c.Mobile) && ValidResidentID(c.IDCard) && ValidEmail(c.Email) &&
		ValidBankCard(c.BankCard) && Valid("cn_landline", c.Phone) && (c.Plate == "" || ValidPlate(c.Plate))
	if !ok {
		t.Fatalf("customer %d has an invalid value: %+v", c.ID, c)
	}
	if strings.ReplaceAll(c.Birthday, "-", "") != c.IDCard[6:14] {
		t.Errorf("customer %d: birthday %s, ID %s", c.ID, c.Birthday, c.IDCard)
	}
	if female := (c.IDCard[16]-'0')%2 == 0; female != (c.Gender == "F") {
		t.Errorf("customer %d: gender %s, ID %s", c.ID, c.Gender, c.IDCard)
	}
	for _, r := range regions {
		if r.code == c.IDCard[:6] {
			if !strings.HasPrefix(c.Address, r.province+r.city+r.district) || !strings.HasPrefix(c.Phone, r.area+"-") {
				t.Errorf("customer %d: ID region %s, address %s, phone %s", c.ID, r.code, c.Address, c.Phone)
			}
			return
		}
	}
	t.Errorf("customer %d: ID %s has no region of the table", c.ID, c.IDCard)
}
