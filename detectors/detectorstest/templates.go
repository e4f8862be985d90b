package detectorstest

// template is a sentence with placeholders: {v} a value of typ (of the
// variant, if any: "legacy" 15-digit IDs, "service" 400/800 numbers), {x} a
// look-alike of one of kinds (any kind if nil), {name} a person's name,
// {addr} an address, {bank} a bank, {date}, {clock} and {order} look-alikes.
// Names and addresses are field-only types and are not labelled in free
// text. Positive templates get typ and variant from their group in init.
type template struct {
	typ     string
	variant string
	text    string
	kinds   []string
	sample  bool // sample.jsonl uses this template
}

// typeWeights is how often each group of positive templates is drawn, in all
// templates and in sample mode. A group is named for its entity type, except
// legacy_id (15-digit resident IDs) and service_number (400/800 numbers,
// cn_landline), which are rarer than their type's other forms.
var typeWeights = []struct {
	group          string
	all, sampleOne int
}{
	{"cn_mobile", 22, 30},
	{"cn_resident_id", 13, 22},
	{"legacy_id", 2, 0},
	{"bank_card", 12, 15},
	{"email", 10, 13},
	{"cn_landline", 7, 8},
	{"service_number", 2, 0},
	{"hk_id", 5, 6},
	{"tw_id", 5, 6},
	{"cn_passport", 4, 0},
	{"cn_license_plate", 5, 0},
	{"intl_phone", 5, 0},
	{"iban", 4, 0},
	{"ip_address", 5, 0},
}

var positiveTemplates = map[string][]template{
	"cn_mobile": {
		{text: "联系电话：{v}", sample: true},
		{text: "Customer asked to be called back at {v} tomorrow.", sample: true},
		{text: "客户{name}的手机号是{v}，请尽快回电。", sample: true},
		{text: "手机：{v}"},
		{text: "手机号{v}"},
		{text: "手机号码 {v}（本人）"},
		{text: "我的电话是{v}，白天都能打通"},
		{text: "请拨打{v}联系收件人{name}"},
		{text: "收件人：{name}，电话：{v}"},
		{text: "新手机号{v}，旧号码已停用。"},
		{text: "{name}（{v}）反馈商品破损"},
		{text: "来电号码：{v}"},
		{text: "回拨{v}无人接听"},
		{text: "微信同手机号{v}"},
		{text: "phone: {v}"},
		{text: "Mobile {v}"},
		{text: "call me at {v} after 6pm"},
		{text: "Tel: {v}"},
		{text: "Contact number {v}, thanks."},
		{text: "please text {v} when the parcel arrives"},
		{text: "客户来电（{v}）询问退款进度"},
		{text: "电话{v}，地址{addr}"},
	},
	"cn_landline": {
		{text: "公司座机{v}转人工", sample: true},
		{text: "座机：{v}"},
		{text: "办公电话{v}"},
		{text: "固话 {v}，工作日可接听"},
		{text: "office phone {v} ext. 8021"},
		{text: "传真{v}"},
		{text: "家里电话是{v}"},
		{text: "Tel {v} (office)"},
	},
	"service_number": {
		{text: "客服热线{v}"},
		{text: "请拨打全国服务热线{v}"},
		{text: "hotline {v}"},
		{text: "售后电话：{v}"},
	},
	"cn_resident_id": {
		{text: "身份证号：{v}", sample: true},
		{text: "ID on file {v}, verified by agent", sample: true},
		{text: "客户提供的证件号码{v}已核验", sample: true},
		{text: "身份证{v}"},
		{text: "身份证号码 {v}"},
		{text: "证件号：{v}（居民身份证）"},
		{text: "ID card no. {v}"},
		{text: "实名信息：{name}，身份证{v}"},
		{text: "national ID {v} on the account"},
		{text: "公民身份号码{v}"},
		{text: "请核对身份证号{v}是否正确"},
	},
	"legacy_id": {
		{text: "旧身份证号（15位）：{v}"},
		{text: "一代身份证{v}"},
		{text: "old 15-digit ID card {v}"},
		{text: "身份证号{v}（15位老证）"},
	},
	"bank_card": {
		{text: "card number {v} was declined", sample: true},
		{text: "退款请打到银行卡{v}上", sample: true},
		{text: "卡号：{v}"},
		{text: "银行卡号{v}"},
		{text: "信用卡{v}已冻结"},
		{text: "借记卡 {v}"},
		{text: "credit card {v} expires 08/27"},
		{text: "refund to card {v}"},
		{text: "开户行：{bank}，账号{v}"},
		{text: "请核实卡号{v}的持卡人姓名"},
	},
	"email": {
		{text: "请发送发票到邮箱{v}谢谢", sample: true},
		{text: "reply-to: {v}", sample: true},
		{text: "邮箱：{v}"},
		{text: "email me at {v}"},
		{text: "电子邮件{v}"},
		{text: "E-mail: {v}"},
		{text: "联系邮箱 {v}。"},
		{text: "From: {name} <{v}>"},
		{text: "请把合同发到{v}，抄送主管"},
		{text: "user {v} cannot log in"},
	},
	"ip_address": {
		{text: "登录IP：{v}"},
		{text: "client ip {v}"},
		{text: "来源IP {v}，异常登录已拦截"},
		{text: "IP地址{v}被封禁"},
		{text: "login from {v} at {clock}"},
		{text: "X-Forwarded-For: {v}"},
	},
	"hk_id": {
		{text: "香港身份证 {v}", sample: true},
		{text: "HKID: {v}"},
		{text: "香港身份证号码{v}"},
		{text: "HK ID card {v}"},
		{text: "證件號碼：{v}（香港身份證）"},
	},
	"tw_id": {
		{text: "台湾身分证字号：{v}", sample: true},
		{text: "台胞身份证号{v}"},
		{text: "Taiwan ID {v}"},
		{text: "身分證字號 {v}"},
		{text: "台湾身份证{v}已上传"},
	},
	"cn_passport": {
		{text: "护照号码：{v}"},
		{text: "护照{v}"},
		{text: "passport no. {v}"},
		{text: "Passport: {v}"},
		{text: "持护照{v}办理入住"},
		{text: "护照号 {v}，有效期至{date}"},
	},
	"cn_license_plate": {
		{text: "车牌号：{v}"},
		{text: "车牌{v}"},
		{text: "plate {v}"},
		{text: "车辆{v}停在B2层"},
		{text: "{v}的车主请挪车"},
		{text: "ETC绑定车牌{v}"},
	},
	"intl_phone": {
		{text: "香港联系电话{v}"},
		{text: "please call {v}"},
		{text: "Phone: {v}"},
		{text: "海外号码 {v}"},
		{text: "WhatsApp {v}"},
		{text: "客户在国外，电话{v}"},
	},
	"iban": {
		{text: "IBAN: {v}"},
		{text: "请汇款至IBAN {v}"},
		{text: "beneficiary account (IBAN) {v}"},
		{text: "收款账户{v}"},
		{text: "IBAN {v}, BIC DEUTDEFF"},
	},
}

