package session

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func TestCodecRoundTripAndRotation(t *testing.T) {
	old, _ := NewCodec([][]byte{testKey(1)})
	rotated, _ := NewCodec([][]byte{testKey(2), testKey(1)})
	v := old.Seal("p", []byte("hello"))
	// A cookie sealed before the rotation still opens after it…
	if got, err := rotated.Open("p", v); err != nil || string(got) != "hello" {
		t.Fatalf("old cookie after rotation: %q, %v", got, err)
	}
	// …and new cookies are sealed under the new key, which the old list
	// (a replica not yet updated) cannot open.
	if _, err := old.Open("p", rotated.Seal("p", []byte("x"))); !errors.Is(err, ErrInvalidCookie) {
		t.Fatalf("new-key cookie opened without the new key: %v", err)
	}
	retired, _ := NewCodec([][]byte{testKey(2)})
	if _, err := retired.Open("p", v); !errors.Is(err, ErrInvalidCookie) {
		t.Fatalf("cookie of a retired key still opens: %v", err)
	}
}

func TestCodecRejectsTamperingForeignKeysAndOtherPurposes(t *testing.T) {
	c, _ := NewCodec([][]byte{testKey(1)})
	foreign, _ := NewCodec([][]byte{testKey(9)})
	v := c.Seal("session", []byte(`{"id":"alice"}`))
	flip := []byte(v)
	flip[len(flip)/2] ^= 1
	cases := map[string]string{
		"bit flipped":     string(flip),
		"truncated":       v[:len(v)-4],
		"empty":           "",
		"not base64":      "!!!",
		"foreign key":     foreign.Seal("session", []byte(`{"id":"alice"}`)),
		"another purpose": c.Seal("flow", []byte(`{"id":"alice"}`)),
	}
	for name, val := range cases {
		if _, err := c.Open("session", val); !errors.Is(err, ErrInvalidCookie) {
			t.Errorf("%s: opened (err %v)", name, err)
		}
	}
}

func TestParseKey(t *testing.T) {
	if k, err := ParseKey("  AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n"); err != nil || !bytes.Equal(k, testKey(1)) {
		t.Fatalf("ParseKey: %x, %v", k, err)
	}
	for _, bad := range []string{"", "short", "AQEB", strings.Repeat("A", 100)} {
		if _, err := ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) accepted", bad)
		}
	}
	if _, err := NewCodec([][]byte{testKey(1), testKey(1)}); err == nil {
		t.Error("a repeated key was accepted")
	}
}

