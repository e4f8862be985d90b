package detectors

import "strings"

// The field-name classifier maps a JSON key to the entity type its value
// holds: `mobile`, `contactPhone`, `id_card_no`, `身份证号`, `收货地址` …
// It knows the field-only types (person_name, address, birth_date) that no
// content detector can find.

// A keyRule applies when a key ends with its suffix on a word boundary.
type keyRule struct {
	t Type
	// qualified lists the words that must come right before the suffix
	// ("customer" name, "contact" name); nil means any word or none.
	qualified map[string]bool
	// except maps a word before the suffix to what the key then means
	// ("ip" address, "email" address); Unknown means not personal data.
	except map[string]Type
}

var personQualifiers = set("customer", "cust", "client", "contact", "real", "full", "first", "last",
	"given", "family", "middle", "true", "legal", "person", "receiver", "recipient", "consignee",
	"sender", "shipper", "holder", "cardholder", "owner", "buyer", "payer", "payee", "patient",
	"member", "passenger", "driver", "applicant", "guardian", "spouse", "emergency", "linkman",
	"account", "billing", "shipping", "delivery", "my", "your", "sur")

var addressExceptions = map[string]Type{
	"ip": IPAddress, "remote": IPAddress, "client": IPAddress, "source": IPAddress, "src": IPAddress,
	"email": Email, "mail": Email, "e": Email, "reply": Email, "sender": Email,
	"mac": Unknown, "web": Unknown, "url": Unknown, "server": Unknown, "host": Unknown, "wallet": Unknown,
	"contract": Unknown, "memory": Unknown, "bluetooth": Unknown, "local": Unknown, "bind": Unknown,
	"listen": Unknown, "base": Unknown, "network": Unknown, "net": Unknown, "broadcast": Unknown,
	"gateway": Unknown, "proxy": Unknown, "callback": Unknown, "redirect": Unknown, "hardware": Unknown,
}

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// keyRules is keyed by the suffix with word separators removed, lower case.
var keyRules = func() map[string]keyRule {
	m := map[string]keyRule{}
	add := func(t Type, suffixes ...string) {
		for _, s := range suffixes {
			m[s] = keyRule{t: t}
		}
	}
	add(CNMobile, "phone", "mobile", "tel", "telephone", "cellphone", "mobilephone", "phonenumber",
		"phoneno", "phonenum", "mobileno", "mobilenum", "mobilenumber", "telno", "telnum", "telnumber",
		"contactnumber", "contactno", "cellnumber", "whatsapp", "msisdn", "shouji", "sjh")
	add(CNLandline, "landline", "fixedline", "fixedphone", "fixedtel", "officephone", "officetel",
		"homephone", "hometel", "workphone", "zuoji")
	add(Email, "email", "mail", "emailaddress", "emailaddr", "mailaddress", "mailaddr", "youxiang")
	add(CNResidentID, "idcard", "idno", "idnum", "idnumber", "idcardno", "idcardnum", "idcardnumber",
		"identitycard", "identityno", "identitynumber", "identitycardno", "certno", "certnum",
		"certnumber", "certificateno", "certificatenumber", "nationalid", "residentid", "citizenid",
		"sfz", "sfzh", "sfzhm", "shenfenzheng")
	add(BankCard, "bankcard", "bankcardno", "bankcardnum", "bankcardnumber", "cardno", "cardnum",
		"cardnumber", "creditcard", "creditcardno", "creditcardnumber", "debitcard", "pan",
		"bankaccount", "bankaccountno", "bankaccountnumber", "yinhangka")
	add(BirthDate, "birthday", "birthdate", "dateofbirth", "dob", "birth", "borndate", "birthdt", "shengri")
	add(CNPassport, "passport", "passportno", "passportnum", "passportnumber", "huzhao")
	add(CNLicensePlate, "plate", "plateno", "platenum", "platenumber", "licenseplate", "licenceplate",
		"carplate", "carno", "carnumber", "vehicleno", "vehicleplate", "chepai", "chepaihao")
	add(IBAN, "iban")
	add(HKID, "hkid", "hkidcard", "hkidno")
	add(TWID, "twid", "twidno", "taiwanid")
	add(IPAddress, "ip", "ipaddr", "ipaddress", "ipv4", "ipv6", "remoteaddr", "remoteip", "clientip")
	for _, s := range []string{"name", "fullname", "realname", "truename", "firstname", "lastname",
		"givenname", "familyname", "surname", "middlename", "xingming", "xm"} {
		m[s] = keyRule{t: PersonName}
	}
	m["name"] = keyRule{t: PersonName, qualified: personQualifiers}
	for _, s := range []string{"address", "addr", "streetaddress", "street", "homeaddress",
		"shippingaddress", "billingaddress", "deliveryaddress", "mailingaddress", "postaladdress",
		"residence", "domicile", "dizhi"} {
		m[s] = keyRule{t: Address, except: addressExceptions}
	}
	return m
}()