var negativeTemplates = []template{
	{text: "金额 {x} 元", sample: true},
	{text: "Ticket ref {x}", sample: true},
	{text: "trace={x}", sample: true},
	{text: "订单号{x}已发货", sample: true},
	{text: "交易流水{x}", sample: true},
	{text: "{x}", sample: true},
	{text: "快递单号{x}", kinds: []string{KindTracking}},
	{text: "物流单号：{x}，请注意查收", kinds: []string{KindTracking}},
	{text: "tracking number {x}", kinds: []string{KindTracking}},
	{text: "版本号{x}", kinds: []string{KindVersion}},
	{text: "app version {x} crashes on login", kinds: []string{KindVersion}},
	{text: "订单金额{x}", kinds: []string{KindMoney}},
	{text: "amount {x}", kinds: []string{KindMoney}},
	{text: "下单时间{x}", kinds: []string{KindDate, KindDateTime}},
	{text: "created_at={x}", kinds: []string{KindDateTime, KindUnixSeconds, KindUnixMillis}},
	{text: "timestamp {x}", kinds: []string{KindUnixSeconds, KindUnixMillis}},
	{text: "request id {x}", kinds: []string{KindUUID, KindHexHash}},
	{text: "sha256 {x}", kinds: []string{KindHexHash}},
	{text: "MAC地址{x}", kinds: []string{KindMAC}},
	{text: "会议时间 {x}", kinds: []string{KindClock, KindDateTime}},
	{text: "工单号：{x}"},
	{text: "流水号 {x} 处理中"},
	{text: "参考号{x}。"},
	{text: "batch {x} failed"},
	{text: "身份证号：{x}", kinds: []string{KindBadIDCheck, KindBadIDDate, KindBadIDRegion}},
	{text: "ID on file {x}, verification failed", kinds: []string{KindBadIDCheck, KindBadIDDate}},
	{text: "手机号{x}", kinds: []string{KindBadMobile}},
	{text: "联系电话：{x}", kinds: []string{KindBadMobile}},
	{text: "卡号：{x}", kinds: []string{KindBadCard}},
	{text: "card number {x} was declined", kinds: []string{KindBadCard}},
	{text: "香港身份证 {x}", kinds: []string{KindBadHKID}},
	{text: "台湾身分证字号：{x}", kinds: []string{KindBadTWID}},
	{text: "IBAN: {x}", kinds: []string{KindBadIBAN}},
	{text: "流水{x}", kinds: []string{KindEmbedded, KindLongDigitRun}},
	{text: "客户{name}来电咨询退货政策"},
	{text: "收货地址：{addr}"},
	{text: "{name}于{date}申请退款{order}"},
}

func init() {
	groups := map[string]struct{ typ, variant string }{
		"legacy_id":      {"cn_resident_id", "legacy"},
		"service_number": {"cn_landline", "service"},
	}
	for group, ts := range positiveTemplates {
		for i := range ts {
			ts[i].typ, ts[i].variant = group, ""
			if g, ok := groups[group]; ok {
				ts[i].typ, ts[i].variant = g.typ, g.variant
			}
		}
	}
}

func (g *Gen) posTemplate(sample bool) *template {
	weights := make([]int, len(typeWeights))
	for i, tw := range typeWeights {
		weights[i] = tw.all
		if sample {
			weights[i] = tw.sampleOne
		}
	}
	ts := positiveTemplates[typeWeights[g.weighted(weights...)].group]
	for {
		t := &ts[g.intn(len(ts))]
		if !sample || t.sample {
			return t
		}
	}
}

func (g *Gen) negTemplate(sample bool) *template {
	for {
		t := &negativeTemplates[g.intn(len(negativeTemplates))]
		if !sample || t.sample {
			return t
		}
	}
}
