package main

import (
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"io/fs"
	"log"
	"net/http"
	"strconv"
)

//go:embed ui
var ui embed.FS

var (
	pages = template.Must(template.ParseFS(ui, "ui/*.html"))
	// assets are served under /static/ from ui/static ("ui" is a valid
	// path, so fs.Sub cannot fail).
	assets, _ = fs.Sub(ui, "ui")
)

// maxBody bounds what PUT reads: a customer record is a few KB.
const maxBody = 1 << 20

// helpdesk serves the API and the UI.
type helpdesk struct {
	store      *store
	userHeader string
}

// newHelpdesk returns the helpdesk's handler. userHeader names the request
// header in which the sign-on gateway in front names the agent; the pages
// show it.
func newHelpdesk(s *store, userHeader string) http.Handler {
	h := &helpdesk{store: s, userHeader: userHeader}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/customers", h.listCustomers)
	mux.HandleFunc("GET /api/customers/{id}", h.getCustomer)
	mux.HandleFunc("PUT /api/customers/{id}", h.putCustomer)
	mux.HandleFunc("GET /api/tickets", h.listTickets)
	// API clients get the JSON envelope even for a path the API lacks.
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API")
	})
	mux.HandleFunc("GET /{$}", h.page("index.html", "客户列表 Customers"))
	mux.HandleFunc("GET /customers/{id}", h.page("customer.html", "客户资料 Customer"))
	mux.Handle("GET /static/", http.FileServerFS(assets))
	return mux
}

// envelope is the legacy API's answer: code 0 and the data, or an error
// code (the HTTP status) and a message.
type envelope struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	Data     any    `json:"data,omitempty"`
	Page     int    `json:"page,omitempty"`
	PageSize int    `json:"pageSize,omitempty"`
	Total    *int   `json:"total,omitempty"`
}

func reply(w http.ResponseWriter, status int, e envelope) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(e); err != nil {
		log.Printf("helpdesk: writing a response: %v", err)
	}
}

func writeOK(w http.ResponseWriter, e envelope) {
	e.Message = "ok"
	reply(w, http.StatusOK, e)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	reply(w, status, envelope{Code: status, Message: msg})
}

// intParam reads a whole-number query parameter ≥ lo, or def when it is
// absent.
func intParam(r *http.Request, name string, def, lo int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo {
		return 0, errors.New(name + " must be a whole number ≥ " + strconv.Itoa(lo))
	}
	return n, nil
}

func (h *helpdesk) listCustomers(w http.ResponseWriter, r *http.Request) {
	page, err := intParam(r, "page", 1, 1)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	size, err := intParam(r, "pageSize", 20, 1)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	size = min(size, 100)
	list, total := h.store.search(r.URL.Query().Get("q"), (page-1)*size, size)
	writeOK(w, envelope{Data: list, Page: page, PageSize: size, Total: &total})
}

// pathCustomer returns the customer the path's {id} names.
func (h *helpdesk) pathCustomer(r *http.Request) (Customer, bool) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil {
		return Customer{}, false
	}
	return h.store.customer(id)
}

func (h *helpdesk) getCustomer(w http.ResponseWriter, r *http.Request) {
	c, found := h.pathCustomer(r)
	if !found {
		writeError(w, http.StatusNotFound, "customer not found")
		return
	}
	writeOK(w, envelope{Data: c})
}

// putCustomer stores the record sent as it is: the legacy app trusts its
// clients and never checks what it is given beyond the JSON syntax.
func (h *helpdesk) putCustomer(w http.ResponseWriter, r *http.Request) {
	old, found := h.pathCustomer(r)
	if !found {
		writeError(w, http.StatusNotFound, "customer not found")
		return
	}
	var c Customer
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	if err := dec.Decode(&c); err != nil {
		writeError(w, http.StatusBadRequest, "invalid customer JSON: "+err.Error())
		return
	}
	c.ID = old.ID
	h.store.replace(c)
	writeOK(w, envelope{Data: c})
}

func (h *helpdesk) listTickets(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.URL.Query().Get("customer"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "customer must be a customer id")
		return
	}
	t, found := h.store.ticketsOf(id)
	if !found {
		writeError(w, http.StatusNotFound, "customer not found")
		return
	}
	writeOK(w, envelope{Data: t})
}

// page serves an HTML page. Pages carry no customer data: their script
// loads it from the API.
func (h *helpdesk) page(name, title string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		data := struct {
			Title, Agent string
			ID           int
		}{Title: title, Agent: r.Header.Get(h.userHeader)}
		if r.PathValue("id") != "" {
			c, found := h.pathCustomer(r)
			if !found {
				http.Error(w, "customer not found", http.StatusNotFound)
				return
			}
			data.ID = c.ID
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := pages.ExecuteTemplate(w, name, data); err != nil {
			log.Printf("helpdesk: page %s: %v", name, err)
		}
	}
}
