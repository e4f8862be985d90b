package detectorstest

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Tickets returns about size bytes (at least size, at most one line more) of
// mixed Chinese and English customer-service ticket text: headers, greetings,
// complaints, agent replies, system log lines, URLs, order and tracking
// numbers, amounts and timestamps, with personal data sparse (about three
// values per KB). It is LabelledTickets without the labels.
func Tickets(seed int64, size int) string { return LabelledTickets(seed, size).Text }

// LabelledTickets returns the text of Tickets with a span for every value of
// personal data in it.
func LabelledTickets(seed int64, size int) Case { return New(seed).tickets(size, true) }

// CleanTickets returns about size bytes of ticket text like Tickets but with
// no personal data at all (no names either), for allocation and throughput
// checks on text without findings.
func CleanTickets(seed int64, size int) string { return New(seed).tickets(size, false).Text }

// piiPerLine is the chance that a ticket line carries personal data; with
// lines of about 60 bytes it gives about three values per KB.
const piiPerLine = 0.25

func (g *Gen) tickets(size int, pii bool) Case {
	var b builder
	for b.sb.Len() < size {
		g.ticket(&b, pii, size)
	}
	return b.done()
}

var (
	channels   = []string{"在线客服", "电话", "邮件", "App 反馈", "web chat", "微信公众号"}
	greetings  = []string{"客户：您好，", "客户：你好，在吗？", "Customer: Hi team,", "Customer: Hello, I need some help.", "客户：客服你好，"}
	complaints = []string{
		"我的订单{order}已经三天没有物流更新了。",
		"包裹{tracking}显示已签收，但我没有收到。",
		"The item in order {order} arrived damaged, the box was crushed.",
		"申请退款{money}，至今未到账，请帮忙查一下。",
		"App版本{version}，点击支付就闪退。",
		"I was charged twice ({money} each) on {date}.",
		"优惠券没有生效，实付{money}，比页面价格高。",
		"快递员说{clock}送到，结果一直没人来。",
		"Where is my parcel {tracking}? It has been stuck for a week.",
		"发票抬头写错了，订单{order}，需要重新开。",
		"会员自动续费扣了{money}，我没有授权。",
	}
	replies = []string{
		"客服：您好，很抱歉给您带来不便，我们已经联系快递公司核实。",
		"Agent: Thanks for reaching out, we have escalated this to the warehouse.",
		"客服：已为您登记，预计24小时内回复，请保持电话畅通。",
		"客服：请提供订单截图以便核实。",
		"Agent: A refund of {money} has been issued and should arrive in 3-5 business days.",
		"客服：系统显示包裹{tracking}已于{date}出库。",
		"客服：已为您补发优惠券，有效期至{date}。",
		"Agent: Could you confirm the delivery address on order {order}?",
	}
	systemLines = []string{
		"[{datetime}] status=open priority=P2 assignee=agent_{small}",
		"[{datetime}] status=pending sla=4h queue=after-sales",
		"日志：request_id={uuid} latency={small}ms upstream=order-svc",
		"附件：https://help.example.com/attachments/{hash}.png",
		"链接：https://shop.example.com/orders/{order}?from=app&ts={ts}",
		"trace_id={hash} span=checkout",
		"device: iPhone, app {version}, build {small}",
		"[{datetime}] 自动回复已发送，模板 T{small}",
	}
	closings = []string{"客户：谢谢！", "Customer: Thanks.", "客服：祝您生活愉快。", "客户：好的，等你们消息。", "Agent: Have a nice day!"}
)

// ticket writes one ticket: a header line and a few lines of conversation
// and logs, then a blank line.
func (g *Gen) ticket(b *builder, pii bool, size int) {
	line := func(s string) {
		g.fill(b, s)
		b.text("\n")
	}
	line(fmt.Sprintf("工单 #%d | {datetime} | 渠道：%s", g.between(1000000, 9999999), pick(g, channels)))
	line(pick(g, greetings))
	n := g.between(3, 8)
	for i := 0; i < n && b.sb.Len() < size; i++ {
		if pii && g.chance(piiPerLine) {
			g.write(b, g.posTemplate(false), false)
			b.text("\n")
			continue
		}
		switch g.weighted(35, 30, 35) {
		case 0:
			line(pick(g, complaints))
		case 1:
			line(pick(g, replies))
		default:
			line(pick(g, systemLines))
		}
	}
	if pii && g.chance(0.3) {
		line("客服：" + g.Name() + "您好，问题已处理。")
	} else {
		line(pick(g, closings))
	}
	b.text("\n")
}

