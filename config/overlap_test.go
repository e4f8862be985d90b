package config

import "testing"

func TestPathsOverlap(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"contact.*", "contact.name", true},
		{"contact", "contact.name", true}, // a container types everything in it
		{"data.#.mobile", "data.0.mobile", true},
		{"data.#.mobile", "data.#.email", false},
		{"data.1.mobile", "data.2.mobile", false},
		{"cust*.na?e", "customer.name", true},
		{"a*", "*b", true},
		{"a*", "b*", false},
		{"*x", "*y", false},
		{"a\\.b", "a.b", false},
		{"a\\*", "ab", false},
		{"a\\*", "a*", true},
		{"list.#.x", "list.#.x", true},
		{"x.y", "z", false},
	} {
		pa, err := ParsePath(c.a)
		if err != nil {
			t.Fatal(err)
		}
		pb, err := ParsePath(c.b)
		if err != nil {
			t.Fatal(err)
		}
		if got := PathsOverlap(pa, pb); got != c.want || PathsOverlap(pb, pa) != c.want {
			t.Errorf("PathsOverlap(%q, %q) = %v, want %v (both ways)", c.a, c.b, got, c.want)
		}
	}
	if _, err := CompileRoute(Route{Fields: []Field{{Path: "contact.*", Type: "email"}, {Path: "contact.name", Type: "person_name"}}}); err == nil {
		t.Error("overlapping field rules of different types accepted")
	}
	if _, err := CompileRoute(Route{Fields: []Field{{Path: "contact.*", Type: "email"}, {Path: "contact.mail", Type: "email"},
		{Path: "contact.note", Type: FieldScan}}}); err != nil {
		t.Errorf("overlapping rules of one type, or scan: %v", err)
	}
}
