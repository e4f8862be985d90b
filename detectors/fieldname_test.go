package detectors

import "testing"

func TestClassifyField(t *testing.T) {
	cases := map[string]Type{
		"phone": CNMobile, "mobile": CNMobile, "tel": CNMobile, "手机号": CNMobile, "联系电话": CNMobile,
		"contactPhone": CNMobile, "mobile_phone": CNMobile, "phone-number": CNMobile, "PHONE_NO": CNMobile,
		"customer.mobile": CNMobile, "phone2": CNMobile, "landline": CNLandline, "座机": CNLandline,
		"idCard": CNResidentID, "id_no": CNResidentID, "IDCard": CNResidentID, "idCardNo": CNResidentID,
		"customerIdCardNo": CNResidentID, "身份证号": CNResidentID, "证件号码": CNResidentID, "sfzh": CNResidentID,
		"email": Email, "Email": Email, "邮箱": Email, "emailAddress": Email, "email_address": Email,
		"邮件地址": Email, "name": PersonName, "customerName": PersonName, "姓名": PersonName,
		"realName": PersonName, "first_name": PersonName, "收货人": PersonName, "contact-name": PersonName,
		"address": Address, "收货地址": Address, "shippingAddress": Address, "home_addr": Address,
		"ipAddress": IPAddress, "ip_address": IPAddress, "clientIp": IPAddress, "remoteAddr": IPAddress,
		"IP地址": IPAddress, "bankCard": BankCard, "卡号": BankCard, "card_no": BankCard,
		"bankCardNo": BankCard, "creditCardNumber": BankCard, "birthday": BirthDate, "出生日期": BirthDate,
		"dateOfBirth": BirthDate, "dob": BirthDate, "passportNo": CNPassport, "护照号码": CNPassport,
		"licensePlate": CNLicensePlate, "车牌号": CNLicensePlate, "iban": IBAN, "hkid": HKID,
		"香港身份证号": HKID, "台湾身份证": TWID,
		// Plurals and lists name what their singular does.
		"phoneNumbers": CNMobile, "mobiles": CNMobile, "contactPhones": CNMobile, "emails": Email,
		"addresses": Address, "shippingAddresses": Address, "contactNames": PersonName, "idCards": CNResidentID,
		"phoneList": CNMobile, "email_array": Email, "ipAddresses": IPAddress, "birthdays": BirthDate,
	}
	for key, want := range cases {
		if got, ok := ClassifyField(key); !ok || got != want {
			t.Errorf("ClassifyField(%q) = %v, %v; want %v", key, got, ok, want)
		}
	}
	for _, key := range []string{
		"id", "userId", "orderId", "orderNo", "hotel", "zip", "zipCode", "productName", "userName",
		"fileName", "companyName", "hostname", "macAddress", "serverAddress", "phoneType",
		"email_verified", "mobileVerified", "status", "商品名称", "订单号", "备注", "", "telemetry",
		"cardType", "birthplace", "nameplate", "fileNames", "productNames", "statuses", "macAddresses",
		"list", "orderIds", "counts",
	} {
		if got, ok := ClassifyField(key); ok {
			t.Errorf("ClassifyField(%q) = %v; want no type", key, got)
		}
	}
}

func TestClassifyFieldDoesNotAllocate(t *testing.T) {
	keys := []string{"customerIdCardNo", "shippingAddress", "userName", "ipAddress", "联系电话", "orderId"}
	if n := testing.AllocsPerRun(100, func() {
		for _, k := range keys {
			ClassifyField(k)
		}
	}); n != 0 {
		t.Errorf("ClassifyField allocated %.1f times", n)
	}
}

func FuzzClassifyField(f *testing.F) {
	for _, k := range []string{"idCardNo", "IDCard", "a_B-c.D", "手机号", "X", "_", "9a"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if typ, ok := ClassifyField(key); ok && (typ == Unknown || typ >= numBuiltin) {
			t.Fatalf("ClassifyField(%q) = %v", key, typ)
		}
	})
}
