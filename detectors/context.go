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
// [start, end) in s, or shortly after it. ASCII words match case-insensitively
// and only as whole words; Han words match anywhere.
func hasContext(s string, start, end int, t Type) bool {
	if int(t) >= len(contextWords) {
		return false
	}
	words := contextWords[t]
	if len(words) == 0 {
		return false
	}
	lo := start - contextBefore
	if lo < 0 {
		lo = 0
	}
	hi := end + contextAfter
	if hi > len(s) {
		hi = len(s)
	}
	for _, w := range words {
		if containsWord(s, lo, start, w) || containsWord(s, end, hi, w) {
			return true
		}
	}
	return false
}

// containsWord reports whether w occurs in s[lo:hi]; for an ASCII w it folds
// case and requires that no letter touches the match.
func containsWord(s string, lo, hi int, w string) bool {
	ascii := w[0] < 0x80
	for i := lo; i+len(w) <= hi; i++ {
		if !equalFold(s[i:i+len(w)], w) {
			continue
		}
		if !ascii {
			return true
		}
		if i > 0 && isLetter(s[i-1]) {
			continue
		}
		if j := i + len(w); j < len(s) && isLetter(s[j]) && isLetter(w[len(w)-1]) {
			continue
		}
		return true
	}
	return false
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
