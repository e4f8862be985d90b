package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/piigate/piigate/detectors/detectorstest"
)

// Customer is a customer record as the helpdesk stores and serves it.
type Customer = detectorstest.Customer

// Ticket is a support ticket: a conversation between a customer and the
// agents, in free text that carries whatever personal data was typed.
type Ticket struct {
	ID         int    `json:"id"`
	CustomerID int    `json:"customerId"`
	Channel    string `json:"channel"`
	Status     string `json:"status"`
	CreatedAt  string `json:"createdAt"`
	Content    string `json:"content"`
}

var ticketStatuses = []string{"open", "pending", "resolved", "closed"}

// store holds the helpdesk's data in memory.
type store struct {
	mu        sync.RWMutex
	customers []Customer // by ascending id
	tickets   map[int][]Ticket
}

// newStore generates n customers and their tickets from seed: the same
// seed gives the same data.
func newStore(seed int64, n int) *store {
	s := &store{customers: detectorstest.Customers(seed, n), tickets: map[int][]Ticket{}}
	for _, c := range s.customers {
		s.tickets[c.ID] = ticketsFor(seed, c)
	}
	return s
}

// ticketsFor returns one to three tickets of customer c. The first one
// records a call back to the customer's own mobile, as agents' notes do.
func ticketsFor(seed int64, c Customer) []Ticket {
	text := detectorstest.Tickets(seed*100003+int64(c.ID), 200+c.ID%3*250)
	var out []Ticket
	for _, block := range strings.Split(strings.TrimSpace(text), "\n\n") {
		header, content, _ := strings.Cut(block, "\n")
		t := parseTicketHeader(header)
		t.CustomerID = c.ID
		t.Status = ticketStatuses[t.ID%len(ticketStatuses)]
		t.Content = content
		if len(out) == 0 {
			t.Content += fmt.Sprintf("\n客服：已按登记号码%s回电，客户确认问题已解决。", c.Mobile)
		}
		out = append(out, t)
	}
	return out
}

// parseTicketHeader reads the header line detectorstest writes for a
// ticket: "工单 #1234567 | 2024-05-01 10:00:00 | 渠道：电话".
func parseTicketHeader(line string) Ticket {
	var t Ticket
	parts := strings.Split(line, " | ")
	if len(parts) != 3 {
		return t
	}
	t.ID, _ = strconv.Atoi(strings.TrimPrefix(parts[0], "工单 #"))
	t.CreatedAt = parts[1]
	t.Channel = strings.TrimPrefix(parts[2], "渠道：")
	return t
}

// customer returns the customer with id.
func (s *store) customer(id int) (Customer, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, ok := s.index(id)
	if !ok {
		return Customer{}, false
	}
	return s.customers[i], true
}

func (s *store) index(id int) (int, bool) {
	return slices.BinarySearchFunc(s.customers, id, func(c Customer, id int) int { return c.ID - id })
}

// search returns the customers whose id, name, phone numbers, e-mail or ID
// card contain q (all when q is empty), at most size of them from offset,
// and how many matched in all.
func (s *store) search(q string, offset, size int) ([]Customer, int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var hits []Customer
	for _, c := range s.customers {
		if q == "" || strings.Contains(strconv.Itoa(c.ID), q) || strings.Contains(c.Name, q) ||
			strings.Contains(c.Mobile, q) || strings.Contains(c.Phone, q) ||
			strings.Contains(c.Email, q) || strings.Contains(c.IDCard, q) {
			hits = append(hits, c)
		}
	}
	total := len(hits)
	offset = min(offset, total)
	return hits[offset:min(offset+size, total)], total
}

// replace stores c in place of the customer with c's id, if there is one.
func (s *store) replace(c Customer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.index(c.ID); ok {
		s.customers[i] = c
	}
}

// ticketsOf returns the tickets of the customer with id.
func (s *store) ticketsOf(id int) ([]Ticket, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.tickets[id]
	return t, ok
}