// fill writes s with its look-alike placeholders expanded; it never writes
// personal data.
func (g *Gen) fill(b *builder, s string) {
	for s != "" {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			b.text(s)
			return
		}
		b.text(s[:i])
		j := strings.IndexByte(s[i:], '}')
		ph := s[i+1 : i+j]
		s = s[i+j+1:]
		switch ph {
		case "order":
			b.text(g.LookAlike(KindOrderNumber))
		case "tracking":
			b.text(g.LookAlike(KindTracking))
		case "money":
			b.text(g.LookAlike(KindMoney))
		case "version":
			b.text(g.LookAlike(KindVersion))
		case "date":
			b.text(g.LookAlike(KindDate))
		case "clock":
			b.text(g.LookAlike(KindClock))
		case "datetime":
			b.text(g.recentTime().Format("2006-01-02 15:04:05"))
		case "uuid":
			b.text(g.UUID())
		case "hash":
			b.text(g.hex(32))
		case "ts":
			b.text(g.LookAlike(KindUnixSeconds))
		case "small":
			b.text(fmt.Sprint(g.between(1, 999)))
		default:
			panic("detectorstest: unknown placeholder {" + ph + "}")
		}
	}
}

// Order is an order in a customer record.
type Order struct {
	OrderNo    string  `json:"orderNo"`
	Amount     float64 `json:"amount"`
	TrackingNo string  `json:"trackingNo"`
	Status     string  `json:"status"`
	CreatedAt  string  `json:"createdAt"`
}

// Customer is a customer record of the sample helpdesk. Its personal data
// agrees with itself: the resident ID carries the birthday, sex and region of
// the address, the landline has the region's area code.
type Customer struct {
	ID        int     `json:"id"`
	Name      string  `json:"name"`
	Gender    string  `json:"gender"`
	Birthday  string  `json:"birthday"`
	Mobile    string  `json:"mobile"`
	Phone     string  `json:"phone"`
	IDCard    string  `json:"idCard"`
	Email     string  `json:"email"`
	Address   string  `json:"address"`
	BankCard  string  `json:"bankCard"`
	Plate     string  `json:"plate,omitempty"`
	VIPLevel  int     `json:"vipLevel"`
	CreatedAt string  `json:"createdAt"`
	Orders    []Order `json:"orders"`
	// Note is free text an agent typed, with personal data in it.
	Note string `json:"note"`
	// NoteSpans labels the personal data in Note.
	NoteSpans []Span `json:"-"`
}

// Customer returns a customer record with the given id.
func (g *Gen) Customer(id int) Customer {
	reg := pick(g, regions)
	birth := g.BirthDate()
	female := g.chance(0.5)
	c := Customer{
		ID:        id,
		Name:      g.Name(),
		Gender:    map[bool]string{true: "F", false: "M"}[female],
		Birthday:  birth.Format("2006-01-02"),
		Mobile:    g.Mobile(),
		Phone:     reg.area + "-" + g.landlineIn(reg.area),
		IDCard:    g.residentID(reg, birth, female),
		Email:     g.Email(),
		Address:   g.addressIn(reg),
		BankCard:  g.BankCard(),
		VIPLevel:  g.between(0, 5),
		CreatedAt: g.recentTime().Format(time.RFC3339),
	}
	if g.chance(0.4) {
		c.Plate = g.Plate()
	}
	for range g.between(1, 3) {
		c.Orders = append(c.Orders, Order{
			OrderNo:    g.LookAlike(KindOrderNumber),
			Amount:     float64(g.between(100, 999999)) / 100,
			TrackingNo: g.LookAlike(KindTracking),
			Status:     pick(g, []string{"paid", "shipped", "delivered", "refunding", "closed"}),
			CreatedAt:  g.recentTime().Format(time.RFC3339),
		})
	}
	var b builder
	b.text(pick(g, []string{"客户来电反映物流延迟。", "Customer called about a refund. ", "客户要求修改收货信息，", "VIP客户投诉："}))
	for i := range g.between(1, 2) {
		if i > 0 {
			b.text("；")
		}
		g.write(&b, g.posTemplate(false), false)
	}
	b.text("。")
	note := b.done()
	c.Note, c.NoteSpans = note.Text, note.Spans
	return c
}

// Customers returns n customer records with ids 10001, 10002, ….
func Customers(seed int64, n int) []Customer {
	g := New(seed)
	out := make([]Customer, n)
	for i := range out {
		out[i] = g.Customer(10001 + i)
	}
	return out
}

// helpdeskPage is the envelope of a helpdesk list response.
type helpdeskPage struct {
	Code      int        `json:"code"`
	Message   string     `json:"message"`
	RequestID string     `json:"requestId"`
	Data      []Customer `json:"data"`
	Page      int        `json:"page"`
	PageSize  int        `json:"pageSize"`
	Total     int        `json:"total"`
}

// HelpdeskJSON returns a helpdesk API list response of about size bytes
// ({"code":0,"data":[{"id":…,"name":…,"mobile":…,"idCard":…,"email":…,
// "address":…,"note":…},…],…}): as many customer records as fit, at least
// one. A typical gateway benchmark body is 8 KB.
func HelpdeskJSON(seed int64, size int) []byte {
	g := New(seed)
	page := helpdeskPage{Message: "ok", RequestID: g.UUID(), Page: 1}
	var out []byte
	for id := 10001; ; id++ {
		page.Data = append(page.Data, g.Customer(id))
		page.PageSize = len(page.Data)
		page.Total = 100 * len(page.Data)
		b, err := json.Marshal(page)
		if err != nil {
			panic("detectorstest: " + err.Error())
		}
		if len(b) > size && out != nil {
			return out
		}
		out = b
	}
}
