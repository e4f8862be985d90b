package rewrite

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/piigate/piigate/config"
)

const gone = "\x00gone"

type triple struct{ in, drop, redact string }

// genDoc builds a document and what drop and redact (every type) must make
// of it under scan all, one value at a time.
func genDoc(r *rand.Rand, depth int, top bool) triple {
	if top || depth < 4 && r.IntN(3) == 0 {
		if r.IntN(2) == 0 {
			var in, dr, re []string
			for range r.IntN(4) {
				v := genDoc(r, depth+1, false)
				in, re = append(in, v.in), append(re, v.redact)
				if v.drop != gone {
					dr = append(dr, v.drop)
				}
			}
			return triple{"[" + strings.Join(in, ",") + "]", "[" + strings.Join(dr, ",") + "]", "[" + strings.Join(re, ",") + "]"}
		}
		var in, dr, re []string
		for range r.IntN(4) {
			switch k := []string{"a", "b", "a", "x", "mobile", "13912345678"}[r.IntN(6)]; k {
			case "mobile":
				v := []string{`"hello"`, `"13812345678"`, `"a@b"`}[r.IntN(3)]
				in, re = append(in, `"mobile":`+v), append(re, `"mobile":"[cn_mobile]"`)
			case "13912345678":
				v := genDoc(r, depth+1, false)
				in, re = append(in, `"13912345678":`+v.in), append(re, `"[cn_mobile]":`+v.redact)
			default:
				v := genDoc(r, depth+1, false)
				in, re = append(in, strconv.Quote(k)+":"+v.in), append(re, strconv.Quote(k)+":"+v.redact)
				if v.drop != gone {
					dr = append(dr, strconv.Quote(k)+":"+v.drop)
				}
			}
		}
		return triple{"{" + strings.Join(in, ",") + "}", "{" + strings.Join(dr, ",") + "}", "{" + strings.Join(re, ",") + "}"}
	}
	switch r.IntN(11) {
	case 0:
		return triple{`"13812345678"`, `""`, `"[cn_mobile]"`}
	case 1:
		return triple{`13812345678`, `""`, `"[cn_mobile]"`}
	case 2:
		return triple{`"zhang.san@example.com"`, `""`, `"[email]"`}
	case 3:
		return triple{`"tel 13812345678 ok"`, `"tel  ok"`, `"tel [cn_mobile] ok"`}
	case 4:
		return triple{`"{\"mobile\":\"x\",\"a\":1}"`, `"{\"a\":1}"`, `"{\"mobile\":\"[cn_mobile]\",\"a\":1}"`}
	case 5:
		return triple{`"[\"13812345678\",1]"`, `"[\"\",1]"`, `"[\"[cn_mobile]\",1]"`}
	case 6:
		return triple{`"\u0031\u0033\u0038\u0031\u0032\u0033\u0034\u0035\u0036\u0037\u0038"`, `""`, `"[cn_mobile]"`}
	case 7:
		return triple{`1.3812345678E10`, `""`, `"[cn_mobile]"`}
	case 8:
		// typed by its key inside a container: removed whole
		return triple{`{"phone":"13812345678","a":[{"email":"x"}]}`, `{"a":[{}]}`, `{"phone":"[cn_mobile]","a":[{"email":"[email]"}]}`}
	}
	v := []string{`"ok"`, `12`, `true`, `null`, `"abc def"`, `1.5`, `[]`, `{}`}[r.IntN(8)]
	return triple{v, v, v}
}

// tokens reads a JSON text's tokens, duplicate keys and order kept; JSON
// in strings is read as its tokens too.
func tokens(t *testing.T, s string) []string {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var out []string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			return append(out, "ERROR "+err.Error())
		}
		if str, ok := tok.(string); ok && (strings.HasPrefix(str, "{") || strings.HasPrefix(str, "[\"") || str == "[1]" || str == "[\"\",1]") && json.Valid([]byte(str)) {
			out = append(out, "json(")
			out = append(out, tokens(t, str)...)
			out = append(out, ")")
			continue
		}
		out = append(out, strings.TrimSpace(strconv.Quote(func() string {
			switch v := tok.(type) {
			case json.Delim:
				return string(v)
			case string:
				return "s:" + v
			case json.Number:
				return "n:" + string(v)
			case nil:
				return "null"
			case bool:
				return strconv.FormatBool(v)
			}
			return "?"
		}())))
	}
}

func TestReview17pDropAndRedactStructure(t *testing.T) {
	p := config.Policy{Roles: map[string]config.RoleRules{"d": {"*": "drop"}, "r": {"*": "redact"}}}
	r := rand.New(rand.NewPCG(17, 2))
	fails := 0
	n := 0
	for _, scan := range []string{"all"} {
		ed, dd := reviewEngine(t, p, config.Route{Scan: scan}, "d")
		er, dr := reviewEngine(t, p, config.Route{Scan: scan}, "r")
		for i := 0; i < 20000 && fails < 8; i++ {
			var docs []triple
			for range 1 + r.IntN(3) {
				docs = append(docs, genDoc(r, 0, true))
			}
			for _, f := range []Format{JSON, NDJSON, Events} {
				var in bytes.Buffer
				for j, d := range docs {
					switch f {
					case JSON:
						if j > 0 {
							continue
						}
						in.WriteString(d.in)
					case NDJSON:
						in.WriteString(d.in + "\n")
					case Events:
						in.WriteString("data: " + d.in + "\n\n")
					}
				}
				for _, c := range []struct {
					e    *Engine
					d    *config.Decision
					want func(triple) string
				}{{ed, dd, func(x triple) string { return x.drop }}, {er, dr, func(x triple) string { return x.redact }}} {
					n++
					var sum Summary
					out, err := c.e.Rewrite(nil, in.Bytes(), f, c.d, &sum)
					if err != nil {
						t.Errorf("%v: %s", err, in.Bytes())
						fails++
						continue
					}
					var got []string
					switch f {
					case JSON:
						got = []string{string(out)}
					case NDJSON:
						got = strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
					case Events:
						for _, l := range strings.Split(string(out), "\n") {
							if s, ok := strings.CutPrefix(l, "data: "); ok {
								got = append(got, s)
							}
						}
					}
					for j, d := range docs {
						if f == JSON && j > 0 {
							break
						}
						if j >= len(got) || !json.Valid([]byte(got[j])) || !slices.Equal(tokens(t, got[j]), tokens(t, c.want(d))) {
							fails++
							t.Errorf("format %d, doc %d:\n in %s\nout %s\nwant %s", f, j, in.Bytes(), out, c.want(d))
							break
						}
					}
				}
			}
		}
	}
	t.Logf("%d rewrites", n)
}
