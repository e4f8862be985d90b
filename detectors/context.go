package detectors

// Context words: a match preceded (or closely followed) by one of its type's
// words gets higher confidence, and weak patterns (15-digit IDs, passports,
// Hong Kong IDs without brackets) are reported only with one.

// contextBefore and contextAfter are how far, in bytes, the scanner looks
// for context words: about a dozen Han characters before, a few after.
const (
	contextBefore = 42
	contextAfter  = 12
)

var contextWords = [numBuiltin][]string{
	CNResidentID:   {"身份证", "身分证", "证件", "居民身份", "公民身份", "id card", "id no", "id number", "identity", "national id", "id:", "id "},
	CNMobile:       {"手机", "电话", "联系", "致电", "来电", "回电", "号码", "拨打", "mobile", "phone", "cell", "tel", "call", "contact", "sms", "whatsapp"},
	CNLandline:     {"电话", "座机", "固话", "热线", "客服", "联系", "分机", "phone", "tel", "landline", "hotline", "fax", "传真", "call"},
	BankCard:       {"卡号", "银行卡", "信用卡", "借记卡", "储蓄卡", "银联", "账号", "账户", "退款", "card", "visa", "mastercard", "unionpay", "amex", "account", "pan"},
	Email:          {"邮箱", "邮件", "email", "e-mail", "mail"},
	IPAddress:      {"ip", "地址", "登录", "login", "address", "host", "client", "server"},
	HKID:           {"香港身份证", "香港", "身份证", "hkid", "hong kong", "id card", "identity"},
	TWID:           {"台湾", "臺灣", "身分证", "身分證", "身份证", "统一编号", "taiwan", "national id", "id"},
	CNPassport:     {"护照", "護照", "passport"},
	CNLicensePlate: {"车牌", "车辆", "牌照", "车号", "plate", "vehicle", "car"},
	IntlPhone:      {"电话", "手机", "phone", "tel", "mobile", "call", "contact", "whatsapp"},
	IBAN:           {"iban", "account", "账户", "账号", "bank", "汇款", "transfer"},
}

// hasContext reports whether a context word of type t occurs shortly before
// [start, end) in s, or shortly after it.
func hasContext(s string, start, end int, t Type) bool {
	return contextDistance(s, start, end, t) >= 0
}

// contextIndex lists each type's context words by their first byte (lower
// case), so a window is read once instead of once per word.
var contextIndex = func() (idx [numBuiltin]*[256][]string) {
	for t, words := range contextWords {
		if len(words) == 0 {
			continue
		}
		idx[t] = new([256][]string)
		for _, w := range words {
			idx[t][w[0]] = append(idx[t][w[0]], w)
		}
	}
	return idx
}()

// contextDistance returns how many bytes separate [start, end) from the
// nearest context word of type t within reach, or -1 when there is none.
// ASCII words match case-insensitively and only as whole words; Han words
// match anywhere.
func contextDistance(s string, start, end int, t Type) int {
	if int(t) >= len(contextIndex) || contextIndex[t] == nil {
		return -1
	}
	idx := contextIndex[t]
	best := -1
	// Before the match, nearest first: the first word found is the
	// nearest but for a longer word that ends closer, which a few more
	// positions settle.
	for i := start - 1; i >= max(start-contextBefore, 0); i-- {
		if best >= 0 && start-i > best+8 {
			break
		}
		for _, w := range idx[lowerByte(s[i])] {
			if i+len(w) <= start && wordAt(s, i, w) {
				if d := start - (i + len(w)); best < 0 || d < best {
					best = d
				}
			}
		}
	}
	for i := end; i < min(end+contextAfter, len(s)); i++ {
		if best >= 0 && i-end >= best {
			break
		}
		for _, w := range idx[lowerByte(s[i])] {
			if i+len(w) <= len(s) && wordAt(s, i, w) {
				return i - end
			}
		}
	}
	return best
}

func lowerByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// wordAt reports whether w occurs at s[i]; for an ASCII w it folds case and
// requires that no letter touches the match.
func wordAt(s string, i int, w string) bool {
	if !equalFold(s[i:i+len(w)], w) {
		return false
	}
	if w[0] >= 0x80 {
		return true
	}
	if i > 0 && isLetter(s[i-1]) && isLetter(w[0]) {
		return false
	}
	j := i + len(w)
	return j >= len(s) || !isLetter(s[j]) || !isLetter(w[len(w)-1])
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// equalFold compares ASCII case-insensitively; w is lower case.
func equalFold(s, w string) bool {
	for i := 0; i < len(w); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != w[i] {
			return false
		}
	}
	return true
}