func TestSafeReturn(t *testing.T) {
	good := map[string]string{
		"/":                    "/",
		"/customers/42":        "/customers/42",
		"/search?q=a%2Fb&x=1":  "/search?q=a%2Fb&x=1",
		"/a#frag":              "/a",
		"/%E5%BC%A0":           "/%E5%BC%A0",
		"/next?to=//evil.test": "/next?to=//evil.test",
	}
	for in, want := range good {
		if got, ok := SafeReturn(in); !ok || got != want {
			t.Errorf("SafeReturn(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	bad := []string{
		"", "//evil.test", "///evil.test", `/\evil.test`, `\\evil.test`, "https://evil.test",
		"http:evil.test", "javascript:alert(1)", "evil.test", "/%2F%2Fevil.test", "/%2fevil.test",
		"%2F%2Fevil.test", "/%5Cevil.test", "/%5cevil.test", "/\t/evil.test", "/%09/evil.test",
		"/\n/evil.test", "/ /evil.test", "/%zz", "/a\\b", strings.Repeat("/a", 600),
	}
	for _, in := range bad {
		if got, ok := SafeReturn(in); ok {
			t.Errorf("SafeReturn(%q) accepted as %q", in, got)
		}
	}
}

func TestClaimsValuesAndRoleMap(t *testing.T) {
	c := Claims{
		"groups":                    []any{"cs-online", 7, "cs-other"},
		"realm_access":              map[string]any{"roles": []any{"cs-supervisor"}},
		"https://example.com/roles": "cs-phone",
		"role":                      "cs-online",
		"sub":                       "u1",
	}
	rm, err := NewRoleMap(map[string][]string{
		"online_agent": {"cs-online"},
		"supervisor":   {"cs-supervisor", "cs-leads"},
		"phone_agent":  {"cs-phone"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"groups":                    "online_agent",
		"realm_access.roles":        "supervisor",
		"https://example.com/roles": "phone_agent",
		"role":                      "online_agent",
		"missing":                   "",
		"sub.x":                     "",
	} {
		if got := strings.Join(rm.Map(c.Values(path)), ","); got != want {
			t.Errorf("roles from %q = %q, want %q", path, got, want)
		}
	}
	id, err := ClaimMapping{Roles: "groups", RoleMap: rm}.Identity(c)
	if err != nil || id.ID != "u1" || strings.Join(id.Roles, ",") != "online_agent" {
		t.Fatalf("Identity = %+v, %v", id, err)
	}
	if _, err := (ClaimMapping{}).Identity(Claims{"sub": []any{"a", "b"}}); err == nil {
		t.Error("a token without a single user id was accepted")
	}
	for _, bad := range []map[string][]string{{"Online": {"x"}}, {"a,b": {"x"}}, {"ok": nil}, {"ok": {""}}} {
		if _, err := NewRoleMap(bad); err == nil {
			t.Errorf("NewRoleMap(%v) accepted", bad)
		}
	}
}

func TestSessionLifetimeIdleAndSize(t *testing.T) {
	p := Policy{Lifetime: 8 * time.Hour, IdleTimeout: 30 * time.Minute}
	t0 := time.Unix(1_800_000_000, 0)
	s := &Session{Identity: Identity{ID: "a"}, Login: t0.Unix(), Seen: t0.Unix()}
	if err := s.Check(t0.Add(29*time.Minute), p); err != nil {
		t.Fatalf("fresh session: %v", err)
	}
	if err := s.Check(t0.Add(31*time.Minute), p); !errors.Is(err, ErrSessionIdle) {
		t.Fatalf("idle session: %v", err)
	}
	s.Seen = t0.Add(8*time.Hour - time.Minute).Unix()
	if err := s.Check(t0.Add(8*time.Hour), p); !errors.Is(err, ErrSessionExpired) {
		t.Fatalf("session past its lifetime despite activity: %v", err)
	}
	if err := s.Check(t0.Add(-2*time.Minute), p); !errors.Is(err, ErrSessionFuture) {
		t.Fatalf("session from the future: %v", err)
	}

	c, _ := NewCodec([][]byte{testKey(1)})
	big := &Session{Identity: Identity{ID: "a"}, IDToken: strings.Repeat("x", 3500)}
	v, err := big.Seal(c, "s")
	if err != nil {
		t.Fatal(err)
	}
	back, err := Open(c, "s", v)
	if err != nil || back.IDToken != "" || back.ID != "a" {
		t.Fatalf("oversized ID token not dropped: %+v, %v", back, err)
	}
	huge := &Session{Identity: Identity{ID: "a", Roles: []string{strings.Repeat("r", 4000)}}}
	if _, err := huge.Seal(c, "s"); err == nil {
		t.Fatal("a session too large for a cookie was sealed")
	}
}

func TestFlowStateAndReplay(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	f := NewFlow(now, "/x")
	if err := f.Check(now, f.State); err != nil {
		t.Fatal(err)
	}
	if err := f.Check(now, f.State+"x"); !errors.Is(err, ErrStateMismatch) {
		t.Fatalf("wrong state: %v", err)
	}
	if err := f.Check(now.Add(FlowTTL+time.Second), f.State); !errors.Is(err, ErrFlowExpired) {
		t.Fatalf("expired flow: %v", err)
	}
	var u UsedStates
	if !u.Use(f.State, now) || u.Use(f.State, now.Add(time.Minute)) {
		t.Fatal("a state was usable twice")
	}
}

func FuzzSessionDecode(f *testing.F) {
	s := &Session{Identity: Identity{ID: "a", Name: "张三", Roles: []string{"online_agent", "supervisor"}}, Login: 1, Seen: 2, TokenExpiry: 3, RefreshToken: "rt", IDToken: "idt"}
	f.Add(s.marshal())
	f.Add([]byte{sessionFormat})
	f.Fuzz(func(t *testing.T, b []byte) {
		var got Session
		if err := got.unmarshal(b); err != nil {
			return
		}
		// Whatever decodes must survive a round trip unchanged.
		var back Session
		if err := back.unmarshal(got.marshal()); err != nil || !reflect.DeepEqual(back, got) {
			t.Fatalf("round trip of %x: %+v became %+v (%v)", b, got, back, err)
		}
	})
}