// hanKeyRules are checked in order against keys written in Chinese: more
// specific words first (邮件地址 is an e-mail address, not a postal one).
var hanKeyRules = []struct {
	words []string
	t     Type
}{
	{[]string{"香港身份证", "港澳身份证", "香港居民身份证"}, HKID},
	{[]string{"台湾身份证", "身分证", "身分證", "台胞证"}, TWID},
	{[]string{"身份证", "證件號", "证件号", "证件编号", "公民身份号码"}, CNResidentID},
	{[]string{"护照", "護照"}, CNPassport},
	{[]string{"邮箱", "邮件", "电子邮", "郵箱"}, Email},
	{[]string{"IP地址", "ip地址", "IP", "登录地址"}, IPAddress},
	{[]string{"座机", "固话", "固定电话", "办公电话", "家庭电话"}, CNLandline},
	{[]string{"手机", "电话", "联系方式", "移动电话", "手機", "電話"}, CNMobile},
	{[]string{"银行卡", "卡号", "信用卡", "借记卡", "銀行卡"}, BankCard},
	{[]string{"出生", "生日"}, BirthDate},
	{[]string{"车牌", "車牌"}, CNLicensePlate},
	{[]string{"地址", "住址", "住所", "居住地", "户籍"}, Address},
	{[]string{"姓名", "名字", "联系人", "收货人", "收件人", "寄件人", "持卡人", "户名", "客户名", "法定代表人", "紧急联系人"}, PersonName},
}

// maxKey bounds the key length the classifier reads.
const maxKey = 64

// ClassifyField returns the entity type a JSON key names, if any. It reads
// camelCase, snake_case, kebab-case, dotted and Chinese keys, and does not
// allocate.
func ClassifyField(key string) (Type, bool) {
	if len(key) == 0 || len(key) > maxKey*3 {
		return Unknown, false
	}
	for i := 0; i < len(key); i++ {
		if key[i] >= 0x80 {
			for _, r := range hanKeyRules {
				for _, w := range r.words {
					if strings.Contains(key, w) {
						return r.t, true
					}
				}
			}
			break
		}
	}
	var low [maxKey]byte
	var starts [maxKey + 1]int // word starts in low
	n, words := 0, 0
	prev := byte(0) // class of the previous character: 'l', 'u', 'd' or 0 after a separator
	for i := 0; i < len(key) && n < maxKey; i++ {
		c := key[i]
		var cls byte
		switch {
		case c >= 'a' && c <= 'z':
			cls = 'l'
		case c >= 'A' && c <= 'Z':
			cls = 'u'
			c += 'a' - 'A'
		case c >= '0' && c <= '9':
			cls = 'd'
		default:
			prev = 0
			continue
		}
		// A word starts after a separator, at an upper-case letter after a
		// lower-case one or a digit, at the last capital of an acronym
		// followed by lower case (IDCard → ID Card), and where digits start.
		boundary := prev == 0 || cls == 'u' && (prev == 'l' || prev == 'd') ||
			cls == 'l' && prev == 'u' && n >= 2 && isUpper(key[i-2]) && isUpper(key[i-1]) && starts[words-1] != n-1 ||
			cls == 'd' && prev != 'd' || cls != 'd' && prev == 'd'
		if boundary {
			if cls == 'l' && prev == 'u' {
				// the capital just before belongs to this word
				starts[words] = n - 1
			} else {
				starts[words] = n
			}
			words++
		}
		low[n] = c
		n++
		prev = cls
	}
	// Trailing numbers (phone2, address_1), and words that say there are
	// several (phoneList, emailArray), do not change what a key names.
	for words > 1 || words == 1 && isDigit(low[0]) {
		last := string(low[starts[words-1]:n])
		if !isDigit(last[0]) && last != "list" && last != "array" && last != "arr" {
			break
		}
		n = starts[words-1]
		words--
	}
	for w := 0; w < words; w++ {
		p := starts[w]
		r, ok := keyRules[string(low[p:n])]
		if !ok && n-p > 2 && low[n-1] == 's' {
			// A plural names what its singular does: phoneNumbers,
			// emails, addresses, contactNames.
			if r, ok = keyRules[string(low[p:n-1])]; !ok && low[n-2] == 'e' {
				r, ok = keyRules[string(low[p:n-2])]
			}
		}
		if !ok {
			continue
		}
		before := ""
		if w > 0 {
			before = string(low[starts[w-1]:p])
		}
		if t, ok := r.except[before]; ok {
			return t, t != Unknown
		}
		if r.qualified != nil && before != "" && !r.qualified[before] {
			return Unknown, false
		}
		return r.t, true
	}
	return Unknown, false
}
