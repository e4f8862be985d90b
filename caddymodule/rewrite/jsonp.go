package rewrite

// JSONP: many legacy JSON APIs also answer a script's call, the same data
// as the argument of a callback the client names (?callback=cb):
//
//	/**/ typeof cb === 'function' && cb({"data":[…]});
//
// (Express's res.jsonp, Spring's JSONP advice, PHP's $_GET['callback']).
// Read as text, its field rules and key names would not apply; the call
// is recognised and its argument rewritten as JSON, the rest kept.

// jsonpSpan finds, in a JSONP response, where the JSON argument starts
// (its first byte, { or [) and where the call's closing parenthesis is.
// The recognised calls: after an optional UTF-8 byte-order mark, white
// space and empty /**/ comments, an optional guard "typeof NAME ===
// 'function' &&" (== too, either quote), NAME "(" where NAME is what
// Express or Spring let through of a callback's name (jsCallee), then the argument, ")", an
// optional ";", white space and empty comments.
func jsonpSpan(b []byte) (start, end int, ok bool) {
	start, end, _, ok = jsonpCall(b)
	return start, end, ok
}

// JSONPCallee returns the name a JSONP call calls (cb in cb({…});), or ""
// when b is not one.
func JSONPCallee(b []byte) string {
	_, _, name, ok := jsonpCall(b)
	if !ok {
		return ""
	}
	return name
}

// jsonpCall is jsonpSpan, with the called name.
func jsonpCall(b []byte) (start, end int, callee string, ok bool) {
	i := skipJSSpace(b, bomLen(b))
	if j, name := jsName(b, i); name && string(b[i:j]) == "typeof" {
		// The guard: typeof NAME ===? 'function' &&
		k := skipJSSpace(b, j)
		if k == j {
			return 0, 0, "", false
		}
		if k, name = jsCallee(b, k); !name {
			return 0, 0, "", false
		}
		k = skipJSSpace(b, k)
		switch {
		case hasAt(b, k, "==="):
			k += 3
		case hasAt(b, k, "=="):
			k += 2
		default:
			return 0, 0, "", false
		}
		k = skipJSSpace(b, k)
		switch {
		case hasAt(b, k, "'function'"), hasAt(b, k, `"function"`):
			k += len("'function'")
		default:
			return 0, 0, "", false
		}
		k = skipJSSpace(b, k)
		if !hasAt(b, k, "&&") {
			return 0, 0, "", false
		}
		i = skipJSSpace(b, k+2)
	}
	j, name := jsCallee(b, i)
	callee = string(b[i:j])
	if !name {
		return 0, 0, "", false
	}
	j = skipJSSpace(b, j)
	if j >= len(b) || b[j] != '(' {
		return 0, 0, "", false
	}
	start = skipWS(b, j+1)
	if start >= len(b) || b[start] != '{' && b[start] != '[' {
		return 0, 0, "", false
	}
	// The end, from the back: comments, white space, ";", ")".
	e := len(b)
	for {
		e = trimJSSpaceRight(b[:e])
		if e-4 > start && string(b[e-4:e]) == "/**/" {
			e -= 4
			continue
		}
		break
	}
	if e > start && b[e-1] == ';' {
		e = trimJSSpaceRight(b[:e-1])
	}
	if e <= start || b[e-1] != ')' {
		return 0, 0, "", false
	}
	return start, e - 1, callee, true
}

// skipJSSpace skips white space and empty comments (/**/, which Express
// puts first). A comment with anything in it is not skipped, and the call
// is then not recognised (its text is content-scanned): what a comment
// holds is not in the JSON the rewrite reads.
func skipJSSpace(b []byte, i int) int {
	for {
		i = skipWS(b, i)
		if !hasAt(b, i, "/**/") {
			return i
		}
		i += 4
	}
}

func trimJSSpaceRight(b []byte) int {
	e := len(b)
	for e > 0 {
		switch b[e-1] {
		case ' ', '\t', '\r', '\n':
			e--
			continue
		}
		break
	}
	return e
}

// jsName reads a dotted chain of ASCII JavaScript identifiers at i.
func jsName(b []byte, i int) (int, bool) {
	j := i
	for {
		if j >= len(b) || !jsIdentStart(b[j]) {
			return i, false
		}
		for j++; j < len(b) && (jsIdentStart(b[j]) || b[j] >= '0' && b[j] <= '9'); j++ {
		}
		if j+1 < len(b) && b[j] == '.' {
			j++
			continue
		}
		return j, true
	}
}

// jsCallee reads the name a JSONP call calls at i: what the servers that
// write them let through of the client's ?callback= (Express keeps
// letters, digits, _, $, . and brackets: a[0], cb.; Spring 4 letters,
// digits, _ and .: 0), so that any call such a server writes is read.
func jsCallee(b []byte, i int) (int, bool) {
	j := i
	for j < len(b) && (jsIdentStart(b[j]) || b[j] >= '0' && b[j] <= '9' || b[j] == '.' || b[j] == '[' || b[j] == ']') {
		j++
	}
	return j, j > i
}

func jsIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '$'
}

func hasAt(b []byte, i int, s string) bool {
	return i >= 0 && len(b)-i >= len(s) && string(b[i:i+len(s)]) == s
}
